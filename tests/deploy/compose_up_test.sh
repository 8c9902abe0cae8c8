#!/usr/bin/env bash
# The compose deployment for real, on a Docker engine on this machine:
#  1. installs docker.io, docker-compose and debootstrap if missing
#     (deploy/install-deps.sh docker) and starts dockerd when none runs (and
#     stops the one it started at the end, also on failure);
#  2. makes the local base image debian:bookworm(-slim) if missing
#     (deploy/make-base-image.sh: debootstrap + docker import; no registry);
#  3. builds the whole of deploy/Dockerfile (image biofed-ci:full) when that
#     file or .dockerignore changed since the last full build (a hash kept as
#     the image's label), then the image the deployment runs: the Dockerfile's
#     `runtime-base` stage plus the host build's binary BIOFED (a Debian 12
#     host has the same libraries); right after a full build it runs that
#     image instead;
#  4. `docker-compose -f deploy/docker-compose.yml up --scale client=3` with
#     3 rounds, and checks: each round closed with 3 updates, the auditor's
#     study.db holds its attacked updates, report.html is in the results
#     volume, and the least-privilege checks
#     (tests/deploy/compose_privilege_check.sh: no client reads the auditor
#     token, the CA key or another client's token, ...);
#  5. `docker-compose down -v`, also on failure.
# Uses Debian's docker client /usr/bin/docker (the engine is Debian's 20.10;
# a newer client elsewhere on PATH is not used) on the default socket.
# Needs root; otherwise exits 77 (CTest reports it skipped). Cold (no base
# image, no build cache) it builds for about 20-30 minutes on 2 cores; warm
# it takes a few minutes.
# Usage: compose_up_test.sh BIOFED SOURCE_DIR
set -u
biofed="$1"
source_dir="$(cd "$2" && pwd)"
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (installs packages, runs dockerd)"; exit 77; }
start=$SECONDS
work=$(mktemp -d)
export DOCKER=/usr/bin/docker DOCKER_HOST=unix:///var/run/docker.sock DOCKER_COMPOSE=docker-compose
docker=$DOCKER
project="biofedci$$"
compose_file="$source_dir/deploy/docker-compose.yml"
dc() { docker-compose -p "$project" -f "$compose_file" "$@"; }
started_dockerd=""
compose_up=""
cleanup() {
  if [[ -n "$compose_up" ]]; then dc down -v --remove-orphans >/dev/null 2>&1; fi
  if [[ -n "$started_dockerd" ]]; then
    kill "$started_dockerd" 2>/dev/null
    for _ in $(seq 60); do kill -0 "$started_dockerd" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$started_dockerd" 2>/dev/null
    echo "stopped the dockerd this test started"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  [[ -n "$compose_up" ]] && dc logs --no-color --tail 15 2>&1 | tail -80
  exit 1
}
step() { echo "[$((SECONDS - start)) s] $*"; }

"$source_dir/deploy/install-deps.sh" docker || fail "installing docker.io, docker-compose, debootstrap"
if ! "$docker" info >/dev/null 2>&1; then
  dockerd > "$work/dockerd.log" 2>&1 &
  started_dockerd=$!
  for _ in $(seq 120); do "$docker" info >/dev/null 2>&1 && break; sleep 0.5; done
  "$docker" info >/dev/null 2>&1 || { tail -20 "$work/dockerd.log"; fail "dockerd did not come up"; }
  step "started dockerd (pid $started_dockerd)"
fi

"$source_dir/deploy/make-base-image.sh" || fail "making the base image"

hash=$(cat "$source_dir/deploy/Dockerfile" "$source_dir/.dockerignore" | sha256sum | cut -c1-16)
image=biofed-ci:test
if [[ "$("$docker" image inspect -f '{{index .Config.Labels "org.biofed.dockerfile"}}' biofed-ci:full 2>/dev/null)" != "$hash" ]]; then
  step "deploy/Dockerfile changed (or never built): building all of it"
  "$docker" build -q -f "$source_dir/deploy/Dockerfile" --label "org.biofed.dockerfile=$hash" -t biofed-ci:full \
    "$source_dir" > "$work/build.log" 2>&1 || { tail -30 "$work/build.log"; fail "docker build of deploy/Dockerfile"; }
  "$docker" run --rm biofed-ci:full --help >/dev/null || fail "the full image's biofed does not run"
  image=biofed-ci:full
  step "built biofed-ci:full, $(( $("$docker" image inspect -f '{{.Size}}' biofed-ci:full) / 1000000 )) MB"
else
  "$docker" build -q -f "$source_dir/deploy/Dockerfile" --target runtime-base -t biofed-ci:runtime-base \
    "$source_dir" > "$work/build.log" 2>&1 || { tail -30 "$work/build.log"; fail "docker build --target runtime-base"; }
  mkdir "$work/context"
  cp "$biofed" "$work/context/biofed"
  printf 'FROM biofed-ci:runtime-base\nCOPY biofed /usr/local/bin/biofed\n' > "$work/context/Dockerfile"
  "$docker" build -q -t "$image" "$work/context" > "$work/build.log" 2>&1 || { cat "$work/build.log"; fail "adding the host binary"; }
  step "built $image ($(( $("$docker" image inspect -f '{{.Size}}' "$image") / 1000000 )) MB): the Dockerfile's runtime-base and the host build's binary"
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export BIOFED_IMAGE="$image" BIOFED_PORT="$port" BIOFED_ROUNDS=3 BIOFED_MIN_CLIENTS=3 BIOFED_PARTITIONS=3
export BIOFED_MAX_CLIENTS=8 BIOFED_ROUND_DEADLINE_S=120 BIOFED_THREADS=1
export BIOFED_AUDIT_ROUNDS=1,2 BIOFED_AUDIT_CLIENTS=c0 BIOFED_ATTACK_ITERATIONS=50
compose_up=yes
dc up --no-build -d --scale client=3 > "$work/up.log" 2>&1 || { cat "$work/up.log"; fail "docker-compose up"; }
step "docker-compose up --scale client=3: $(dc ps -q | wc -l) containers"
for service in server auditor client; do
  for c in $(dc ps -q "$service"); do
    code=$(timeout 600 "$docker" wait "$c") || fail "$service did not finish within 10 minutes"
    [[ "$code" == 0 ]] || fail "$service container exited with $code"
  done
done
step "server, auditor and 3 clients exited with 0"

server_log=$(dc logs --no-color server 2>&1)
closed=$(grep -o 'round [0-9]* closed: [0-9]* updates' <<<"$server_log")
[[ "$(grep -c . <<<"$closed")" -eq 3 && "$(grep -c ': 3 updates' <<<"$closed")" -eq 3 ]] \
  || fail "rounds did not each close with 3 updates: $(echo $closed)"
echo "ok: $(echo "$closed" | paste -sd ';' | sed 's/;/; /g')"

auditor=$(dc ps -q auditor)
mkdir "$work/results"
"$docker" cp "$auditor:/results/audit" "$work/results/" || fail "copying the audit results out"
"$docker" cp "$auditor:/results/server/summary.json" "$work/results/" || fail "copying summary.json out"
python3 - "$work/results" <<'PY' || fail "results"
import json, os, sqlite3, sys
d = sys.argv[1]
h = json.load(open(os.path.join(d, "summary.json")))["history"]
assert [r["round"] for r in h] == [1, 2, 3] and all(len(r["participants"]) == 3 for r in h), h
rows = sqlite3.connect(os.path.join(d, "audit", "study.db")).execute(
    "select round, client_id, psnr from attacks order by round").fetchall()
assert [(r[0], r[1]) for r in rows] == [(1, "c0"), (2, "c0")], rows
assert os.path.getsize(os.path.join(d, "audit", "report.html")) > 1000
print("ok: summary.json has 3 rounds of 3 participants; study.db holds the attacked updates ("
      + ", ".join("round %d %s %.1f dB" % r for r in rows) + "); audit/report.html exists")
PY

"$source_dir/tests/deploy/compose_privilege_check.sh" "$compose_file" "$project" || fail "least-privilege checks"

dc down -v --remove-orphans > "$work/down.log" 2>&1 || { cat "$work/down.log"; fail "docker-compose down -v"; }
compose_up=""
[[ -z "$("$docker" ps -aq --filter "label=com.docker.compose.project=$project")" ]] || fail "containers left after down"
step "docker-compose down -v"
echo "all compose checks passed in $((SECONDS - start)) s"
