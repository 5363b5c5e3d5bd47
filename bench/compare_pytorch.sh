#!/usr/bin/env bash
# Paired speed comparison of the tiny full-rank training step: this harness
# (Go benchmark) and PyTorch (bench/pytorch_step.py), run in turn, in
# alternating order, ROUNDS times for each thread count. On a shared VM one
# process can run ±20% from the next, so each round's ratio pairs two
# neighbouring measurements and the summary is the median ratio.
#
# usage: bench/compare_pytorch.sh [ROUNDS] [THREADS...]   (default 5, 1 2)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
shift || true
threads=("${@:-1}")
[ $# -eq 0 ] && threads=(1 2)
# The first Python that has torch (a pyenv python3 may shadow Debian's).
py=""
for c in ${PYTHON:-} python3 /usr/bin/python3; do
	if "$c" -c 'import torch' 2>/dev/null; then py=$c; break; fi
done
if [ -z "$py" ]; then
	echo "bench-pytorch: no python3 here can import torch (Debian: apt-get install python3-torch)" >&2
	exit 1
fi
mkdir -p bin
go test -c -o bin/train.test ./train
gorun() {
	(cd train && ../bin/train.test -test.run '^$' -test.bench "TrainStep/full/threads=$1\$" -test.benchtime 20x) |
		awk '/^Benchmark/ {for (i = 1; i <= NF; i++) if ($i == "tok/s") print $(i-1)}'
}
torchrun() { "$py" bench/pytorch_step.py --threads "$1" --steps 20 | awk '{print $(NF-1)}'; }
for t in "${threads[@]}"; do
	for r in $(seq "$rounds"); do
		if (( r % 2 )); then g=$(gorun "$t"); p=$(torchrun "$t"); else p=$(torchrun "$t"); g=$(gorun "$t"); fi
		echo "$t $g $p"
	done
done | python3 -c '
import statistics, sys, collections
rows = collections.defaultdict(list)
print("threads  harness tok/s  pytorch tok/s  ratio")
for line in sys.stdin:
    t, g, p = line.split()
    g, p = float(g), float(p)
    rows[t].append((g, p))
    print(f"{t:>7}  {g:>13,.0f}  {p:>13,.0f}  {g/p:5.2f}x", flush=True)
print()
for t, rs in rows.items():
    print(f"{t} thread(s): harness {statistics.median(g for g, _ in rs):,.0f} tok/s, "
          f"pytorch {statistics.median(p for _, p in rs):,.0f} tok/s, "
          f"median ratio {statistics.median(g / p for g, p in rs):.2f}x over {len(rs)} rounds")
'
