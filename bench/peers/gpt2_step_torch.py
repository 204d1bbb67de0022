"""PyTorch peer for the engine benchmark: the same small GPT-2 (explicit attention, tied
embeddings, pre-LN, GELU tanh), AdamW and clipping, timed per training step.

Run with Debian's python3-torch:  /usr/bin/python3 bench/peers/gpt2_step_torch.py --threads 2
(or a venv's PyTorch 2.x; --attn sdpa uses F.scaled_dot_product_attention, which needs torch >= 2.0)
Prints one JSON line: {"median_ms": ..., "steps": [...], "threads": ...}.
"""
import json, math
import torch
import torch.nn as nn
import torch.nn.functional as F

from common import median_after_warmup, param_count, setup, step_args, time_train_steps


class Block(nn.Module):
    def __init__(self, d, h, attn="explicit"):
        super().__init__()
        self.h = h
        self.attn = attn
        self.ln_1 = nn.LayerNorm(d)
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.c_fc = nn.Linear(d, 4 * d)
        self.mlp_proj = nn.Linear(4 * d, d)

    def forward(self, x, mask):
        B, T, d = x.shape
        D = d // self.h
        q, k, v = self.c_attn(self.ln_1(x)).split(d, dim=2)
        q = q.view(B, T, self.h, D).transpose(1, 2)
        k = k.view(B, T, self.h, D).transpose(1, 2)
        v = v.view(B, T, self.h, D).transpose(1, 2)
        if self.attn == "sdpa":  # PyTorch's fused kernel (torch >= 2.0)
            z = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D))  # explicit attention matrix
            att = att.masked_fill(mask[:T, :T] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            z = att @ v
        z = z.transpose(1, 2).contiguous().view(B, T, d)
        x = x + self.c_proj(z)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, V, T, d, L, h, attn="explicit"):
        super().__init__()
        self.wte = nn.Embedding(V, d)
        self.wpe = nn.Embedding(T, d)
        self.blocks = nn.ModuleList([Block(d, h, attn) for _ in range(L)])
        self.ln_f = nn.LayerNorm(d)
        self.register_buffer("mask", torch.tril(torch.ones(T, T)))

    def forward(self, idx):
        B, T = idx.shape
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for b in self.blocks:
            x = b(x, self.mask)
        return self.ln_f(x) @ self.wte.weight.t()  # tied unembedding


def main():
    ap = step_args(batch=16)
    ap.add_argument("--d", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--attn", choices=["explicit", "sdpa"], default="explicit")
    a = ap.parse_args()
    setup(a.threads)
    model = GPT(a.vocab, a.ctx, a.d, a.layers, a.heads, a.attn)
    times, cpu = time_train_steps(model, a.vocab, a.batch, a.ctx, a.steps)
    print(json.dumps({"median_ms": median_after_warmup(times), "cpu_median_ms": median_after_warmup(cpu), "steps": times, "threads": a.threads, "torch": torch.__version__, "attn": a.attn, "params": param_count(model)}))


if __name__ == "__main__":
    main()
