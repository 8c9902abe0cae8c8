#!/usr/bin/env bash
# Installs the Debian 12 packages biofed needs to build, test and run.
# Idempotent and quiet when nothing is missing. Run as root or with sudo.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libopenblas0-pthread
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libssl-dev zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libsqlite3-dev openssl
  dataset-fashion-mnist
)
# Extra group: `install-deps.sh test` adds what only the tests use: the
# headless browser that renders the report, docker-compose to validate the
# compose file, iproute2 for the multi-host test, openssl for certificates,
# python3-yaml for the Kubernetes manifests' check, python3-grpcio,
# python3-protobuf and python3-numpy for the Python client (clients/python),
# clang with its sanitizer/libFuzzer runtime and OpenMP for `make fuzz`, and
# Slurm for the sharded-sweep test.
# `install-deps.sh slurm`: Slurm and munge, to try deploy/slurm/ on one
# machine (deploy/slurm/local-cluster.sh); the tests use them too.
# `install-deps.sh docker`: a Docker engine (Debian's docker.io, 20.10),
# docker-compose and debootstrap (to make the local base image, see
# tests/deploy/compose_up_test.sh); the compose test installs them itself.
slurm_packages=(slurm-wlm munge)
docker_packages=(docker.io docker-compose debootstrap)
if [[ "${1:-}" == "test" ]]; then
  packages+=(chromium docker-compose iproute2 openssl python3 python3-yaml python3-grpcio python3-protobuf python3-numpy clang libclang-rt-14-dev libomp-dev "${slurm_packages[@]}")
elif [[ "${1:-}" == "slurm" ]]; then
  packages=("${slurm_packages[@]}")
elif [[ "${1:-}" == "docker" ]]; then
  packages=("${docker_packages[@]}")
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
