// The built-ins of LANGUAGE.md §6 as data: each function's and layer constructor's
// parameters (names, kinds, defaults), which the checker binds call arguments against.

/** What an argument must be: a tensor, an integer, any number, a flag, a list of dims, or an init. */
export type ArgKind = 'tensor' | 'int' | 'number' | 'bool' | 'dims' | 'init';

export interface ParamSpec {
  name: string;
  kind: ArgKind;
  /** Absent: required. `null`: optional with no value (e.g. `sum`'s axis, `max_pool2d`'s stride). */
  default?: number | boolean | string | null;
  /** Other accepted keyword spellings (PyTorch's names). */
  aliases?: string[];
}

export interface FunctionSpec {
  params: ParamSpec[];
  /** `concat(xs..., axis)`: every positional tensor goes to the first parameter. */
  variadicTensors?: boolean;
}

const x: ParamSpec = { name: 'x', kind: 'tensor', aliases: ['input'] };
const unary: FunctionSpec = { params: [x] };
const reduction: FunctionSpec = {
  params: [x, { name: 'axis', kind: 'int', default: null, aliases: ['dim'] }, { name: 'keepdims', kind: 'bool', default: false, aliases: ['keepdim'] }],
};
const pooling: FunctionSpec = {
  params: [
    x,
    { name: 'k', kind: 'int', aliases: ['kernel', 'kernel_size'] },
    { name: 'stride', kind: 'int', default: null },
    { name: 'padding', kind: 'int', default: 0 },
  ],
};

/** Built-in functions (and losses) callable in a body; the IR op has the same name. */
export const BUILTIN_FUNCTIONS: Readonly<Record<string, FunctionSpec>> = {
  relu: unary,
  leaky_relu: { params: [x, { name: 'slope', kind: 'number', default: 0.01, aliases: ['negative_slope'] }] },
  sigmoid: unary,
  tanh: unary,
  gelu: unary,
  silu: unary,
  softplus: unary,
  exp: unary,
  log: unary,
  sqrt: unary,
  abs: unary,
  softmax: { params: [x, { name: 'axis', kind: 'int', default: -1, aliases: ['dim'] }] },
  log_softmax: { params: [x, { name: 'axis', kind: 'int', default: -1, aliases: ['dim'] }] },
  sum: reduction,
  mean: reduction,
  max: reduction,
  transpose: { params: [x, { name: 'a', kind: 'int', aliases: ['dim0'] }, { name: 'b', kind: 'int', aliases: ['dim1'] }] },
  reshape: { params: [x, { name: 'shape', kind: 'dims' }] },
  flatten: { params: [x, { name: 'start', kind: 'int', default: 1, aliases: ['start_dim'] }, { name: 'end', kind: 'int', default: -1, aliases: ['end_dim'] }] },
  concat: { params: [{ name: 'xs', kind: 'tensor' }, { name: 'axis', kind: 'int', default: 0, aliases: ['dim'] }], variadicTensors: true },
  max_pool2d: pooling,
  avg_pool2d: pooling,
  dropout: { params: [x, { name: 'p', kind: 'number', default: 0.5 }] },
  detach: unary,
  cross_entropy: { params: [{ name: 'logits', kind: 'tensor' }, { name: 'labels', kind: 'tensor', aliases: ['target'] }] },
  mse: { params: [{ name: 'prediction', kind: 'tensor', aliases: ['input'] }, { name: 'target', kind: 'tensor' }] },
  bce_with_logits: { params: [{ name: 'logits', kind: 'tensor', aliases: ['input'] }, { name: 'target', kind: 'tensor' }] },
};

/** `param([dims], init = ...)`: a raw trainable tensor. */
export const PARAM_SPEC: FunctionSpec = { params: [{ name: 'shape', kind: 'dims' }, { name: 'init', kind: 'init', default: 'kaiming_uniform' }] };

export const INITS = new Set(['kaiming_uniform', 'xavier_uniform', 'zeros', 'ones', 'normal']);

/** Built-in layer constructors (Capitalized) and their IR op. */
export const LAYER_CTORS: Readonly<Record<string, FunctionSpec & { op: string }>> = {
  Linear: {
    op: 'linear',
    params: [
      { name: 'in', kind: 'int', aliases: ['in_features'] },
      { name: 'out', kind: 'int', aliases: ['out_features'] },
      { name: 'bias', kind: 'bool', default: true },
    ],
  },
  Conv2d: {
    op: 'conv2d',
    params: [
      { name: 'in', kind: 'int', aliases: ['in_channels'] },
      { name: 'out', kind: 'int', aliases: ['out_channels'] },
      { name: 'kernel', kind: 'int', aliases: ['kernel_size'] },
      { name: 'stride', kind: 'int', default: 1 },
      { name: 'padding', kind: 'int', default: 0 },
      { name: 'bias', kind: 'bool', default: true },
    ],
  },
  BatchNorm2d: { op: 'batch_norm2d', params: [{ name: 'c', kind: 'int', aliases: ['num_features'] }] },
  BatchNorm1d: { op: 'batch_norm1d', params: [{ name: 'f', kind: 'int', aliases: ['num_features'] }] },
  LayerNorm: { op: 'layer_norm', params: [{ name: 'f', kind: 'int', aliases: ['normalized_shape'] }] },
  Embedding: {
    op: 'embedding',
    params: [
      { name: 'n', kind: 'int', aliases: ['num_embeddings'] },
      { name: 'd', kind: 'int', aliases: ['embedding_dim'] },
    ],
  },
};

// Lookups by a name from the source text go through Maps: such a name is a fresh string,
// and a Map hashes it once where a property lookup would first intern it.
const layerCtorSpecs = new Map(Object.entries(LAYER_CTORS));
const builtinFunctionSpecs = new Map(Object.entries(BUILTIN_FUNCTIONS));

/** The built-in layer constructor of this name, if there is one. */
export function layerCtor(name: string): (FunctionSpec & { op: string }) | undefined {
  return layerCtorSpecs.get(name);
}

/** The built-in function of this name, if there is one. */
export function builtinFunction(name: string): FunctionSpec | undefined {
  return builtinFunctionSpecs.get(name);
}

/** Ops that mix features linearly (for NN3103) and ops that pass values through unchanged in that sense. */
export const LINEAR_LAYER_OPS = new Set(['linear', 'conv2d']);
export const SHAPE_ONLY_OPS = new Set(['flatten', 'reshape', 'dropout', 'transpose']);
