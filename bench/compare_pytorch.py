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
   fastest of them. OPENBLAS_CORETYPE and
   OPENBLAS_L2_SIZE are removed from PyTorch's environment, so OpenBLAS picks its
   own kernel for this CPU. The fastest (threads, mask) is used below. The BLAS
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

usage: compare_pytorch.py --gostep bin/gostep [--rounds N] [--threads 1,2] [--shapes d64,tiny,d256,d512]
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


def torch_env(torch_threads, blas_threads):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env["OMP_NUM_THREADS"] = str(torch_threads)
    env["OPENBLAS_NUM_THREADS"] = str(blas_threads)
    return env


def run_torch(shape, torch_threads, blas_threads, mask, steps, warmup):
    dim, layers, heads, ffn = SHAPES[shape][:4]
    cmd = [sys.executable, os.path.join(HERE, "pytorch_step.py"), "--threads", str(torch_threads), "--mask", mask,
           "--dim", str(dim), "--layers", str(layers), "--heads", str(heads), "--ffn", str(ffn),
           "--steps", str(steps), "--warmup", str(warmup)]
    out = subprocess.run(cmd, env=torch_env(torch_threads, blas_threads), capture_output=True, text=True, check=True)
    return out.stdout.strip()


def run_go(gostep, shape, threads, steps, warmup):
    dim, layers, heads, ffn = SHAPES[shape][:4]
    cmd = [gostep, "-d", str(dim), "-layers", str(layers), "-heads", str(heads), "-ffn", str(ffn),
           "-threads", str(threads), "-steps", str(steps), "-warmup", str(warmup)]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gostep", required=True, help="the bench/gostep binary")
    ap.add_argument("--rounds", type=int, default=5, help="paired rounds below d 512 (from d 512: half, rounded up)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--shapes", default="d64,tiny,d256,d512", help=f"comma-separated, of {', '.join(SHAPES)}")
    args = ap.parse_args()
    import torch  # noqa: F401  (fail early without torch)

    dropped = [k for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ]
    if dropped:
        print(f"removed from PyTorch's environment: {', '.join(f'{k}={os.environ[k]}' for k in dropped)}")
    shapes = args.shapes.split(",")
    unknown = [x for x in shapes if x not in SHAPES]
    if unknown:
        ap.error(f"unknown shape(s) {', '.join(unknown)}; have {', '.join(SHAPES)}")
    summary, all_peaks = [], []
    for shape in shapes:
        dim, layers, heads, ffn, steps, warmup = SHAPES[shape]
        rounds = rounds_for(dim, args.rounds)
        for t in (int(x) for x in args.threads.split(",")):
            configs = [(1, 1)] if t == 1 else [(t, 1), (t, t), (1, t)]
            best = None
            print(f"\n{shape} (d {dim}, {layers} layers, {heads} heads, ffn {ffn}), {t} thread(s): calibrating PyTorch", flush=True)
            for tt, bt in configs:
                # The mask forms are timed against each other in the first
                # configuration; the others run the fastest form.
                line = run_torch(shape, tt, bt, "all" if best is None else best[3], max(2, steps // 2), warmup)
                f = parse(line)
                print(f"  torch threads {tt}, OpenBLAS threads {bt}: {float(f['tok/s']):,.0f} tok/s with mask {f['mask']} "
                      f"(step ms by mask: {f['mask']} {f['step_ms']}"
                      f"{''.join(', ' + k[:-3] + ' ' + v for k, v in f.items() if k.endswith('_ms') and k != 'step_ms')})", flush=True)
                if best is None or float(f["tok/s"]) > best[2]:
                    blas = [x for x in f.get("blas", "?").split(",") if "libopenblas" in x or "libblas" in x]
                    best = (tt, bt, float(f["tok/s"]), f["mask"], blas[-1] if blas else f.get("blas", "?"))
            tt, bt, _, mask, blas = best
            print(f"  using: torch.set_num_threads({tt}), OMP_NUM_THREADS={tt}, OPENBLAS_NUM_THREADS={bt}, mask {mask}; BLAS {blas}")
            if not pthread_openblas(blas):
                print("  warning: torch is not on the pthread OpenBLAS (Debian: apt-get install libopenblas0-pthread, "
                      "and update-alternatives for libblas.so.3): PyTorch is not at its best here", flush=True)
            print(f"  {'round':>5}  {'harness tok/s':>13}  {'pytorch tok/s':>13}  ratio", flush=True)
            rows, peaks = [], []
            for r in range(rounds):
                if r % 2 == 0:
                    g = parse(run_go(args.gostep, shape, t, steps, warmup))
                    p = parse(run_torch(shape, tt, bt, mask, steps, warmup))
                else:
                    p = parse(run_torch(shape, tt, bt, mask, steps, warmup))
                    g = parse(run_go(args.gostep, shape, t, steps, warmup))
                gt, pt = float(g["tok/s"]), float(p["tok/s"])
                rows.append((gt, pt))
                peaks += peak_readings(g)
                print(f"  {r + 1:>5}  {gt:>13,.0f}  {pt:>13,.0f}  {gt / pt:5.2f}x", flush=True)
            print(f"  {host_verdict(peaks)}", flush=True)
            all_peaks += peaks
            med = statistics.median(g / p for g, p in rows)
            summary.append((dim, t, statistics.median(g for g, _ in rows), statistics.median(p for _, p in rows), med,
                            len(rows), f"torch threads {tt}, OpenBLAS threads {bt}, mask {mask}"))
    print("\nsummary per width and thread count (medians over paired rounds; ratio: the median of the rounds' "
          "harness ÷ PyTorch, > 1: the harness is faster):")
    for dim, t, g, p, med, n, cfg in summary:
        print(f"  d {dim:>4}, {t} thread(s): harness {g:>9,.0f} tok/s, PyTorch {p:>9,.0f} tok/s, "
              f"ratio {med:.2f}x over {n} round(s) ({cfg})")
    print(f"  host: {host_verdict(all_peaks)}")


if __name__ == "__main__":
    main()
