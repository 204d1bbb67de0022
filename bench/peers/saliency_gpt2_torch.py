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
import argparse, json, math, os, sys, time
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "fixtures"))
import st  # noqa: E402


class GPT2:
    """GPT2LMHeadModel forward from Hugging Face tensors (Conv1D weights are in x out), keeping A."""

    def __init__(self, w, cfg):
        t = lambda n: torch.from_numpy(w[n])
        self.d, self.h, self.L = cfg["n_embd"], cfg["n_head"], cfg["n_layer"]
        self.eps = cfg.get("layer_norm_epsilon", 1e-5)
        self.wte, self.wpe = t("transformer.wte.weight"), t("transformer.wpe.weight")
        self.blocks = []
        for l in range(self.L):
            p = f"transformer.h.{l}."
            self.blocks.append({k: t(p + k) for k in [
                "ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias",
                "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"]})
        self.ln_f = (t("transformer.ln_f.weight"), t("transformer.ln_f.bias"))

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
        B, T = idx.shape
        d, H = self.d, self.h
        D = d // H
        x = self.wte[idx] + self.wpe[:T]
        if not x.requires_grad:
            x.requires_grad_(True)  # frozen weights: the graph starts at the embeddings
        mask = torch.ones(T, T, dtype=torch.bool).tril()
        for b in self.blocks:
            a = F.layer_norm(x, (d,), b["ln_1.weight"], b["ln_1.bias"], self.eps)
            q, k, v = torch.addmm(b["attn.c_attn.bias"], a.view(-1, d), b["attn.c_attn.weight"]).view(B, T, 3 * d).split(d, dim=2)
            q = q.view(B, T, H, D).transpose(1, 2)
            k = k.view(B, T, H, D).transpose(1, 2)
            v = v.view(B, T, H, D).transpose(1, 2)
            att = ((q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D))).masked_fill(~mask, float("-inf")).softmax(dim=-1)
            if keep is not None:
                att.retain_grad()
                keep.append(att)
            z = (att @ v).transpose(1, 2).reshape(B * T, d)
            x = x + torch.addmm(b["attn.c_proj.bias"], z, b["attn.c_proj.weight"]).view(B, T, d)
            m = F.layer_norm(x, (d,), b["ln_2.weight"], b["ln_2.bias"], self.eps)
            u = F.gelu(torch.addmm(b["mlp.c_fc.bias"], m.view(-1, d), b["mlp.c_fc.weight"]), approximate="tanh")
            x = x + torch.addmm(b["mlp.c_proj.bias"], u, b["mlp.c_proj.weight"]).view(B, T, d)
        last = x[torch.arange(B), lengths - 1]
        return F.layer_norm(last, (d,), self.ln_f[0], self.ln_f[1], self.eps) @ self.wte.t()


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


def timed(fn, reps):
    fn()  # warm-up
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return sorted(ts)[len(ts) // 2], ts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--items", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    w, meta = st.load(a.checkpoint)
    cfg = json.loads(meta["groundlab"])["model"]
    model = GPT2(w, {"n_layer": cfg["n_layer"], "n_head": cfg["n_head"], "n_embd": cfg["n_embd"], "layer_norm_epsilon": cfg.get("layer_norm_epsilon", 1e-5)})
    with open(a.items) as f:
        items = json.load(f)
    p, pt = timed(lambda: plain(model, items, a.batch), a.reps)
    s, sts = timed(lambda: saliency(model, items, a.batch), a.reps)
    saliency(model, items, a.batch).tofile(a.out)
    print(json.dumps({"plain_s": p, "saliency_s": s, "ratio": s / p, "times": {"plain": pt, "saliency": sts}, "threads": a.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
