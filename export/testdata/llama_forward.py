#!/usr/bin/env python3
"""A self-contained LLaMA forward pass in PyTorch, written to compute what
transformers' LlamaForCausalLM computes (eager attention, float32), for
checking the harness's export (export/torch_test.go) where transformers is
not installed.

usage: llama_forward.py [--rotary half[,interleaved]] DIR [DIR ...] < tokens.json

Each DIR holds model.safetensors and config.json as `relora export` writes
them. stdin is {"tokens": [[id, ...], ...]}: a batch of equally long
sequences, each starting at position 0. stdout is
{"logits": {ROTARY: [per DIR: [batch][position][vocab]]}, "torch": VERSION}
for each rotary convention asked for (default: half only).

The safetensors file is parsed by hand (8-byte little-endian header length,
JSON header, raw little-endian data), so only torch is needed. Parameters
are looked up by transformers' names and applied with F.linear (weight
[out, in], as torch.nn.Linear); any tensor the model does not use, or one of
the wrong shape, is an error, as are config.json values that LlamaForCausalLM
would read differently from this script.

Rotary "half" is transformers' rotate_half (dimension i of a head pairs with
i + head_dim/2); "interleaved" pairs (2i, 2i+1), Meta's original layout: the
test asks for it too, to show that the comparison tells the two apart.
"""

import argparse
import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16}


def load_safetensors(path):
    with open(path, "rb") as f:
        buf = bytearray(f.read())
    if len(buf) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", bytes(buf[:8]))
    if 8 + n > len(buf):
        raise ValueError(f"{path}: header of {n} bytes runs past the file")
    header = json.loads(bytes(buf[8 : 8 + n]).decode("utf-8"))
    meta = header.pop("__metadata__", None) or {}
    start = 8 + n
    tensors = {}
    for name, info in header.items():
        dtype = DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        shape = info["shape"]
        count = math.prod(shape)
        if end - begin != count * torch.finfo(dtype).bits // 8 or start + end > len(buf):
            raise ValueError(f"{path}: tensor {name}: bad data offsets {begin}..{end} for shape {shape}")
        t = torch.frombuffer(buf, dtype=dtype, count=count, offset=start + begin) if count else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(shape).clone()
    return tensors, meta


def check_config(cfg):
    want = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "tie_word_embeddings": False,
        "hidden_act": "silu",
        "attention_bias": False,
        "mlp_bias": False,
        "torch_dtype": "float32",
        "rope_scaling": None,
    }
    for k, v in want.items():
        if cfg.get(k, "<missing>") != v:
            raise ValueError(f"config.json: {k} is {cfg.get(k, '<missing>')!r}, want {v!r}")
    if cfg["num_key_value_heads"] != cfg["num_attention_heads"]:
        raise ValueError("config.json: grouped-query attention is not expected here")
    if cfg.get("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"]) * cfg["num_attention_heads"] != cfg["hidden_size"]:
        raise ValueError("config.json: head_dim × heads != hidden_size")


class Llama:
    def __init__(self, folder, rotary="half"):
        with open(os.path.join(folder, "config.json")) as f:
            cfg = json.load(f)
        check_config(cfg)
        self.cfg = cfg
        self.rotary = rotary
        tensors, meta = load_safetensors(os.path.join(folder, "model.safetensors"))
        if meta.get("format") != "pt":
            raise ValueError(f"model.safetensors metadata format is {meta.get('format')!r}; transformers wants 'pt'")
        self.used = set()
        self.t = tensors
        D, V, FF, L = cfg["hidden_size"], cfg["vocab_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
        self.embed = self.get("model.embed_tokens.weight", [V, D])
        self.layers = []
        for i in range(L):
            p = f"model.layers.{i}."
            self.layers.append({
                "in_norm": self.get(p + "input_layernorm.weight", [D]),
                "post_norm": self.get(p + "post_attention_layernorm.weight", [D]),
                "q": self.get(p + "self_attn.q_proj.weight", [D, D]),
                "k": self.get(p + "self_attn.k_proj.weight", [D, D]),
                "v": self.get(p + "self_attn.v_proj.weight", [D, D]),
                "o": self.get(p + "self_attn.o_proj.weight", [D, D]),
                "gate": self.get(p + "mlp.gate_proj.weight", [FF, D]),
                "up": self.get(p + "mlp.up_proj.weight", [FF, D]),
                "down": self.get(p + "mlp.down_proj.weight", [D, FF]),
            })
        self.norm = self.get("model.norm.weight", [D])
        self.lm_head = self.get("lm_head.weight", [V, D])
        unused = sorted(set(tensors) - self.used)
        if unused:
            raise ValueError(f"tensors the model does not use: {unused}")

    def get(self, name, shape):
        if name not in self.t:
            raise ValueError(f"model.safetensors has no tensor {name}")
        t = self.t[name]
        if list(t.shape) != shape:
            raise ValueError(f"{name}: shape {list(t.shape)}, want {shape}")
        if t.dtype != torch.float32:
            raise ValueError(f"{name}: dtype {t.dtype}, want float32")
        self.used.add(name)
        return t

    def rms_norm(self, x, w):
        # LlamaRMSNorm: x·rsqrt(mean(x²) + eps), then the gain.
        var = x.pow(2).mean(-1, keepdim=True)
        return w * (x * torch.rsqrt(var + self.cfg["rms_norm_eps"]))

    def cos_sin(self, T, hd):
        # LlamaRotaryEmbedding (default rope type): inv_freq in float32,
        # angles position·inv_freq, both halves of the head.
        base = self.cfg["rope_theta"]
        inv_freq = 1.0 / (base ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
        freqs = torch.outer(torch.arange(T, dtype=torch.float32), inv_freq)  # [T, hd/2]
        return freqs.cos(), freqs.sin()

    def rope(self, x, cos, sin):
        # x [B, H, T, hd]; cos, sin [T, hd/2].
        if self.rotary == "half":
            # apply_rotary_pos_emb: x·cos + rotate_half(x)·sin, cos/sin repeated over both halves.
            c, s = torch.cat((cos, cos), -1), torch.cat((sin, sin), -1)
            half = x.shape[-1] // 2
            rotated = torch.cat((-x[..., half:], x[..., :half]), -1)
            return x * c + rotated * s
        # Interleaved (GPT-J / Meta's original layout): pairs (2i, 2i+1).
        a, b = x[..., 0::2], x[..., 1::2]
        return torch.stack((a * cos - b * sin, a * sin + b * cos), -1).flatten(-2)

    def forward(self, ids):
        cfg = self.cfg
        B, T = ids.shape
        H = cfg["num_attention_heads"]
        D = cfg["hidden_size"]
        hd = D // H
        cos, sin = self.cos_sin(T, hd)
        mask = torch.full((T, T), float("-inf")).triu(1)
        x = F.embedding(ids, self.embed)
        for ly in self.layers:
            h = self.rms_norm(x, ly["in_norm"])
            q = F.linear(h, ly["q"]).view(B, T, H, hd).transpose(1, 2)
            k = F.linear(h, ly["k"]).view(B, T, H, hd).transpose(1, 2)
            v = F.linear(h, ly["v"]).view(B, T, H, hd).transpose(1, 2)
            q, k = self.rope(q, cos, sin), self.rope(k, cos, sin)
            scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(hd) + mask
            probs = torch.softmax(scores, dim=-1, dtype=torch.float32)
            a = torch.matmul(probs, v).transpose(1, 2).reshape(B, T, D)
            x = x + F.linear(a, ly["o"])
            h = self.rms_norm(x, ly["post_norm"])
            x = x + F.linear(F.silu(F.linear(h, ly["gate"])) * F.linear(h, ly["up"]), ly["down"])
        return F.linear(self.rms_norm(x, self.norm), self.lm_head)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rotary", default="half", help="comma-separated: half, interleaved")
    ap.add_argument("dirs", nargs="+")
    args = ap.parse_args()
    torch.set_num_threads(1)
    req = json.load(sys.stdin)
    ids = torch.tensor(req["tokens"], dtype=torch.int64)
    if ids.dim() != 2:
        raise ValueError("tokens must be a list of equally long sequences")
    rotaries = args.rotary.split(",")
    for r in rotaries:
        if r not in ("half", "interleaved"):
            ap.error(f"unknown rotary convention {r!r}")
    out = {r: [] for r in rotaries}
    with torch.no_grad():
        for d in args.dirs:
            m = Llama(d)
            if ids.min() < 0 or ids.max() >= m.cfg["vocab_size"]:
                raise ValueError("a token is outside the vocabulary")
            for r in rotaries:
                m.rotary = r
                out[r].append(m.forward(ids).tolist())
    json.dump({"logits": out, "torch": torch.__version__}, sys.stdout)


if __name__ == "__main__":
    main()
