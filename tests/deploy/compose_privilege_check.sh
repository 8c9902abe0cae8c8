#!/usr/bin/env bash
# Least-privilege checks of a compose deployment of biofed that is running or
# has run (its containers still exist): what the unprivileged user of each
# server, client and auditor container can read. The secrets are taken from
# the `certs` service's volumes (the CA key, every client token, the auditor
# token); each container's file system as it is now (image, its writable
# layer, its volumes) is searched for them as that container's user:
#
#   client   reads exactly one client token (its own, not another replica's),
#            neither the CA key nor the auditor token
#   auditor  reads its own token, no client token, not the CA key
#   server   does not read the CA key
#   all      every secret file readable there has no group or other permission
#
# and, when the deployment has a token dispenser (service `tokens`): a second
# request from one address gets the same token, and a container outside the
# `enroll` network (where the auditor and server are) cannot reach it.
# Prints one line per check; exits 1 when any fails.
#
#   compose_privilege_check.sh COMPOSE_FILE PROJECT
#
# Environment: DOCKER (docker client, default docker), DOCKER_COMPOSE
# (default docker-compose). tests/deploy/compose_up_test.sh runs it.
set -u
[[ $# -eq 2 ]] || { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
compose_file="$1"; project="$2"
docker="${DOCKER:-docker}"
dc() { "${DOCKER_COMPOSE:-docker-compose}" -p "$project" -f "$compose_file" "$@"; }
failures=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mounts() { "$docker" inspect -f '{{range .Mounts}}{{.Destination}} {{end}}' "$1"; }

# Lines "NAME SECRET": ca-key (a line of the CA key), auditor, c0, c1, ...
certs=$(dc ps -q certs | head -1)
[[ -n "$certs" ]] || { echo "FAIL: no certs container in project $project"; exit 1; }
image=$("$docker" inspect -f '{{.Config.Image}}' "$certs")
"$docker" run --rm --volumes-from "$certs" --user 0 --network none --entrypoint bash "$image" -c '
  for d in "$@"; do
    find "$d" -name ca.key -exec sed -n 2p {} \; | sed "s/^/ca-key /"
    find "$d" -path "*/tokens/*" -type f -name "c*" | while read -r f; do echo "$(basename "$f") $(cat "$f")"; done
    find "$d" -path "*/tokens/auditor" -type f -exec sh -c "echo auditor \$(cat \"\$1\")" _ {} \;
  done | sort -u' _ $(mounts "$certs") > "$work/secrets"
grep -q '^ca-key ' "$work/secrets" && grep -q '^auditor ' "$work/secrets" && grep -q '^c0 ' "$work/secrets" \
  || { echo "FAIL: could not read the secrets from the certs service"; cat "$work/secrets"; exit 1; }
echo "ok: $(wc -l < "$work/secrets") secrets from the certs service (CA key, client tokens, auditor token)"

# readable CONTAINER: lines "NAME PATH MODE" for each secret the container's
# user can read in its image, writable layer or volumes, found by searching
# a snapshot of the container (works whether it still runs or has exited).
readable() {
  local snapshot
  snapshot=$("$docker" commit "$1" "biofed-privilege-check:$$") || return 1
  "$docker" run --rm -i --volumes-from "$1" --network none --entrypoint bash "$snapshot" -c '
    while read -r name secret; do
      grep -rlF -- "$secret" "$@" 2>/dev/null | sort -u | while read -r f; do
        echo "$name $f $(stat -c %a "$f")"
      done
    done' _ $(mounts "$1") /tmp /var/tmp /home /root /run /dev/shm /etc /usr/local < "$work/secrets"
  "$docker" rmi -f "$snapshot" >/dev/null
}

check_modes() {  # check_modes SERVICE FOUND_FILE
  local loose
  loose=$(awk '$3 !~ /^[0-7]00$/ {print $2 " (" $3 ")"}' "$2" | sort -u)
  [[ -z "$loose" ]] && ok "$1: every secret file it reads is its user's only" \
    || bad "$1: secret files readable by group or others: $(echo $loose)"
}

declare -A owner
for c in $(dc ps -q client); do
  name=$("$docker" inspect -f '{{.Name}}' "$c" | tr -d /)
  readable "$c" > "$work/found" || { bad "$name: could not search its file system"; continue; }
  tokens=$(awk '$1 ~ /^c[0-9]+$/ {print $1}' "$work/found" | sort -u)
  n=$(echo $tokens | wc -w)
  [[ $n -eq 1 ]] && ok "$name reads one client token ($tokens)" \
    || bad "$name reads $n client tokens ($(echo $tokens)), in $(awk '$1 ~ /^c[0-9]+$/ {print $2}' "$work/found" | sort -u | xargs)"
  shared=""
  for t in $tokens; do
    [[ -z "${owner[$t]:-}" ]] || shared+=" $t (${owner[$t]})"
    owner[$t]=$name
  done
  [[ -z "$shared" ]] || bad "$name reads tokens another client reads:$shared"
  grep -q '^ca-key ' "$work/found" && bad "$name reads the CA key: $(awk '/^ca-key/ {print $2}' "$work/found" | head -1)" \
    || ok "$name does not read the CA key"
  grep -q '^auditor ' "$work/found" && bad "$name reads the auditor token: $(awk '/^auditor/ {print $2}' "$work/found" | head -1)" \
    || ok "$name does not read the auditor token"
  check_modes "$name" "$work/found"
done
[[ ${#owner[@]} -gt 0 ]] || bad "no client container to check"

auditor=$(dc ps -q auditor | head -1)
if [[ -n "$auditor" ]] && readable "$auditor" > "$work/found"; then
  grep -q '^auditor ' "$work/found" && ok "auditor reads its own token" || bad "auditor does not read its token"
  grep -q '^c[0-9]' "$work/found" && bad "auditor reads client tokens: $(awk '/^c[0-9]/ {print $1}' "$work/found" | sort -u | xargs)" \
    || ok "auditor reads no client token"
  grep -q '^ca-key ' "$work/found" && bad "auditor reads the CA key" || ok "auditor does not read the CA key"
  check_modes auditor "$work/found"
else
  bad "no auditor container to check"
fi

server=$(dc ps -q server | head -1)
if [[ -n "$server" ]] && readable "$server" > "$work/found"; then
  grep -q '^ca-key ' "$work/found" && bad "server reads the CA key" || ok "server does not read the CA key"
  check_modes server "$work/found"
else
  bad "no server container to check"
fi

# The token dispenser, where there is one.
if dc ps -q tokens 2>/dev/null | grep -q .; then
  enroll="${project}_enroll"
  default="${project}_default"
  twice=$("$docker" run --rm --network "$enroll" --cap-drop ALL --entrypoint bash "$image" -c '
    for i in 1 2; do exec 3<>/dev/tcp/tokens/7000; echo claim >&3; read -r name token <&3; echo "$name"; exec 3<&-; done' 2>&1)
  first=$(echo "$twice" | sed -n 1p); second=$(echo "$twice" | sed -n 2p)
  [[ "$first" =~ ^c[0-9]+$ && "$first" == "$second" ]] && ok "a second request from one address gets the same token ($first)" \
    || bad "two requests from one address got: $(echo $twice)"
  if "$docker" run --rm --network "$default" --cap-drop ALL --entrypoint bash "$image" -c \
       'timeout 5 bash -c "exec 3<>/dev/tcp/tokens/7000"' >/dev/null 2>&1; then
    bad "the token dispenser is reachable from the network of the server and auditor"
  else
    ok "the token dispenser is not reachable from outside the enroll network"
  fi
fi

[[ $failures -eq 0 ]] || { echo "FAIL: $failures least-privilege checks failed"; exit 1; }
echo "all least-privilege checks passed"
