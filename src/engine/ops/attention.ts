/**
 * Fused causal self-attention as one op: z = softmax(scale · q kᵀ, causal) v per head, with q, k, v
 * read from c_attn's output qkv [B, T, 3d] and z returned as [B, T, H, D]. It computes what the
 * explicit path (permute, split, bmm, softmax, bmm, permute) computes, block by block, without the
 * copies and dispatches between; the pattern is kept internally for backward but is not a tensor
 * a hook can reach, so models use the explicit path whenever a hook listens at the pattern.
 */
import { defineOp, isGradEnabled, runOp } from '../autograd.js';
import { attentionKernels } from '../backend/attention.js';
import { type Tensor, empty } from '../tensor.js';

interface AttnAttrs {
  heads: number;
  scale: number;
}

function dims(qkv: Tensor, heads: number) {
  if (qkv.ndim !== 3 || qkv.shape[2]! % (3 * heads) !== 0) throw new Error(`causalSelfAttention: qkv must be [B, T, 3·d] with d divisible by ${heads} heads, got [${qkv.shape}]`);
  const [B, T, d3] = qkv.shape as [number, number, number];
  return { B, T, H: heads, D: d3 / 3 / heads };
}

const attentionOp = defineOp<AttnAttrs, { P: Tensor | null }>({
  name: 'causalSelfAttention',
  forward(_k, [qkv], { heads, scale }) {
    const { B, T, H, D } = dims(qkv!, heads);
    const P = empty([B, H, T, T]);
    const z = empty([B, T, H, D]);
    attentionKernels().attentionForward(B, T, H, D, scale, qkv!.data, P.data, z.data);
    const taped = isGradEnabled() && qkv!.requiresGrad;
    if (!taped) P.dispose();
    return { outputs: [z], saved: { P: taped ? P : null } };
  },
  backward(_k, [gz], { inputs: [qkv], saved }, { heads, scale }) {
    const { B, T, H, D } = dims(qkv!, heads);
    const g = empty(qkv!.shape);
    attentionKernels().attentionBackward(B, T, H, D, scale, qkv!.data, saved.P!.data, gz!.data, g.data);
    return [g];
  },
});

/** Causal multi-head self-attention of qkv [B, T, 3d] ([q | k | v], heads of width d / heads): z [B, T, heads, d / heads]. */
export function causalSelfAttention(qkv: Tensor, heads: number, scale: number): Tensor {
  return runOp(attentionOp, [qkv], { heads, scale })[0]!;
}
