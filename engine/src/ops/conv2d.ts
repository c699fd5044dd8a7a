// The `Conv2d` layer and its op `conv2d` (NCHW; kernel, stride, padding and dilation per
// axis): im2col per image, then one GEMM with the [out, in·kH·kW] weight; the backward pass
// reuses the GEMM with transposed operands (the kernels are in kernels/conv.ts). A dilated,
// grouped or unevenly strided or padded convolution runs a direct loop instead (rarer, and
// small in the models it appears in).

import type { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import { convBiasGrad, convForward, convInputGrad, convWeightGrad, type ConvShape } from '../kernels/conv.js';
import type { LoweringContext, Val } from '../onnx/context.js';
import { Dim, formatShape, type Shape } from '../shape/dim.js';
import { elementCount, ruleError, windowSize, type RuleResult } from '../shape/rules.js';
import { bool, defineLayer, defineOpWith, pair, size, type Pair } from './def.js';
import { knownSize, uniformInit } from './initSpecs.js';
import { outputShape, sizeOf } from './shape-rule.js';
import { pyPadding, samePaddingError, sidePadding } from './conv1d.js';
import { emptyFloat, requireFloat, resultDType } from './operand.js';

/** Per-axis numbers (height, width), or one for both. */
export type Axes = number | readonly [number, number];

export interface Conv2dOptions {
  stride?: Axes;
  padding?: Axes;
  dilation?: Axes;
  groups?: number;
}

export const both = (v: Axes): readonly [number, number] => (typeof v === 'number' ? [v, v] : v);

/** The geometry of a direct loop: per-axis stride, padding and dilation, and the groups. */
interface Direct {
  stride: readonly [number, number];
  padding: readonly [number, number];
  dilation: readonly [number, number];
  groups: number;
}

/** Calls `visit(xIndex, wIndex, yIndex)` for every product term of a dilated, grouped convolution. */
function forEachTerm(x: readonly number[], w: readonly number[], y: readonly number[], { stride, padding, dilation, groups }: Direct, visit: (xi: number, wi: number, yi: number) => void): void {
  const [batch, channels, height, width] = x;
  const [outChannels, inPerGroup, kernelH, kernelW] = w;
  const [, , outH, outW] = y;
  const outPerGroup = outChannels / groups;
  for (let n = 0; n < batch; n++) {
    for (let o = 0; o < outChannels; o++) {
      const firstChannel = Math.floor(o / outPerGroup) * inPerGroup;
      const yBase = (n * outChannels + o) * outH * outW;
      for (let c = 0; c < inPerGroup; c++) {
        const xBase = (n * channels + firstChannel + c) * height * width;
        for (let a = 0; a < kernelH; a++) {
          for (let b = 0; b < kernelW; b++) {
            const wi = ((o * inPerGroup + c) * kernelH + a) * kernelW + b;
            for (let i = 0; i < outH; i++) {
              const row = i * stride[0] - padding[0] + a * dilation[0];
              if (row < 0 || row >= height) continue;
              for (let j = 0; j < outW; j++) {
                const col = j * stride[1] - padding[1] + b * dilation[1];
                if (col >= 0 && col < width) visit(xBase + row * width + col, wi, yBase + i * outW + j);
              }
            }
          }
        }
      }
    }
  }
}

/** A dilated, grouped or uneven conv2d by direct loops, with its backward rule. */
function directConv2d(x: Tensor, weight: Tensor, bias: Tensor | null, shape: number[], geometry: Direct): Tensor {
  const out = emptyFloat(shape, resultDType(x, weight));
  const plane = shape[2] * shape[3];
  const outChannels = shape[1];
  if (bias) for (let k = 0; k < out.values.length; k++) out.values[k] = bias.values[Math.floor(k / plane) % outChannels];
  const terms = (visit: (xi: number, wi: number, yi: number) => void) => forEachTerm(x.shape, weight.shape, shape, geometry, visit);
  terms((xi, wi, yi) => {
    out.values[yi] += x.values[xi] * weight.values[wi];
  });
  return record('conv2d', out, bias ? [x, weight, bias] : [x, weight], (g) => {
    const up = g.values;
    const gradX = x.requiresGrad ? emptyFloat(x.shape, g.dtype) : null;
    const gradW = weight.requiresGrad ? emptyFloat(weight.shape, g.dtype) : null;
    const gradB = bias?.requiresGrad ? emptyFloat(bias.shape, g.dtype) : null;
    terms((xi, wi, yi) => {
      if (gradX) gradX.values[xi] += up[yi] * weight.values[wi];
      if (gradW) gradW.values[wi] += up[yi] * x.values[xi];
    });
    if (gradB) for (let k = 0; k < up.length; k++) gradB.values[Math.floor(k / plane) % outChannels] += up[k];
    return [gradX, gradW, gradB];
  });
}

export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  requireFloat('conv2d', x, weight, ...(bias ? [bias] : []));
  const [strideH, strideW] = both(options.stride ?? 1);
  const [padH, padW] = both(options.padding ?? 0);
  const dilation = both(options.dilation ?? 1);
  const groups = options.groups ?? 1;
  const dims = (v: readonly [number, number]): Pair => [Dim.of(v[0]), Dim.of(v[1])];
  const shape = outputShape(conv2dOp, bias ? [x.shape, weight.shape, bias.shape] : [x.shape, weight.shape], { stride: dims([strideH, strideW]), padding: dims([padH, padW]), dilation: dims(dilation), groups: Dim.of(groups) });
  if (dilation[0] !== 1 || dilation[1] !== 1 || groups !== 1 || strideH !== strideW || padH !== padW) {
    return directConv2d(x, weight, bias ?? null, shape, { stride: [strideH, strideW], padding: [padH, padW], dilation, groups });
  }
  const stride = strideH;
  const padding = padH;
  const [batch, channels, height, width] = x.shape;
  const [outChannels, , kernelH, kernelW] = weight.shape;
  const [, , outH, outW] = shape;
  const conv: ConvShape = { channels, height, width, kernelH, kernelW, stride, padding, outH, outW, batch, outChannels };
  const out = emptyFloat(shape, resultDType(x, weight));
  convForward(x.values, weight.values, bias ? bias.values : null, out.values, conv);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record('conv2d', out, inputs, (g) => {
    const gradX = x.requiresGrad ? emptyFloat(x.shape, g.dtype) : null;
    const gradW = weight.requiresGrad ? emptyFloat(weight.shape, g.dtype) : null;
    const gradB = bias?.requiresGrad ? emptyFloat(bias.shape, g.dtype) : null;
    if (gradW) convWeightGrad(x.values, g.values, gradW.values, conv);
    if (gradX) convInputGrad(g.values, weight.values, gradX.values, conv);
    if (gradB) convBiasGrad(g.values, gradB.values, conv);
    return [gradX, gradW, gradB];
  });
}

// -- definitions ---------------------------------------------------------------------------

export interface Conv2dAttrs {
  stride: Pair;
  /** Zeros on each side of each axis, or `same`: the size kept at stride 1 (PyTorch's padding="same"). */
  padding: Pair | 'same';
  /** Spacing between kernel taps per axis (1 when absent). */
  dilation?: Pair;
  /** Channel groups (1 when absent): each output channel sees in / groups input channels. */
  groups?: Dim;
}

const ONE = Dim.of(1);
const ONES: Pair = [ONE, ONE];

/** The zeros on each side of each axis: the given pair, or what `same` pads for a kernel of [kh, kw]. */
export function sidePadding2d(padding: Pair | 'same', kernel: readonly Dim[], dilation: Pair): Pair {
  return padding === 'same' ? [sidePadding('same', kernel[0], dilation[0]), sidePadding('same', kernel[1], dilation[1])] : padding;
}

/** Per-axis numbers as ONNX attributes take them, from a pair of constant dims. */
export const pairOf = (pair: Pair): [number, number] => [sizeOf(pair[0]), sizeOf(pair[1])];

/** A pair as PyTorch spells it: one number when both axes agree, else a tuple; `"same"` quoted. */
export function pyPair(value: Pair | 'same'): string {
  if (value === 'same') return pyPadding(value);
  return value[0].equals(value[1]) ? String(value[0]) : `(${value[0]}, ${value[1]})`;
}

const conv2dRule = ([x, weight]: readonly Shape[], { stride, padding: given, dilation = ONES, groups = ONE }: Conv2dAttrs): RuleResult => {
  const [outChannels, inPerGroup, kernelH, kernelW] = weight;
  if (x.length !== 4) return ruleError('NN2108', ['Conv2d', 'a 4-D input [N, C, H, W]', { input: 0 }, formatShape(x)]);
  for (const axis of [0, 1]) {
    const same = samePaddingError('Conv2d', given === 'same' ? given : given[axis], stride[axis], weight[2 + axis], dilation[axis]);
    if (same) return same;
  }
  const padding = sidePadding2d(given, [kernelH, kernelW], dilation);
  const reachH = dilation[0].mul(kernelH.sub(1)).add(1);
  const reachW = dilation[1].mul(kernelW.sub(1)).add(1);
  const height = windowSize(x[2], reachH, stride[0], padding[0]);
  const width = windowSize(x[3], reachW, stride[1], padding[1]);
  const out = [x[0], outChannels, height, width];
  for (const [outSize, input, reach, pad] of [[height, x[2], reachH, padding[0]], [width, x[3], reachW, padding[1]]] as const) {
    const value = outSize.constant();
    if (value !== null && value < 1) return ruleError('NN2105', ['Conv2d', reach.toString(), input.add(pad.scale(2)).toString(), value], out);
  }
  const g = groups.constant();
  const channels = x[1].constant();
  if (g !== null && channels !== null && channels % g !== 0) return ruleError('NN2007', ['Conv2d', 'groups', `a divisor of the ${channels} input channels`, g], out);
  const inChannels = inPerGroup.mul(groups);
  if (!x[1].equals(inChannels)) return ruleError('NN2104', ['Conv2d', inChannels.toString(), { input: 0 }, formatShape(x), { origin: 0 }], out);
  return { shape: out };
};

/**
 * The weight gradient of a dilated or grouped conv2d: x unfolded into [N, C·k·k, oh·ow]
 * columns (a grouped one-hot Conv), one batched MatMul per group with g.
 */
function onnxGroupedWeightGrad(ctx: LoweringContext, x: Val, w: Val, g: Val, { stride, padding, dilation, groups }: Direct): Val {
  const [outChannels, inPerGroup, kh, kw] = ctx.constantDims(w.shape, 'conv2d weight');
  const [oh, ow] = ctx.constantDims(g.shape.slice(2), 'conv2d');
  const channels = inPerGroup * groups;
  const taps = kh * kw;
  const oneHot = new Array<number>(channels * taps * taps).fill(0);
  for (let row = 0; row < channels * taps; row++) oneHot[row * taps + (row % taps)] = 1;
  const cols = ctx.b.op1('Conv', [x.name, ctx.b.constFloat(oneHot, [channels * taps, 1, kh, kw])], {
    group: channels, kernel_shape: [kh, kw], strides: [...stride], pads: [...padding, ...padding], dilations: [...dilation],
  });
  const outPerGroup = outChannels / groups;
  const grouped = ctx.b.op1('Reshape', [cols, ctx.b.constInt([0, groups, inPerGroup * taps, oh * ow])]);
  const gT = ctx.b.op1('Transpose', [ctx.b.op1('Reshape', [g.name, ctx.b.constInt([0, groups, outPerGroup, oh * ow])])], { perm: [0, 1, 3, 2] });
  const summed = ctx.b.op1('ReduceSum', [ctx.b.op1('MatMul', [grouped, gT]), ctx.b.constInt([0])], { keepdims: 0 });
  return ctx.op('Reshape', [ctx.b.op1('Transpose', [summed], { perm: [0, 2, 1] }), ctx.b.constInt([outChannels, inPerGroup, kh, kw])], {}, w.shape);
}

/**
 * conv2d's weight gradient, dWᵀ = sum over images of cols_n · g_nᵀ: the receptive fields of
 * x unfolded (im2col) by a grouped convolution with one-hot kernels, one batched MatMul
 * against g transposed (the smaller operand), a sum over the batch and a transpose of the
 * small result. 1.7× faster on the Net conv2 shapes (26 vs 45 ms on one thread) than a
 * convolution of x with g as its kernel (batch as channels), whose 3×3 output makes the
 * GEMM nine columns wide.
 */
function onnxConvWeightGrad(ctx: LoweringContext, x: Val, w: Val, g: Val, stride: number, padding: number): Val {
  const [outChannels, channels, kh, kw] = ctx.constantDims(w.shape, 'conv2d weight');
  const [oh, ow] = ctx.constantDims(g.shape.slice(2), 'conv2d');
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

/** The constant per-axis geometry of a checked conv2d node with weight shape `weight`. */
function directOf(attrs: Conv2dAttrs, weight: Shape): Direct {
  const dilation = attrs.dilation ?? ONES;
  return { stride: pairOf(attrs.stride), padding: pairOf(sidePadding2d(attrs.padding, weight.slice(2), dilation)), dilation: pairOf(dilation), groups: sizeOf(attrs.groups ?? ONE) };
}

/** conv2d with the op's attributes (a checked node's, or a Conv2d layer's `attrs`). */
export function conv2dOf(x: Tensor, weight: Tensor, bias: Tensor | null, attrs: Conv2dAttrs): Tensor {
  return conv2d(x, weight, bias, directOf(attrs, weight.shape.map((k) => Dim.of(k))));
}

export const conv2dOp = defineOpWith<Conv2dAttrs>()({
  name: 'conv2d',
  surface: 'layer',
  params: [],
  doc: {
    summary: '2-D cross-correlation over `[N, C, H, W]`.',
    gradient: 'dL/dx = the transposed convolution of g with W; dL/dW = the correlation of x with g (summed over the batch); dL/db = Σ g over N, H, W',
  },
  shape: conv2dRule,
  flops: (inputs, output) => elementCount(output).mul(elementCount(inputs[1].slice(1))).scale(2),
  linearity: 'linear-map',
  ts: ([x, weight, bias], attrs) => conv2dOf(x, weight, bias ?? null, attrs),
  onnx: {
    forward: (ctx, [x, w, bias], attrs) => {
      const geometry = directOf(attrs, w.shape);
      const kernel = ctx.constantDims(w.shape.slice(2), 'conv2d kernel');
      const inputs = bias ? [x.name, w.name, bias.name] : [x.name, w.name];
      const { stride, padding, dilation, groups } = geometry;
      const extra: Record<string, number | number[]> = dilation[0] !== 1 || dilation[1] !== 1 || groups !== 1 ? { dilations: [...dilation], group: groups } : {};
      return { outputs: [ctx.b.op1('Conv', inputs, { kernel_shape: kernel, strides: [...stride], pads: [...padding, ...padding], ...extra })] };
    },
    backward: (ctx, { inputs: [x, w, bias], attrs }, g, needs) => {
      const geometry = directOf(attrs, w.shape);
      const { stride, padding, dilation, groups } = geometry;
      if (dilation[0] !== 1 || dilation[1] !== 1 || groups !== 1 || stride[0] !== stride[1] || padding[0] !== padding[1]) {
        const [h, wd] = ctx.constantDims(x.shape.slice(2), 'conv2d');
        const [, , kh, kw] = ctx.constantDims(w.shape, 'conv2d weight');
        const [oh, ow] = ctx.constantDims(g.shape.slice(2), 'conv2d output');
        const reach = (k: number, axis: number) => dilation[axis] * (k - 1) + 1;
        const dx = needs[0]
          ? ctx.op('ConvTranspose', [g.name, w.name], {
            kernel_shape: [kh, kw], strides: [...stride], pads: [...padding, ...padding], dilations: [...dilation], group: groups,
            output_padding: [h - ((oh - 1) * stride[0] + reach(kh, 0) - 2 * padding[0]), wd - ((ow - 1) * stride[1] + reach(kw, 1) - 2 * padding[1])],
          }, x.shape)
          : null;
        const dw = needs[1] ? onnxGroupedWeightGrad(ctx, x, w, g, geometry) : null;
        return [dx, dw, bias && needs[2] ? ctx.sum(g, [0, 2, 3], false) : null];
      }
      const [s] = stride;
      const [p] = padding;
      const [h, wd] = ctx.constantDims(x.shape.slice(2), 'conv2d');
      const [, , kh, kw] = ctx.constantDims(w.shape, 'conv2d weight');
      const [oh, ow] = ctx.constantDims(g.shape.slice(2), 'conv2d output');
      let dx: Val | null = null;
      if (needs[0]) {
        // Input gradient: the transposed convolution; output_padding restores rows that the
        // forward stride skipped.
        const outputPadding = [h - ((oh - 1) * s + kh - 2 * p), wd - ((ow - 1) * s + kw - 2 * p)];
        dx = ctx.op('ConvTranspose', [g.name, w.name], {
          kernel_shape: [kh, kw], strides: [s, s], pads: [p, p, p, p], output_padding: outputPadding,
        }, x.shape);
      }
      const dw = needs[1] ? onnxConvWeightGrad(ctx, x, w, g, s, p) : null;
      const db = bias && needs[2] ? ctx.sum(g, [0, 2, 3], false) : null;
      return [dx, dw, db];
    },
  },
  pytorch: ([x, w, b], { stride, padding, dilation = ONES, groups = ONE }) => `F.conv2d(${x}, ${w}, ${b ?? 'None'}, stride=${pyPair(stride)}, padding=${pyPair(padding)}, dilation=${pyPair(dilation)}, groups=${groups})`,
});

export const Conv2dLayer = defineLayer({
  name: 'Conv2d',
  op: conv2dOp,
  params: [
    size('in', { aliases: ['in_channels'], min: 1, doc: 'input channels' }),
    size('out', { aliases: ['out_channels'], min: 1, doc: 'output channels' }),
    pair('kernel', { aliases: ['kernel_size'], min: 1, doc: 'kernel size: k, or (kh, kw) per axis' }),
    pair('stride', { default: 1, min: 1, doc: 'step: s, or (sh, sw) per axis' }),
    pair('padding', { default: 0, min: 0, choices: ['same'], doc: 'zeros added on each side (p, or (ph, pw) per axis), or "same": the size kept (stride 1, an odd window)' }),
    pair('dilation', { default: 1, min: 1, doc: 'spacing between kernel taps: d, or (dh, dw) per axis' }),
    size('groups', { default: 1, min: 1, doc: 'channel groups (each output channel sees in / groups input channels); must divide in and out' }),
    bool('bias', { default: true, doc: 'learn an additive bias per output channel' }),
  ],
  doc: { summary: '2-D convolution over `[B, C, H, W]`; `weight: [out, in / groups, kh, kw]`, `bias: [out]`. Output height `(H + 2·padding − dilation·(kh − 1) − 1) / stride + 1`, per axis (kernel, stride, padding and dilation each one number or a pair `(h, w)`).' },
  weights: (args) => {
    const perGroup = args.in.floorDiv(args.groups);
    const [kh, kw] = args.kernel;
    const fanIn = knownSize(perGroup) * knownSize(kh) * knownSize(kw);
    const params = [{ suffix: 'weight', shape: [args.out, perGroup, kh, kw], init: uniformInit('kaiming_uniform', fanIn) }];
    if (args.bias) params.push({ suffix: 'bias', shape: [args.out], init: uniformInit('bias_uniform', fanIn) });
    return { params, buffers: [] };
  },
  attrs: (args) => ({ stride: args.stride, padding: args.padding, dilation: args.dilation, groups: args.groups }),
  inputSize: { arg: 'in', pytorchName: 'in_channels', axis: 1 },
  pytorch: (args) => `nn.Conv2d(${args.in}, ${args.out}, ${pyPair(args.kernel)}, stride=${pyPair(args.stride)}, padding=${pyPair(args.padding)}, dilation=${pyPair(args.dilation)}, groups=${args.groups}${args.bias ? '' : ', bias=False'})`,
});
