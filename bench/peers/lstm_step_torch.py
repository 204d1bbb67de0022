"""PyTorch peer for the LSTM benchmark: the same LSTM language model as src/models/lstm.ts
(nn.Embedding -> nn.LSTM(batch_first) -> optional bias-free projection -> tied unembedding),
AdamW and gradient clipping, timed per training step.

Run with Debian's python3-torch:  /usr/bin/python3 bench/peers/lstm_step_torch.py --threads 2
Prints one JSON line: {"median_ms": ..., "steps": [...], "threads": ..., "params": ...}.
"""
import json
import torch.nn as nn

from common import median_after_warmup, param_count, setup, step_args, time_train_steps


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
    ap = step_args(batch=32)
    ap.add_argument("--embed", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=160)
    a = ap.parse_args()
    setup(a.threads)
    model = LSTMLM(a.vocab, a.embed, a.hidden, a.layers)
    times, cpu = time_train_steps(model, a.vocab, a.batch, a.ctx, a.steps)  # wall and process CPU time (all threads) per step
    print(json.dumps({"median_ms": median_after_warmup(times), "median_cpu_ms": median_after_warmup(cpu), "steps": times, "threads": a.threads, "params": param_count(model)}))


if __name__ == "__main__":
    main()
