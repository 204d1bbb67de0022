"""PyTorch peer of the evaluation benchmark: the same GPT-2 checkpoint (Hugging Face layout,
safetensors), the same items, the same batching (length buckets rounded up to a multiple of 4,
at most --batch-tokens tokens per forward, right padding, only the last real position
unembedded), under torch.inference_mode. Writes the surprisals (float32, items in order, matched
then each mismatch) and prints one JSON line.

  /usr/bin/python3 bench/peers/eval_gpt2_torch.py --checkpoint CK --items ITEMS.json --out S.f32 --threads 2
"""
import json, math
import numpy as np
import torch
import torch.nn.functional as F

from common import HFGPT2, checkpoint_args, load_json, median, timed


def sequences(items):
    """(context, target) of every matched and mismatched context, in output order."""
    out = []
    for it in items:
        ctx, tgt = it["context"][-128:], it["target"]
        cut = len(it["context"]) - len(ctx)
        swap = [p - cut for p in it["swap_positions"] if p >= cut]
        out.append((ctx, tgt))
        for m in it["mismatches"]:
            c = list(ctx)
            for p in swap:
                c[p] = m["env_id"]
            out.append((c, tgt))
    return out


def score(model, seqs, batch_tokens, mult=4):
    n = len(seqs)
    lengths = np.array([len(c) for c, _ in seqs])
    order = np.argsort(lengths, kind="stable")
    out = np.zeros(n, dtype=np.float32)
    start = 0
    while start < n:
        T = int(math.ceil(lengths[order[start]] / mult) * mult)
        end = start
        while end < n and int(math.ceil(lengths[order[end]] / mult) * mult) == T:
            end += 1
        B = max(1, batch_tokens // T)
        for b0 in range(start, end, B):
            idxs = order[b0:min(end, b0 + B)]
            ids = np.zeros((len(idxs), T), dtype=np.int64)
            for r, i in enumerate(idxs):
                ids[r, : lengths[i]] = seqs[i][0]
            tg = torch.tensor([seqs[i][1] for i in idxs])
            logits = model.last_logits(torch.from_numpy(ids), torch.from_numpy(lengths[idxs]))
            s = F.cross_entropy(logits, tg, reduction="none")
            out[idxs] = s.numpy()
        start = end
    return out


def main():
    ap = checkpoint_args()
    ap.add_argument("--batch-tokens", type=int, required=True)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model = HFGPT2(a.checkpoint)
    seqs = sequences(load_json(a.items))
    with torch.inference_mode():
        times, cpu, res = timed(lambda: score(model, seqs, a.batch_tokens), a.reps)
    res.tofile(a.out)
    med = median(times)
    print(json.dumps({"seconds": med, "times": times, "cpu_seconds": median(cpu), "sequences": len(seqs), "sequences_per_s": len(seqs) / med, "threads": a.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
