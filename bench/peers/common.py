"""Shared by the PyTorch peers of the benchmarks (imported as `common`: the peers run as
`/usr/bin/python3 bench/peers/<peer>.py`, which puts this folder first on sys.path).

  step_args, setup, time_train_steps, median_after_warmup, param_count   the training-step peers
  timed, median                                                          timing a call a few times
  checkpoint_args, load_json, HFGPT2                                     the eval and saliency peers
"""
import argparse, json, math, os, sys, time
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "fixtures"))
import st  # noqa: E402


def median(xs):
    """Median (the upper one for an even count)."""
    return sorted(xs)[len(xs) // 2]


def timed(fn, reps):
    """One warm-up call, then `reps` timed calls: (wall seconds, process CPU seconds, last result)."""
    res = fn()  # warm-up
    times, cpu = [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        res = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return times, cpu, res


# --- training-step peers -------------------------------------------------------------------------


def step_args(batch):
    """The arguments every training-step peer takes (the model's own sizes are added by the peer)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--vocab", type=int, default=5000)
    ap.add_argument("--ctx", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--batch", type=int, default=batch)
    return ap


def setup(threads, seed=0):
    """Intra-op threads as the groundlab side has them, and a fixed seed for weights and tokens."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)


def time_train_steps(model, vocab, batch, ctx, steps):
    """Times `steps` training steps on one batch of random tokens (drawn after the model's weights):
    zero_grad, forward, cross-entropy over all positions, backward, clipping at norm 1, AdamW (lr 1e-3,
    no weight decay). Returns the wall times and process CPU times (all threads) per step, in ms."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    idx = torch.randint(0, vocab, (batch, ctx))
    tgt = torch.randint(0, vocab, (batch, ctx))
    times, cpu = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        c0 = time.process_time()
        opt.zero_grad(set_to_none=False)
        logits = model(idx)
        loss = F.cross_entropy(logits.reshape(-1, vocab), tgt.view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return times, cpu


def median_after_warmup(xs):
    """Median of per-step times after the first 2 (warm-up) steps."""
    return median(xs[2:])


def param_count(model):
    return sum(p.numel() for p in model.parameters())


# --- GPT-2 from a groundlab checkpoint (eval and saliency peers) -----------------------------------

BLOCK_TENSORS = ["ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias",
                 "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"]


def checkpoint_args():
    """The arguments of the peers that run on a groundlab checkpoint and an items file."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--items", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    return ap


def load_json(path):
    with open(path) as f:
        return json.load(f)


class HFGPT2:
    """GPT2LMHeadModel forward from the Hugging Face tensors of a groundlab checkpoint (safetensors;
    Conv1D weights are in x out), written out with an explicit attention matrix."""

    def __init__(self, checkpoint):
        w, meta = st.load(checkpoint)
        cfg = json.loads(meta["groundlab"])["model"]
        t = lambda n: torch.from_numpy(w[n])
        self.d, self.h, self.L = cfg["n_embd"], cfg["n_head"], cfg["n_layer"]
        self.eps = cfg.get("layer_norm_epsilon", 1e-5)
        self.wte, self.wpe = t("transformer.wte.weight"), t("transformer.wpe.weight")
        self.blocks = [{k: t(f"transformer.h.{l}." + k) for k in BLOCK_TENSORS} for l in range(self.L)]
        self.ln_f = (t("transformer.ln_f.weight"), t("transformer.ln_f.bias"))

    def embed(self, idx):
        return self.wte[idx] + self.wpe[: idx.shape[1]]

    def blocks_forward(self, x, keep=None):
        """The residual stream after all blocks; with a list `keep`, each layer's attention matrix
        [B, H, T, T] is appended to it with retain_grad() on."""
        B, T, d = x.shape
        H = self.h
        D = d // H
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
        return x

    def unembed_last(self, x, lengths):
        """Logits of each row's last real position only: final LayerNorm, tied unembedding."""
        last = x[torch.arange(x.shape[0]), lengths - 1]
        return F.layer_norm(last, (self.d,), self.ln_f[0], self.ln_f[1], self.eps) @ self.wte.t()

    def last_logits(self, idx, lengths):
        """Logits [B, V] of only the last real position of each row of idx [B, T]."""
        return self.unembed_last(self.blocks_forward(self.embed(idx)), lengths)
