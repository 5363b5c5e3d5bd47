# ReLoRA harness. `make train` runs the reference experiment, `make test` the
# test suite; see README.md.

GO     ?= go
CC     ?= cc
RUNS   ?= runs
THREADS ?= 2

# Use OpenBLAS for the GEMMs when the machine can link it (Debian:
# libopenblas-dev); otherwise the pure-Go backend. Both give the same numbers
# up to float rounding; OpenBLAS is faster.
BLAS := $(shell printf '\043include <cblas.h>\nint main(void){openblas_set_num_threads(1);return 0;}\n' | \
	$(CC) -x c - -lopenblas -o /dev/null 2>/dev/null && echo openblas)
TAGS := $(if $(BLAS),-tags openblas,)

.PHONY: all build train test bench vet clean ablation spectra throughput scaling

all: build

build:
	$(GO) build $(TAGS) -o bin/relora ./cmd/relora

# The reference run of DESIGN.md: tiny preset, opticks, 2,000 steps.
train: build
	bin/relora train --preset tiny --steps 2000 --lr 1e-3 --threads $(THREADS) --out $(RUNS)/tiny-full

vet:
	$(GO) vet $(TAGS) ./...
	test -z "$$(gofmt -l .)" || (gofmt -l .; exit 1)

# Tests run with the backend the machine has; the GEMM package is also tested
# with the pure-Go backend so both stay correct.
test: vet
	$(GO) test $(TAGS) ./...
ifneq ($(BLAS),)
	$(GO) test ./kernels/...
endif

bench:
	$(GO) test $(TAGS) -run '^$$' -bench . -benchtime 20x ./train
	$(GO) test $(TAGS) -run '^$$' -bench . ./kernels/gemm

clean:
	rm -rf bin

PRESET ?= default
JOBS   ?= 2
SEEDS  ?= 0
RESULTS ?= results

# Table 1. PRESET=quick runs the same matrix in a few minutes (smoke test).
ablation: build
	bin/relora ablation -preset $(PRESET) -seeds $(SEEDS) -j $(JOBS) -runs $(RUNS) -results $(RESULTS)

# Fig. 5 (and Fig. 4 with the ablation): reuses Table 1's runs when cached.
spectra: build
	bin/relora spectra -preset $(PRESET) -seeds $(SEEDS) -j $(JOBS) -runs $(RUNS) -results $(RESULTS)

# Table 4: full-rank vs ReLoRA step throughput and memory (run on a quiet machine).
throughput: build
	bin/relora throughput -preset $(PRESET) -results $(RESULTS)

# Tables 2 and 3: methods across model sizes (long: see README for the cost).
scaling: build
	bin/relora scaling -preset $(PRESET) -seeds $(SEEDS) -j $(JOBS) -runs $(RUNS) -results $(RESULTS)
