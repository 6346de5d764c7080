#!/usr/bin/env bash
# Starts a one-node Slurm cluster on this machine (slurmctld and slurmd on localhost, every
# core of the machine as the node's CPUs), with its configuration, state and logs in a
# folder (the first argument, else a new temporary one), and prints the line
#   export SLURM_CONF=DIR/slurm.conf
# for the caller to eval. Needs root; installs Debian's slurm-wlm and munge when missing.
# `.ci/slurm-up.sh --stop DIR` stops the daemons it started there.
#
# Job accounting: sacct normally reads slurmdbd's database. Here the job completion plugin
# jobcomp/filetxt writes one line per finished job (and array task) to DIR/log/jobcomp.txt,
# and `sacct --completion` reads that: no slurmdbd, no MariaDB.
set -euo pipefail

if [ "${1:-}" = "--stop" ]; then
	dir=$2
	for d in slurmd slurmctld; do
		[ -s "$dir/$d.pid" ] && kill "$(cat "$dir/$d.pid")" 2>/dev/null || true
	done
	exit 0
fi

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

dir=${1:-$(mktemp -d /tmp/segment-slurm.XXXXXX)}
mkdir -p "$dir"/{state,spool,log}
host=$(hostname -s)
cpus=$(nproc)
mem=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10))

# munge: a key of our own (made once), and its daemon unless one runs.
mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
if [ ! -s /etc/munge/munge.key ]; then
	dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
fi
chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge 2>/dev/null || true
chmod 0700 /etc/munge
chmod 0400 /etc/munge/munge.key
if ! pgrep -x munged >/dev/null; then
	if id munge >/dev/null 2>&1; then
		runuser -u munge -- /usr/sbin/munged
	else
		/usr/sbin/munged --force
	fi
fi

# The node and the controller are addressed as 127.0.0.1, so that a host name that does not
# resolve (a container's) does no harm. jobcomp/filetxt is what sacct --completion reads.
cat >"$dir/slurm.conf" <<CONF
ClusterName=segment
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=6917
SlurmdPort=6918
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/linux
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
AccountingStorageType=accounting_storage/none
MaxArraySize=1001
KillWait=5
InactiveLimit=0
MinJobAge=300
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
# No cgroup.conf: with proctrack/linuxproc and task/none slurmd needs no cgroup plugin,
# which a container often cannot have.
export SLURM_CONF=$dir/slurm.conf
/usr/sbin/slurmctld -f "$SLURM_CONF"
/usr/sbin/slurmd -f "$SLURM_CONF"
for _ in $(seq 1 30); do
	if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
		echo "export SLURM_CONF=$SLURM_CONF"
		exit 0
	fi
	sleep 1
done
echo "slurm did not come up; logs in $dir/log" >&2
tail -20 "$dir"/log/*.log >&2
exit 1
