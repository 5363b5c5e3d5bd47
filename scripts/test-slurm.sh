#!/usr/bin/env bash
# test-slurm.sh: `relora slurm` on a real Slurm. Starts a private one-node
# cluster on this machine (munged, slurmctld and slurmd as local daemons,
# state, sockets and logs in a temp dir, ports chosen free), submits the
# quick preset's Table 1 as a job array with the generated submit script,
# requeues one task while it runs (Slurm kills it; the rerun resumes the
# run from its checkpoint) and one after it finished (the rerun returns at
# once), waits for the array and the render job, and requires the rendered
# ablation.md to be byte-identical to a local `relora ablation` of the same
# runs (and every run's metrics.jsonl too). Stops every daemon it started.
#
# Needs root (the daemons run as root; slurm-wlm and munge are installed
# from Debian when missing). Usage: scripts/test-slurm.sh (make test-slurm).
# KEEP=1 keeps the temp dir. Prints PASS or FAIL; exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
TIMEOUT=${TIMEOUT:-600} # seconds to wait for the array and the render job
started=$(date +%s)
say() { echo "test-slurm: $*"; }
fail() {
	say "FAIL: $*"
	exit 1
}

[ "$(id -u)" = 0 ] || fail "needs root (slurmd and munged run as root here)"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
	say "installing slurm-wlm and munge (Debian)"
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq slurm-wlm munge >/dev/null
fi
say "$(slurmctld -V), $(munged -V 2>&1 | head -1)"

T=$(mktemp -d /tmp/relora-slurm.XXXXXX)
chmod 755 "$T"
export SLURM_CONF=$T/slurm.conf
daemons=() # pids of the daemons started here

cleanup() {
	local rc=$? pid j n ids=
	set +e
	# Every job of this private cluster is this script's: cancel them and
	# let their steps end before the daemons stop.
	if [ ${#daemons[@]} -gt 1 ]; then
		ids=$(squeue -h -r -t all -o %A 2>/dev/null | sort -u)
		for j in $ids; do scancel "$j" 2>/dev/null; done
		for n in $(seq 60); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.5; done
	fi
	for pid in "${daemons[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${daemons[@]}"; do
		for n in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
	done
	# A job's slurmstepd ("slurmstepd: [<job id>.batch]") would outlive
	# slurmd; none should be left after the scancel above.
	while read -r pid args; do
		for j in $ids; do
			case "$args" in "slurmstepd: [$j."*) kill -9 "$pid" 2>/dev/null ;; esac
		done
	done < <(ps -eo pid=,args=)
	left=$(ps -eo pid=,args= | grep -F "$T" | grep -v grep)
	[ -n "$left" ] && echo "test-slurm: still running after cleanup:" && echo "$left"
	if [ $rc -ne 0 ]; then
		for f in "$T"/log/*.log; do
			[ -f "$f" ] && echo "--- $f (last 15 lines)" && tail -n 15 "$f"
		done
		echo "test-slurm: FAIL after $(($(date +%s) - started)) s; files kept in $T"
	elif [ -z "${KEEP:-}" ]; then
		rm -rf "$T"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A private munge: own key, socket, pid and log files.
mkdir -p "$T/munge" "$T/state" "$T/spool" "$T/log"
chmod 711 "$T/munge"
head -c 1024 /dev/urandom >"$T/munge/munge.key"
chmod 600 "$T/munge/munge.key"
munged --force --socket="$T/munge/munge.sock" --key-file="$T/munge/munge.key" --log-file="$T/log/munged.log" \
	--pid-file="$T/munge/munged.pid" --seed-file="$T/munge/munged.seed"
for n in $(seq 50); do [ -s "$T/munge/munged.pid" ] && break; sleep 0.1; done
daemons+=("$(cat "$T/munge/munged.pid")")
munge --socket="$T/munge/munge.sock" -n | unmunge --socket="$T/munge/munge.sock" >/dev/null || fail "munge does not work"

# Two free ports.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 20000))
		ss -Htln "sport = :$p" | grep -q . || ss -Htln "sport = :$((p + 1))" | grep -q . || {
			echo $p
			return
		}
	done
}
port=$(free_port)
host=$(hostname -s)
cpus=$(nproc)
mem=$(free -m | awk '/^Mem:/ {print int($7 * 0.9)}') # a bit under what is available
cat >"$SLURM_CONF" <<EOF
ClusterName=relora-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge/munge.sock
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -i -f "$SLURM_CONF" >"$T/log/slurmctld.out" 2>&1 &
daemons+=($!)
slurmd -D -f "$SLURM_CONF" >"$T/log/slurmd.out" 2>&1 &
daemons+=($!)
state=
for n in $(seq 120); do
	state=$(sinfo -h -N -o %t 2>/dev/null || true)
	[ "$state" = idle ] && break
	sleep 0.5
done
[ "$state" = idle ] || fail "node not idle after 60 s (sinfo: '${state}')"
say "one-node cluster up: $host, $cpus CPUs, ${mem} MB, ports $port-$((port + 1)), files in $T"

# The binary every "node" runs, and the array of the quick preset's Table 1.
$GO build -buildvcs=auto -o "$T/bin/relora" ./cmd/relora
B=$T/bin/relora
"$B" slurm -table ablation -preset quick -runs "$T/runs" -results "$T/results" -throttle 1 | tee "$T/slurm.out"
submit=$(awk '$1 == "bash" {print $2}' "$T/slurm.out" | tail -n 1)
[ -f "$submit" ] || fail "relora slurm printed no submit command"
tasks=$(wc -l <"$T/runs/slurm/ablation.tasks")
[ "$tasks" -eq 8 ] || fail "$tasks tasks, want 8 (the quick preset's Table 1)"

bash "$submit" | tee "$T/submit.out"
ids=$(tail -n 1 "$T/submit.out")
jid=$(echo "$ids" | sed -n 's/^array=\([0-9]*\) render=.*/\1/p')
rid=$(echo "$ids" | sed -n 's/.* render=\([0-9]*\)$/\1/p')
[ -n "$jid" ] && [ -n "$rid" ] || fail "no job ids from the submit script"
scontrol show job "$rid" | grep -q "Dependency=afterany:${jid}" || fail "render job $rid does not depend on afterany:$jid"

# Requeue a task while it runs, once its run has a checkpoint and no
# result: Slurm kills it and runs it again ~2 min later, and the rerun
# resumes from the checkpoint.
run_dir() { sed -n "$(($1 + 1))p" "$T/runs/slurm/ablation.tasks" | awk '{for (i = 1; i < NF; i++) if ($i == "--out") print $(i + 1)}'; }
running= k1= ckpt=
for n in $(seq 1200); do
	running=$(squeue -h -r -j "$jid" -t R -o %i | head -n 1)
	if [ -n "$running" ]; then
		k1=${running#*_}
		d=$(run_dir "$k1")
		if [ -f "$d/checkpoint.safetensors" ] && [ ! -f "$d/result.json" ]; then
			ckpt=yes
			break
		fi
	fi
	sleep 0.05
done
[ -n "$running" ] || fail "no task of array $jid started within 60 s"
scontrol requeue "$running" || fail "scontrol requeue $running"
say "requeued task $running while RUNNING (checkpoint in its run folder, no result.json: ${ckpt:-no})"

# Requeue a task after it finished: the rerun must return at once.
done_task=
for n in $(seq 600); do
	for k in $(seq 0 7); do
		[ "$k" = "$k1" ] && continue
		if scontrol show job "${jid}_$k" 2>/dev/null | grep -q "JobState=COMPLETED"; then
			done_task=${jid}_$k
			break 2
		fi
	done
	sleep 0.1
done
[ -n "$done_task" ] || fail "no other task completed within 60 s"
k2=${done_task#*_}
scontrol requeue "$done_task" || fail "scontrol requeue $done_task"
say "requeued task $done_task after it COMPLETED"

# Meanwhile the same matrix locally, for the comparison.
"$B" ablation -preset quick -j 2 -runs "$T/local-runs" -results "$T/local-results" >"$T/local.out" 2>&1 &
local_pid=$!

say "waiting for array $jid and render job $rid (requeued tasks wait ~2 min: Slurm delays a requeued job's start)"
for n in $(seq "$TIMEOUT"); do
	[ -z "$(squeue -h -j "$jid,$rid" 2>/dev/null)" ] && break
	sleep 1
done
[ -z "$(squeue -h -j "$jid,$rid")" ] || {
	squeue -r
	fail "jobs not finished after $TIMEOUT s"
}
wait "$local_pid" || {
	cat "$T/local.out"
	fail "local relora ablation failed"
}

logs=$T/runs/slurm/logs
render_log=$logs/$rid-render.out
echo "--- render job log ($render_log):"
cat "$render_log"
echo "---"
rstate=$(scontrol show job -o "$rid")
case "$rstate" in *" JobState=COMPLETED "*" ExitCode=0:0 "*) ;; *) fail "render job $rid: $rstate" ;; esac
grep -q "relora-slurm: render exit 0" "$render_log" || fail "render job did not exit 0"
for k in "$k1" "$k2"; do
	log=$logs/${jid}_$k.out
	echo "--- task $k's log (requeued):"
	cat "$log"
	grep -q "(restart 1)" "$log" || fail "task $k was not rerun after its requeue"
	[ "$(grep 'relora-slurm: task .* exit' "$log" | tail -n 1)" = "relora-slurm: task $k exit 0" ] || fail "task $k's last attempt did not exit 0"
done
echo "---"
if grep -q "DUE TO JOB REQUEUE" "$logs/${jid}_$k1.out"; then
	say "task $k1 was killed mid-run by the requeue (checkpoint present: ${ckpt:-no}) and its rerun finished the run"
else
	say "task $k1 finished before the requeue reached it; its rerun returned at once"
fi
for k in $(seq 0 7); do
	grep -q "relora-slurm: task $k exit 0" "$logs/${jid}_$k.out" || fail "task $k: no successful exit in its log"
done

# The same table and the same runs as a local run, to the byte.
cmp "$T/results/ablation.md" "$T/local-results/ablation.md" || {
	diff "$T/results/ablation.md" "$T/local-results/ablation.md" | head -20
	fail "ablation.md rendered after Slurm differs from the local one"
}
same=0
for d in "$T"/local-runs/*/; do
	h=$(basename "$d")
	cmp -s "$d/metrics.jsonl" "$T/runs/$h/metrics.jsonl" || fail "run $h: metrics.jsonl differs between Slurm and the local run"
	same=$((same + 1))
done
[ "$same" -eq 8 ] || fail "$same runs compared, want 8"
say "ablation.md after Slurm (requeues included) is byte-identical to the local one; so are the 8 runs' metrics.jsonl"
say "PASS in $(($(date +%s) - started)) s"
