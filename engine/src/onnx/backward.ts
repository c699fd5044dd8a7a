// The backward pass written as ONNX ops: one gradient rule per op (the same rules as the
// TS engine), run over the forward tape in reverse, accumulating gradients of reused values.

import { Dim, type Shape } from '../shape/dim.js';
import { LoweringContext, normAxis, type TapeEntry, type Val } from './context.js';
import { attrNumber, batchNormAxes, bindDims, channelView, convAttrs, lowerGraph, poolAttrs, reductionAxes, swapPerm } from './forward.js';
import { OnnxUnsupported } from './unsupported.js';

/** Gradients of the entry's inputs from the gradient of its output; null where not needed. */
type GradRule = (ctx: LoweringContext, e: TapeEntry, g: Val, needs: boolean[]) => (Val | null)[];

const zero = (ctx: LoweringContext): string => ctx.scalar(0);

function where(ctx: LoweringContext, condition: string, ifTrue: Val, ifFalse: Val | string): Val {
  const other = typeof ifFalse === 'string' ? ifFalse : ifFalse.name;
  return ctx.op('Where', [condition, ifTrue.name, other], {}, ifTrue.shape);
}

/** Swaps the last two axes (the transpose of a batched matrix). */
function matrixTranspose(ctx: LoweringContext, x: Val): Val {
  const rank = x.shape.length;
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  const shape = perm.map((p) => x.shape[p]);
  return ctx.op('Transpose', [x.name], { perm }, shape);
}

function constantDims(shape: Shape, what: string): number[] {
  return shape.map((d) => {
    const n = d.constant();
    if (n === null) throw new OnnxUnsupported(`${what} with a symbolic dim (${d.toString()})`);
    return n;
  });
}

/** dx of a normalization: invstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) over `axes`. */
function normalizeBackward(ctx: LoweringContext, dxhat: Val, xhat: Val, invstd: Val, axes: number[]): Val {
  const meanD = ctx.reduce('ReduceMean', dxhat, axes, true);
  const meanDX = ctx.reduce('ReduceMean', ctx.binary('Mul', dxhat, xhat, xhat), axes, true);
  const inner = ctx.binary('Sub', ctx.binary('Sub', dxhat, meanD, xhat), ctx.binary('Mul', xhat, meanDX, xhat), xhat);
  return ctx.binary('Mul', inner, invstd, xhat);
}

const rules: Record<string, GradRule> = {
  // relu's output rather than its input: y > 0 exactly where x > 0, and a conv whose output
  // only relu reads is fused with it by onnxruntime.
  relu: (ctx, { outputs: [y] }, g) => [where(ctx, ctx.b.op1('Greater', [y.name, zero(ctx)]), g, zero(ctx))],
  leaky_relu: (ctx, { inputs: [x], attrs }, g) => {
    const slope = attrNumber(attrs, 'slope', 0.01);
    return [where(ctx, ctx.b.op1('Greater', [x.name, zero(ctx)]), g, ctx.binary('Mul', g, ctx.scalar(slope), g))];
  },
  sigmoid: (ctx, { outputs: [y] }, g) => [ctx.binary('Mul', ctx.binary('Mul', g, y, g), ctx.binary('Sub', ctx.scalar(1), y, y), g)],
  tanh: (ctx, { outputs: [y] }, g) => [ctx.binary('Mul', g, ctx.binary('Sub', ctx.scalar(1), ctx.binary('Mul', y, y, y), y), g)],
  exp: (ctx, { outputs: [y] }, g) => [ctx.binary('Mul', g, y, g)],
  log: (ctx, { inputs: [x] }, g) => [ctx.binary('Div', g, x, g)],
  sqrt: (ctx, { outputs: [y] }, g) => [ctx.binary('Div', ctx.binary('Mul', g, ctx.scalar(0.5), g), y, g)],
  abs: (ctx, { inputs: [x] }, g) => [ctx.binary('Mul', g, ctx.unary('Sign', x), g)],
  neg: (ctx, _e, g) => [ctx.unary('Neg', g)],
  softplus: (ctx, { inputs: [x] }, g) => [ctx.binary('Mul', g, ctx.unary('Sigmoid', x), g)],
  gelu: (ctx, { inputs: [x], saved: { cdf } }, g) => {
    // d/dx x·Φ(x) = Φ(x) + x·φ(x), φ(x) = exp(-x²/2) / sqrt(2π).
    const pdf = ctx.binary('Mul', ctx.unary('Exp', ctx.binary('Mul', ctx.binary('Mul', x, x, x), ctx.scalar(-0.5), x)), ctx.scalar(1 / Math.sqrt(2 * Math.PI)), x);
    return [ctx.binary('Mul', g, ctx.binary('Add', cdf, ctx.binary('Mul', x, pdf, x), x), g)];
  },
  silu: (ctx, { inputs: [x], saved: { s } }, g) => {
    // d/dx x·σ(x) = σ(x)·(1 + x·(1 - σ(x))).
    const inner = ctx.binary('Add', ctx.scalar(1), ctx.binary('Mul', x, ctx.binary('Sub', ctx.scalar(1), s, s), x), x);
    return [ctx.binary('Mul', g, ctx.binary('Mul', s, inner, x), g)];
  },
  add: (ctx, { inputs: [a, b] }, g, needs) => [needs[0] ? ctx.reduceToShape(g, a.shape) : null, needs[1] ? ctx.reduceToShape(g, b.shape) : null],
  sub: (ctx, { inputs: [a, b] }, g, needs) => [
    needs[0] ? ctx.reduceToShape(g, a.shape) : null,
    needs[1] ? ctx.reduceToShape(ctx.unary('Neg', g), b.shape) : null,
  ],
  mul: (ctx, { inputs: [a, b] }, g, needs) => [
    needs[0] ? ctx.reduceToShape(ctx.binary('Mul', g, b, g), a.shape) : null,
    needs[1] ? ctx.reduceToShape(ctx.binary('Mul', g, a, g), b.shape) : null,
  ],
  div: (ctx, { inputs: [a, b], outputs: [y] }, g, needs) => [
    needs[0] ? ctx.reduceToShape(ctx.binary('Div', g, b, g), a.shape) : null,
    needs[1] ? ctx.reduceToShape(ctx.unary('Neg', ctx.binary('Div', ctx.binary('Mul', g, y, g), b, g)), b.shape) : null,
  ],
  pow: (ctx, { inputs: [x], attrs }, g) => {
    const p = attrNumber(attrs, 'exponent');
    const dydx = ctx.binary('Mul', ctx.binary('Pow', x, ctx.scalar(p - 1), x), ctx.scalar(p), x);
    return [ctx.binary('Mul', g, dydx, g)];
  },
  matmul: (ctx, { inputs: [a, b] }, g, needs) => {
    const ga = needs[0] ? ctx.op('MatMul', [g.name, matrixTranspose(ctx, b).name], {}, [...g.shape.slice(0, -1), a.shape[a.shape.length - 1]]) : null;
    const gb = needs[1] ? ctx.op('MatMul', [matrixTranspose(ctx, a).name, g.name], {}, [...g.shape.slice(0, -2), b.shape[b.shape.length - 2], g.shape[g.shape.length - 1]]) : null;
    return [ga && ctx.reduceToShape(ga, a.shape), gb && ctx.reduceToShape(gb, b.shape)];
  },
  softmax: (ctx, { outputs: [y], attrs }, g) => {
    const axis = normAxis(attrNumber(attrs, 'axis', -1), y.shape.length);
    const dot = ctx.sum(ctx.binary('Mul', g, y, g), [axis], true);
    return [ctx.binary('Mul', y, ctx.binary('Sub', g, dot, g), g)];
  },
  log_softmax: (ctx, { outputs: [y], attrs }, g) => {
    const axis = normAxis(attrNumber(attrs, 'axis', -1), y.shape.length);
    return [ctx.binary('Sub', g, ctx.binary('Mul', ctx.unary('Exp', y), ctx.sum(g, [axis], true), g), g)];
  },
  sum: (ctx, { inputs: [x], attrs }, g) => [ctx.expandBack(g, x, reductionAxes(attrs, x.shape.length), !!attrs.keepdims)],
  mean: (ctx, { inputs: [x], attrs }, g) => {
    const axes = reductionAxes(attrs, x.shape.length);
    return [ctx.binary('Div', ctx.expandBack(g, x, axes, !!attrs.keepdims), ctx.count(x, axes), x)];
  },
  max: (ctx, { inputs: [x], attrs }, g) => {
    // The gradient goes to the first position of each maximum, like PyTorch's max(dim).
    const axes = reductionAxes(attrs, x.shape.length);
    const kept = !!attrs.keepdims;
    if (axes.length === 1) {
      const size = constantDims([x.shape[axes[0]]], 'max over an axis')[0];
      const first = ctx.b.op1('ArgMax', [x.name], { axis: axes[0], keepdims: 0 });
      const mask = ctx.b.op1('OneHot', [first, ctx.b.constInt([size]), ctx.b.constFloat([0, 1])], { axis: axes[0] });
      return [ctx.op('Mul', [mask, ctx.expandBack(g, x, axes, kept).name], {}, x.shape)];
    }
    const n = Dim.named('N');
    const flat = ctx.reshape(x, [Dim.of(1), n], []);
    const first = ctx.b.op1('ArgMax', [flat.name], { axis: 1, keepdims: 0 });
    const size = ctx.b.op1('Shape', [flat.name], { start: 1, end: 2 });
    const mask = ctx.b.op1('OneHot', [first, size, ctx.b.constFloat([0, 1])], { axis: 1 });
    const spread = ctx.op('Mul', [mask, ctx.reshape(g, [Dim.of(1), Dim.of(1)], []).name], {}, [Dim.of(1), n]);
    return [ctx.op('Reshape', [spread.name, ctx.b.op1('Shape', [x.name])], {}, x.shape)];
  },
  transpose: (ctx, { inputs: [x], attrs }, g) => [ctx.op('Transpose', [g.name], { perm: swapPerm(x.shape.length, attrs) }, x.shape)],
  reshape: (ctx, { inputs: [x] }, g) => [ctx.reshape(g, x.shape, [x, g])],
  flatten: (ctx, { inputs: [x] }, g) => [ctx.reshape(g, x.shape, [x, g])],
  concat: (ctx, { inputs, attrs }, g) => {
    const axis = normAxis(attrNumber(attrs, 'axis', 0), inputs[0].shape.length);
    const sizes = inputs.map((v) => constantDims([v.shape[axis]], 'concat over an axis')[0]);
    const parts = ctx.b.op('Split', [g.name, ctx.b.constInt(sizes)], { axis }, inputs.length);
    return parts.map((name, i) => ({ name, shape: inputs[i].shape, dtype: 'float32' }));
  },
  dropout: (ctx, { attrs, saved: { mask } }, g) => {
    if (!mask) return [g];
    const p = attrNumber(attrs, 'p', 0.5);
    const kept = ctx.binary('Mul', g, ctx.b.op1('Cast', [mask.name], { to: 1 }), g);
    return [ctx.binary('Mul', kept, ctx.scalar(1 / (1 - p)), g)];
  },
  linear: (ctx, { inputs: [x, w, bias] }, g, needs) => {
    const outF = w.shape[0];
    const inF = w.shape[1];
    const g2 = x.shape.length === 2 ? g : ctx.reshape(g, [Dim.named('N'), outF], [g]);
    const x2 = x.shape.length === 2 ? x : ctx.reshape(x, [Dim.named('N'), inF], [x]);
    const dx = needs[0] ? ctx.op(x.shape.length === 2 ? 'Gemm' : 'MatMul', [g.name, w.name], {}, x.shape) : null;
    const dw = needs[1] ? ctx.op('Gemm', [g2.name, x2.name], { transA: 1 }, w.shape) : null;
    const db = bias && needs[2] ? ctx.sum(g2, [0], false) : null;
    return [dx, dw, db];
  },
  conv2d: (ctx, { inputs: [x, w, bias], attrs }, g, needs) => {
    const { stride, padding } = convAttrs(attrs);
    const [h, wd] = constantDims(x.shape.slice(2), 'conv2d');
    const [, , kh, kw] = constantDims(w.shape, 'conv2d weight');
    const [, , oh, ow] = g.shape.map((d) => d.constant() ?? 0);
    let dx: Val | null = null;
    if (needs[0]) {
      // Input gradient: the transposed convolution; output_padding restores rows that the
      // forward stride skipped.
      const outputPadding = [h - ((oh - 1) * stride + kh - 2 * padding), wd - ((ow - 1) * stride + kw - 2 * padding)];
      dx = ctx.op('ConvTranspose', [g.name, w.name], {
        kernel_shape: [kh, kw], strides: [stride, stride], pads: [padding, padding, padding, padding], output_padding: outputPadding,
      }, x.shape);
    }
    const dw = needs[1] ? convWeightGrad(ctx, x, w, g, stride, padding) : null;
    const db = bias && needs[2] ? ctx.sum(g, [0, 2, 3], false) : null;
    return [dx, dw, db];
  },
  max_pool2d: (ctx, { inputs: [x], saved: { indices }, attrs }, g) => {
    if (!indices) return [windowMaxBackward(ctx, x, g, poolAttrs(attrs).kernel)];
    // MaxPool's indices are flat offsets into x: scatter-add g there.
    const flatShape = [Dim.named('N')];
    const numel = ctx.b.op1('ReduceProd', [ctx.b.op1('Shape', [x.name])], { keepdims: 1 });
    const zeros = ctx.b.op1('ConstantOfShape', [numel]);
    const flatIdx = ctx.reshape(indices, flatShape, []);
    const flatG = ctx.reshape(g, flatShape, []);
    const scattered = ctx.b.op1('ScatterElements', [zeros, flatIdx.name, flatG.name], { axis: 0, reduction: 'add' });
    return [ctx.op('Reshape', [scattered, ctx.b.op1('Shape', [x.name])], {}, x.shape)];
  },
  avg_pool2d: (ctx, { inputs: [x], attrs }, g) => {
    // The transposed convolution with a constant 1/k² kernel per channel spreads g back.
    const { kernel, stride, padding } = poolAttrs(attrs);
    const [c, h, w] = constantDims(x.shape.slice(1), 'avg_pool2d');
    const [, , oh, ow] = g.shape.map((d) => d.constant() ?? 0);
    const weights = ctx.b.constFloat(new Array(c * kernel * kernel).fill(1 / (kernel * kernel)), [c, 1, kernel, kernel]);
    const outputPadding = [h - ((oh - 1) * stride + kernel - 2 * padding), w - ((ow - 1) * stride + kernel - 2 * padding)];
    return [ctx.op('ConvTranspose', [g.name, weights], {
      group: c, kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [padding, padding, padding, padding], output_padding: outputPadding,
    }, x.shape)];
  },
  batch_norm2d: (ctx, e, g, needs) => batchNormBackward(ctx, e, g, needs),
  batch_norm1d: (ctx, e, g, needs) => batchNormBackward(ctx, e, g, needs),
  layer_norm: (ctx, { inputs: [x, gamma], saved: { xhat, invstd } }, g, needs) => {
    const axis = x.shape.length - 1;
    const dx = needs[0] ? normalizeBackward(ctx, ctx.binary('Mul', g, gamma, g), xhat, invstd, [axis]) : null;
    const dgamma = needs[1] ? ctx.reduceToShape(ctx.binary('Mul', g, xhat, g), gamma.shape) : null;
    const dbeta = needs[2] ? ctx.reduceToShape(g, gamma.shape) : null;
    return [dx, dgamma, dbeta];
  },
  embedding: (ctx, { inputs: [ids, w] }, g) => {
    const [rows, dim] = constantDims(w.shape, 'Embedding');
    const n = Dim.named('N');
    const flatIds = ctx.reshape(ids, [n, Dim.of(1)], []);
    const flatG = ctx.reshape(g, [n, Dim.of(dim)], []);
    const index = ctx.b.op1('Expand', [flatIds.name, ctx.b.op1('Shape', [flatG.name])]);
    const zeros = ctx.b.op1('ConstantOfShape', [ctx.b.constInt([rows, dim])]);
    return [null, ctx.op('ScatterElements', [zeros, index, flatG.name], { axis: 0, reduction: 'add' }, w.shape)];
  },
  cross_entropy: (ctx, { inputs: [logits, labels], saved: { logp } }, g) => {
    // Fused: (softmax - onehot) / B, never forming the softmax Jacobian.
    const classes = constantDims([logits.shape[1]], 'cross_entropy classes')[0];
    const oneHot = ctx.b.op1('OneHot', [labels.name, ctx.b.constInt([classes]), ctx.b.constFloat([0, 1])], { axis: -1 });
    const diff = ctx.op('Sub', [ctx.unary('Exp', logp).name, oneHot], {}, logits.shape);
    const scale = ctx.b.op1('Div', [g.name, ctx.count(logits, [0])]);
    return [ctx.binary('Mul', diff, scale, logits), null];
  },
  mse: (ctx, { inputs: [pred, target], saved: { diff } }, g, needs) => {
    const scale = ctx.b.op1('Div', [ctx.b.op1('Mul', [g.name, ctx.scalar(2)]), ctx.count(pred, pred.shape.map((_, i) => i))]);
    const dpred = ctx.binary('Mul', diff, scale, pred);
    return [needs[0] ? dpred : null, needs[1] ? ctx.reduceToShape(ctx.unary('Neg', dpred), target.shape) : null];
  },
  bce_with_logits: (ctx, { inputs: [z, t] }, g, needs) => {
    const scale = ctx.b.op1('Div', [g.name, ctx.count(z, z.shape.map((_, i) => i))]);
    const dz = needs[0] ? ctx.binary('Mul', ctx.binary('Sub', ctx.unary('Sigmoid', z), t, z), scale, z) : null;
    const dt = needs[1] ? ctx.reduceToShape(ctx.binary('Mul', ctx.unary('Neg', z), scale, z), t.shape) : null;
    return [dz, dt];
  },
  call_fn: (ctx, { inputs, attrs, range }, g) => {
    // A user-written `grad(g)` block: its graph takes the fn's arguments then g.
    const fn = ctx.fns.get(String(attrs.fn));
    const backward = fn?.backward;
    if (!fn || !backward) throw new OnnxUnsupported(`the fn \`${String(attrs.fn)}\` without a grad block`, range);
    const bg = backward.graph;
    const bound = new Map(bg.inputs.map((id, i) => [id, i < inputs.length ? inputs[i] : g]));
    const resolve = bindDims(fn.forward.inputs.map((id) => fn.forward.values[id].shape), inputs.map((v) => v.shape), range ?? { start: 0, end: 0 });
    const tapeLength = ctx.tape.length;
    const values = lowerGraph(ctx, bg, bound, resolve);
    ctx.tape.length = tapeLength; // the grad block's own ops are not differentiated again
    return backward.gradOutputs.map((id) => values.get(id) ?? null);
  },
};

/**
 * conv2d's weight gradient, dWᵀ = sum over images of cols_n · g_nᵀ: the receptive fields of
 * x unfolded (im2col) by a grouped convolution with one-hot kernels, one batched MatMul
 * against g transposed (the smaller operand), a sum over the batch and a transpose of the
 * small result. 1.7× faster on the Net conv2 shapes (26 vs 45 ms on one thread) than a
 * convolution of x with g as its kernel (batch as channels), whose 3×3 output makes the
 * GEMM nine columns wide.
 */
function convWeightGrad(ctx: LoweringContext, x: Val, w: Val, g: Val, stride: number, padding: number): Val {
  const [outChannels, channels, kh, kw] = constantDims(w.shape, 'conv2d weight');
  const [oh, ow] = constantDims(g.shape.slice(2), 'conv2d');
  const patch = channels * kh * kw;
  const spatial = oh * ow;
  // Kernel row c·kh·kw + i·kw + j of group c picks x[c, i, j] of each window: im2col's row order.
  const oneHot = new Array<number>(patch * kh * kw).fill(0);
  for (let row = 0; row < patch; row++) oneHot[row * kh * kw + (row % (kh * kw))] = 1;
  const n = x.shape[0];
  const cols = ctx.op('Conv', [x.name, ctx.b.constFloat(oneHot, [patch, 1, kh, kw])], {
    group: channels, kernel_shape: [kh, kw], strides: [stride, stride], pads: [padding, padding, padding, padding],
  }, [n, Dim.of(patch), Dim.of(oh), Dim.of(ow)]);
  const gT = ctx.b.op1('Transpose', [ctx.b.op1('Reshape', [g.name, ctx.b.constInt([0, outChannels, spatial])])], { perm: [0, 2, 1] });
  const perImage = ctx.b.op1('MatMul', [ctx.b.op1('Reshape', [cols.name, ctx.b.constInt([0, patch, spatial])]), gT]);
  const sum = ctx.b.op1('Transpose', [ctx.b.op1('ReduceSum', [perImage, ctx.b.constInt([0])], { keepdims: 0 })], { perm: [1, 0] });
  return ctx.op('Reshape', [sum, ctx.b.constInt([outChannels, channels, kh, kw])], {}, w.shape);
}

/**
 * The max-pool gradient for non-overlapping k×k windows (stride k, no padding): each
 * window's first maximum (ArgMax, like the TS engine and PyTorch) gets g through
 * MaxUnpool; rows and columns the windows do not cover get zero.
 */
function windowMaxBackward(ctx: LoweringContext, x: Val, g: Val, k: number): Val {
  const [c, h, w] = constantDims(x.shape.slice(1), 'max_pool2d');
  const [oh, ow] = constantDims(g.shape.slice(2), 'max_pool2d');
  const n = x.shape[0];
  let covered = x;
  if (oh * k !== h || ow * k !== w) {
    covered = ctx.op('Slice', [x.name, ctx.b.constInt([0, 0]), ctx.b.constInt([oh * k, ow * k]), ctx.b.constInt([2, 3])], {}, [n, Dim.of(c), Dim.of(oh * k), Dim.of(ow * k)]);
  }
  // SpaceToDepth puts each window's k*k values on a leading axis (offset-major channels,
  // offset = dy*k + dx in row-major order), so ArgMax finds each window's first maximum.
  const depth = ctx.op('SpaceToDepth', [covered.name], { blocksize: k }, [n, Dim.of(k * k * c), Dim.of(oh), Dim.of(ow)]);
  const first = ctx.b.op1('ArgMax', [ctx.reshape(depth, [n, Dim.of(k * k), Dim.of(c), Dim.of(oh), Dim.of(ow)]).name], { axis: 1, keepdims: 0 });
  // MaxUnpool wants flat offsets into x: a table [k*k, c, oh, ow] gives the offset of (window
  // offset dy*k + dx, channel, window i, j) within a sample, (ch*h + i*k + dy)*w + j*k + dx,
  // summed from four short ranges (onnxruntime folds it into a constant once), and the
  // sample's start is added.
  const term = (values: number[], axis: number) => ctx.b.constInt(values, [0, 1, 2, 3].map((a) => (a === axis ? values.length : 1)));
  const windowOffsets = term(Array.from({ length: k * k }, (_, o) => Math.floor(o / k) * w + (o % k)), 0);
  const channels = term(Array.from({ length: c }, (_, ch) => ch * h * w), 1);
  const rows = term(Array.from({ length: oh }, (_, i) => i * k * w), 2);
  const columns = term(Array.from({ length: ow }, (_, j) => j * k), 3);
  const table = ctx.b.op1('Add', [ctx.b.op1('Add', [windowOffsets, channels]), ctx.b.op1('Add', [rows, columns])]);
  const inSample = ctx.b.op1('GatherElements', [table, first], { axis: 0 });
  const samples = ctx.b.op1('Squeeze', [ctx.b.op1('Shape', [x.name], { start: 0, end: 1 }), ctx.b.constInt([0])]);
  const sampleStart = ctx.b.op1('Mul', [ctx.b.op1('Range', [ctx.b.constInt(0, []), samples, ctx.b.constInt(1, [])]), ctx.b.constInt(c * h * w, [])]);
  const offsets = ctx.b.op1('Add', [inSample, ctx.b.op1('Reshape', [sampleStart, ctx.b.constInt([-1, 1, 1, 1])])]);
  return ctx.op('MaxUnpool', [g.name, offsets, ctx.b.op1('Shape', [x.name])], { kernel_shape: [k, k], strides: [k, k] }, x.shape);
}

function batchNormBackward(ctx: LoweringContext, { inputs: [x, gamma], saved: { xhat, invstd } }: TapeEntry, g: Val, needs: boolean[]): (Val | null)[] {
  if (!xhat) throw new OnnxUnsupported('the gradient of batch norm in eval mode');
  const rank = x.shape.length;
  const axes = batchNormAxes(rank);
  const dx = needs[0] ? normalizeBackward(ctx, ctx.binary('Mul', g, channelView(ctx, gamma, rank), g), xhat, invstd, axes) : null;
  const dgamma = needs[1] ? ctx.sum(ctx.binary('Mul', g, xhat, g), axes, false) : null;
  const dbeta = needs[2] ? ctx.sum(g, axes, false) : null;
  return [dx, dgamma, dbeta, null, null];
}

/**
 * Runs the tape backwards from a scalar loss; returns the gradient of each wanted value
 * (a zero-filled tensor for a parameter no gradient reaches).
 */
export function lowerBackward(ctx: LoweringContext, loss: Val, wanted: readonly Val[]): Val[] {
  const grads = new Map<string, Val>([[loss.name, { name: ctx.scalar(1), shape: [], dtype: 'float32' }]]);
  const entries = [...ctx.tape];
  const pooledRelus = reluPoolPairs(entries);
  const passThrough = new Set(pooledRelus.values());
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i];
    let g = grads.get(entry.outputs[0].name);
    if (!g) continue;
    const rule = rules[entry.op];
    if (!rule) throw new OnnxUnsupported(`the gradient of \`${entry.op}\``, entry.range);
    const needs = entry.inputs.map((v) => v.dtype === 'float32' && ctx.needsGrad(v));
    if (pooledRelus.has(entry)) {
      // A window's gradient goes to its chosen input, which relu passes exactly when the
      // window's maximum is positive: the relu mask applied to the pooled gradient.
      g = where(ctx, ctx.b.op1('Greater', [entry.outputs[0].name, zero(ctx)]), g, zero(ctx));
    }
    const inputGrads = passThrough.has(entry) ? [g] : rule(ctx, entry, g, needs);
    entry.inputs.forEach((input, k) => {
      const ig = inputGrads[k];
      if (!ig || !needs[k]) return;
      const previous = grads.get(input.name);
      grads.set(input.name, previous ? ctx.binary('Add', previous, ig, input) : ig);
    });
  }
  return wanted.map((v) => grads.get(v.name) ?? ctx.binary('Mul', v, ctx.scalar(0), v));
}

/**
 * The max_pool2d entries whose input is a relu output that nothing else on the tape reads,
 * with that relu: its mask is applied to the pooled gradient, a fraction of the values, and
 * the relu entry passes its gradient through.
 */
function reluPoolPairs(entries: readonly TapeEntry[]): Map<TapeEntry, TapeEntry> {
  const readers = new Map<string, number>();
  for (const entry of entries) for (const v of entry.inputs) readers.set(v.name, (readers.get(v.name) ?? 0) + 1);
  const relus = new Map(entries.filter((e) => e.op === 'relu').map((e) => [e.outputs[0].name, e]));
  const pairs = new Map<TapeEntry, TapeEntry>();
  for (const entry of entries) {
    const relu = relus.get(entry.inputs[0]?.name);
    if (entry.op === 'max_pool2d' && relu && readers.get(entry.inputs[0].name) === 1) pairs.set(entry, relu);
  }
  return pairs;
}
