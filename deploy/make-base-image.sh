#!/usr/bin/env bash
# Makes the Debian 12 base images deploy/Dockerfile starts from,
# debian:bookworm and debian:bookworm-slim (the same minimal image under both
# tags), on a machine that reaches a Debian mirror but no image registry:
# debootstrap a minbase bookworm and `docker import` it. Does nothing when
# both tags exist. Needs root, debootstrap and a running Docker engine
# (deploy/install-deps.sh docker). About a minute.
#
#   deploy/make-base-image.sh [MIRROR]
#
# MIRROR defaults to the first Debian mirror apt already uses on this machine
# (else http://deb.debian.org/debian). DOCKER picks the docker client
# (default: docker on PATH).
set -euo pipefail
[[ "${1:-}" != "-h" && "${1:-}" != "--help" ]] || { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }
docker="${DOCKER:-docker}"
if "$docker" image inspect debian:bookworm debian:bookworm-slim >/dev/null 2>&1; then
  echo "make-base-image: debian:bookworm and debian:bookworm-slim exist" >&2
  exit 0
fi
mirror="${1:-}"
if [[ -z "$mirror" ]]; then
  mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ && $2 ~ /debian\/?$/ {print $2; exit}')
  [[ -n "$mirror" ]] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  mirror="${mirror:-http://deb.debian.org/debian}"
fi
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
echo "make-base-image: debootstrap --variant=minbase bookworm from $mirror" >&2
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 \
  || { tail -20 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
rm -f "$rootfs.log"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | "$docker" import - debian:bookworm >/dev/null
"$docker" tag debian:bookworm debian:bookworm-slim
echo "make-base-image: made debian:bookworm and debian:bookworm-slim ($("$docker" image inspect -f '{{.Size}}' debian:bookworm) bytes)" >&2
