# ReLoRA harness: `make ablation` regenerates Table 1, `make test` runs the
# tests; `make help` lists every target (from the `## ` text on its line).

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
# From GOAMD64=v3 on the Go compiler fuses a*b + c into one rounding, which
# changes results; the packages that compute them refuse to build there
# (internal/unfused), so make builds at v1 whatever the environment says.
export GOAMD64 := v1
MATRIX   = -preset $(PRESET) $(if $(SEEDS),-seeds $(SEEDS),) -j $(JOBS) -runs $(RUNS) $(if $(RESULTS),-results $(RESULTS),)

# GEMM backend. The default is the pure-Go AVX2 kernel, which the committed
# results were computed with (docs/speed.md has the comparison);
# `make BLAS=openblas ...` builds against OpenBLAS instead.
BLAS ?=
TAGS := $(if $(BLAS),-tags $(BLAS),)

# Whether this machine can link OpenBLAS (Debian: libopenblas-dev); if so the
# tests check that backend too.
HAVE_OPENBLAS := $(shell printf '\043include <cblas.h>\nint main(void){openblas_set_num_threads(1);return 0;}\n' | \
	$(CC) -x c - -lopenblas -o /dev/null 2>/dev/null && echo yes)

.PHONY: all help build train test bench bench-pytorch vet clean ablation spectra throughput budget scaling sweep finetune report decide successors

all: build ## same as build (the default target)

# Every target with a `## ` description on its line, in file order.
help: ## list the targets and the variables
	@awk -F ':.*## ' '/^[a-z][a-z-]*:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(firstword $(MAKEFILE_LIST))
	@echo; echo "Variables: PRESET SEEDS JOBS RUNS RESULTS THREADS BLAS WIDTHS ROUNDS ISA REMEASURE VERIFY TRAIN (see the comments in the Makefile)"

build: ## build bin/relora
	$(GO) build -buildvcs=auto $(TAGS) -o bin/relora ./cmd/relora

# The table targets with -verify train the preset's seeds and every other
# seed the run cache or the records hold (the committed records: seeds 1-3)
# into the run cache, even when the results folder has their records, and
# check every rerun against its committed record. SEEDS adds seeds; it does
# not drop the records' ones. PRESET=quick runs Table 1's matrix in under a
# minute into results/quick/. README.md has each target's run count and the
# time its records took.

# Table 1 (and Fig. 4).
ablation: build ## Table 1 and Fig. 4: train every seed the records hold, check each run against its record
	bin/relora ablation $(MATRIX) -verify

# Fig. 5: reuses Table 1's full-rank, LoRA+WS and ReLoRA runs when cached.
spectra: build ## Fig. 5: spectra of ΔW for Table 1's full-rank, LoRA+WS and ReLoRA runs (reused when cached)
	bin/relora spectra $(MATRIX) -verify

# Table 4: full-rank vs ReLoRA step speed across widths d 64-1024 (r d/8 and
# d/16; 1 core and 2 threads; fused and composed LoRA op), next to the FLOP
# model, with memory; each speed-up from full-rank and ReLoRA steps paired
# round by round in one process (run it on a quiet machine; each width and
# thread count times rounds for about `relora throughput -seconds`, 75 by
# default). WIDTHS=64,128 measures only those widths.
WIDTHS ?=
throughput: build ## Table 4: measure full-rank vs ReLoRA step speed and memory across widths (quiet machine)
	bin/relora throughput -preset $(PRESET) $(if $(WIDTHS),-widths $(WIDTHS),) $(if $(RESULTS),-results $(RESULTS),)

# Loss against training compute: Table 1's runs against the FLOPs they spent
# (reused from the cache or the records), and the equal-FLOP budget
# experiment (full-rank, ReLoRA, LoRA+WS, control with full-rank's FLOPs at
# d 128, where ReLoRA's step is faster) over 3 seeds unless SEEDS is set.
# No -verify: runs that have a record are read from it, so on a clone with
# the committed records it trains nothing and renders in seconds.
# PRESET=quick is a one-minute smoke test.
budget: build ## loss against training FLOPs; renders from the records, trains only runs without one
	bin/relora budget -preset $(PRESET) -seeds $(or $(SEEDS),3) -j $(JOBS) -runs $(RUNS) $(if $(RESULTS),-results $(RESULTS),)

# Tables 2 and 3: methods across model sizes over 3 seeds unless SEEDS is set
# (long: README.md has the time its records took; interrupted runs resume
# from their last checkpoint, so it can be trained in several sittings).
scaling: build ## Tables 2 and 3: five methods across five model sizes, 3 seeds
	bin/relora scaling -preset $(PRESET) -seeds $(or $(SEEDS),3) -j $(JOBS) -runs $(RUNS) $(if $(RESULTS),-results $(RESULTS),) -verify

# Sensitivity sweeps: reset interval, rank and pruning ratio around the
# preset, ReLoRA against its baselines over 3 seeds (unless SEEDS is set):
# 72 runs, 12 of them Table 1's (README.md has the time its records took).
sweep: build ## sensitivity sweeps: reset interval, rank, pruning ratio, 3 seeds
	bin/relora sweep -preset $(PRESET) -seeds $(or $(SEEDS),3) -j $(JOBS) -runs $(RUNS) $(if $(RESULTS),-results $(RESULTS),) -verify

# Table 5: fine-tuning on a GLUE-like suite (package tasks) by full
# fine-tuning, LoRA, ReLoRA and a linear probe, from Table 1's full-rank run
# (seed 1; trained first if the run cache lacks its weights). SEEDS are the
# fine-tuning seeds (default 3); docs/finetuning.md has the details.
finetune: build ## Table 5: fine-tuning suite from Table 1's full-rank run (trained first if not cached)
	bin/relora finetune $(MATRIX) -verify

# Beyond the paper: full training, ReLoRA, GaLore and low-rank, each after
# the same learning-rate search (its rounds extend the grid until the best
# rate is interior), across Table 2's ladder without its largest rung, 3
# seeds unless SEEDS is set; then each method's peak memory, measured in
# probe processes (once; REMEASURE=1 in `make report` measures again).
successors: build ## beyond the paper: ReLoRA against GaLore and low-rank at searched rates, with memory, 3 seeds
	bin/relora successors -preset $(PRESET) -seeds $(or $(SEEDS),3) -j $(JOBS) -runs $(RUNS) $(if $(RESULTS),-results $(RESULTS),) -verify

# The seeds that decide claims: trains, within BUDGET of wall time (JOBS runs
# at once), the seeds each undecided claim's power analysis asks for,
# cheapest claim first, then renders REPORT.md; resumable. `bin/relora
# decide -n` prints the plan only.
BUDGET ?= 4h
decide: build ## train the seeds that decide the most undecided claims per core-hour within BUDGET (default 4h), then REPORT.md
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
report: build ## results/REPORT.md from the records and the run cache (TRAIN=1, VERIFY=1, REMEASURE=1)
	bin/relora report $(MATRIX) $(if $(REMEASURE),-remeasure,) $(if $(VERIFY),-verify,) $(if $(TRAIN),-train,)

# The reference run: tiny preset, opticks, 2,000 steps, full rank.
train: build ## one full-rank run of the tiny preset into runs/tiny-full (RUNS)
	bin/relora train -preset tiny -mode full -threads $(THREADS) -out $(RUNS)/tiny-full

vet: ## go vet and gofmt
	$(GO) vet ./...
	test -z "$$(gofmt -l .)" || (gofmt -l .; exit 1)

test: vet ## vet, gofmt and every test (the OpenBLAS backend too when installed)
	$(GO) test ./...
	@if $(GO) test -count=1 -v -run '^Test(Panels|Kernel|Wide|Tall|ExpShift|Sigmoid)512Matches$$' ./kernels/gemm ./kernels/vecmath | grep -q -- '--- SKIP'; then \
		echo "make test: this CPU has no AVX-512F: the bit-identity tests of the AVX-512 GEMM kernels and exp/sigmoid loops were SKIPPED (they are not used here either)"; \
	else \
		echo "make test: this CPU has AVX-512F: the AVX-512 GEMM kernels and exp/sigmoid loops were tested bit for bit against the AVX2 ones"; \
	fi
ifeq ($(HAVE_OPENBLAS),yes)
	$(GO) vet -tags openblas ./...
	$(GO) test -tags openblas ./kernels/... ./train
endif

# Training-step benchmarks (tiny preset: full rank, ReLoRA at ranks 32 and 8,
# composed and fused LoRA op; 1 and 2 threads) with each backend this machine
# has, 5 runs each, summarised as medians by cmd/benchsummary; then a pprof
# profile of the full-rank step on one core and its top entries; then the
# roofline (cmd/roofline, about 90 s on a quiet machine): per Table 4 width
# (WIDTHS=64,128 measures only those), full-rank and ReLoRA steps on one
# core, the step's GEMM rate against this core's measured FMA peak
# (bench/peak), the step's time in GEMMs and in the rest, and heap
# allocations per step; then (a few seconds more) the step's fused
# elementwise passes (RMSNorm, SwiGLU, softmax, rotary, AdamW) per width in
# GB/s against this machine's STREAM copy and triad bandwidth (bench/stream,
# bench/elementwise; docs/speed.md).
# Per-shape GEMM rates: `go test -bench . ./kernels/gemm` (the step's GEMMs
# per width: -bench StepGEMMs; the pure-Go driver against the one the
# records were computed with, paired: TestPairedOldNew). With OpenBLAS, last: the
# pure-Go GEMM against single-threaded OpenBLAS on a d 512 step's GEMMs,
# alternated in one process (bench/gemmcmp). OpenBLAS runs with its own
# choice of kernel: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for it.
bench: ## training-step benchmarks per GEMM backend, pprof top, medians (bin/bench-*.txt), roofline and elementwise GB/s per width
	mkdir -p bin
	$(GO) test -run '^$$' -bench 'TrainStep' -benchtime 10x -count 5 ./train | tee bin/bench-go.txt
ifeq ($(HAVE_OPENBLAS),yes)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(GO) test -tags openblas -run '^$$' -bench 'TrainStep' -benchtime 10x -count 5 ./train | tee bin/bench-openblas.txt
endif
	$(GO) test -c -o bin/train.test ./train
	cd train && ../bin/train.test -test.run '^$$' -test.bench 'TrainStep/full/threads=1$$' -test.benchtime 20x -test.cpuprofile ../bin/step.prof >/dev/null
	$(GO) tool pprof -top bin/train.test bin/step.prof > bin/step-top.txt 2>/dev/null
	@echo; echo "pprof, full-rank step, 1 thread (top entries; all in bin/step-top.txt):"; sed -n '5,20p' bin/step-top.txt
	$(GO) run ./cmd/benchsummary -pprof bin/step-top.txt go=bin/bench-go.txt $(if $(filter yes,$(HAVE_OPENBLAS)),openblas=bin/bench-openblas.txt)
	@echo; $(GO) run ./cmd/roofline $(if $(WIDTHS),-widths $(WIDTHS),)
ifeq ($(HAVE_OPENBLAS),yes)
	@echo; env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(GO) run -tags gemmcmp ./bench/gemmcmp -d 512 -rounds 5
endif

# The harness's full-rank step against PyTorch 1.13 at its best here (Debian:
# apt-get install python3-torch libopenblas0-pthread): Table 4's widths d 64,
# 128 (the tiny preset), 256 and 512 (4 layers, ffn ≈ 2.75·d), 1 and 2
# threads; PyTorch's thread settings and causal-mask form calibrated first,
# then Go and PyTorch alternated round by round; prints the configuration,
# each round's ratio and, per width and thread count, the median paired
# ratio (ROUNDS rounds below d 512, half as many, rounded up, at d 512).
# ISA=avx2 runs both sides as on a CPU without AVX-512 (OpenBLAS's AVX2
# kernels, ATen at AVX2, the harness's AVX2 GEMM kernels).
ROUNDS ?= 5
ISA ?= auto
bench-pytorch: ## the same full-rank step against PyTorch 1.13 at d 64-512, alternated round by round
	GO=$(GO) bench/compare_pytorch.sh $(ROUNDS) 1,2 d64,tiny,d256,d512 $(ISA)

clean: ## remove bin/
	rm -rf bin

# `relora slurm` on a real Slurm: starts a private one-node cluster on this
# machine (root; installs slurm-wlm and munge from Debian when missing),
# submits the quick preset's Table 1 as a job array, requeues a task mid-run
# and one after it finished, and checks the rendered table byte for byte
# against a local run. About 3 minutes; stops every daemon it started.
.PHONY: test-slurm
test-slurm: ## relora slurm on a private one-node Slurm (root; installs slurm-wlm and munge)
	GO=$(GO) scripts/test-slurm.sh
