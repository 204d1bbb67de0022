"""PyTorch peer for the Mamba-2 benchmark: the same Mamba-2 LM (HF Mamba2ForCausalLM layout: in_proj
to z, xBC, dt; depthwise causal conv + SiLU; softplus dt; A = -exp(A_log); the chunked SSD exactly
as state-spaces/mamba's ssd_minimal.py (Listing 1 of the paper, einsums); D skip; gated RMSNorm;
out_proj; pre-RMSNorm residual blocks; tied embeddings), with AdamW and clipping, timed per
training step. Plain PyTorch: no Triton, no fused kernels (there are none on CPU).

Run with Debian's python3-torch:  /usr/bin/python3 bench/peers/mamba2_step_torch.py --threads 2
Prints one JSON line: {"median_ms": ..., "steps": [...], "threads": ..., "params": ...}.
"""
import json, math
import torch
import torch.nn as nn
import torch.nn.functional as F

from common import median_after_warmup, param_count, setup, step_args, time_train_steps


def segsum(x):
    """Stable segment sum of ssd_minimal.py."""
    T = x.size(-1)
    x = x[..., None].expand(*x.size(), T)
    x = x.masked_fill(~torch.tril(torch.ones(T, T, dtype=torch.bool), diagonal=-1), 0)
    s = torch.cumsum(x, dim=-2)
    return s.masked_fill(~torch.tril(torch.ones(T, T, dtype=torch.bool), diagonal=0), -torch.inf)


def ssd_minimal(X, A, B, C, block_len):
    """ssd_minimal_discrete: X (b, T, h, p), A (b, T, h), B, C (b, T, g, n); T a multiple of block_len."""
    b, T, h, p = X.shape
    c = T // block_len
    X = X.reshape(b, c, block_len, h, p)
    A = A.reshape(b, c, block_len, h).permute(0, 3, 1, 2)  # (b, h, c, l)
    B = B.reshape(b, c, block_len, *B.shape[2:])
    C = C.reshape(b, c, block_len, *C.shape[2:])
    A_cumsum = torch.cumsum(A, dim=-1)
    L = torch.exp(segsum(A))
    Y_diag = torch.einsum("bclgn,bcsgn,bhcls,bcshp->bclhp", C, B, L, X)
    decay_states = torch.exp(A_cumsum[:, :, :, -1:] - A_cumsum)
    states = torch.einsum("bclgn,bhcl,bclhp->bcghpn", B, decay_states, X)
    states = torch.cat([torch.zeros_like(states[:, :1]), states], dim=1)
    decay_chunk = torch.exp(segsum(F.pad(A_cumsum[:, :, :, -1], (1, 0))))
    new_states = torch.einsum("bhzc,bcghpn->bzghpn", decay_chunk, states)
    states = new_states[:, :-1]
    state_decay_out = torch.exp(A_cumsum)
    Y_off = torch.einsum("bclgn,bcghpn,bhcl->bclhp", C, states, state_decay_out)
    return (Y_diag + Y_off).reshape(b, c * block_len, h, p)


def rms(x, w, eps=1e-5):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


class Mixer(nn.Module):
    def __init__(self, d, expand, headdim, N, K, chunk):
        super().__init__()
        self.di, self.P, self.N, self.K, self.chunk = expand * d, headdim, N, K, chunk
        self.H = self.di // headdim
        conv = self.di + 2 * N
        self.in_proj = nn.Linear(d, 2 * self.di + 2 * N + self.H, bias=False)
        self.conv1d = nn.Conv1d(conv, conv, K, groups=conv, padding=K - 1)
        dt = torch.exp(torch.rand(self.H) * (math.log(0.1) - math.log(0.001)) + math.log(0.001))
        self.dt_bias = nn.Parameter(dt + torch.log(-torch.expm1(-dt)))
        self.A_log = nn.Parameter(torch.log(torch.empty(self.H).uniform_(1, 16)))
        self.D = nn.Parameter(torch.ones(self.H))
        self.norm_weight = nn.Parameter(torch.ones(self.di))
        self.out_proj = nn.Linear(self.di, d, bias=False)

    def forward(self, h):
        Bt, T, _ = h.shape
        z, xBC, dt = self.in_proj(h).split([self.di, self.di + 2 * self.N, self.H], dim=-1)
        xBC = F.silu(self.conv1d(xBC.transpose(1, 2))[..., :T].transpose(1, 2))
        x, Bm, Cm = xBC.split([self.di, self.N, self.N], dim=-1)
        dt = F.softplus(dt + self.dt_bias)
        A = -torch.exp(self.A_log)
        x = x.reshape(Bt, T, self.H, self.P)
        y = ssd_minimal(x * dt[..., None], A * dt, Bm[:, :, None], Cm[:, :, None], self.chunk)
        y = y + self.D[:, None] * x
        y = rms(y.reshape(Bt, T, self.di) * F.silu(z), self.norm_weight)
        return self.out_proj(y)


class Mamba2LM(nn.Module):
    def __init__(self, V, d, L, expand, headdim, N, K, chunk):
        super().__init__()
        self.emb = nn.Embedding(V, d)
        self.norms = nn.ParameterList([nn.Parameter(torch.ones(d)) for _ in range(L)])
        self.mixers = nn.ModuleList([Mixer(d, expand, headdim, N, K, chunk) for _ in range(L)])
        self.norm_f = nn.Parameter(torch.ones(d))

    def forward(self, idx):
        x = self.emb(idx)
        for w, m in zip(self.norms, self.mixers):
            x = x + m(rms(x, w))
        return rms(x, self.norm_f) @ self.emb.weight.t()  # tied lm head


def main():
    ap = step_args(batch=16)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--expand", type=int, default=4)
    ap.add_argument("--headdim", type=int, default=64)
    ap.add_argument("--state", type=int, default=32)
    ap.add_argument("--chunk", type=int, default=64)
    a = ap.parse_args()
    setup(a.threads)
    model = Mamba2LM(a.vocab, a.d, a.layers, a.expand, a.headdim, a.state, 4, a.chunk)
    times, cpu = time_train_steps(model, a.vocab, a.batch, a.ctx, a.steps)
    # CPU time (all threads) beside wall time: far less sensitive to other processes on a busy machine.
    print(json.dumps({"median_ms": median_after_warmup(times), "cpu_median_ms": median_after_warmup(cpu), "steps": times, "threads": a.threads, "params": param_count(model)}))


if __name__ == "__main__":
    main()
