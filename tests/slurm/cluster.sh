#!/usr/bin/env bash
# Starts a throwaway single-node Slurm cluster on this machine, as root: munged on a private
# socket and key, slurmctld and slurmd on private ports, every file in the folder $1. Installs
# Debian's slurm-wlm and munge first when missing. Sourced by run.sh; `cluster_stop` ends it.
set -euo pipefail

cluster_install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null \
     && command -v mungekey >/dev/null && command -v sbatch >/dev/null; then
    return
  fi
  echo "slurm test: installing slurm-wlm and munge (apt)"
  local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# cluster_start FOLDER: writes slurm.conf there, starts the daemons, waits for the node to be idle.
cluster_start() {
  local dir="$1" host cpus
  host=$(hostname -s)
  cpus=2
  mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
  chmod 700 "$dir/munge"
  mungekey -c -f -k "$dir/munge/munge.key"
  munged --force --socket="$dir/munge/munge.sock" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munge.seed"
  cat > "$dir/slurm.conf" <<CONF
ClusterName=dreamreeltest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmdParameters=config_overrides
ReturnToService=2
JobRequeue=1
KillWait=10
MinJobAge=600
SchedulerParameters=defer_batch=0
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$dir/slurm.conf"
  slurmctld -f "$SLURM_CONF"
  slurmd -f "$SLURM_CONF"
  local deadline=$((SECONDS + 30))
  until sinfo -h -o '%T' 2>/dev/null | grep -qx idle; do
    if [ $SECONDS -gt $deadline ]; then
      echo "slurm test: the cluster did not come up; sinfo says: $(sinfo -h 2>&1 || true)" >&2
      tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log" "$dir/munge/munged.log" >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

# Ends the daemons this folder's pid files name (ours only), then waits for them to go.
cluster_stop() {
  local dir="$1" pidfile pid
  for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
}
