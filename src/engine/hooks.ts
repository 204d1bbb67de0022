/**
 * Named hook points, TransformerLens-style: model code passes activations through
 * `hookPoint('blocks.3.attn.pattern', A)`; callers install hooks only for the duration of one
 * call:
 *
 *     withHooks([{ name: 'blocks.3.attn.z', forward: (z) => ablate(z) },
 *                { name: /attn\.pattern$/, backward: (g, name) => grads.set(name, g) }],
 *               () => { const loss = model.loss(batch); backward(loss); });
 *
 * A forward hook reads a tensor and may return a replacement (same shape). A backward hook
 * reads the gradient arriving at that point during backward() and may return a replacement.
 * Backward hooks make the point differentiable even when nothing before it requires grad
 * (frozen weights), so gradients at internal activations are always available.
 *
 * Scoping: hooks live only inside withHooks(); after it returns (or throws) they are dead, and a
 * backward pass run later no longer calls them. A string hook name that no hook point matched
 * during the call is an error (a typo would otherwise silently do nothing).
 */
import { type OpDef, type TapeNode, isGradEnabled } from './autograd.js';
import { type Tensor, viewOf } from './tensor.js';

export type HookFn = (t: Tensor, name: string) => Tensor | void;

export interface Hook {
  /** Exact hook-point name, a RegExp, or a predicate. */
  name: string | RegExp | ((name: string) => boolean);
  forward?: HookFn;
  backward?: HookFn;
}

interface LiveHook {
  hook: Hook;
  live: boolean;
  hits: number;
}

const active: LiveHook[] = [];

function matches(h: Hook, name: string): boolean {
  const n = h.name;
  return typeof n === 'string' ? n === name : n instanceof RegExp ? n.test(name) : n(name);
}

export function withHooks<T>(hooks: readonly Hook[], fn: () => T, opts: { strict?: boolean } = {}): T {
  const entries = hooks.map((hook) => ({ hook, live: true, hits: 0 }));
  active.push(...entries);
  let ok = false;
  try {
    const result = fn();
    ok = true;
    return result;
  } finally {
    for (const e of entries) {
      e.live = false;
      const i = active.indexOf(e);
      if (i >= 0) active.splice(i, 1);
    }
    if (ok && (opts.strict ?? true)) {
      const missed = entries.filter((e) => e.hits === 0 && typeof e.hook.name === 'string').map((e) => e.hook.name);
      if (missed.length) throw new Error(`hook point(s) never reached: ${missed.join(', ')} (list a model's names with listHookPoints)`);
    }
  }
}

const hookOp: OpDef<{ name: string; entries: LiveHook[] }, void> = {
  name: 'hookPoint',
  forward: () => {
    throw new Error('hookPoint nodes are created directly');
  },
  backward(_k, [gy], _ctx, { name, entries }) {
    let g = gy!;
    for (const e of entries) {
      if (!e.live || !e.hook.backward) continue;
      const r = e.hook.backward(g, name);
      if (r) {
        if (r.size !== g.size) throw new Error(`backward hook at ${name} returned ${r.size} elements, expected ${g.size}`);
        g = r;
      }
    }
    return [g];
  },
};

/**
 * Whether an installed hook matches `name`: lets a model skip work that only a hook needs (Mamba-2
 * materialises its T × T implicit attention only when someone listens at mixer.pattern).
 */
export function hookActive(name: string): boolean {
  return active.length > 0 && active.some((e) => matches(e.hook, name));
}

/** Passes t through the hook point `name` (identity when no hook is installed). */
export function hookPoint(name: string, t: Tensor): Tensor {
  if (active.length === 0) return t;
  let out = t;
  const bwd: LiveHook[] = [];
  for (const e of active) {
    if (!matches(e.hook, name)) continue;
    e.hits++;
    if (e.hook.forward) {
      const r = e.hook.forward(out, name);
      if (r) {
        if (r.size !== out.size || r.ndim !== out.ndim) throw new Error(`forward hook at ${name} returned shape [${r.shape}], expected [${out.shape}]`);
        out = r;
      }
    }
    if (e.hook.backward) bwd.push(e);
  }
  if (bwd.length) {
    if (!isGradEnabled()) throw new Error(`a backward hook is installed at ${name} but gradients are disabled (noGrad)`);
    // An identity node on the tape whose VJP calls the hooks; its output requires grad even if
    // its input does not, so gradients reach this point with frozen weights.
    const viewed = reshapeView(out);
    const node: TapeNode = { op: hookOp, attrs: { name, entries: bwd }, inputs: [out], outputs: [viewed], saved: undefined };
    viewed.requiresGrad = true;
    viewed.node = node;
    viewed.outputIndex = 0;
    out = viewed;
  }
  return out;
}

/** A same-shape view (shares storage): the hooked tensor gets its own tape identity. */
function reshapeView(t: Tensor): Tensor {
  return viewOf(t, t.shape);
}

/** Runs fn with a listening hook and returns every hook-point name reached, in order. */
export function listHookPoints(fn: () => unknown): string[] {
  const names: string[] = [];
  withHooks([{ name: () => true, forward: (_t, n) => void names.push(n) }], fn, { strict: false });
  return names;
}
