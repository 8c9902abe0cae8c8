# Shared by the CLI federation tests (sourced, not run): a work directory
# removed on exit with every process in `pids` killed, `fail`, `wait_for`,
# and `start_federation_files N`, which makes TLS certificates, credentials
# and token files for clients client0..client(N-1) and picks a port.
# Expects `biofed` and `source_dir` set by the caller.
work=$(mktemp -d)
pids=()
cleanup() { kill -9 "${pids[@]}" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- server log"; cat "$work"/server*.log; exit 1; }
wait_for() {  # wait_for <file> <pattern> <seconds>
  local end=$((SECONDS + $3))
  while ! grep -q -- "$2" "$1" 2>/dev/null; do
    [[ $SECONDS -ge $end ]] && return 1
    sleep 0.2
  done
}
start_federation_files() {  # start_federation_files <clients>: certs, credentials, token files, $port
  "$source_dir/deploy/make-certs.sh" "$work/certs" 2>/dev/null || fail "make-certs"
  local i
  for ((i = 0; i < $1; i++)); do
    echo "client$i client client$i-token-$(printf '%016d' $i)" >> "$work/credentials"
    echo "client$i-token-$(printf '%016d' $i)" > "$work/token$i"
  done
  port=$((20000 + RANDOM % 20000))
}
