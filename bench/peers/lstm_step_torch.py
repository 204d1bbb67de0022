"""PyTorch peer for the LSTM benchmark: the same LSTM language model as src/models/lstm.ts
(nn.Embedding -> nn.LSTM(batch_first) -> optional bias-free projection -> tied unembedding),
AdamW and gradient clipping, timed per training step.

Run with Debian's python3-torch:  /usr/bin/python3 bench/peers/lstm_step_torch.py --threads 2
Prints one JSON line: {"median_ms": ..., "steps": [...], "threads": ..., "params": ...}.
"""
import argparse, json, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class LSTMLM(nn.Module):
    def __init__(self, V, E, H, L):
        super().__init__()
        self.embedding = nn.Embedding(V, E)
        self.lstm = nn.LSTM(E, H, L, batch_first=True)
        self.proj = nn.Linear(H, E, bias=False) if H != E else None

    def forward(self, idx):
        h, _ = self.lstm(self.embedding(idx))
        if self.proj is not None:
            h = self.proj(h)
        return h @ self.embedding.weight.t()  # tied unembedding


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--vocab", type=int, default=5000)
    ap.add_argument("--ctx", type=int, default=128)
    ap.add_argument("--embed", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=160)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--batch", type=int, default=32)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = LSTMLM(a.vocab, a.embed, a.hidden, a.layers)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    idx = torch.randint(0, a.vocab, (a.batch, a.ctx))
    tgt = torch.randint(0, a.vocab, (a.batch, a.ctx))
    times, cpu = [], []  # wall and process CPU time (all threads) per step
    for _ in range(a.steps):
        t0 = time.perf_counter()
        c0 = time.process_time()
        opt.zero_grad(set_to_none=False)
        logits = model(idx)
        loss = F.cross_entropy(logits.reshape(-1, a.vocab), tgt.view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    warm = sorted(times[2:])
    warm_cpu = sorted(cpu[2:])
    print(json.dumps({"median_ms": warm[len(warm) // 2], "median_cpu_ms": warm_cpu[len(warm_cpu) // 2], "steps": times, "threads": a.threads, "params": sum(p.numel() for p in model.parameters())}))


if __name__ == "__main__":
    main()
