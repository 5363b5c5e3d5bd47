#!/usr/bin/env python3
"""The tiny preset's full-rank training step in PyTorch, as a speed reference.

Same model and step as `go test -bench TrainStep/full ./train`: a LLaMA-style
decoder (d 128, 4 layers, 4 heads, SwiGLU ffn 352, RMSNorm, rotary
rotate_half, untied 256-byte vocabulary head), batch 16 x 128 tokens,
next-token cross-entropy, backward, global-norm clip at 1, AdamW. Written the
way a PyTorch user would (no torch.compile: PyTorch 1.13, Debian's
python3-torch, has none), fp32 on CPU.

Prints one line: tokens/s as the median of --repeats timings of --steps
steps each, after --warmup steps. `make bench-pytorch` runs it interleaved
with the Go benchmark and reports the ratio per round.
"""
import argparse
import math
import os
import statistics
import sys
import time


def threads_arg():
    for i, a in enumerate(sys.argv):
        if a == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return "2"


# Before torch loads: Debian's build does its BLAS calls through OpenBLAS,
# whose own threads oversubscribe the cores under PyTorch's OpenMP ones (2
# threads: 2,600 tok/s), and at::get_num_threads() starts at 1 here. Measured
# best: OpenBLAS single-threaded, OpenMP at --threads (2 threads: 5,800-7,200).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", threads_arg())

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


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

    def forward(self, x, cos, sin, mask):
        B, T, d = x.shape
        hd = d // self.heads
        h = self.attn_norm(x)
        split = lambda t: t.view(B, T, self.heads, hd).transpose(1, 2)
        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        s = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
        p = torch.softmax(s.masked_fill(mask, float("-inf")), dim=-1)
        a = (p @ v).transpose(1, 2).reshape(B, T, d)
        x = x + self.o(a)
        h = self.ffn_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Model(nn.Module):
    def __init__(self, vocab=256, d=128, layers=4, heads=4, ffn=352, seq=128, base=10000.0):
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
        self.register_buffer("mask", torch.ones(seq, seq, dtype=torch.bool).triu(1))

    def forward(self, ids):
        x = self.embed(ids)
        for b in self.blocks:
            x = b(x, self.cos, self.sin, self.mask)
        return self.head(self.norm(x))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    batch, seq, vocab = 16, 128, 256
    model = Model(vocab=vocab, seq=seq)
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

    for _ in range(args.warmup):
        step()
    rates = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for _ in range(args.steps):
            step()
        rates.append(batch * seq * args.steps / (time.perf_counter() - t0))
    print(f"pytorch {torch.__version__} threads={args.threads} {statistics.median(rates):.0f} tok/s")


if __name__ == "__main__":
    main()
