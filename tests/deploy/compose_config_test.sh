#!/usr/bin/env bash
# The compose file validates (Debian's docker-compose; no engine needed), and
# every variable of deploy/.env.example reaches the services.
# Usage: compose_config_test.sh SOURCE_DIR
set -u
source_dir="$1"
command -v docker-compose >/dev/null || { echo "FAIL: docker-compose is not installed (deploy/install-deps.sh test)"; exit 1; }
out=$(docker-compose -f "$source_dir/deploy/docker-compose.yml" config 2>&1) || { echo "FAIL: $out"; exit 1; }
for service in certs tokens server client auditor; do
  grep -q "^  $service:" <<<"$out" || { echo "FAIL: service $service missing"; exit 1; }
done
for var in $(grep -o '^BIOFED_[A-Z_]*' "$source_dir/deploy/.env.example"); do
  [[ "$var" == BIOFED_IMAGE || "$var" == BIOFED_PORT ]] && continue  # used by compose itself
  grep -q "$var:" <<<"$out" || { echo "FAIL: $var of .env.example is not passed to the services"; exit 1; }
done
echo "ok: docker-compose.yml validates with 5 services and every .env.example variable"
