# ReLoRA harness: `make ablation` regenerates Table 1, `make test` runs the
# tests; see README.md for every target.

# PRESET: default, tiny or quick. SEEDS: seeds to train, a count (3 = seeds
# 1-3) or a list (4,5,6); empty = the preset's. JOBS: runs trained at once,
# one core each. RUNS: the run cache. RESULTS: tables, figures and run
# records (empty = the preset's: results/, results/tiny/, results/quick/).
# THREADS: cores of a single `make train` run.
GO      ?= go
CC      ?= cc
PRESET  ?= default
SEEDS   ?=
JOBS    ?= 2
RUNS    ?= runs
RESULTS ?=
THREADS ?= 2
MATRIX   = -preset $(PRESET) $(if $(SEEDS),-seeds $(SEEDS),) -j $(JOBS) -runs $(RUNS) $(if $(RESULTS),-results $(RESULTS),)

# GEMM backend. The default is the pure-Go AVX2 kernel, which the committed
# results were computed with (README, "Speed", has the measured comparison);
# `make BLAS=openblas ...` builds against OpenBLAS instead.
BLAS ?=
TAGS := $(if $(BLAS),-tags $(BLAS),)

# Whether this machine can link OpenBLAS (Debian: libopenblas-dev); if so the
# tests check that backend too.
HAVE_OPENBLAS := $(shell printf '\043include <cblas.h>\nint main(void){openblas_set_num_threads(1);return 0;}\n' | \
	$(CC) -x c - -lopenblas -o /dev/null 2>/dev/null && echo yes)

.PHONY: all build train test bench bench-pytorch vet clean ablation spectra throughput budget scaling sweep finetune report decide

all: build

build:
	$(GO) build -buildvcs=auto $(TAGS) -o bin/relora ./cmd/relora

# The table targets train the preset's seeds into the run cache (-verify: even
# when the results folder has their records) and check every rerun against
# its committed record; the tables use every seed of the cache and records.
# PRESET=quick runs Table 1's matrix in under a minute into results/quick/.

# Table 1 (and Fig. 4).
ablation: build
	bin/relora ablation $(MATRIX) -verify

# Fig. 5: reuses Table 1's full-rank, LoRA+WS and ReLoRA runs when cached.
spectra: build
	bin/relora spectra $(MATRIX) -verify

# Table 4: full-rank vs ReLoRA step speed across widths d 64-1024 (r d/8 and
# d/16; 1 core and 2 threads; fused and composed LoRA op), next to the FLOP
# model, with memory; each speed-up from full-rank and ReLoRA steps paired
# round by round in one process (~15 min on a quiet 2-core machine; run it
# on a quiet one). WIDTHS=64,128 measures only those widths.
WIDTHS ?=
throughput: build
	bin/relora throughput -preset $(PRESET) $(if $(WIDTHS),-widths $(WIDTHS),) $(if $(RESULTS),-results $(RESULTS),)

# Loss against training compute: Table 1's runs against the FLOPs they spent
# (reused from the cache or the records), and the equal-FLOP budget
# experiment (full-rank, ReLoRA, LoRA+WS, control with full-rank's FLOPs at
# d 128, where ReLoRA's step is faster) over 3 seeds unless SEEDS is set
# (README, "Cost", has the measured time); PRESET=quick is a one-minute
# smoke test.
budget: build
	bin/relora budget -preset $(PRESET) -seeds $(or $(SEEDS),3) -j $(JOBS) -runs $(RUNS) $(if $(RESULTS),-results $(RESULTS),)

# Tables 2 and 3: methods across model sizes over 3 seeds unless SEEDS is set
# (long: see README for the cost; interrupted runs resume from their last
# checkpoint, so it can be trained in several sittings).
scaling: build
	bin/relora scaling -preset $(PRESET) -seeds $(or $(SEEDS),3) -j $(JOBS) -runs $(RUNS) $(if $(RESULTS),-results $(RESULTS),) -verify

# Sensitivity sweeps: reset interval, rank and pruning ratio around the
# preset, ReLoRA against its baselines over 3 seeds (unless SEEDS is set);
# 60 runs beyond Table 1's (README, "Cost", has the measured time).
sweep: build
	bin/relora sweep -preset $(PRESET) -seeds $(or $(SEEDS),3) -j $(JOBS) -runs $(RUNS) $(if $(RESULTS),-results $(RESULTS),) -verify

# Table 5: fine-tuning on a GLUE-like suite (package tasks) by full
# fine-tuning, LoRA, ReLoRA and a linear probe, from Table 1's full-rank run
# (seed 1; trained first if the run cache lacks its weights). SEEDS are the
# fine-tuning seeds (default 3); README, "Fine-tuning (Table 5)", has the cost.
finetune: build
	bin/relora finetune $(MATRIX) -verify

# The seeds that decide claims: trains, within BUDGET of wall time (JOBS runs
# at once), the seeds each undecided claim's power analysis asks for,
# cheapest claim first, then renders REPORT.md; resumable. `bin/relora
# decide -n` prints the plan only.
BUDGET ?= 4h
decide: build
	bin/relora decide -budget $(BUDGET) $(MATRIX)

# Everything in one document, results/REPORT.md: Tables 1–4, Figs. 4–5 and
# the sweeps with every claim's verdict. Renders from the run cache and the
# committed run records (seconds on a fresh clone); a section whose runs
# neither has says which target trains them. TRAIN=1 trains them here,
# VERIFY=1 trains every run again and checks it against its record (hours).
# Reuses results/throughput.json unless REMEASURE=1.
REMEASURE ?=
VERIFY    ?=
TRAIN     ?=
report: build
	bin/relora report $(MATRIX) $(if $(REMEASURE),-remeasure,) $(if $(VERIFY),-verify,) $(if $(TRAIN),-train,)

# The reference run: tiny preset, opticks, 2,000 steps, full rank.
train: build
	bin/relora train -preset tiny -mode full -threads $(THREADS) -out $(RUNS)/tiny-full

vet:
	$(GO) vet ./...
	test -z "$$(gofmt -l .)" || (gofmt -l .; exit 1)

test: vet
	$(GO) test ./...
ifeq ($(HAVE_OPENBLAS),yes)
	$(GO) vet -tags openblas ./...
	$(GO) test -tags openblas ./kernels/... ./train
endif

# Training-step benchmarks (tiny preset: full rank, ReLoRA at ranks 32 and 8,
# composed and fused LoRA op; 1 and 2 threads) with each backend this machine
# has, 5 runs each, summarised as medians by cmd/benchsummary; then a pprof
# profile of the full-rank step on one core and its top entries. Per-shape
# GEMM rates: `go test -bench . ./kernels/gemm`. With OpenBLAS, last: the
# pure-Go GEMM against single-threaded OpenBLAS on a d 512 step's GEMMs,
# alternated in one process (bench/gemmcmp).
bench:
	mkdir -p bin
	$(GO) test -run '^$$' -bench 'TrainStep' -benchtime 10x -count 5 ./train | tee bin/bench-go.txt
ifeq ($(HAVE_OPENBLAS),yes)
	$(GO) test -tags openblas -run '^$$' -bench 'TrainStep' -benchtime 10x -count 5 ./train | tee bin/bench-openblas.txt
endif
	$(GO) test -c -o bin/train.test ./train
	cd train && ../bin/train.test -test.run '^$$' -test.bench 'TrainStep/full/threads=1$$' -test.benchtime 20x -test.cpuprofile ../bin/step.prof >/dev/null
	$(GO) tool pprof -top bin/train.test bin/step.prof > bin/step-top.txt 2>/dev/null
	@echo; echo "pprof, full-rank step, 1 thread (top entries; all in bin/step-top.txt):"; sed -n '5,20p' bin/step-top.txt
	$(GO) run ./cmd/benchsummary -pprof bin/step-top.txt go=bin/bench-go.txt $(if $(filter yes,$(HAVE_OPENBLAS)),openblas=bin/bench-openblas.txt)
ifeq ($(HAVE_OPENBLAS),yes)
	@echo; $(GO) run -tags gemmcmp ./bench/gemmcmp -d 512 -rounds 5
endif

# The harness's full-rank step against PyTorch 1.13 at its best here (Debian:
# apt-get install python3-torch libopenblas0-pthread): the tiny preset and d
# 512 (4 layers, ffn 1408, 8 heads), 1 and 2 threads; PyTorch's thread
# settings and causal-mask form calibrated first, then Go and PyTorch
# alternated round by round; prints the configuration, each round's ratio
# and the medians (ROUNDS rounds at the tiny shape, half as many at d 512).
ROUNDS ?= 5
bench-pytorch:
	GO=$(GO) bench/compare_pytorch.sh $(ROUNDS) 1,2 tiny,d512

clean:
	rm -rf bin

# `relora slurm` on a real Slurm: starts a private one-node cluster on this
# machine (root; installs slurm-wlm and munge from Debian when missing),
# submits the quick preset's Table 1 as a job array, requeues a task mid-run
# and one after it finished, and checks the rendered table byte for byte
# against a local run. About 3 minutes; stops every daemon it started.
.PHONY: test-slurm
test-slurm:
	GO=$(GO) scripts/test-slurm.sh
