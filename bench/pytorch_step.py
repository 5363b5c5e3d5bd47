#!/usr/bin/env python3
"""A full-rank training step of the harness's decoder in PyTorch, as a speed reference.

Same model and step as bench/gostep (the harness's train.Stepper): a LLaMA-style
decoder (default: the tiny preset, d 128, 4 layers, 4 heads, SwiGLU ffn 352;
--dim/--layers/--heads/--ffn for other shapes), RMSNorm, rotary rotate_half,
untied 256-byte vocabulary head, batch 16 x 128 tokens, next-token
cross-entropy, backward, global-norm clip at 1, AdamW. Written the way a
PyTorch user would (no torch.compile: PyTorch 1.13, Debian's python3-torch,
has none), fp32 on CPU.

The causal mask has three forms (--mask): "fill" (scores.masked_fill(mask,
-inf)), "fill_" (the same in place) and "add" (scores + a precomputed 0/-inf
matrix). --mask all times the three in this process, alternating step by
step, and reports the fastest.

Threads: --threads sets torch.set_num_threads (intra-op, OpenMP). The BLAS's
own threads come from OPENBLAS_NUM_THREADS in the environment, read when
torch loads OpenBLAS; bench/compare_pytorch.py tries the combinations.

Prints one line: "pytorch <version> threads=T blas_threads=B mask=M d=D
tok/s=X step_ms=Y", X from the median step time after --warmup steps.
"""
import argparse
import math
import os
import re
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.w = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.w


def rotate_half(x):
    a, b = x.chunk(2, dim=-1)
    return torch.cat((-b, a), dim=-1)


class Block(nn.Module):
    def __init__(self, d, heads, ffn):
        super().__init__()
        self.heads = heads
        self.attn_norm, self.ffn_norm = RMSNorm(d), RMSNorm(d)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d, bias=False) for _ in range(4))
        self.gate, self.up = nn.Linear(d, ffn, bias=False), nn.Linear(d, ffn, bias=False)
        self.down = nn.Linear(ffn, d, bias=False)

    def forward(self, x, cos, sin, mask, mask_form):
        B, T, d = x.shape
        hd = d // self.heads
        h = self.attn_norm(x)
        split = lambda t: t.view(B, T, self.heads, hd).transpose(1, 2)
        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        s = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
        if mask_form == "fill":
            s = s.masked_fill(mask, float("-inf"))
        elif mask_form == "fill_":
            s.masked_fill_(mask, float("-inf"))
        else:  # "add": mask is a 0/-inf float matrix
            s = s + mask
        p = torch.softmax(s, dim=-1)
        a = (p @ v).transpose(1, 2).reshape(B, T, d)
        x = x + self.o(a)
        h = self.ffn_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Model(nn.Module):
    def __init__(self, vocab, d, layers, heads, ffn, seq, base=10000.0):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList(Block(d, heads, ffn) for _ in range(layers))
        self.norm = RMSNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        hd = d // heads
        inv = base ** (-torch.arange(0, hd, 2).float() / hd)
        ang = torch.arange(seq).float()[:, None] * inv[None, :]
        ang = torch.cat((ang, ang), dim=-1)
        self.register_buffer("cos", ang.cos())
        self.register_buffer("sin", ang.sin())
        bool_mask = torch.ones(seq, seq, dtype=torch.bool).triu(1)
        self.register_buffer("bool_mask", bool_mask)
        self.register_buffer("add_mask", torch.zeros(seq, seq).masked_fill(bool_mask, float("-inf")))
        self.mask_form = "fill"

    def forward(self, ids):
        mask = self.add_mask if self.mask_form == "add" else self.bool_mask
        x = self.embed(ids)
        for b in self.blocks:
            x = b(x, self.cos, self.sin, mask, self.mask_form)
        return self.head(self.norm(x))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--mask", default="fill", choices=["fill", "fill_", "add", "all"])
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=352)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    batch, seq, vocab = 16, 128, 256
    model = Model(vocab, args.dim, args.layers, args.heads, args.ffn, seq)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.0)
    data = torch.randint(0, vocab, (batch, seq + 1))
    ids, targets = data[:, :-1], data[:, 1:]

    def step():
        opt.zero_grad(set_to_none=True)
        logits = model(ids)
        loss = F.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    forms = ["fill", "fill_", "add"] if args.mask == "all" else [args.mask]
    times = {f: [] for f in forms}
    for i in range(args.warmup + args.steps):
        for f in forms if i % 2 == 0 else reversed(forms):
            model.mask_form = f
            t0 = time.perf_counter()
            step()
            if i >= args.warmup:
                times[f].append(time.perf_counter() - t0)
    best = min(forms, key=lambda f: statistics.median(times[f]))
    blas = "?"
    try:  # the BLAS library torch's matmuls went to
        with open("/proc/self/maps") as maps:
            libs = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
        blas = ",".join(sorted(os.path.realpath(x) for x in libs)) or "none found"
    except OSError:
        pass
    # The vector ISA ATen's CPU kernels dispatch to (ATEN_CPU_CAPABILITY
    # can lower it), as torch's build summary reports it.
    isa = re.search(r"CPU capability usage: (\S+)", torch.__config__.show())
    med = statistics.median(times[best])
    others = " ".join(f"{f}_ms={1e3 * statistics.median(times[f]):.1f}" for f in forms if f != best)
    print(f"pytorch {torch.__version__} threads={args.threads} blas_threads={os.environ.get('OPENBLAS_NUM_THREADS', 'default')} "
          f"mask={best} d={args.dim} tok/s={batch * seq / med:.0f} step_ms={1e3 * med:.1f} blas={blas} "
          f"aten_isa={isa.group(1) if isa else '?'} {others}".rstrip())


if __name__ == "__main__":
    sys.exit(main())
