"""PyTorch peer of the saliency benchmark: the same GPT-2 checkpoint (Hugging Face layout,
safetensors), the same items and batching (sorted by length, --batch items per pass, right
padding to the longest item of the batch, only the last real position unembedded). Saliency as a
PyTorch user writes it: retain_grad() on every layer's attention matrix, backward of the summed
target surprisal, then |A * A.grad| on each item's prediction row, reduced to the ENV flow (mean
over ENV positions), ENV share (ENV part of the row) and row total per head, and for the layer
flow |sum_h A * A.grad|. Weights are frozen (requires_grad False; the embeddings' output is the
leaf that carries the graph), so no weight gradients are computed, as in groundlab.

  /usr/bin/python3 bench/peers/saliency_gpt2_torch.py --checkpoint CK --items ITEMS.json --out S.f32 --threads 2

Also times a plain forward + backward with trainable weights (same batches), for PyTorch's own
ratio. Writes the saliency rows (float32, the worker's layout) and prints one JSON line.
"""
import json
import numpy as np
import torch
import torch.nn.functional as F

from common import HFGPT2, checkpoint_args, load_json, median, timed


class GPT2(HFGPT2):
    """The checkpoint's GPT-2 (common.HFGPT2), weights switchable between trainable and frozen,
    keeping A."""

    def params(self):
        ps = [self.wte, self.wpe, *self.ln_f]
        for b in self.blocks:
            ps.extend(b.values())
        return ps

    def set_trainable(self, on):
        for p in self.params():
            p.requires_grad_(on)
            p.grad = None

    def last_logits(self, idx, lengths, keep=None):
        """As HFGPT2.last_logits; with a list `keep`, collects each layer's attention matrix (grad retained)."""
        x = self.embed(idx)
        if not x.requires_grad:
            x.requires_grad_(True)  # frozen weights: the graph starts at the embeddings
        return self.unembed_last(self.blocks_forward(x, keep), lengths)


def batches(items, batch):
    lengths = np.array([len(it["context"]) for it in items])
    order = np.argsort(lengths, kind="stable")
    for s in range(0, len(order), batch):
        idxs = order[s:s + batch]
        T = int(lengths[idxs].max())
        ids = np.zeros((len(idxs), T), dtype=np.int64)
        for r, i in enumerate(idxs):
            ids[r, : lengths[i]] = items[i]["context"]
        yield idxs, torch.from_numpy(ids), torch.from_numpy(lengths[idxs]), torch.tensor([items[i]["target"] for i in idxs])


def plain(model, items, batch):
    model.set_trainable(True)
    for _, ids, lens, tg in batches(items, batch):
        F.cross_entropy(model.last_logits(ids, lens), tg, reduction="sum").backward()


def saliency(model, items, batch):
    model.set_trainable(False)
    L, H = model.L, model.h
    out = np.zeros((len(items), L, H + 1, 3), dtype=np.float32)
    for idxs, ids, lens, tg in batches(items, batch):
        keep = []
        F.cross_entropy(model.last_logits(ids, lens, keep), tg, reduction="sum").backward()
        B, T = ids.shape
        # Prediction rows, per layer: [B, H, T] of A * dL/dA at the last real position of each item.
        rows = torch.stack([(a * a.grad)[torch.arange(B), :, lens - 1, :] for a in keep], 1)  # (B, L, H, T)
        rows = torch.cat([rows.abs(), rows.sum(2, keepdim=True).abs()], 2)  # (B, L, H+1, T): heads, then the layer flow
        env = torch.zeros(B, T)
        for r, i in enumerate(idxs):
            env[r, items[i]["env_positions"]] = 1.0
        n_env = env.sum(1).clamp(min=1)
        env_sum = (rows * env[:, None, None, :]).sum(-1)
        total = rows.sum(-1)
        out[idxs, :, :, 0] = (env_sum / n_env[:, None, None]).detach().numpy()
        out[idxs, :, :, 1] = torch.where(total > 0, env_sum / total, torch.zeros_like(total)).detach().numpy()
        out[idxs, :, :, 2] = total.detach().numpy()
    return out


def main():
    ap = checkpoint_args()
    ap.add_argument("--batch", type=int, default=32)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model = GPT2(a.checkpoint)
    items = load_json(a.items)
    pt, _, _ = timed(lambda: plain(model, items, a.batch), a.reps)
    sts, _, _ = timed(lambda: saliency(model, items, a.batch), a.reps)
    p, s = median(pt), median(sts)
    saliency(model, items, a.batch).tofile(a.out)
    print(json.dumps({"plain_s": p, "saliency_s": s, "ratio": s / p, "times": {"plain": pt, "saliency": sts}, "threads": a.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
