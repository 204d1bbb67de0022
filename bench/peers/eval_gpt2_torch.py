"""PyTorch peer of the evaluation benchmark: the same GPT-2 checkpoint (Hugging Face layout,
safetensors), the same items, the same batching (length buckets rounded up to a multiple of 4,
at most --batch-tokens tokens per forward, right padding, only the last real position
unembedded), under torch.inference_mode. Writes the surprisals (float32, items in order, matched
then each mismatch) and prints one JSON line.

  /usr/bin/python3 bench/peers/eval_gpt2_torch.py --checkpoint CK --items ITEMS.json --out S.f32 --threads 2
"""
import argparse, json, math, os, sys, time
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "fixtures"))
import st  # noqa: E402


class GPT2:
    """GPT2LMHeadModel forward from Hugging Face tensors (Conv1D weights are in × out)."""

    def __init__(self, w, cfg):
        t = lambda n: torch.from_numpy(w[n])
        self.d, self.h, self.L = cfg["n_embd"], cfg["n_head"], cfg["n_layer"]
        self.wte, self.wpe = t("transformer.wte.weight"), t("transformer.wpe.weight")
        self.blocks = []
        for l in range(self.L):
            p = f"transformer.h.{l}."
            self.blocks.append({k: t(p + k) for k in [
                "ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias",
                "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"]})
        self.ln_f = (t("transformer.ln_f.weight"), t("transformer.ln_f.bias"))
        self.eps = cfg.get("layer_norm_epsilon", 1e-5)

    def hidden(self, idx):
        B, T = idx.shape
        d, H = self.d, self.h
        D = d // H
        x = self.wte[idx] + self.wpe[:T]
        mask = torch.ones(T, T, dtype=torch.bool).tril()
        for b in self.blocks:
            a = F.layer_norm(x, (d,), b["ln_1.weight"], b["ln_1.bias"], self.eps)
            q, k, v = torch.addmm(b["attn.c_attn.bias"], a.view(-1, d), b["attn.c_attn.weight"]).view(B, T, 3 * d).split(d, dim=2)
            q = q.view(B, T, H, D).transpose(1, 2)
            k = k.view(B, T, H, D).transpose(1, 2)
            v = v.view(B, T, H, D).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D))  # explicit attention matrix
            att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
            z = (att @ v).transpose(1, 2).reshape(B * T, d)
            x = x + torch.addmm(b["attn.c_proj.bias"], z, b["attn.c_proj.weight"]).view(B, T, d)
            m = F.layer_norm(x, (d,), b["ln_2.weight"], b["ln_2.bias"], self.eps)
            u = F.gelu(torch.addmm(b["mlp.c_fc.bias"], m.view(-1, d), b["mlp.c_fc.weight"]), approximate="tanh")
            x = x + torch.addmm(b["mlp.c_proj.bias"], u, b["mlp.c_proj.weight"]).view(B, T, d)
        return x

    def last_logits(self, idx, lengths):
        h = self.hidden(idx)
        last = h[torch.arange(idx.shape[0]), lengths - 1]  # only the last real position
        return F.layer_norm(last, (self.d,), self.ln_f[0], self.ln_f[1], self.eps) @ self.wte.t()


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
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--items", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--batch-tokens", type=int, required=True)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    w, meta = st.load(a.checkpoint)
    cfg = json.loads(meta["groundlab"])["model"]
    model = GPT2(w, {"n_layer": cfg["n_layer"], "n_head": cfg["n_head"], "n_embd": cfg["n_embd"], "layer_norm_epsilon": cfg.get("layer_norm_epsilon", 1e-5)})
    with open(a.items) as f:
        items = json.load(f)
    seqs = sequences(items)
    with torch.inference_mode():
        res = score(model, seqs, a.batch_tokens)  # warm-up
        times, cpu = [], []
        for _ in range(a.reps):
            t0, c0 = time.perf_counter(), time.process_time()
            res = score(model, seqs, a.batch_tokens)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    res.tofile(a.out)
    med = sorted(times)[len(times) // 2]
    print(json.dumps({"seconds": med, "times": times, "cpu_seconds": sorted(cpu)[len(cpu) // 2], "sequences": len(seqs), "sequences_per_s": len(seqs) / med, "threads": a.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
