#!/usr/bin/env bash
# A real SLURM cluster of one node, this machine, for the tests and for trying the cluster path locally:
#   tools/slurm_one_node.sh start    install (Debian packages) and start munge, a MariaDB, slurmdbd, slurmctld
#                                    and slurmd; wait until the node is idle; print the SLURM_CONF to export
#   tools/slurm_one_node.sh status   sinfo and squeue of this cluster
#   tools/slurm_one_node.sh stop     stop what start started (the files stay, so start again reuses them)
# Everything lives in $EMBTRANS_SLURM_DIR (default /tmp/embtrans-slurm): slurm.conf, the daemons' state,
# logs and the accounting database. The node is this machine's cores and memory (`slurmd -C`), with a GPU
# gres line per visible NVIDIA GPU. Accounting (slurmdbd) is part of it because submitit asks sacct
# whether a job ended, which a cluster without accounting cannot answer for a cancelled job.
# It needs root (or sudo) and systemd is not used: the daemons are started directly.
set -euo pipefail

DIR=${EMBTRANS_SLURM_DIR:-/tmp/embtrans-slurm}
CONF=$DIR/etc/slurm.conf
CTLD_PORT=${EMBTRANS_SLURM_PORT:-6817}  # slurmd takes the next port, slurmdbd the one after, MariaDB the next
DB_PORT=$((CTLD_PORT + 3))
PACKAGES=(munge mariadb-server slurmdbd slurmctld slurmd slurm-client)
export SLURM_CONF=$CONF

say() { echo "slurm_one_node: $*" >&2; }
die() { say "$*"; exit 2; }
sudo=$([ "$(id -u)" = 0 ] || echo sudo)
as_root() { $sudo "$@"; }

running() { [ -f "$1" ] && kill -0 "$(cat "$1" 2>/dev/null)" 2>/dev/null; }  # a pid file whose process lives

wait_for() {  # wait_for <seconds> <what> <command...>: until the command succeeds
  local seconds=$1 what=$2; shift 2
  for _ in $(seq $((seconds * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  die "$what did not come up within ${seconds} s; its log is in $DIR/log"
}

install_packages() {
  local missing=()
  for package in "${PACKAGES[@]}"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
  [ ${#missing[@]} -eq 0 ] && return
  command -v apt-get >/dev/null || die "SLURM is not installed and this is not a Debian system: install ${missing[*]}"
  say "installing ${missing[*]} (Debian packages)"
  as_root apt-get install -y "${missing[@]}" >/dev/null 2>&1 ||
    { as_root apt-get update -qq && as_root apt-get install -y "${missing[@]}" >/dev/null; } ||
    die "could not install ${missing[*]} with apt-get"
}

start_munge() {
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return; fi  # a munged already answers
  [ -f /etc/munge/munge.key ] || as_root mungekey --create --keyfile=/etc/munge/munge.key
  as_root chown munge:munge /etc/munge/munge.key
  as_root mkdir -p /run/munge && as_root chown munge:munge /run/munge
  as_root runuser -u munge -- /usr/sbin/munged
  touch "$DIR/started-munge"
  wait_for 20 munged bash -c 'munge -n | unmunge'
}

start_database() {
  running "$DIR/db/mariadb.pid" && return
  if [ ! -d "$DIR/db/data/mysql" ]; then
    as_root mkdir -p "$DIR/db/data" && as_root chown -R mysql:mysql "$DIR/db"
    as_root mariadb-install-db --user=mysql --datadir="$DIR/db/data" --auth-root-authentication-method=socket \
      --skip-test-db >"$DIR/log/mariadb-install.log" 2>&1 || die "mariadb-install-db failed: $DIR/log/mariadb-install.log"
  fi
  as_root chown -R mysql:mysql "$DIR/db"
  (as_root setsid /usr/sbin/mariadbd --user=mysql --datadir="$DIR/db/data" --socket="$DIR/db/mariadb.sock" \
    --pid-file="$DIR/db/mariadb.pid" --bind-address=127.0.0.1 --port="$DB_PORT" --skip-name-resolve \
    --log-error="$DIR/log/mariadb.log" </dev/null >/dev/null 2>&1 &)
  wait_for 60 MariaDB as_root mariadb --socket="$DIR/db/mariadb.sock" -e 'select 1'
  as_root mariadb --socket="$DIR/db/mariadb.sock" -e "
    CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"
}

gpu_count() {
  if command -v nvidia-smi >/dev/null; then nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true; else echo 0; fi
}

write_configs() {
  local node gpus
  node=$(slurmd -C | head -1)  # NodeName=<host> CPUs=... RealMemory=...: this machine as slurmd sees it
  gpus=$(gpu_count)
  mkdir -p "$DIR/etc" "$DIR/state" "$DIR/spool" "$DIR/log" "$DIR/run"
  local cpus memory
  cpus=$(sed -E 's/.* CPUs=([0-9]+).*/\1/' <<<"$node")
  memory=$(sed -E 's/.* RealMemory=([0-9]+).*/\1/' <<<"$node")
  cat >"$CONF" <<EOF
# Written by tools/slurm_one_node.sh: one node, this machine.
ClusterName=embtrans
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$((CTLD_PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
# No cgroups: they are not available in every container this runs in.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
# A cancelled job gets SIGTERM, then SIGKILL after this many seconds.
KillWait=5
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$((memory / cpus))
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$((CTLD_PORT + 2))
JobAcctGatherType=jobacct_gather/linux
JobCompType=jobcomp/none
$([ "$gpus" -gt 0 ] && echo "GresTypes=gpu")
$node$([ "$gpus" -gt 0 ] && echo " Gres=gpu:$gpus") NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  if [ "$gpus" -gt 0 ]; then
    echo "NodeName=$(hostname -s) Name=gpu File=/dev/nvidia[0-$((gpus - 1))]" >"$DIR/etc/gres.conf"
  else
    rm -f "$DIR/etc/gres.conf"
  fi
  # slurmdbd reads slurmdbd.conf beside slurm.conf, and refuses one others can read (it holds a password).
  cat >"$DIR/etc/slurmdbd.conf" <<EOF
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$((CTLD_PORT + 2))
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
PidFile=$DIR/run/slurmdbd.pid
LogFile=$DIR/log/slurmdbd.log
EOF
  chmod 600 "$DIR/etc/slurmdbd.conf"
}

start() {
  if [ -f "$DIR/run/slurmctld.pid" ] && running "$DIR/run/slurmctld.pid"; then
    say "already running"; sinfo; echo "export SLURM_CONF=$CONF"; return
  fi
  # (a zombie left by a stopped one does not count: a container's init may never reap it)
  if ps -eo stat=,comm= | awk '$2 == "slurmctld" && $1 !~ /^Z/ { found = 1 } END { exit !found }'; then
    die "another slurmctld runs on this machine (not this script's): use that cluster, or stop it first"
  fi
  install_packages
  mkdir -p "$DIR/log"
  write_configs
  start_munge
  start_database
  as_root env SLURM_CONF="$CONF" /usr/sbin/slurmdbd
  wait_for 60 slurmdbd bash -c "exec 3<>/dev/tcp/127.0.0.1/$((CTLD_PORT + 2))"
  as_root env SLURM_CONF="$CONF" /usr/sbin/slurmctld -f "$CONF"
  wait_for 60 slurmctld scontrol ping
  as_root env SLURM_CONF="$CONF" /usr/sbin/slurmd -f "$CONF"
  wait_for 60 "the node (idle in sinfo)" bash -c 'sinfo -h -N -o %t | grep -qx idle'
  sinfo -N -o "%N %t %c CPUs %m MB %G" >&2
  say "up; to use it from another shell:"
  echo "export SLURM_CONF=$CONF"
}

stop_daemon() {  # stop_daemon <name> <pid file>
  if running "$2"; then
    as_root kill "$(cat "$2")" || true
    for _ in $(seq 100); do running "$2" || break; sleep 0.1; done
    if running "$2"; then as_root kill -9 "$(cat "$2" 2>/dev/null)" 2>/dev/null || true; fi
  fi
}

stop() {
  stop_daemon slurmd "$DIR/run/slurmd.pid"
  stop_daemon slurmctld "$DIR/run/slurmctld.pid"
  stop_daemon slurmdbd "$DIR/run/slurmdbd.pid"
  stop_daemon mariadb "$DIR/db/mariadb.pid"
  if [ -f "$DIR/started-munge" ]; then
    stop_daemon munged /run/munge/munged.pid
    rm -f "$DIR/started-munge"
  fi
  say "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) sinfo -N -o "%N %t %c CPUs %m MB %G" && squeue ;;
  *) die "usage: $0 start|status|stop (state in \$EMBTRANS_SLURM_DIR, now $DIR)" ;;
esac
