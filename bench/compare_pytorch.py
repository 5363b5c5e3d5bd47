#!/usr/bin/env python3
"""Paired speed comparison of a full-rank training step: the harness (bin/gostep)
against PyTorch at its best on this machine (bench/pytorch_step.py).

For each shape (Table 4's widths, as throughput.NewWidth makes them: d 64, 4
heads, ffn 176; the tiny preset, d 128, 4 heads, ffn 352; d 256, 4 heads, ffn
704; d 512, 8 heads, ffn 1408; all 4 layers) and thread count:

1. Calibration: PyTorch's fastest configuration here. Each thread setting runs
   in its own process (OpenBLAS reads OPENBLAS_NUM_THREADS when torch loads it):
   on 1 thread, torch and OpenBLAS at 1; on 2, every combination of torch's
   intra-op threads and OpenBLAS's threads in {1, 2} (the combinations that use
   both cores). The first times the three causal-mask forms step by step
   (masked_fill, masked_fill_, an additive 0/-inf matrix); the others run the
   fastest of them. OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE and ATEN_CPU_CAPABILITY
   are removed from PyTorch's environment (RELORA_GEMM_KERNEL from the
   harness's), so each side picks its own kernels for this CPU; where
   the CPU has AVX-512F the first thread setting is also timed with OpenBLAS's
   AVX-512 kernels forced (OPENBLAS_CORETYPE=SkylakeX, and Cooperlake where the
   CPU has AVX-512 BF16), in case an OpenBLAS older than the CPU does not
   recognise it (0.3.21 did pick Cooperlake on its own on a Zen 5), and the
   fastest kernel runs the other settings. The kernel OpenBLAS ran is printed (its
   OPENBLAS_VERBOSE=2 line). The fastest (threads, mask, kernel) is used below. The BLAS
   torch loaded is printed, with a warning unless it is Debian's pthread
   OpenBLAS (libopenblas0-pthread), PyTorch's fastest BLAS here.
2. Paired rounds: the Go step and the PyTorch step, one process each, in
   alternating order; each round's ratio pairs two neighbouring measurements
   (on a shared machine one process can run tens of percent from the next),
   and the summary is the median ratio over rounds.

Prints the configuration used, every round's ratio and, per width and thread
count, the medians and the median paired ratio. Ratios, not absolute speeds,
are the result on a loaded machine.

Whether the machine was quiet: each Go process reads one core's FMA peak
(bench/peak's loop) before its first step and after its last. A virtual
machine's neighbours slow its cores without showing in its load average, so
the readings, not the load, tell: when the lowest of a comparison's readings
falls more than 5% under the highest (the rule Table 4 applies), the summary
says the host was shared while the rounds ran.

usage: compare_pytorch.py --gostep bin/gostep [--rounds N] [--threads 1,2] [--shapes d64,tiny,d256,d512] [--isa auto|avx2]

--isa avx2 runs both sides as on a CPU without AVX-512 (the AVX2 machines
the harness's bit-identity promise is made for): OpenBLAS's AVX2 kernels
calibrated instead of its own pick (OPENBLAS_CORETYPE Haswell and Zen), ATen
at AVX2 (ATEN_CPU_CAPABILITY=avx2) and the harness's AVX2 GEMM kernels
(RELORA_GEMM_KERNEL=avx2).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

SHAPES = {
    # name: (dim, layers, heads, ffn, timed steps per process, warm-up steps);
    # the steps keep a process to a few seconds on a quiet machine.
    "d64": (64, 4, 4, 176, 30, 2),
    "tiny": (128, 4, 4, 352, 20, 2),
    "d256": (256, 4, 4, 704, 6, 1),
    "d512": (512, 4, 8, 1408, 3, 1),
}


def rounds_for(dim, rounds):
    """Paired rounds at a width: all of them below d 512; half, rounded up,
    from d 512 on, where a round takes tens of seconds."""
    return rounds if dim < 512 else max(1, (rounds + 1) // 2)


def pthread_openblas(blas):
    """Whether the BLAS path torch loaded is Debian's pthread OpenBLAS."""
    return "openblas-pthread" in blas


HERE = os.path.dirname(os.path.abspath(__file__))

# A host is called shared when the lowest FMA peak reading falls more than
# this fraction under the highest (throughput.SharedSpread, Table 4's rule).
SHARED_SPREAD = 0.05


def peak_readings(fields):
    """The FMA peak readings (GFLOP/s) of a gostep result line, if any."""
    return [float(x) for x in fields.get("fma_gflops", "").split(",") if x]


def host_verdict(peaks):
    """A sentence on the FMA peak readings: their range and whether the
    host was shared by Table 4's rule."""
    if not peaks:
        return "no FMA peak readings (no AVX2): whether the host was quiet is not known"
    lo, hi = min(peaks), max(peaks)
    short = 1 - lo / hi
    s = f"one core's FMA loop read {lo:.0f}-{hi:.0f} GFLOP/s over {len(peaks)} readings"
    if short > SHARED_SPREAD:
        return s + (f", the lowest {100 * short:.1f}% under the highest: the host was shared while these rounds ran, "
                    "so the ratios are not a quiet machine's")
    return s + f", within {100 * SHARED_SPREAD:.0f}%: a quiet host"


def parse(line):
    """key=value fields of a result line."""
    return dict(m.groups() for m in re.finditer(r"(\S+?)=(\S+)", line))


def coretypes(cpuinfo="/proc/cpuinfo"):
    """OpenBLAS kernel choices to calibrate: "auto" (its own detection) and,
    where the CPU has AVX-512F, its AVX-512 kernels forced (SkylakeX; also
    Cooperlake, which adds BF16, where the CPU has AVX-512 BF16)."""
    try:
        with open(cpuinfo) as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return ["auto"]
    out = ["auto"]
    if "avx512f" in flags:
        out.append("SkylakeX")
        if "avx512_bf16" in flags:
            out.append("Cooperlake")
    return out


# --isa avx2: both sides as on a CPU without AVX-512. OpenBLAS's AVX2
# kernels, forced (its own pick would be AVX-512): Haswell's and Zen's (the
# same kernels, other block sizes); ATen's vectorised ops at AVX2
# (ATEN_CPU_CAPABILITY); the harness's AVX2 GEMM kernels
# and exp/sigmoid loops (RELORA_GEMM_KERNEL), whose FMA peak readings are
# then the 8-lane loop's.
AVX2_CORETYPES = ["Haswell", "Zen"]


def torch_env(torch_threads, blas_threads, coretype="auto", isa="auto"):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "ATEN_CPU_CAPABILITY")}
    env["OMP_NUM_THREADS"] = str(torch_threads)
    env["OPENBLAS_NUM_THREADS"] = str(blas_threads)
    env["OPENBLAS_VERBOSE"] = "2"  # OpenBLAS prints the kernel it picked ("Core: Haswell")
    if coretype != "auto":
        env["OPENBLAS_CORETYPE"] = coretype
    if isa == "avx2":
        env["ATEN_CPU_CAPABILITY"] = "avx2"
    return env


def go_env(isa="auto"):
    env = {k: v for k, v in os.environ.items() if k != "RELORA_GEMM_KERNEL"}
    if isa == "avx2":
        env["RELORA_GEMM_KERNEL"] = "avx2"
    return env


def run_torch(shape, torch_threads, blas_threads, mask, steps, warmup, coretype="auto", isa="auto"):
    """PyTorch's result line, with core=<the OpenBLAS kernel it ran> added."""
    dim, layers, heads, ffn = SHAPES[shape][:4]
    cmd = [sys.executable, os.path.join(HERE, "pytorch_step.py"), "--threads", str(torch_threads), "--mask", mask,
           "--dim", str(dim), "--layers", str(layers), "--heads", str(heads), "--ffn", str(ffn),
           "--steps", str(steps), "--warmup", str(warmup)]
    out = subprocess.run(cmd, env=torch_env(torch_threads, blas_threads, coretype, isa), capture_output=True, text=True,
                         check=True)
    core = re.search(r"Core: (\S+)", out.stderr)
    return out.stdout.strip() + f" core={core.group(1) if core else '?'}"


def run_go(gostep, shape, threads, steps, warmup, isa="auto"):
    dim, layers, heads, ffn = SHAPES[shape][:4]
    cmd = [gostep, "-d", str(dim), "-layers", str(layers), "-heads", str(heads), "-ffn", str(ffn),
           "-threads", str(threads), "-steps", str(steps), "-warmup", str(warmup)]
    return subprocess.run(cmd, env=go_env(isa), capture_output=True, text=True, check=True).stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gostep", required=True, help="the bench/gostep binary")
    ap.add_argument("--rounds", type=int, default=5, help="paired rounds below d 512 (from d 512: half, rounded up)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--shapes", default="d64,tiny,d256,d512", help=f"comma-separated, of {', '.join(SHAPES)}")
    ap.add_argument("--isa", default="auto", choices=["auto", "avx2"],
                    help="auto: each side's widest kernels; avx2: both as on a CPU without AVX-512")
    args = ap.parse_args()
    import torch  # noqa: F401  (fail early without torch)

    dropped = [k for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "ATEN_CPU_CAPABILITY") if k in os.environ]
    if dropped:
        print(f"removed from PyTorch's environment: {', '.join(f'{k}={os.environ[k]}' for k in dropped)}")
    if "RELORA_GEMM_KERNEL" in os.environ:
        print(f"removed from the harness's environment: RELORA_GEMM_KERNEL={os.environ['RELORA_GEMM_KERNEL']}")
    cores = coretypes()
    if args.isa == "avx2":
        cores = AVX2_CORETYPES
        print("ISA avx2, as on a CPU without AVX-512: OpenBLAS's AVX2 kernels forced, ATEN_CPU_CAPABILITY=avx2, "
              "RELORA_GEMM_KERNEL=avx2 (FMA peak readings: the 8-lane loop)")
    print(f"OpenBLAS kernels calibrated: {', '.join(cores)}")
    shapes = args.shapes.split(",")
    unknown = [x for x in shapes if x not in SHAPES]
    if unknown:
        ap.error(f"unknown shape(s) {', '.join(unknown)}; have {', '.join(SHAPES)}")
    summary, all_peaks = [], []
    for shape in shapes:
        dim, layers, heads, ffn, steps, warmup = SHAPES[shape]
        rounds = rounds_for(dim, args.rounds)
        for t in (int(x) for x in args.threads.split(",")):
            threads = [(1, 1)] if t == 1 else [(t, 1), (t, t), (1, t)]
            # The mask forms are timed against each other in the first
            # thread setting, then OpenBLAS's kernel choices with the
            # fastest form; the other settings run the fastest of both.
            configs = [(threads[0], ct) for ct in cores] + [(th, None) for th in threads[1:]]
            best = None
            print(f"\n{shape} (d {dim}, {layers} layers, {heads} heads, ffn {ffn}), {t} thread(s): calibrating PyTorch", flush=True)
            for (tt, bt), ct in configs:
                ct = ct or best[5]
                line = run_torch(shape, tt, bt, "all" if best is None else best[3], max(2, steps // 2), warmup, ct,
                                 args.isa)
                f = parse(line)
                print(f"  torch threads {tt}, OpenBLAS threads {bt}, OpenBLAS kernel {ct} ({f['core']}): "
                      f"{float(f['tok/s']):,.0f} tok/s with mask {f['mask']} "
                      f"(step ms by mask: {f['mask']} {f['step_ms']}"
                      f"{''.join(', ' + k[:-3] + ' ' + v for k, v in f.items() if k.endswith('_ms') and k != 'step_ms')})", flush=True)
                if best is None or float(f["tok/s"]) > best[2]:
                    blas = [x for x in f.get("blas", "?").split(",") if "libopenblas" in x or "libblas" in x]
                    best = (tt, bt, float(f["tok/s"]), f["mask"], blas[-1] if blas else f.get("blas", "?"), ct, f["core"],
                            f.get("aten_isa", "?"))
            tt, bt, _, mask, blas, ct, core, aten_isa = best
            coretype = "unset" if ct == "auto" else ct
            print(f"  using: torch.set_num_threads({tt}), OMP_NUM_THREADS={tt}, OPENBLAS_NUM_THREADS={bt}, "
                  f"OPENBLAS_CORETYPE {coretype} (kernel {core}), mask {mask}, ATen ISA {aten_isa}; BLAS {blas}")
            if not pthread_openblas(blas):
                print("  warning: torch is not on the pthread OpenBLAS (Debian: apt-get install libopenblas0-pthread, "
                      "and update-alternatives for libblas.so.3): PyTorch is not at its best here", flush=True)
            print(f"  {'round':>5}  {'harness tok/s':>13}  {'pytorch tok/s':>13}  ratio", flush=True)
            rows, peaks, go_kernels = [], [], set()
            for r in range(rounds):
                if r % 2 == 0:
                    g = parse(run_go(args.gostep, shape, t, steps, warmup, args.isa))
                    p = parse(run_torch(shape, tt, bt, mask, steps, warmup, ct, args.isa))
                else:
                    p = parse(run_torch(shape, tt, bt, mask, steps, warmup, ct, args.isa))
                    g = parse(run_go(args.gostep, shape, t, steps, warmup, args.isa))
                gt, pt = float(g["tok/s"]), float(p["tok/s"])
                rows.append((gt, pt))
                peaks += peak_readings(g)
                go_kernels.add(g.get("kernel", "?").replace("_", " "))
                print(f"  {r + 1:>5}  {gt:>13,.0f}  {pt:>13,.0f}  {gt / pt:5.2f}x", flush=True)
            print(f"  {host_verdict(peaks)}", flush=True)
            all_peaks += peaks
            med = statistics.median(g / p for g, p in rows)
            summary.append((dim, t, statistics.median(g for g, _ in rows), statistics.median(p for _, p in rows), med,
                            len(rows), f"harness GEMM kernel {', '.join(sorted(go_kernels))}; torch threads {tt}, "
                                       f"OpenBLAS threads {bt}, OpenBLAS kernel {core}, mask {mask}"))
    print("\nsummary per width and thread count (medians over paired rounds; ratio: the median of the rounds' "
          "harness ÷ PyTorch, > 1: the harness is faster):")
    for dim, t, g, p, med, n, cfg in summary:
        print(f"  d {dim:>4}, {t} thread(s): harness {g:>9,.0f} tok/s, PyTorch {p:>9,.0f} tok/s, "
              f"ratio {med:.2f}x over {n} round(s) ({cfg})")
    print(f"  host: {host_verdict(all_peaks)}")


if __name__ == "__main__":
    main()
