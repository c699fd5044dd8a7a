// The op registry: every op and layer of the language, each defined once in its file under
// engine/src/ops/. The checker binds calls against these signatures and applies these shape
// rules; the TS engine, the ONNX lowering and the PyTorch exporter run their parts; the
// editor's catalogue, the grammar's built-in list and the docs tables are generated from it.

import type { OpDef, SomeLayerDef, SomeOpDef } from './def.js';
import { absOp, expOp, geluOp, leakyReluOp, logOp, reluOp, sigmoidOp, siluOp, softplusOp, sqrtOp, tanhOp } from './unary.js';
import { addOp, divOp, mulOp, negOp, powOp, subOp } from './arithmetic.js';
import { LinearLayer, linearOp, matmulOp } from './matmul.js';
import { Conv2dLayer, conv2dOp } from './conv2d.js';
import { concatOp, detachOp, flattenOp, reshapeOp, transposeOp } from './layout.js';
import { maxOp, meanOp, sumOp } from './reduce.js';
import { logSoftmaxOp, softmaxOp } from './softmax.js';
import { avgPool2dOp, maxPool2dOp } from './pool.js';
import { BatchNorm1dLayer, BatchNorm2dLayer, LayerNormLayer, batchNorm1dOp, batchNorm2dOp, layerNormOp } from './normalization.js';
import { EmbeddingLayer, embeddingOp } from './embedding.js';
import { dropoutOp } from './dropout.js';
import { bceWithLogitsOp, crossEntropyOp, mseOp } from './losses.js';

/** Every op, keyed by its name (the IR's `op`). */
export const OPS = {
  add: addOp,
  sub: subOp,
  mul: mulOp,
  div: divOp,
  pow: powOp,
  neg: negOp,
  matmul: matmulOp,
  relu: reluOp,
  leaky_relu: leakyReluOp,
  sigmoid: sigmoidOp,
  tanh: tanhOp,
  gelu: geluOp,
  silu: siluOp,
  softplus: softplusOp,
  exp: expOp,
  log: logOp,
  sqrt: sqrtOp,
  abs: absOp,
  softmax: softmaxOp,
  log_softmax: logSoftmaxOp,
  sum: sumOp,
  mean: meanOp,
  max: maxOp,
  transpose: transposeOp,
  reshape: reshapeOp,
  flatten: flattenOp,
  concat: concatOp,
  max_pool2d: maxPool2dOp,
  avg_pool2d: avgPool2dOp,
  dropout: dropoutOp,
  detach: detachOp,
  linear: linearOp,
  conv2d: conv2dOp,
  batch_norm2d: batchNorm2dOp,
  batch_norm1d: batchNorm1dOp,
  layer_norm: layerNormOp,
  embedding: embeddingOp,
  cross_entropy: crossEntropyOp,
  mse: mseOp,
  bce_with_logits: bceWithLogitsOp,
} as const satisfies Record<string, SomeOpDef>;

export type OpName = keyof typeof OPS;

/** The typed attributes of op `N`. */
export type AttrsOfOp<N extends OpName> = (typeof OPS)[N] extends OpDef<infer A> ? A : never;

/** Every built-in layer constructor, keyed by its name. */
export const LAYERS = {
  Linear: LinearLayer,
  Conv2d: Conv2dLayer,
  BatchNorm2d: BatchNorm2dLayer,
  BatchNorm1d: BatchNorm1dLayer,
  LayerNorm: LayerNormLayer,
  Embedding: EmbeddingLayer,
} as const satisfies Record<string, SomeLayerDef>;

export type LayerName = keyof typeof LAYERS;

// Lookups by a name from the source text go through Maps: such a name is a fresh string,
// and a Map hashes it once where a property lookup would first intern it.
const opsByName = new Map<string, SomeOpDef>(Object.entries(OPS));
const layersByName = new Map<string, SomeLayerDef>(Object.entries(LAYERS));

/** The op of this name, if there is one. */
export function opDef(name: string): SomeOpDef | undefined {
  return opsByName.get(name);
}

/** A built-in function or loss callable in a body (`relu(h)`), if `name` is one. */
export function builtinFunction(name: string): SomeOpDef | undefined {
  const def = opsByName.get(name);
  return def && (def.surface === 'function' || def.surface === 'loss') ? def : undefined;
}

/** The built-in layer constructor of this name, if there is one. */
export function layerDef(name: string): SomeLayerDef | undefined {
  return layersByName.get(name);
}

/** Every op, in the registry's order. */
export const ALL_OPS: readonly SomeOpDef[] = [...opsByName.values()];
export const ALL_LAYERS: readonly SomeLayerDef[] = [...layersByName.values()];
