#!/usr/bin/env python3
"""GaLore-AdamW and a low-rank factorised linear in PyTorch, float64, as
fixtures for train/torch_galore_test.go and train/torch_lowrank_test.go.

usage: /usr/bin/python3 reference/testdata/galore_torch.py

It prints Go declarations (each float by repr, the shortest text that reads
back as the same float64) to paste into train/torch_fixtures_test.go.

Written from the GaLore paper (Zhao et al. 2024, arXiv:2403.03507,
Algorithm 2, "Adam with GaLore"), not from the Go code, so that the Go code
is checked against a second reading of the paper. Where the paper leaves a
choice, this script makes one and says so:

* Algorithm 2 writes the bias correction as M_t <- M_t / (1 - b1^t) and
  V_t likewise, which read literally would overwrite the running moments.
  It is read here as Adam's usual correction of copies, with t counting
  updates from 1: N = (M/(1-b1^t)) / (sqrt(V/(1-b2^t)) + eps).
* The subspace is recomputed at updates 1, T+1, 2T+1, ...: Algorithm 2's
  "if t mod T = 0" with t counted from 0, as the paper's released code
  counts it. The moments are not reset then (nor are they there).
* Algorithm 2 assumes m <= n and projects from the left (P = U[:, :r],
  R = P^T G, update alpha P N). For m > n it takes the right side, as the
  released code does: Q = V[:, :r], R = G Q, update alpha N Q^T. Both are
  exercised (6x10 and 10x6).
* Algorithm 2 ascends G = -grad with W <- W + eta * alpha P N; this
  script takes G = grad and W <- W - eta * alpha P N. The same move: the
  sign convention below gives -grad and grad the same P, so R, M and N
  change sign and the update does not.
* Algorithm 2 has no weight decay. It is applied here as torch.optim.AdamW
  applies it, decoupled and before the step: W <- W (1 - eta lambda), then
  the GaLore update. (The paper's released code instead decays after the
  step, and adds eps to sqrt(V) before the bias correction. At these
  settings the late decay moves the weights by 1.9e-3 of their total
  change over the five steps, and the eps placement by 3.5e-6: both far
  above the tests' tolerance, so the fixtures pin this reading.)
* Singular vectors are defined up to sign, and the sign matters once the
  moments outlive a refresh. Convention (the Go code's galore.FixSign):
  each projector column is flipped so that its entry of largest magnitude,
  the first such on a tie, is positive. The script checks that the largest
  magnitude beats the runner-up by a margin, so float32 rounding cannot
  pick another entry.

Inputs are closed-form (sin/cos of indices) and rounded to float32 before
use, so the Go float32 path starts from exactly these numbers; the sums of
the inputs are printed too, for the Go test to check its copy of the
formulas. The betas are float32(0.9) and float32(0.999) for the same
reason: the Go optimizer holds its betas in float32.

The low-rank part is y = x (B A)^T, A r x in, B out x r (the GaLore paper's
"Low-Rank" baseline, W = B A), loss = sum(y^2), differentiated by autograd,
then two steps of torch.optim.AdamW on A and B.
"""

import math
import struct
import sys

import torch

torch.set_default_dtype(torch.float64)


def f32(x):
    """x rounded to the nearest float32, as a Python float."""
    return struct.unpack("f", struct.pack("f", x))[0]


BETA1, BETA2, EPS = f32(0.9), f32(0.999), 1e-8

# GaLore settings: rank 2, refresh every T = 2 updates (so updates 1, 3, 5
# refresh and 2, 4 reuse), scale alpha = 0.25, weight decay 0.1.
RANK, T, ALPHA, WD = 2, 2, 0.25, 0.1
LRS = [0.01, 0.02, 0.03, 0.02, 0.01]
SHAPES = [(6, 10), (10, 6)]


def galore_weight(k, i, j):
    return f32(0.5 * math.sin(0.37 * i + 0.71 * j + 1.3 * k + 0.2))


def galore_grad(k, t, i, j):
    # Two rank-one terms dominate (distinct top-2 singular values, well
    # above the third), plus a small full-rank term.
    a = 2 * math.sin(0.9 * i + 0.4 * t + k + 0.3) * math.cos(0.7 * j - 0.3 * t)
    b = math.cos(1.7 * i - 0.2 * t) * math.sin(1.1 * j + 0.5 * t + k)
    c = 0.25 * math.sin(1.3 * i * j + 0.1 * t + 0.5 * k)
    return f32(a + b + c)


def matrix(m, n, f):
    return torch.tensor([[f(i, j) for j in range(n)] for i in range(m)])


def fix_sign(p):
    """Flips each column so its first entry of largest magnitude is positive."""
    p = p.clone()
    for col in range(p.shape[1]):
        v = p[:, col].tolist()
        best = 0
        for i, x in enumerate(v):
            if abs(x) > abs(v[best]):
                best = i
        rest = sorted((abs(x) for i, x in enumerate(v) if i != best), reverse=True)
        margin = abs(v[best]) - rest[0]
        assert margin > 1e-3, f"column {col}: largest magnitude beats the next by only {margin}"
        if v[best] < 0:
            p[:, col] = -p[:, col]
    return p


class GaLoreAdamW:
    """Algorithm 2 for one matrix, with the choices in the module doc."""

    def __init__(self, w):
        self.w = w.clone()
        m, n = w.shape
        self.left = m <= n
        self.p = None
        shape = (RANK, n) if self.left else (m, RANK)
        self.m, self.v = torch.zeros(shape), torch.zeros(shape)
        self.t = 0
        self.gaps = []  # sigma_1/sigma_2 and sigma_2/sigma_3 at each refresh
        self.min_r = math.inf  # smallest |R| seen

    def step(self, g, lr):
        if self.t % T == 0:
            u, s, vh = torch.linalg.svd(g, full_matrices=False)
            self.p = fix_sign(u[:, :RANK] if self.left else vh[:RANK, :].T)
            self.gaps.append((s[0] / s[1]).item())
            self.gaps.append((s[1] / s[2]).item())
        self.t += 1
        r = self.p.T @ g if self.left else g @ self.p
        self.min_r = min(self.min_r, r.abs().min().item())
        self.m = BETA1 * self.m + (1 - BETA1) * r
        self.v = BETA2 * self.v + (1 - BETA2) * r * r
        m_hat = self.m / (1 - BETA1**self.t)
        v_hat = self.v / (1 - BETA2**self.t)
        n = m_hat / (v_hat.sqrt() + EPS)
        update = ALPHA * (self.p @ n if self.left else n @ self.p.T)
        self.w = self.w * (1 - lr * WD) - lr * update


# The low-rank layer: x 4x6 (a batch of 4), A 2x6, B 5x2; two AdamW steps
# with lr 0.01 then 0.02 and weight decay 0.1, a new x at each.
LR_ROWS, LR_IN, LR_OUT, LR_RANK = 4, 6, 5, 2
LOWRANK_LRS = [0.01, 0.02]


def lowrank_x(s, i, j):
    return f32(0.8 * math.cos(0.45 * i - 0.8 * j + 0.6 * s + 0.1))


def lowrank_a(k, j):
    return f32(0.4 * math.sin(1.9 * k + 0.29 * j * (k + 1) + 0.7))


def lowrank_b(i, k):
    return f32(0.4 * math.cos(0.61 * i - 1.7 * k + 0.3))


def go_floats(name, values, per_line=4):
    values = [float(x) for x in values]
    lines = [f"var {name} = []float64{{"]
    for i in range(0, len(values), per_line):
        lines.append("\t" + " ".join(repr(x) + "," for x in values[i : i + per_line]))
    lines.append("}\n")  # a blank line after each, as gofmt wants
    return "\n".join(lines)


def flat(t):
    return t.reshape(-1).tolist()


def galore_fixtures(out):
    opts, sums = [], []
    for k, (m, n) in enumerate(SHAPES):
        w0 = matrix(m, n, lambda i, j: galore_weight(k, i, j))
        opts.append(GaLoreAdamW(w0))
        sums.append(w0.sum().item())
    norms, projectors = [], {}
    for step, lr in enumerate(LRS, start=1):
        for k, (m, n) in enumerate(SHAPES):
            g = matrix(m, n, lambda i, j: galore_grad(k, step, i, j))
            sums.append(g.sum().item())
            opts[k].step(g, lr)
            norms.append(torch.linalg.norm(opts[k].w).item())
            if (step - 1) % T == 0:
                projectors.setdefault(step, []).extend(flat(opts[k].p))
    print("// GaLore: the sums of the inputs (W0 of each matrix, then G of each matrix at each step).", file=out)
    print(go_floats("torchGaLoreInputSums", sums), file=out)
    print("// ‖W‖_F after each step, matrix by matrix.", file=out)
    print(go_floats("torchGaLoreNorms", norms), file=out)
    for step, p in sorted(projectors.items()):
        print(f"// The projectors chosen at update {step}: P (6x2) of the 6x10 matrix, then Q (6x2) of the 10x6.", file=out)
        print(go_floats(f"torchGaLoreP{step}", p), file=out)
    for k, (m, n) in enumerate(SHAPES):
        o = opts[k]
        print(f"// The {m}x{n} matrix after {len(LRS)} steps: W, then the projected moments M and V.", file=out)
        print(go_floats(f"torchGaLoreW{k}", flat(o.w)), file=out)
        print(go_floats(f"torchGaLoreM{k}", flat(o.m)), file=out)
        print(go_floats(f"torchGaLoreV{k}", flat(o.v)), file=out)
    gaps = [g for o in opts for g in o.gaps]
    print(f"// Smallest singular-value ratio at a refresh (s1/s2 or s2/s3): {min(gaps):.3f}", file=out)
    print(f"// Smallest |R| entry over all steps: {min(o.min_r for o in opts):.3g}\n", file=out)


def lowrank_fixtures(out):
    a = matrix(LR_RANK, LR_IN, lowrank_a).requires_grad_()
    b = matrix(LR_OUT, LR_RANK, lowrank_b).requires_grad_()
    sums = [a.sum().item(), b.sum().item()]
    opt = torch.optim.AdamW([a, b], lr=LOWRANK_LRS[0], betas=(BETA1, BETA2), eps=EPS, weight_decay=WD)
    for s, lr in enumerate(LOWRANK_LRS, start=1):
        x = matrix(LR_ROWS, LR_IN, lambda i, j: lowrank_x(s, i, j))
        sums.append(x.sum().item())
        opt.zero_grad()
        y = x @ (b @ a).T
        loss = (y * y).sum()
        loss.backward()
        print(f"// Low-rank step {s}: the loss, dA, dB, then A and B after AdamW with lr {lr}.", file=out)
        print(f"var torchLowRankLoss{s} = {loss.item()!r}\n", file=out)
        print(go_floats(f"torchLowRankDA{s}", flat(a.grad)), file=out)
        print(go_floats(f"torchLowRankDB{s}", flat(b.grad)), file=out)
        for group in opt.param_groups:
            group["lr"] = lr
        opt.step()
        print(go_floats(f"torchLowRankA{s}", flat(a.detach())), file=out)
        print(go_floats(f"torchLowRankB{s}", flat(b.detach())), file=out)
    print("// Low-rank: the sums of A0, B0, and x at each step.", file=out)
    print(go_floats("torchLowRankInputSums", sums), file=out)


def main():
    out = sys.stdout
    print(f"// Printed by /usr/bin/python3 reference/testdata/galore_torch.py with PyTorch {torch.__version__}.\n", file=out)
    galore_fixtures(out)
    lowrank_fixtures(out)


if __name__ == "__main__":
    main()
