// Lowers the checked IR's forward computation to ONNX nodes: one rule per op name of
// api.ts's IrNode, `fn` calls inlined, and every differentiable op recorded on the tape
// for backward.ts.

import { Dim, type Shape } from '../shape/dim.js';
import type { AttrValue, Graph, TextRange, ValueId } from '../lang/api.js';
import { LoweringContext, normAxis, type DType, type Val } from './context.js';
import { OnnxUnsupported } from './unsupported.js';

interface OutSpec {
  shape: Shape;
  dtype: DType;
}

interface ForwardResult {
  outputs: string[];
  saved?: Record<string, Val>;
  /** New running statistics (batch norm in training mode), in the order of its buffer inputs. */
  bufferUpdates?: Val[];
}

type ForwardRule = (ctx: LoweringContext, x: Val[], attrs: Record<string, AttrValue>, out: OutSpec[]) => ForwardResult;

/** A number attribute of an IR node (as the front end writes it), or the default. */
export function attrNumber(attrs: Record<string, AttrValue>, name: string, fallback?: number): number {
  const v = attrs[name];
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (fallback === undefined) throw new OnnxUnsupported(`an op without its '${name}' argument`);
  return fallback;
}

/** The reduction axes of `sum`/`mean`/`max`: the `axis` attribute, or all axes without one. */
export function reductionAxes(attrs: Record<string, AttrValue>, rank: number): number[] {
  const axis = attrs.axis;
  if (typeof axis !== 'number') return Array.from({ length: rank }, (_, i) => i);
  return [normAxis(axis, rank)];
}

function keepdims(attrs: Record<string, AttrValue>): boolean {
  return attrs.keepdims === true || attrs.keepdims === 1;
}

const unaryOps: Record<string, string> = {
  relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', exp: 'Exp', log: 'Log', sqrt: 'Sqrt', abs: 'Abs', neg: 'Neg',
};

const rules: Record<string, ForwardRule> = {
  leaky_relu: (ctx, [x], attrs) => ({ outputs: [ctx.b.op1('LeakyRelu', [x.name], { alpha: { f: attrNumber(attrs, 'slope', 0.01) } })] }),
  softplus: (ctx, [x]) => ({ outputs: [ctx.b.op1('Softplus', [x.name])] }),
  gelu: (ctx, [x]) => {
    // Exact (erf) GELU, PyTorch's default: x * Φ(x); Gelu itself is only in opset 20.
    const cdf = ctx.binary('Mul', ctx.binary('Add', ctx.unary('Erf', ctx.binary('Mul', x, ctx.scalar(Math.SQRT1_2), x)), ctx.scalar(1), x), ctx.scalar(0.5), x);
    return { outputs: [ctx.b.op1('Mul', [x.name, cdf.name])], saved: { cdf } };
  },
  silu: (ctx, [x]) => {
    const s = ctx.unary('Sigmoid', x);
    return { outputs: [ctx.b.op1('Mul', [x.name, s.name])], saved: { s } };
  },
  add: (ctx, [a, b]) => ({ outputs: [ctx.b.op1('Add', [a.name, b.name])] }),
  sub: (ctx, [a, b]) => ({ outputs: [ctx.b.op1('Sub', [a.name, b.name])] }),
  mul: (ctx, [a, b]) => ({ outputs: [ctx.b.op1('Mul', [a.name, b.name])] }),
  div: (ctx, [a, b]) => ({ outputs: [ctx.b.op1('Div', [a.name, b.name])] }),
  pow: (ctx, [x], attrs) => ({ outputs: [ctx.b.op1('Pow', [x.name, ctx.scalar(attrNumber(attrs, 'exponent'))])] }),
  matmul: (ctx, [a, b]) => {
    if (a.shape.length < 2 || b.shape.length < 2) throw new OnnxUnsupported('`@` on a 1-D operand');
    return { outputs: [ctx.b.op1('MatMul', [a.name, b.name])] };
  },
  softmax: (ctx, [x], attrs) => ({ outputs: [ctx.b.op1('Softmax', [x.name], { axis: normAxis(attrNumber(attrs, 'axis', -1), x.shape.length) })] }),
  log_softmax: (ctx, [x], attrs) => ({ outputs: [ctx.b.op1('LogSoftmax', [x.name], { axis: normAxis(attrNumber(attrs, 'axis', -1), x.shape.length) })] }),
  sum: (ctx, [x], attrs) => ({ outputs: [ctx.sum(x, reductionAxes(attrs, x.shape.length), keepdims(attrs)).name] }),
  mean: (ctx, [x], attrs) => ({ outputs: [ctx.reduce('ReduceMean', x, reductionAxes(attrs, x.shape.length), keepdims(attrs)).name] }),
  max: (ctx, [x], attrs) => ({ outputs: [ctx.reduce('ReduceMax', x, reductionAxes(attrs, x.shape.length), keepdims(attrs)).name] }),
  transpose: (ctx, [x], attrs) => ({ outputs: [ctx.b.op1('Transpose', [x.name], { perm: swapPerm(x.shape.length, attrs) })] }),
  reshape: (ctx, [x], attrs, [out]) => {
    const literal = attrs.shape;
    if (Array.isArray(literal) && out.shape.filter((d) => d.constant() === null).length > 1) {
      return { outputs: [ctx.b.op1('Reshape', [x.name, ctx.b.constInt(literal)])] };
    }
    return { outputs: [ctx.reshape(x, out.shape).name] };
  },
  flatten: (ctx, [x], _attrs, [out]) => ({ outputs: [ctx.reshape(x, out.shape).name] }),
  concat: (ctx, xs, attrs) => ({ outputs: [ctx.b.op1('Concat', xs.map((x) => x.name), { axis: normAxis(attrNumber(attrs, 'axis', 0), xs[0].shape.length) })] }),
  detach: (ctx, [x]) => ({ outputs: [ctx.b.op1('Identity', [x.name])] }),
  dropout: (ctx, [x], attrs) => {
    const p = attrNumber(attrs, 'p', 0.5);
    if (!ctx.mode.training || !ctx.mode.dropout || p === 0) return { outputs: [ctx.b.op1('Identity', [x.name])] };
    const on = ctx.b.op1('Cast', [ctx.b.constInt(1, [])], { to: 9 });
    const [y, mask] = ctx.b.op('Dropout', [x.name, ctx.scalar(p), on], {}, 2);
    return { outputs: [y], saved: { mask: { name: mask, shape: x.shape, dtype: 'float32' } } };
  },
  linear: (ctx, [x, w, bias]) => {
    if (x.shape.length === 2) {
      return { outputs: [ctx.b.op1('Gemm', bias ? [x.name, w.name, bias.name] : [x.name, w.name], { transB: 1 })] };
    }
    const wt = ctx.b.op1('Transpose', [w.name], { perm: [1, 0] });
    const y = ctx.b.op1('MatMul', [x.name, wt]);
    return { outputs: [bias ? ctx.b.op1('Add', [y, bias.name]) : y] };
  },
  conv2d: (ctx, [x, w, bias], attrs) => {
    const { stride, padding } = convAttrs(attrs);
    const k = w.shape.slice(2).map((d) => d.constant() as number);
    const inputs = bias ? [x.name, w.name, bias.name] : [x.name, w.name];
    return { outputs: [ctx.b.op1('Conv', inputs, { kernel_shape: k, strides: [stride, stride], pads: [padding, padding, padding, padding] })] };
  },
  max_pool2d: (ctx, [x], attrs, [out]) => {
    const { kernel, stride, padding } = poolAttrs(attrs);
    const pads = [padding, padding, padding, padding];
    const attributes = { kernel_shape: [kernel, kernel], strides: [stride, stride], pads };
    if (!ctx.mode.training || (stride === kernel && padding === 0)) {
      // Without the indices output MaxPool takes onnxruntime's fast path (with it, the pool
      // is over twenty times slower); the backward of non-overlapping windows finds each
      // window's first maximum itself (backward.ts).
      return { outputs: [ctx.b.op1('MaxPool', [x.name], attributes)] };
    }
    const [y, indices] = ctx.b.op('MaxPool', [x.name], attributes, 2);
    return { outputs: [y], saved: { indices: { name: indices, shape: out.shape, dtype: 'int64' } } };
  },
  avg_pool2d: (ctx, [x], attrs) => {
    // PyTorch counts the zero padding in the average (count_include_pad = True).
    const { kernel, stride, padding } = poolAttrs(attrs);
    const pads = [padding, padding, padding, padding];
    return { outputs: [ctx.b.op1('AveragePool', [x.name], { kernel_shape: [kernel, kernel], strides: [stride, stride], pads, count_include_pad: 1 })] };
  },
  batch_norm2d: (ctx, xs, attrs) => batchNorm(ctx, xs, attrs),
  batch_norm1d: (ctx, xs, attrs) => batchNorm(ctx, xs, attrs),
  layer_norm: (ctx, [x, gamma, beta], attrs) => {
    const eps = attrNumber(attrs, 'eps', 1e-5);
    const { xhat, invstd } = normalize(ctx, x, [x.shape.length - 1], eps);
    let y = ctx.binary('Mul', xhat, gamma, x);
    y = ctx.binary('Add', y, beta, x);
    return { outputs: [y.name], saved: { xhat, invstd } };
  },
  embedding: (ctx, [ids, w]) => ({ outputs: [ctx.b.op1('Gather', [w.name, ids.name], { axis: 0 })] }),
  cross_entropy: (ctx, [logits, labels]) => {
    if (logits.shape.length !== 2) throw new OnnxUnsupported('cross_entropy on logits that are not [B, C]');
    const logp = ctx.op('LogSoftmax', [logits.name], { axis: 1 }, logits.shape);
    return { outputs: [ctx.b.op1('NegativeLogLikelihoodLoss', [logp.name, labels.name], { reduction: 'mean' })], saved: { logp } };
  },
  mse: (ctx, [pred, target]) => {
    const diff = ctx.binary('Sub', pred, target, pred);
    return { outputs: [ctx.b.op1('ReduceMean', [ctx.binary('Mul', diff, diff, pred).name], { keepdims: 0 })], saved: { diff } };
  },
  bce_with_logits: (ctx, [z, t]) => {
    // max(z, 0) - z*t + log(1 + exp(-|z|)): stable for large |z|, as PyTorch computes it.
    const softplusNegAbs = ctx.unary('Softplus', ctx.unary('Neg', ctx.unary('Abs', z)));
    const terms = ctx.binary('Add', ctx.binary('Sub', ctx.unary('Relu', z), ctx.binary('Mul', z, t, z), z), softplusNegAbs, z);
    return { outputs: [ctx.b.op1('ReduceMean', [terms.name], { keepdims: 0 })] };
  },
};

for (const [op, onnxOp] of Object.entries(unaryOps)) {
  rules[op] = (ctx, [x]) => ({ outputs: [ctx.b.op1(onnxOp, [x.name])] });
}

/** The permutation `transpose(x, a, b)` applies. */
export function swapPerm(rank: number, attrs: Record<string, AttrValue>): number[] {
  const a = normAxis(attrNumber(attrs, 'dim0'), rank);
  const b = normAxis(attrNumber(attrs, 'dim1'), rank);
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return perm;
}

export function convAttrs(attrs: Record<string, AttrValue>): { stride: number; padding: number } {
  return { stride: attrNumber(attrs, 'stride', 1), padding: attrNumber(attrs, 'padding', 0) };
}

export function poolAttrs(attrs: Record<string, AttrValue>): { kernel: number; stride: number; padding: number } {
  const kernel = attrNumber(attrs, 'kernel');
  return { kernel, stride: attrNumber(attrs, 'stride', kernel), padding: attrNumber(attrs, 'padding', 0) };
}

/** The batch-norm reduction axes: every axis but the channel axis 1. */
export function batchNormAxes(rank: number): number[] {
  return Array.from({ length: rank }, (_, i) => i).filter((i) => i !== 1);
}

/** (x - mean) / sqrt(var + eps) over `axes`, with the biased variance, as PyTorch normalizes. */
function normalize(ctx: LoweringContext, x: Val, axes: number[], eps: number): { xhat: Val; invstd: Val; mean: Val; variance: Val } {
  const mean = ctx.reduce('ReduceMean', x, axes, true);
  const centered = ctx.binary('Sub', x, mean, x);
  const variance = ctx.reduce('ReduceMean', ctx.binary('Mul', centered, centered, x), axes, true);
  const invstd = ctx.unary('Reciprocal', ctx.unary('Sqrt', ctx.binary('Add', variance, ctx.scalar(eps), variance)));
  return { xhat: ctx.binary('Mul', centered, invstd, x), invstd, mean, variance };
}

/** A per-channel vector [C] reshaped to broadcast over [B, C, ...]. */
export function channelView(ctx: LoweringContext, v: Val, rank: number): Val {
  const shape = [Dim.of(1), v.shape[0], ...Array.from({ length: rank - 2 }, () => Dim.of(1))];
  return ctx.reshape(v, shape);
}

function batchNorm(ctx: LoweringContext, [x, gamma, beta, runningMean, runningVar]: Val[], attrs: Record<string, AttrValue>): ForwardResult {
  const eps = attrNumber(attrs, 'eps', 1e-5);
  const momentum = attrNumber(attrs, 'momentum', 0.1);
  const rank = x.shape.length;
  if (!ctx.mode.training) {
    const y = ctx.b.op1('BatchNormalization', [x.name, gamma.name, beta.name, runningMean.name, runningVar.name], { epsilon: { f: eps } });
    return { outputs: [y] };
  }
  const axes = batchNormAxes(rank);
  const { xhat, invstd, mean, variance } = normalize(ctx, x, axes, eps);
  const y = ctx.binary('Add', ctx.binary('Mul', xhat, channelView(ctx, gamma, rank), x), channelView(ctx, beta, rank), x);
  // Running statistics as PyTorch keeps them: the variance is unbiased (n / (n - 1)).
  const n = ctx.count(x, axes);
  const bessel = ctx.b.op1('Div', [n, ctx.b.op1('Sub', [n, ctx.scalar(1)])]);
  const flatMean = ctx.reshape(mean, runningMean.shape);
  const flatVar = ctx.reshape(variance, runningVar.shape);
  const keep = ctx.scalar(1 - momentum);
  const take = ctx.scalar(momentum);
  const newMean = ctx.binary('Add', ctx.binary('Mul', runningMean, keep, runningMean), ctx.binary('Mul', flatMean, take, runningMean), runningMean);
  const unbiased = ctx.binary('Mul', flatVar, bessel, runningVar);
  const newVar = ctx.binary('Add', ctx.binary('Mul', runningVar, keep, runningVar), ctx.binary('Mul', unbiased, take, runningVar), runningVar);
  return { outputs: [y.name], saved: { xhat, invstd }, bufferUpdates: [newMean, newVar] };
}

const layerOps = new Set(['batch_norm2d', 'batch_norm1d']);
const scalarOps = new Set(['add', 'sub', 'mul', 'div']);

/** Lowers one op; records it on the tape when a gradient can flow through it. */
export function lowerOp(
  ctx: LoweringContext,
  op: string,
  inputs: Val[],
  attrs: Record<string, AttrValue>,
  outs: OutSpec[],
  range?: TextRange,
): { outputs: Val[]; bufferUpdates?: Val[] } {
  const rule = rules[op];
  if (!rule) throw new OnnxUnsupported(`the op \`${op}\``, range);
  const result = rule(ctx, inputs, attrs, outs);
  const outputs = result.outputs.map((name, i) => ({ name, shape: outs[i].shape, dtype: outs[i].dtype }));
  const differentiable = op !== 'detach' && inputs.some((v) => ctx.needsGrad(v));
  if (differentiable) {
    outputs.forEach((v) => v.dtype === 'float32' && ctx.requiresGrad.add(v.name));
    ctx.tape.push({ op, inputs, outputs, attrs, saved: result.saved ?? {}, range });
  }
  return { outputs, bufferUpdates: result.bufferUpdates };
}

/**
 * Lowers a graph with its inputs, parameters and buffers already bound to ONNX values;
 * `resolve` maps the graph's own shapes to the caller's (for an inlined `fn`).
 * Returns the ONNX values of every graph value.
 */
export function lowerGraph(ctx: LoweringContext, graph: Graph, bound: Map<ValueId, Val>, resolve: ShapeResolver = (s) => s): Map<ValueId, Val> {
  const values = new Map(bound);
  const shapeOfValue = (id: ValueId): Shape => resolve(graph.values[id].shape);
  const get = (id: ValueId, range: TextRange): Val => {
    const v = values.get(id);
    if (!v) throw new OnnxUnsupported(`a value used before it is defined (#${id})`, range);
    return v;
  };
  for (const node of graph.nodes) {
    const inputs = node.inputs.map((id) => get(id, node.range));
    const outs = node.outputs.map((id) => ({ shape: shapeOfValue(id), dtype: graph.values[id].dtype }));
    if (node.op === 'tuple') {
      // A grad block's `return dx, dW, db`: the values pass through.
      node.outputs.forEach((id, i) => values.set(id, inputs[i]));
      continue;
    }
    if (scalarOps.has(node.op) && inputs.length === 1) {
      // `x * 2`, `1 - x`: the number operand becomes a constant input.
      const scalar: Val = { name: ctx.scalar(attrNumber(node.attrs, 'scalar')), shape: [], dtype: 'float32' };
      if (node.attrs.scalarFirst === true) inputs.unshift(scalar);
      else inputs.push(scalar);
    }
    if (node.op === 'call_fn') {
      const out = inlineFn(ctx, String(node.attrs.fn), inputs, node.range);
      values.set(node.outputs[0], out);
      continue;
    }
    if (layerOps.has(node.op) && inputs.length === 3) {
      // Running statistics are buffers named after the layer; bind them when not explicit inputs.
      for (const suffix of ['running_mean', 'running_var']) {
        const entry = graph.buffers.find((b) => b.buffer.layer === node.layer && b.buffer.name.endsWith(suffix));
        if (!entry) throw new OnnxUnsupported(`batch norm \`${node.layer}\` without its ${suffix} buffer`, node.range);
        inputs.push(get(entry.value, node.range));
      }
    }
    const { outputs, bufferUpdates } = lowerOp(ctx, node.op, inputs, node.attrs, outs, node.range);
    node.outputs.forEach((id, i) => values.set(id, outputs[i]));
    if (bufferUpdates) {
      bufferUpdates.forEach((v, i) => ctx.bufferUpdates.set(inputs[3 + i].name, v));
    }
  }
  return values;
}

/** Maps a graph's own shapes to the caller's (identity for the model's graph). */
export type ShapeResolver = (shape: Shape) => Shape;

const groupName = (d: Dim): string | null => {
  const names = [...d.names()];
  return names.length === 1 && names[0].startsWith('*') && d.equals(Dim.named(names[0])) ? names[0] : null;
};

/**
 * Binds a fn's symbolic dims (`B`, `I`) and variadic groups (`*S`) to the dims of the actual
 * arguments, and returns the substitution for the fn's value shapes.
 */
export function bindDims(fnShapes: Shape[], actual: Shape[], range: TextRange): ShapeResolver {
  const dims = new Map<string, Dim>();
  const groups = new Map<string, Shape>();
  const bindOne = (d: Dim, a: Dim): void => {
    if (d.constant() !== null) return;
    const names = [...d.names()];
    if (names.length === 1 && d.equals(Dim.named(names[0]))) dims.set(names[0], a);
  };
  fnShapes.forEach((shape, i) => {
    const groupAt = shape.findIndex((d) => groupName(d) !== null);
    const args = actual[i];
    if (groupAt < 0) {
      if (shape.length !== args.length) throw new OnnxUnsupported('a fn called with an argument of another rank', range);
      shape.forEach((d, axis) => bindOne(d, args[axis]));
      return;
    }
    const after = shape.length - groupAt - 1;
    groups.set(groupName(shape[groupAt]) as string, args.slice(groupAt, args.length - after));
    shape.slice(0, groupAt).forEach((d, axis) => bindOne(d, args[axis]));
    shape.slice(groupAt + 1).forEach((d, k) => bindOne(d, args[args.length - after + k]));
  });
  return (shape) => shape.flatMap((d) => {
    const group = groupName(d);
    if (group) return [...(groups.get(group) ?? [d])];
    return [dims.size ? d.substitute(dims) : d];
  });
}

/** Inlines a `fn`; with a `grad` block its body is one tape entry whose rule is that block. */
function inlineFn(ctx: LoweringContext, name: string, args: Val[], range: TextRange): Val {
  const fn = ctx.fns.get(name);
  if (!fn) throw new OnnxUnsupported(`a call of the unknown fn \`${name}\``, range);
  const g = fn.forward;
  const resolve = bindDims(g.inputs.map((id) => g.values[id].shape), args.map((a) => a.shape), range);
  if (!fn.backward) {
    const values = lowerGraph(ctx, g, new Map(g.inputs.map((id, i) => [id, args[i]])), resolve);
    return values.get(g.output) as Val;
  }
  // Lower the body without recording it, then record the call itself with the custom rule.
  const tapeLength = ctx.tape.length;
  const values = lowerGraph(ctx, g, new Map(g.inputs.map((id, i) => [id, args[i]])), resolve);
  ctx.tape.length = tapeLength;
  const out = values.get(g.output) as Val;
  if (args.some((a) => ctx.needsGrad(a))) {
    ctx.requiresGrad.add(out.name);
    ctx.tape.push({ op: 'call_fn', inputs: args, outputs: [out], attrs: { fn: name }, saved: {}, range });
  }
  return out;
}
