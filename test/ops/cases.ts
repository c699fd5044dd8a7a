// The test cases of every op of the registry: a total table keyed by op name, so an op
// added to engine/src/ops/registry.ts without a case here does not compile. Shapes may use
// the symbolic batch dim `B` (bound to BATCH when run); attributes are the op's own.

import { Dim, shapeOf } from '../../engine/src/shape/dim.js';
import type { AttrsOfOp, OpName } from '../../engine/src/ops/registry.js';

export const BATCH = 3;
const B = Dim.named('B');
const d = (n: number) => Dim.of(n);
/** One size for both axes of a 2-D op's pair attribute. */
const dd = (n: number) => [Dim.of(n), Dim.of(n)] as const;

/** How an input's values are drawn. */
export type Values =
  | 'normal'
  /** Away from 0, for log, sqrt and divisors. */
  | 'positive'
  /** In (0, 1), for bce targets. */
  | 'probability'
  /** Spread over (−5, 5), past the kinks at ±3 of hardswish. */
  | 'wide'
  /** Whole numbers 0 and 1 as floats, so that `==` and `!=` meet equal entries. */
  | 'steps'
  /** A mask of 0 and 1 whose every row (last axis) keeps its first entry, so no attention row is fully masked. */
  | 'keepsOne'
  /** int64 class ids or token ids below `high`. */
  | { ids: number };

export interface InputSpec {
  shape: (number | 'B')[];
  values?: Values;
}

export interface OpCase<A> {
  label: string;
  inputs: InputSpec[];
  attrs: A;
  /** The ONNX lowering refuses this form (then `auto` trains on the TS engine): the construct it names. */
  onnxUnsupported?: string;
  /**
   * Attributes the float64 gradcheck uses instead, where the gradient departs from the
   * derivative by convention (Embedding's padding row gets none, as in PyTorch); the ONNX and
   * PyTorch comparisons still use `attrs`.
   */
  gradcheckAttrs?: A;
  /** Batch norm in training mode, dropout off (the modes the comparisons run in). */
  pythonTraining?: boolean;
}

type Cases = { readonly [N in OpName]: readonly OpCase<AttrsOfOp<N>>[] };

const unary = (label = 'matrix'): OpCase<Record<string, never>>[] => [
  { label, inputs: [{ shape: ['B', 5] }], attrs: {} },
  { label: 'rank 3', inputs: [{ shape: [2, 'B', 4] }], attrs: {} },
];
const positive = (): OpCase<Record<string, never>>[] => [
  { label: 'positive', inputs: [{ shape: ['B', 4], values: 'positive' }], attrs: {} },
  { label: 'positive, rank 4', inputs: [{ shape: [2, 'B', 3, 2], values: 'positive' }], attrs: {} },
];
/** An activation with kinks or tails far from 0: the matrix over (−5, 5), then rank 3 and 4 with the batch inside. */
const wide = (label: string): OpCase<Record<string, never>>[] => [
  { label, inputs: [{ shape: ['B', 6], values: 'wide' }], attrs: {} },
  { label: `${label}, rank 3`, inputs: [{ shape: [2, 'B', 4], values: 'wide' }], attrs: {} },
  { label: `${label}, rank 4`, inputs: [{ shape: [2, 3, 'B', 2], values: 'wide' }], attrs: {} },
];
const reductions = (): OpCase<AttrsOfOp<'sum'>>[] => [
  { label: 'an axis', inputs: [{ shape: ['B', 4, 2] }], attrs: { axis: 1, keepdims: false } },
  { label: 'keepdims', inputs: [{ shape: ['B', 4] }], attrs: { axis: -1, keepdims: true } },
  { label: 'every axis', inputs: [{ shape: ['B', 3] }], attrs: { axis: undefined, keepdims: false } },
];
const moments = (): OpCase<AttrsOfOp<'var'>>[] => [
  { label: 'an axis', inputs: [{ shape: ['B', 4, 2] }], attrs: { axis: 1, keepdims: false, correction: 1 } },
  { label: 'keepdims, population', inputs: [{ shape: ['B', 5] }], attrs: { axis: -1, keepdims: true, correction: 0 } },
  { label: 'every axis', inputs: [{ shape: ['B', 3] }], attrs: { axis: undefined, keepdims: false, correction: 1 } },
];
const pools = (): OpCase<AttrsOfOp<'max_pool2d'>>[] => [
  { label: '2x2 windows', inputs: [{ shape: ['B', 2, 4, 4] }], attrs: { k: dd(2), stride: dd(2), padding: dd(0) } },
  { label: 'overlapping, padded', inputs: [{ shape: ['B', 1, 5, 5] }], attrs: { k: dd(3), stride: dd(1), padding: dd(1) } },
  { label: 'odd size', inputs: [{ shape: ['B', 1, 5, 4] }], attrs: { k: dd(2), stride: dd(2), padding: dd(0) } },
  { label: '(1, 2) windows at stride (1, 2)', inputs: [{ shape: ['B', 2, 3, 4] }], attrs: { k: [d(1), d(2)], stride: [d(1), d(2)], padding: dd(0) } },
  { label: '(3, 2) windows, stride (2, 1), padding (1, 0)', inputs: [{ shape: ['B', 1, 5, 4] }], attrs: { k: [d(3), d(2)], stride: [d(2), d(1)], padding: [d(1), d(0)] } },
];
const binary = (values: Values = 'normal'): OpCase<AttrsOfOp<'add'>>[] => [
  { label: 'broadcast', inputs: [{ shape: ['B', 4] }, { shape: [4], values }], attrs: {} },
  { label: 'broadcast both', inputs: [{ shape: ['B', 1, 3] }, { shape: [2, 1], values }], attrs: {} },
  { label: 'number on the right', inputs: [{ shape: ['B', 3] }], attrs: { scalar: 2.5 } },
  { label: 'number on the left', inputs: [{ shape: ['B', 3], values }], attrs: { scalar: 1.5, scalarFirst: true } },
];
/** Batch norm 2-D in training mode over `channels` and an H × W image: x, weight, bias, running mean and variance. */
const batchNorm2dCase = (label: string, channels: number, height: number, width: number, attrs: AttrsOfOp<'batch_norm2d'>): OpCase<AttrsOfOp<'batch_norm2d'>> => ({
  label,
  inputs: [{ shape: ['B', channels, height, width] }, { shape: [channels] }, { shape: [channels] }, { shape: [channels] }, { shape: [channels], values: 'positive' }],
  attrs,
  pythonTraining: true,
});
const batchNorm2d: OpCase<AttrsOfOp<'batch_norm2d'>>[] = [
  batchNorm2dCase('training', 3, 2, 2, { eps: 1e-5, momentum: 0.1 }),
  batchNorm2dCase('one channel, 3 x 5 image', 1, 3, 5, { eps: 1e-3, momentum: 0.3 }),
  batchNorm2dCase('5 channels, 4 x 1 image', 5, 4, 1, { eps: 0.1, momentum: 0.9 }),
];

export const CASES: Cases = {
  add: binary(),
  sub: binary(),
  mul: binary(),
  div: binary('positive'),
  pow: [
    { label: 'cube', inputs: [{ shape: ['B', 4] }], attrs: { exponent: 3 } },
    { label: 'square root', inputs: [{ shape: ['B', 4], values: 'positive' }], attrs: { exponent: 0.5 } },
  ],
  neg: unary(),
  matmul: [
    { label: '2-D', inputs: [{ shape: ['B', 3] }, { shape: [3, 4] }], attrs: {} },
    { label: 'batched', inputs: [{ shape: ['B', 2, 3] }, { shape: ['B', 3, 4] }], attrs: {} },
    { label: 'broadcast batch', inputs: [{ shape: ['B', 2, 3] }, { shape: [3, 2] }], attrs: {} },
    { label: 'vector', inputs: [{ shape: ['B', 3] }, { shape: [3] }], attrs: {}, onnxUnsupported: '`@` on a 1-D operand' },
  ],
  relu: unary(),
  leaky_relu: [
    { label: 'slope 0.1', inputs: [{ shape: ['B', 5] }], attrs: { slope: 0.1 } },
    { label: 'default slope, rank 3', inputs: [{ shape: [2, 'B', 4] }], attrs: { slope: 0.01 } },
    { label: 'slope 1.5, rank 4', inputs: [{ shape: [2, 'B', 3, 2], values: 'wide' }], attrs: { slope: 1.5 } },
  ],
  elu: [
    { label: 'alpha 1', inputs: [{ shape: ['B', 5] }], attrs: { alpha: 1 } },
    { label: 'alpha 0.5', inputs: [{ shape: [2, 'B', 4] }], attrs: { alpha: 0.5 } },
  ],
  selu: wide('both signs'),
  mish: wide('both signs'),
  hardtanh: [
    { label: 'default bounds', inputs: [{ shape: ['B', 6], values: 'wide' }], attrs: { min: -1, max: 1 } },
    { label: 'own bounds', inputs: [{ shape: [2, 'B', 3], values: 'wide' }], attrs: { min: -2.5, max: 0.5 } },
  ],
  hardswish: wide('around the kinks'),
  clamp: [
    { label: 'both bounds', inputs: [{ shape: ['B', 5] }], attrs: { min: -0.5, max: 0.7 } },
    { label: 'lower bound only', inputs: [{ shape: ['B', 5] }], attrs: { min: 0, max: undefined } },
  ],
  sigmoid: unary(),
  tanh: unary(),
  gelu: unary(),
  silu: unary(),
  softplus: unary(),
  exp: unary(),
  log: positive(),
  sqrt: positive(),
  abs: unary(),
  log1p: positive(),
  cos: unary(),
  sin: unary(),
  softmax: [
    { label: 'last axis', inputs: [{ shape: ['B', 5] }], attrs: { axis: -1 } },
    { label: 'axis 1 of 3', inputs: [{ shape: ['B', 3, 2] }], attrs: { axis: 1 } },
  ],
  log_softmax: [
    { label: 'last axis', inputs: [{ shape: ['B', 5] }], attrs: { axis: -1 } },
    { label: 'axis 0', inputs: [{ shape: ['B', 3] }], attrs: { axis: 0 } },
  ],
  sum: reductions(),
  mean: reductions(),
  max: reductions(),
  transpose: [
    { label: 'axes 0 and 2', inputs: [{ shape: ['B', 3, 2] }], attrs: { a: 0, b: 2 } },
    { label: 'axes -1 and 1 of rank 4', inputs: [{ shape: [2, 'B', 3, 4] }], attrs: { a: -1, b: 1 } },
    { label: 'the last two of a matrix', inputs: [{ shape: ['B', 5] }], attrs: { a: -2, b: -1 } },
    { label: 'an axis with itself', inputs: [{ shape: [2, 'B', 3] }], attrs: { a: 1, b: 1 } },
  ],
  reshape: [
    { label: 'merge', inputs: [{ shape: ['B', 3, 4] }], attrs: { shape: [B, d(12)] } },
    { label: 'split', inputs: [{ shape: ['B', 6] }], attrs: { shape: [B, d(2), d(3)] } },
    { label: 'batch into rows', inputs: [{ shape: ['B', 2, 4] }], attrs: { shape: [B.mul(2), d(4)] } },
  ],
  flatten: [
    { label: 'from axis 1', inputs: [{ shape: ['B', 2, 3, 2] }], attrs: { start: 1, end: -1 } },
    { label: 'middle axes', inputs: [{ shape: ['B', 2, 3, 2] }], attrs: { start: 1, end: 2 } },
  ],
  concat: [
    { label: 'axis 1', inputs: [{ shape: ['B', 2] }, { shape: ['B', 3] }], attrs: { axis: 1 } },
    { label: 'three along the batch', inputs: [{ shape: [2, 3] }, { shape: [1, 3] }, { shape: [2, 3] }], attrs: { axis: 0 } },
  ],
  max_pool2d: pools(),
  avg_pool2d: pools(),
  // The comparisons run with dropout off (TS and ONNX modes, PyTorch's eval mode): the identity for any p.
  dropout: [
    { label: 'eval mode', inputs: [{ shape: ['B', 4] }], attrs: { p: 0.3 }, pythonTraining: false },
    { label: 'eval mode, p 0.9, rank 3', inputs: [{ shape: [2, 'B', 3] }], attrs: { p: 0.9 }, pythonTraining: false },
    { label: 'p 0, rank 4', inputs: [{ shape: [2, 'B', 3, 2] }], attrs: { p: 0 }, pythonTraining: false },
  ],
  detach: [
    { label: 'stops the gradient', inputs: [{ shape: ['B', 4] }], attrs: {} },
    { label: 'rank 4', inputs: [{ shape: [2, 'B', 3, 2] }], attrs: {} },
  ],
  linear: [
    { label: 'with bias', inputs: [{ shape: ['B', 4] }, { shape: [3, 4] }, { shape: [3] }], attrs: {} },
    { label: 'rank 3, no bias', inputs: [{ shape: ['B', 2, 4] }, { shape: [3, 4] }], attrs: {} },
  ],
  conv2d: [
    { label: 'padded', inputs: [{ shape: ['B', 2, 5, 5] }, { shape: [3, 2, 3, 3] }, { shape: [3] }], attrs: { stride: dd(1), padding: dd(1) } },
    { label: 'strided, no bias', inputs: [{ shape: ['B', 2, 6, 5] }, { shape: [2, 2, 3, 3] }], attrs: { stride: dd(2), padding: dd(0) } },
    { label: 'dilated', inputs: [{ shape: ['B', 2, 6, 6] }, { shape: [3, 2, 2, 2] }, { shape: [3] }], attrs: { stride: dd(1), padding: dd(1), dilation: dd(2), groups: d(1) } },
    { label: '2 groups, strided', inputs: [{ shape: ['B', 4, 5, 5] }, { shape: [6, 2, 3, 3] }, { shape: [6] }], attrs: { stride: dd(2), padding: dd(1), dilation: dd(1), groups: d(2) } },
    { label: 'padding "same", dilated', inputs: [{ shape: ['B', 2, 5, 4] }, { shape: [2, 2, 3, 3] }, { shape: [2] }], attrs: { stride: dd(1), padding: 'same', dilation: dd(2), groups: d(1) } },
    { label: '(1, 3) kernel, (1, 2) stride, (0, 1) padding', inputs: [{ shape: ['B', 2, 4, 7] }, { shape: [3, 2, 1, 3] }, { shape: [3] }], attrs: { stride: [d(1), d(2)], padding: [d(0), d(1)], dilation: dd(1), groups: d(1) } },
    { label: '(1, 2) dilation, padding "same" per axis (1, 2)', inputs: [{ shape: ['B', 2, 5, 6] }, { shape: [2, 2, 3, 3] }], attrs: { stride: dd(1), padding: 'same', dilation: [d(1), d(2)], groups: d(1) } },
    { label: '(2, 3) kernel, (2, 1) stride, no bias', inputs: [{ shape: ['B', 2, 6, 5] }, { shape: [2, 2, 2, 3] }], attrs: { stride: [d(2), d(1)], padding: dd(0), dilation: dd(1), groups: d(1) } },
  ],
  conv1d: [
    { label: 'padded', inputs: [{ shape: ['B', 2, 7] }, { shape: [3, 2, 3] }, { shape: [3] }], attrs: { stride: d(1), padding: d(1), dilation: d(1), groups: d(1) } },
    { label: 'strided, dilated, no bias', inputs: [{ shape: ['B', 2, 9] }, { shape: [2, 2, 3] }], attrs: { stride: d(2), padding: d(1), dilation: d(2), groups: d(1) } },
    { label: '2 groups', inputs: [{ shape: ['B', 4, 6] }, { shape: [6, 2, 2] }, { shape: [6] }], attrs: { stride: d(1), padding: d(0), dilation: d(1), groups: d(2) } },
    { label: 'padding "same", dilated', inputs: [{ shape: ['B', 2, 5] }, { shape: [2, 2, 3] }, { shape: [2] }], attrs: { stride: d(1), padding: 'same', dilation: d(2), groups: d(1) } },
  ],
  conv_transpose2d: [
    { label: 'stride 2, padded', inputs: [{ shape: ['B', 2, 3, 3] }, { shape: [2, 3, 3, 3] }, { shape: [3] }], attrs: { stride: dd(2), padding: dd(1), outputPadding: dd(1), dilation: dd(1) } },
    { label: 'dilated, no bias', inputs: [{ shape: ['B', 2, 3, 2] }, { shape: [2, 2, 2, 2] }], attrs: { stride: dd(1), padding: dd(0), outputPadding: dd(0), dilation: dd(2) } },
    { label: '(1, 3) kernel, (2, 1) stride, (0, 1) padding, (1, 0) output padding', inputs: [{ shape: ['B', 2, 3, 4] }, { shape: [2, 3, 1, 3] }, { shape: [3] }], attrs: { stride: [d(2), d(1)], padding: [d(0), d(1)], outputPadding: [d(1), d(0)], dilation: dd(1) } },
    { label: '(2, 3) kernel, (2, 1) dilation, no bias', inputs: [{ shape: ['B', 2, 3, 2] }, { shape: [2, 2, 2, 3] }], attrs: { stride: dd(1), padding: dd(0), outputPadding: dd(0), dilation: [d(2), d(1)] } },
  ],
  batch_norm2d: batchNorm2d,
  batch_norm1d: [
    { label: 'features', inputs: [{ shape: ['B', 3] }, { shape: [3] }, { shape: [3] }, { shape: [3] }, { shape: [3], values: 'positive' }], attrs: { eps: 1e-5, momentum: 0.1 }, pythonTraining: true },
    { label: 'sequences', inputs: [{ shape: ['B', 3, 4] }, { shape: [3] }, { shape: [3] }, { shape: [3] }, { shape: [3], values: 'positive' }], attrs: { eps: 1e-3, momentum: 0.2 }, pythonTraining: true },
  ],
  // The op normalizes over the last axis only (weight and bias [F]).
  layer_norm: [
    { label: 'last axis', inputs: [{ shape: ['B', 2, 6] }, { shape: [6] }, { shape: [6] }], attrs: { eps: 1e-5 } },
    { label: 'matrix, eps 0.1', inputs: [{ shape: ['B', 4] }, { shape: [4] }, { shape: [4] }], attrs: { eps: 0.1 } },
    { label: 'rank 4, batch inside', inputs: [{ shape: [2, 'B', 3, 5] }, { shape: [5] }, { shape: [5] }], attrs: { eps: 1e-3 } },
  ],
  embedding: [
    { label: 'token ids', inputs: [{ shape: ['B', 4], values: { ids: 7 } }, { shape: [7, 3] }], attrs: { padding_idx: undefined } },
    { label: 'a padding row', inputs: [{ shape: ['B', 5], values: { ids: 3 } }, { shape: [3, 2] }], attrs: { padding_idx: 1 }, gradcheckAttrs: { padding_idx: undefined } },
  ],
  cross_entropy: [
    { label: 'class ids', inputs: [{ shape: ['B', 5] }, { shape: ['B'], values: { ids: 5 } }], attrs: { label_smoothing: 0 } },
    { label: 'sequences, smoothed', inputs: [{ shape: ['B', 3, 4] }, { shape: ['B', 3], values: { ids: 4 } }], attrs: { label_smoothing: 0.1 } },
    { label: 'class weights, smoothed', inputs: [{ shape: ['B', 4] }, { shape: ['B'], values: { ids: 4 } }, { shape: [4], values: 'positive' }], attrs: { label_smoothing: 0.2 } },
  ],
  nll: [
    { label: 'class ids', inputs: [{ shape: ['B', 5] }, { shape: ['B'], values: { ids: 5 } }], attrs: {} },
    { label: 'sequences, class weights', inputs: [{ shape: ['B', 2, 4] }, { shape: ['B', 2], values: { ids: 4 } }, { shape: [4], values: 'positive' }], attrs: {} },
  ],
  // The losses have no `reduction` attribute: each is the mean (kl_div PyTorch's "batchmean").
  huber: [
    { label: 'both branches', inputs: [{ shape: ['B', 4], values: 'wide' }, { shape: ['B', 4] }], attrs: { delta: 1.5 } },
    { label: 'default delta, rank 3', inputs: [{ shape: [2, 'B', 3], values: 'wide' }, { shape: [2, 'B', 3] }], attrs: { delta: 1 } },
    { label: 'delta 0.2, rank 4', inputs: [{ shape: [2, 'B', 2, 2] }, { shape: [2, 'B', 2, 2] }], attrs: { delta: 0.2 } },
    { label: 'delta 20, quadratic only', inputs: [{ shape: ['B', 5], values: 'wide' }, { shape: ['B', 5] }], attrs: { delta: 20 } },
  ],
  smooth_l1: [
    { label: 'both branches', inputs: [{ shape: ['B', 4], values: 'wide' }, { shape: ['B', 4] }], attrs: { beta: 0.5 } },
    { label: 'default beta, rank 3', inputs: [{ shape: [2, 'B', 3], values: 'wide' }, { shape: [2, 'B', 3] }], attrs: { beta: 1 } },
    { label: 'beta 3, rank 4', inputs: [{ shape: [2, 'B', 2, 2], values: 'wide' }, { shape: [2, 'B', 2, 2] }], attrs: { beta: 3 } },
    { label: 'beta 0, the L1 loss', inputs: [{ shape: ['B', 4] }, { shape: ['B', 4] }], attrs: { beta: 0 } },
  ],
  kl_div: [
    { label: 'distributions', inputs: [{ shape: ['B', 4] }, { shape: ['B', 4], values: 'probability' }], attrs: {} },
    { label: 'rank 3, divided by the leading 2', inputs: [{ shape: [2, 'B', 4] }, { shape: [2, 'B', 4], values: 'probability' }], attrs: {} },
    { label: 'rank 4, batch inside', inputs: [{ shape: [2, 'B', 3, 2] }, { shape: [2, 'B', 3, 2], values: 'probability' }], attrs: {} },
  ],
  group_norm: [
    { label: '2 groups of 2 channels', inputs: [{ shape: ['B', 4, 3, 2] }, { shape: [4] }, { shape: [4] }], attrs: { groups: d(2), eps: 1e-5, affine: true } },
    { label: 'sequences, no affine', inputs: [{ shape: ['B', 6, 5] }], attrs: { groups: d(3), eps: 1e-3, affine: false } },
  ],
  instance_norm2d: [
    { label: 'no affine', inputs: [{ shape: ['B', 2, 3, 3] }], attrs: { groups: d(2), eps: 1e-5, affine: false } },
    { label: 'affine', inputs: [{ shape: ['B', 3, 2, 2] }, { shape: [3] }, { shape: [3] }], attrs: { groups: d(3), eps: 1e-5, affine: true } },
  ],
  rms_norm: [
    { label: 'last axis', inputs: [{ shape: ['B', 2, 6] }, { shape: [6] }], attrs: { eps: 1e-6 } },
    { label: 'matrix, eps 0.1', inputs: [{ shape: ['B', 4] }, { shape: [4] }], attrs: { eps: 0.1 } },
    { label: 'rank 4, batch inside', inputs: [{ shape: [2, 'B', 3, 5] }, { shape: [5] }], attrs: { eps: 1e-3 } },
  ],
  identity: [
    { label: 'any shape', inputs: [{ shape: ['B', 3, 2] }], attrs: {} },
    { label: 'a vector', inputs: [{ shape: ['B'] }], attrs: {} },
    { label: 'int64 ids, rank 4', inputs: [{ shape: [2, 'B', 3, 2], values: { ids: 5 } }], attrs: {} },
  ],
  lstm: [
    { label: 'one layer', inputs: [{ shape: ['B', 3, 2] }, { shape: [12, 2] }, { shape: [12, 3] }, { shape: [12] }, { shape: [12] }], attrs: { hidden: d(3), layers: d(1), bidirectional: false, bias: true, part: 0 } },
    {
      label: 'two layers, bidirectional, no bias',
      inputs: [{ shape: ['B', 3, 2] }, { shape: [8, 2] }, { shape: [8, 2] }, { shape: [8, 2] }, { shape: [8, 2] }, { shape: [8, 4] }, { shape: [8, 2] }, { shape: [8, 4] }, { shape: [8, 2] }],
      attrs: { hidden: d(2), layers: d(2), bidirectional: true, bias: false, part: 0 },
    },
    { label: 'final hidden states h_n', inputs: [{ shape: ['B', 3, 2] }, { shape: [12, 2] }, { shape: [12, 3] }, { shape: [12] }, { shape: [12] }], attrs: { hidden: d(3), layers: d(1), bidirectional: false, bias: true, part: 1 } },
    {
      label: 'final cell states c_n, two layers, bidirectional',
      inputs: [{ shape: ['B', 3, 2] }, { shape: [8, 2] }, { shape: [8, 2] }, { shape: [8, 2] }, { shape: [8, 2] }, { shape: [8, 4] }, { shape: [8, 2] }, { shape: [8, 4] }, { shape: [8, 2] }],
      attrs: { hidden: d(2), layers: d(2), bidirectional: true, bias: false, part: 2 },
    },
    {
      label: 'final hidden states h_n, two layers, bidirectional',
      inputs: [{ shape: ['B', 3, 2] }, { shape: [8, 2] }, { shape: [8, 2] }, { shape: [8, 2] }, { shape: [8, 2] }, { shape: [8, 4] }, { shape: [8, 2] }, { shape: [8, 4] }, { shape: [8, 2] }],
      attrs: { hidden: d(2), layers: d(2), bidirectional: true, bias: false, part: 1 },
    },
  ],
  gru: [
    { label: 'one layer', inputs: [{ shape: ['B', 3, 2] }, { shape: [9, 2] }, { shape: [9, 3] }, { shape: [9] }, { shape: [9] }], attrs: { hidden: d(3), layers: d(1), bidirectional: false, bias: true, part: 0 } },
    {
      label: 'bidirectional',
      inputs: [{ shape: ['B', 2, 3] }, { shape: [6, 3] }, { shape: [6, 2] }, { shape: [6] }, { shape: [6] }, { shape: [6, 3] }, { shape: [6, 2] }, { shape: [6] }, { shape: [6] }],
      attrs: { hidden: d(2), layers: d(1), bidirectional: true, bias: true, part: 0 },
    },
    {
      label: 'final hidden states h_n, bidirectional',
      inputs: [{ shape: ['B', 2, 3] }, { shape: [6, 3] }, { shape: [6, 2] }, { shape: [6] }, { shape: [6] }, { shape: [6, 3] }, { shape: [6, 2] }, { shape: [6] }, { shape: [6] }],
      attrs: { hidden: d(2), layers: d(1), bidirectional: true, bias: true, part: 1 },
    },
  ],
  adaptive_avg_pool2d: [
    { label: 'uneven windows', inputs: [{ shape: ['B', 2, 5, 7] }], attrs: { size: d(3) } },
    { label: 'global', inputs: [{ shape: ['B', 3, 4, 4] }], attrs: { size: d(1) } },
  ],
  upsample: [
    { label: 'nearest', inputs: [{ shape: ['B', 2, 3, 2] }], attrs: { scale: 2, mode: 'nearest' } },
    { label: 'bilinear', inputs: [{ shape: ['B', 1, 3, 4] }], attrs: { scale: 3, mode: 'bilinear' } },
  ],
  narrow: [
    { label: 'last axis', inputs: [{ shape: ['B', 6] }], attrs: { dim: -1, start: 2, length: 3 } },
    { label: 'middle axis', inputs: [{ shape: ['B', 5, 2] }], attrs: { dim: 1, start: 0, length: 2 } },
  ],
  scaled_dot_product_attention: [
    { label: 'plain', inputs: [{ shape: ['B', 4, 3] }, { shape: ['B', 5, 3] }, { shape: ['B', 5, 2] }], attrs: { causal: false, scale: undefined } },
    { label: 'causal, heads', inputs: [{ shape: ['B', 2, 4, 3] }, { shape: ['B', 2, 4, 3] }, { shape: ['B', 2, 4, 3] }], attrs: { causal: true, scale: undefined } },
    { label: 'mask and scale', inputs: [{ shape: ['B', 3, 2] }, { shape: ['B', 4, 2] }, { shape: ['B', 4, 2] }, { shape: [3, 4] }], attrs: { causal: false, scale: 0.3 } },
    { label: 'boolean mask', inputs: [{ shape: ['B', 2, 3, 2] }, { shape: ['B', 2, 4, 2] }, { shape: ['B', 2, 4, 3] }, { shape: [3, 4], values: 'keepsOne' }], attrs: { causal: false, scale: undefined, boolMask: true } },
    { label: 'boolean mask, causal, broadcast heads', inputs: [{ shape: ['B', 2, 4, 3] }, { shape: ['B', 2, 4, 3] }, { shape: ['B', 2, 4, 3] }, { shape: ['B', 1, 4, 4], values: 'keepsOne' }], attrs: { causal: true, scale: 0.5, boolMask: true } },
  ],
  multihead_attention: [
    { label: 'causal, 2 heads', inputs: [{ shape: ['B', 4, 6] }, { shape: [18, 6] }, { shape: [18] }, { shape: [6, 6] }, { shape: [6] }], attrs: { heads: d(2), causal: true, bias: true } },
    { label: 'no bias, 3 heads', inputs: [{ shape: ['B', 3, 6] }, { shape: [18, 6] }, { shape: [6, 6] }], attrs: { heads: d(3), causal: false, bias: false } },
  ],
  lt: binary(),
  gt: binary(),
  le: binary(),
  ge: binary(),
  eq: [{ label: 'equal entries', inputs: [{ shape: ['B', 4], values: 'steps' }, { shape: [4], values: 'steps' }], attrs: {} }, { label: 'number', inputs: [{ shape: ['B', 3], values: 'steps' }], attrs: { scalar: 1 } }],
  ne: [{ label: 'equal entries', inputs: [{ shape: ['B', 4], values: 'steps' }, { shape: [4], values: 'steps' }], attrs: {} }, { label: 'number first', inputs: [{ shape: ['B', 3], values: 'steps' }], attrs: { scalar: 0, scalarFirst: true } }],
  subscript: [
    { label: 'x[:, -1]', inputs: [{ shape: ['B', 4, 3] }], attrs: { items: ':,i', bounds: [d(-1)] } },
    { label: 'x[..., 1:3]', inputs: [{ shape: ['B', 2, 5] }], attrs: { items: '...,s:e', bounds: [d(1), d(3)] } },
    { label: 'x[:, 1::2, -2:]', inputs: [{ shape: ['B', 6, 4] }], attrs: { items: ':,s::2,s:', bounds: [d(1), d(-2)] } },
    { label: 'x[0]', inputs: [{ shape: [2, 'B', 3] }], attrs: { items: 'i', bounds: [d(0)] } },
    { label: 'x[1, ..., ::3]', inputs: [{ shape: [2, 'B', 7] }], attrs: { items: 'i,...,::3', bounds: [d(1)] } },
    { label: 'x[:B-1]', inputs: [{ shape: ['B', 2] }], attrs: { items: ':e', bounds: [B.sub(1)] }, onnxUnsupported: 'a subscript with a symbolic dim (B - 1)' },
  ],
  chunk: [
    { label: 'even halves, second', inputs: [{ shape: ['B', 6] }], attrs: { chunks: 2, dim: -1, part: 1 } },
    { label: 'uneven, last', inputs: [{ shape: ['B', 5, 2] }], attrs: { chunks: 2, dim: 1, part: 1 } },
  ],
  split: [
    { label: 'size 2, last piece', inputs: [{ shape: ['B', 5] }], attrs: { sizes: d(2), dim: 1, part: 2 } },
    { label: 'sizes [1, 3], second', inputs: [{ shape: ['B', 4, 2] }], attrs: { sizes: [d(1), d(3)], dim: 1, part: 1 } },
  ],
  unsqueeze: [
    { label: 'a middle axis', inputs: [{ shape: ['B', 3] }], attrs: { dim: 1 } },
    { label: 'after the last, negative', inputs: [{ shape: ['B', 2, 3] }], attrs: { dim: -1 } },
  ],
  squeeze: [
    { label: 'a middle axis', inputs: [{ shape: ['B', 1, 3] }], attrs: { dim: 1 } },
    { label: 'the last, negative', inputs: [{ shape: [2, 'B', 1] }], attrs: { dim: -1 } },
  ],
  permute: [
    { label: '[0, 2, 1]', inputs: [{ shape: ['B', 3, 2] }], attrs: { dims: [0, 2, 1] } },
    { label: 'a cycle, negative', inputs: [{ shape: [2, 'B', 3, 4] }], attrs: { dims: [-1, 0, 2, 1] } },
  ],
  stack: [
    { label: 'two, dim 0', inputs: [{ shape: ['B', 3] }, { shape: ['B', 3] }], attrs: { dim: 0 } },
    { label: 'three, last', inputs: [{ shape: [2, 'B'] }, { shape: [2, 'B'] }, { shape: [2, 'B'] }], attrs: { dim: -1 } },
  ],
  expand: [
    { label: 'a size-1 axis, -1 kept', inputs: [{ shape: ['B', 1, 3] }], attrs: { sizes: [d(-1), d(4), d(-1)] } },
    { label: 'new leading axes', inputs: [{ shape: [1, 3] }], attrs: { sizes: [d(2), d(4), d(3)] } },
    { label: 'the batch named', inputs: [{ shape: ['B', 1] }], attrs: { sizes: [B, d(3)] } },
  ],
  repeat: [
    { label: 'each axis', inputs: [{ shape: ['B', 2] }], attrs: { repeats: [d(2), d(3)] } },
    { label: 'new leading axes', inputs: [{ shape: [2, 'B'] }], attrs: { repeats: [d(2), d(1), d(2)] } },
  ],
  einsum: [
    { label: 'matmul ij,jk->ik', inputs: [{ shape: ['B', 4] }, { shape: [4, 3] }], attrs: { equation: 'ij,jk->ik' } },
    { label: 'bmm bij,bjk->bik', inputs: [{ shape: ['B', 2, 3] }, { shape: ['B', 3, 4] }], attrs: { equation: 'bij,bjk->bik' } },
    { label: 'transpose ij->ji', inputs: [{ shape: ['B', 4] }], attrs: { equation: 'ij->ji' } },
    { label: 'outer product i,j->ij', inputs: [{ shape: [4] }, { shape: [3] }], attrs: { equation: 'i,j->ij' } },
    { label: 'attention scores bhqd,bhkd->bhqk', inputs: [{ shape: ['B', 2, 3, 4] }, { shape: ['B', 2, 5, 4] }], attrs: { equation: 'bhqd,bhkd->bhqk' } },
    { label: 'implicit output ij,jk', inputs: [{ shape: ['B', 3] }, { shape: [3, 2] }], attrs: { equation: 'ij,jk' } },
    { label: 'row sums ij->i', inputs: [{ shape: ['B', 4] }], attrs: { equation: 'ij->i' } },
    { label: 'bilinear form i,ij,j->', inputs: [{ shape: [3] }, { shape: [3, 4] }, { shape: [4] }], attrs: { equation: 'i,ij,j->' } },
    { label: 'broadcast ...ij,...jk->...ik', inputs: [{ shape: ['B', 1, 2, 3] }, { shape: [2, 3, 4] }], attrs: { equation: '...ij,...jk->...ik' } },
    { label: 'ellipsis inside b...d,d->b...', inputs: [{ shape: ['B', 2, 3, 4] }, { shape: [4] }], attrs: { equation: 'b...d,d->b...' } },
  ],
  where: [
    { label: 'three-way broadcast', inputs: [{ shape: ['B', 1, 4], values: 'steps' }, { shape: [3, 4] }, { shape: ['B', 3, 1] }], attrs: {} },
    { label: 'same shapes', inputs: [{ shape: ['B', 3], values: 'steps' }, { shape: ['B', 3] }, { shape: ['B', 3] }], attrs: {} },
  ],
  masked_fill: [
    { label: 'mask broadcast', inputs: [{ shape: ['B', 3, 4] }, { shape: [3, 4], values: 'steps' }], attrs: { value: -1e9 } },
    { label: 'x broadcast', inputs: [{ shape: [1, 4] }, { shape: ['B', 4], values: 'steps' }], attrs: { value: 2.5 } },
  ],
  tril: [
    { label: 'square', inputs: [{ shape: ['B', 4, 4] }], attrs: { diagonal: 0 } },
    { label: 'wide, below the diagonal', inputs: [{ shape: [3, 5] }], attrs: { diagonal: -1 } },
  ],
  triu: [
    { label: 'square', inputs: [{ shape: ['B', 4, 4] }], attrs: { diagonal: 0 } },
    { label: 'tall, above the diagonal', inputs: [{ shape: ['B', 5, 3] }], attrs: { diagonal: 1 } },
  ],
  var: moments(),
  std: moments(),
  min: reductions(),
  argmax: [...reductions(), { label: 'every axis, keepdims', inputs: [{ shape: ['B', 4] }], attrs: { axis: undefined, keepdims: true } }],
  one_hot: [
    { label: 'ids', inputs: [{ shape: ['B', 3], values: { ids: 4 } }], attrs: { num_classes: d(4) } },
    { label: '1-D ids, 2 classes', inputs: [{ shape: ['B'], values: { ids: 2 } }], attrs: { num_classes: d(2) } },
    { label: 'rank 3, batch inside, 7 classes of which the ids use 3', inputs: [{ shape: [2, 'B', 2], values: { ids: 3 } }], attrs: { num_classes: d(7) } },
  ],
  cumsum: [
    { label: 'last axis', inputs: [{ shape: ['B', 4] }], attrs: { dim: -1 } },
    { label: 'middle axis', inputs: [{ shape: ['B', 3, 2] }], attrs: { dim: 1 } },
  ],
  mse: [
    { label: 'matrix', inputs: [{ shape: ['B', 3] }, { shape: ['B', 3] }], attrs: {} },
    { label: 'a vector', inputs: [{ shape: ['B'] }, { shape: ['B'] }], attrs: {} },
    { label: 'rank 4, batch inside', inputs: [{ shape: [2, 'B', 3, 2], values: 'wide' }, { shape: [2, 'B', 3, 2] }], attrs: {} },
  ],
  bce_with_logits: [
    { label: 'probabilities', inputs: [{ shape: ['B', 3] }, { shape: ['B', 3], values: 'probability' }], attrs: {} },
    { label: 'rank 3, wide logits, hard 0/1 targets', inputs: [{ shape: [2, 'B', 4], values: 'wide' }, { shape: [2, 'B', 4], values: 'steps' }], attrs: {} },
    { label: 'a vector', inputs: [{ shape: ['B'] }, { shape: ['B'], values: 'probability' }], attrs: {} },
  ],
};

/** A case's input shape over symbolic dims, and with the batch bound. */
export function symbolicShape(spec: InputSpec) {
  return shapeOf(spec.shape);
}

export function concreteShape(spec: InputSpec): number[] {
  return spec.shape.map((v) => (v === 'B' ? BATCH : v));
}
