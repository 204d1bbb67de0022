/** The engine's public surface: tensors, autograd, ops, hooks, parameters, backends. */
export * from './tensor.js';
export { ACCUMULATED, type InputGrad, backward, defineOp, isGradEnabled, noGrad, opRegistry, profileOps, runOp, run1, valueAndGrad } from './autograd.js';
export type { BackwardContext, OpDef, TapeNode } from './autograd.js';
export * from './ops/elementwise.js';
export * from './ops/linalg.js';
export * from './ops/shape.js';
export * from './ops/nn.js';
export * from './ops/reduce.js';
export * from './hooks.js';
export * from './params.js';
export { kernels, useBackend, setThreads, getThreads, referenceKernels, loadNativeKernels, BinaryOp, UnaryOp } from './backend/index.js';
export type { Kernels, F32 } from './backend/index.js';
