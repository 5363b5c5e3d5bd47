#!/usr/bin/env bash
# `make bench-pytorch`: builds bin/gostep (the harness's full-rank step at a
# given shape) and runs bench/compare_pytorch.py under the first Python that
# can import torch (a pyenv python3 may shadow Debian's python3-torch).
#
# usage: bench/compare_pytorch.sh [ROUNDS] [THREADS] [SHAPES] [ISA]   (default 5 1,2 d64,tiny,d256,d512 auto;
#        ISA avx2: both sides as on a CPU without AVX-512)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
threads=${2:-1,2}
shapes=${3:-d64,tiny,d256,d512}
isa=${4:-auto}
py=""
for c in ${PYTHON:-} python3 /usr/bin/python3; do
	if "$c" -c 'import torch' 2>/dev/null; then py=$c; break; fi
done
if [ -z "$py" ]; then
	echo "bench-pytorch: no python3 here can import torch (Debian: apt-get install python3-torch libopenblas0-pthread)" >&2
	exit 1
fi
mkdir -p bin
${GO:-go} build -o bin/gostep ./bench/gostep
exec "$py" bench/compare_pytorch.py --gostep bin/gostep --rounds "$rounds" --threads "$threads" --shapes "$shapes" --isa "$isa"
