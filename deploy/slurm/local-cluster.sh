#!/usr/bin/env bash
# A one-node Slurm cluster in a folder, for trying biofed's Slurm scripts
# and for the CI test: munged and slurmctld + slurmd started as plain root
# processes, every path (config, state, spool, logs, pid files, the munge
# socket and key) under DIR, on ports of its own, so it touches nothing of a
# real cluster's. Needs root and Debian's slurm-wlm and munge
# (`deploy/install-deps.sh slurm`).
#
#   local-cluster.sh start DIR   write DIR/slurm.conf, start the daemons, wait
#                                until the node is idle; prints the
#                                `export SLURM_CONF=...` that sbatch needs
#   local-cluster.sh stop DIR    stop every daemon it started (by pid file)
#
# Ports: BIOFED_SLURM_PORT (slurmctld; default 16817) and the next one.
set -euo pipefail

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }
[[ $# -eq 2 && ( "$1" == start || "$1" == stop ) ]] || { usage >&2; exit 2; }
action="$1"
dir="$(mkdir -p "$2" && cd "$2" && pwd)"

stop_daemon() {
  local pid_file="$1" pid
  [[ -f "$pid_file" ]] || return 0
  pid=$(cat "$pid_file" 2>/dev/null || true)
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
}

if [[ "$action" == stop ]]; then
  stop_daemon "$dir/slurmd.pid"
  stop_daemon "$dir/slurmctld.pid"
  stop_daemon "$dir/munged.pid"
  exit 0
fi

[[ $(id -u) -eq 0 ]] || { echo "local-cluster: the daemons run as root here (SlurmUser=root); run as root" >&2; exit 1; }
for tool in munged slurmctld slurmd sinfo; do
  command -v "$tool" >/dev/null || { echo "local-cluster: $tool missing: deploy/install-deps.sh slurm" >&2; exit 1; }
done
port="${BIOFED_SLURM_PORT:-16817}"
node="$(hostname -s)"
chmod 700 "$dir"
mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chmod 700 "$dir/munge"

# munge: a key of our own, a socket of our own.
if [[ ! -f "$dir/munge/munge.key" ]]; then
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 600 "$dir/munge/munge.key"
fi
munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/munged.seed"

cat > "$dir/slurm.conf" <<CONF
ClusterName=biofed-local
SlurmctldHost=$node
SlurmUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$node CPUs=$(nproc) State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 100); do
  if sinfo -h -o %t 2>/dev/null | grep -qx 'idle'; then
    echo "export SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.2
done
echo "local-cluster: the node did not come up in 20 s; logs: $dir/slurmctld.log $dir/slurmd.log" >&2
tail -5 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
exit 1
