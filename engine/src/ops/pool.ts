// 2-D pooling over [N, C, H, W] (or [C, H, W]) input: max_pool2d (gradient to the first
// maximum of each window, saved as indices; padding never wins) and avg_pool2d (padding
// counts as zeros in the average, PyTorch's count_include_pad default).

import { Tensor, allocate } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import { shapeSize } from '../tensor/shape.js';
import { Dim, formatShape, type Shape } from '../shape/dim.js';
import { ruleError, windowSize, type RuleResult } from '../shape/rules.js';
import type { LoweringContext, Val } from '../onnx/context.js';
import { defineOp, pair, tensor, type Pair } from './def.js';
import { both, pairOf, pyPair, type Axes } from './conv2d.js';
import { outputShape, sizeOf } from './shape-rule.js';
import { emptyFloat, requireFloat } from './operand.js';
import { averagePool, maxPoolBackward, maxPoolForward, type PoolGeometry } from '../kernels/pooling.js';

function layout(op: 'max_pool2d' | 'avg_pool2d', x: Tensor, kernel: Axes, stride: Axes, padding: Axes): { shape: number[]; pool: PoolGeometry } {
  requireFloat(op, x);
  const [kernelH, kernelW] = both(kernel);
  const [strideH, strideW] = both(stride);
  const [padH, padW] = both(padding);
  const dims = (h: number, w: number): Pair => [Dim.of(h), Dim.of(w)];
  const shape = outputShape(POOLS[op], [x.shape], { k: dims(kernelH, kernelW), stride: dims(strideH, strideW), padding: dims(padH, padW) });
  // Every leading axis is a plane.
  const [height, width] = x.shape.slice(-2);
  const [outH, outW] = shape.slice(-2);
  return { shape, pool: { planes: shapeSize(x.shape.slice(0, -2)), height, width, outH, outW, kernelH, kernelW, strideH, strideW, padH, padW } };
}

export function maxPool2d(x: Tensor, kernel: Axes, stride: Axes = kernel, padding: Axes = 0): Tensor {
  const { shape, pool } = layout('max_pool2d', x, kernel, stride, padding);
  const out = emptyFloat(shape, x.dtype);
  const argmax = allocate('int64', out.size) as Int32Array;
  maxPoolForward(x.values, out.values, argmax, pool);
  return record('max_pool2d', out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    maxPoolBackward(g.values, argmax, grad.values, pool);
    return [grad];
  }, [new Tensor(argmax, [argmax.length], 'int64')]);
}

export function avgPool2d(x: Tensor, kernel: Axes, stride: Axes = kernel, padding: Axes = 0): Tensor {
  const { shape, pool } = layout('avg_pool2d', x, kernel, stride, padding);
  const out = emptyFloat(shape, x.dtype);
  averagePool(x.values, out.values, pool, true);
  return record('avg_pool2d', out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    averagePool(grad.values, g.values, pool, false);
    return [grad];
  });
}

// -- definitions ---------------------------------------------------------------------------

/** Each per axis: (height, width). */
interface PoolAttrs {
  k: Pair;
  stride: Pair;
  padding: Pair;
}

const poolRule = (op: string) => ([x]: readonly Shape[], { k, stride, padding }: PoolAttrs): RuleResult => {
  if (x.length !== 4 && x.length !== 3) return ruleError('NN2108', [op, 'a 4-D input [N, C, H, W]', { input: 0 }, formatShape(x)]);
  for (let axis = 0; axis < 2; axis++) {
    const pad = padding[axis].constant();
    const kernel = k[axis].constant();
    // PyTorch refuses padding over half the window: a window could then hold only padding.
    if (pad !== null && kernel !== null && pad > kernel / 2) return ruleError('NN2112', [op, pad, kernel]);
  }
  const spatial = x.slice(x.length - 2).map((d, axis) => windowSize(d, k[axis], stride[axis], padding[axis]));
  const out = [...x.slice(0, x.length - 2), ...spatial];
  for (let axis = 0; axis < 2; axis++) {
    const outSize = spatial[axis].constant();
    if (outSize !== null && outSize < 1) return ruleError('NN2105', [op, k[axis].toString(), x[x.length - 2 + axis].add(padding[axis].scale(2)).toString(), outSize]);
  }
  return { shape: out };
};

const params = [
  tensor('x', { aliases: ['input'] }),
  pair('k', { aliases: ['kernel', 'kernel_size'], min: 1, doc: 'the window: k × k, or (kh, kw)' }),
  pair('stride', { default: { sameAs: 'k' }, min: 1, doc: 'step: s, or (sh, sw) per axis' }),
  pair('padding', { default: 0, min: 0, doc: 'added on each side (p, or (ph, pw)); at most half the window' }),
] as const;

/** The window per axis as numbers, and ONNX's pads (begin then end of each axis). */
function windowAttrs(attrs: PoolAttrs): { kernel: [number, number]; stride: [number, number]; padding: [number, number]; pads: number[] } {
  const padding = pairOf(attrs.padding);
  return { kernel: pairOf(attrs.k), stride: pairOf(attrs.stride), padding, pads: [...padding, ...padding] };
}

/** Non-overlapping square windows (k × k at stride k, no padding), whose max-pool gradient needs no saved indices. */
const squareWindows = (kernel: readonly number[], stride: readonly number[], padding: readonly number[]): boolean =>
  kernel[0] === kernel[1] && stride[0] === kernel[0] && stride[1] === kernel[1] && padding[0] === 0 && padding[1] === 0;

/**
 * The max-pool gradient for non-overlapping k×k windows (stride k, no padding): each
 * window's first maximum (ArgMax, like the TS engine and PyTorch) gets g through
 * MaxUnpool; rows and columns the windows do not cover get zero.
 */
function windowMaxBackward(ctx: LoweringContext, x: Val, g: Val, k: number): Val {
  const [c, h, w] = ctx.constantDims(x.shape.slice(1), 'max_pool2d');
  const [oh, ow] = ctx.constantDims(g.shape.slice(2), 'max_pool2d');
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

export const maxPool2dOp = defineOp({
  name: 'max_pool2d',
  surface: 'function',
  params,
  doc: { summary: 'Max over each `k × k` (or `kh × kw`) window of `[B, C, H, W]`.', gradient: 'dL/dx = g routed to the first arg-max of each window, 0 elsewhere' },
  shape: poolRule('max_pool2d'),
  routesToArgmax: true,
  ts: ([x], attrs) => {
    const { kernel, stride, padding } = windowAttrs(attrs);
    return maxPool2d(x, kernel, stride, padding);
  },
  onnx: {
    forward: (ctx, [x], attrs, [out]) => {
      const { kernel, stride, padding, pads } = windowAttrs(attrs);
      const attributes = { kernel_shape: kernel, strides: stride, pads };
      if (!ctx.mode.training || squareWindows(kernel, stride, padding)) {
        // Without the indices output MaxPool takes onnxruntime's fast path (with it, the pool
        // is over twenty times slower); the backward of non-overlapping windows finds each
        // window's first maximum itself.
        return { outputs: [ctx.b.op1('MaxPool', [x.name], attributes)] };
      }
      const [y, indices] = ctx.b.op('MaxPool', [x.name], attributes, 2);
      return { outputs: [y], saved: { indices: { name: indices, shape: out.shape, dtype: 'int64' } } };
    },
    backward: (ctx, { inputs: [x], saved: { indices }, attrs }, g) => {
      if (!indices) return [windowMaxBackward(ctx, x, g, sizeOf(attrs.k[0]))];
      // MaxPool's indices are flat offsets into x: scatter-add g there.
      const flatShape = [Dim.named('N')];
      const numel = ctx.b.op1('ReduceProd', [ctx.b.op1('Shape', [x.name])], { keepdims: 1 });
      const zeros = ctx.b.op1('ConstantOfShape', [numel]);
      const flatIndices = ctx.reshape(indices, flatShape, []);
      const flatG = ctx.reshape(g, flatShape, []);
      const scattered = ctx.b.op1('ScatterElements', [zeros, flatIndices.name, flatG.name], { axis: 0, reduction: 'add' });
      return [ctx.op('Reshape', [scattered, ctx.b.op1('Shape', [x.name])], {}, x.shape)];
    },
  },
  pytorch: ([x], attrs) => `F.max_pool2d(${x}, ${pyPair(attrs.k)}, stride=${pyPair(attrs.stride)}, padding=${pyPair(attrs.padding)})`,
});

export const avgPool2dOp = defineOp({
  name: 'avg_pool2d',
  surface: 'function',
  params,
  doc: { summary: 'Mean over each `k × k` (or `kh × kw`) window of `[B, C, H, W]` (padding counts as zeros).', gradient: 'dL/dx = g / (kh·kw) spread over each window' },
  shape: poolRule('avg_pool2d'),
  ts: ([x], attrs) => {
    const { kernel, stride, padding } = windowAttrs(attrs);
    return avgPool2d(x, kernel, stride, padding);
  },
  onnx: {
    forward: (ctx, [x], attrs) => {
      // PyTorch counts the zero padding in the average (count_include_pad = True).
      const { kernel, stride, pads } = windowAttrs(attrs);
      return { outputs: [ctx.b.op1('AveragePool', [x.name], { kernel_shape: kernel, strides: stride, pads, count_include_pad: 1 })] };
    },
    backward: (ctx, { inputs: [x], attrs }, g) => {
      // The transposed convolution with a constant 1/k² kernel per channel spreads g back.
      const { kernel, stride, padding, pads } = windowAttrs(attrs);
      const [c, h, w] = ctx.constantDims(x.shape.slice(1), 'avg_pool2d');
      const [oh, ow] = ctx.constantDims(g.shape.slice(2), 'avg_pool2d');
      const [kh, kw] = kernel;
      const weights = ctx.b.constFloat(new Array(c * kh * kw).fill(1 / (kh * kw)), [c, 1, kh, kw]);
      const outputPadding = [h - ((oh - 1) * stride[0] + kh - 2 * padding[0]), w - ((ow - 1) * stride[1] + kw - 2 * padding[1])];
      return [ctx.op('ConvTranspose', [g.name, weights], { group: c, kernel_shape: kernel, strides: stride, pads, output_padding: outputPadding }, x.shape)];
    },
  },
  pytorch: ([x], attrs) => `F.avg_pool2d(${x}, ${pyPair(attrs.k)}, stride=${pyPair(attrs.stride)}, padding=${pyPair(attrs.padding)})`,
});

const POOLS = { max_pool2d: maxPool2dOp, avg_pool2d: avgPool2dOp } as const;
