#!/usr/bin/env bash
# Makes a development certificate authority and certificates for a biofed
# federation (OpenSSL, EC P-256, valid 30 days). Not for production: the CA
# key is left next to the certificates.
#
#   deploy/make-certs.sh OUT_DIR [--server-name NAME]... [--client NAME]...
#
# Writes OUT_DIR/ca.pem, ca.key, server.pem, server.key (subject alternative
# names: every --server-name, plus localhost and 127.0.0.1), and for each
# --client NAME: client-NAME.pem and client-NAME.key (for mutual TLS).
# Existing files are kept, so several services can run it safely.
set -euo pipefail

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }
[[ $# -ge 1 && "$1" != "-h" && "$1" != "--help" ]] || { usage; [[ $# -ge 1 ]]; exit $?; }
out="$1"; shift
server_names=(localhost)
clients=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --server-name) server_names+=("$2"); shift 2 ;;
    --client) clients+=("$2"); shift 2 ;;
    *) echo "make-certs: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
command -v openssl >/dev/null || { echo "make-certs: openssl is not installed" >&2; exit 1; }
mkdir -p "$out"
cd "$out"
umask 077

if [[ ! -f ca.pem ]]; then
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout ca.key -out ca.pem \
    -days 30 -subj "/CN=biofed development CA" 2>/dev/null
fi

sign() {  # sign NAME SUBJECT EXTENSIONS
  local name="$1" subject="$2" ext="$3"
  [[ -f "$name.pem" ]] && return 0
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$name.key" -out "$name.csr" \
    -subj "$subject" 2>/dev/null
  printf '%s\n' "$ext" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$name.pem" -days 30 \
    -extfile "$name.ext" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

san="DNS:$(IFS=,; echo "${server_names[*]}" | sed 's/,/,DNS:/g'),IP:127.0.0.1"
sign server "/CN=${server_names[0]}" "subjectAltName=$san
extendedKeyUsage=serverAuth"
for c in "${clients[@]}"; do
  sign "client-$c" "/CN=$c" "extendedKeyUsage=clientAuth"
done
chmod 644 ./*.pem
echo "make-certs: certificates in $out" >&2
