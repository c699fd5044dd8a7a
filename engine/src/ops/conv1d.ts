// The `Conv1d` layer and its op `conv1d` over `[N, C, L]`, with stride, padding, dilation and
// groups: a direct loop on the TS engine (sequence convolutions are small), ONNX's 1-D Conv
// forward, ConvTranspose for the input gradient and an unfold (a grouped one-hot Conv) and
// one batched MatMul for the weight gradient.

import type { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import type { LoweringContext, Val } from '../onnx/context.js';
import { Dim, formatShape, type Shape } from '../shape/dim.js';
import { elementCount, ruleError, windowSize, type RuleResult } from '../shape/rules.js';
import { bool, defineLayer, defineOpWith, size, type WeightSpec } from './def.js';
import { knownSize, uniformInit } from './initSpecs.js';
import { outputShape, sizeOf } from './shape-rule.js';
import { emptyFloat, requireFloat, resultDType } from './operand.js';

export interface Conv1dAttrs {
  stride: Dim;
  /** Zeros on each side, or `same`: the length kept at stride 1 (PyTorch's padding="same"). */
  padding: Dim | 'same';
  dilation: Dim;
  groups: Dim;
}

interface Geometry {
  batch: number;
  channels: number;
  length: number;
  outChannels: number;
  kernel: number;
  outLength: number;
  stride: number;
  padding: number;
  dilation: number;
  groups: number;
}

/** Calls `visit(xIndex, wIndex, yIndex)` for every product term of the convolution. */
function forEachTerm(geo: Geometry, visit: (xi: number, wi: number, yi: number) => void): void {
  const { batch, channels, length, outChannels, kernel, outLength, stride, padding, dilation, groups } = geo;
  const inPerGroup = channels / groups;
  const outPerGroup = outChannels / groups;
  for (let n = 0; n < batch; n++) {
    for (let o = 0; o < outChannels; o++) {
      const firstChannel = Math.floor(o / outPerGroup) * inPerGroup;
      for (let c = 0; c < inPerGroup; c++) {
        const xRow = (n * channels + firstChannel + c) * length;
        const wRow = (o * inPerGroup + c) * kernel;
        for (let j = 0; j < kernel; j++) {
          for (let t = 0; t < outLength; t++) {
            const i = t * stride + j * dilation - padding;
            if (i >= 0 && i < length) visit(xRow + i, wRow + j, (n * outChannels + o) * outLength + t);
          }
        }
      }
    }
  }
}

export function conv1d(x: Tensor, weight: Tensor, bias: Tensor | null, attrs: Conv1dAttrs): Tensor {
  requireFloat('conv1d', x, weight, ...(bias ? [bias] : []));
  const shape = outputShape(conv1dOp, bias ? [x.shape, weight.shape, bias.shape] : [x.shape, weight.shape], attrs);
  const geo: Geometry = {
    batch: x.shape[0], channels: x.shape[1], length: x.shape[2], outChannels: weight.shape[0], kernel: weight.shape[2], outLength: shape[2],
    stride: sizeOf(attrs.stride), padding: sizeOf(sidePadding(attrs.padding, Dim.of(weight.shape[2]), attrs.dilation)), dilation: sizeOf(attrs.dilation), groups: sizeOf(attrs.groups),
  };
  const out = emptyFloat(shape, resultDType(x, weight));
  const y = out.values;
  const xs = x.values;
  const ws = weight.values;
  if (bias) for (let k = 0; k < y.length; k++) y[k] = bias.values[Math.floor(k / geo.outLength) % geo.outChannels];
  forEachTerm(geo, (xi, wi, yi) => {
    y[yi] += xs[xi] * ws[wi];
  });
  return record('conv1d', out, bias ? [x, weight, bias] : [x, weight], (g) => {
    const up = g.values;
    const gradX = x.requiresGrad ? emptyFloat(x.shape, g.dtype) : null;
    const gradW = weight.requiresGrad ? emptyFloat(weight.shape, g.dtype) : null;
    const gradB = bias?.requiresGrad ? emptyFloat(bias.shape, g.dtype) : null;
    forEachTerm(geo, (xi, wi, yi) => {
      if (gradX) gradX.values[xi] += up[yi] * ws[wi];
      if (gradW) gradW.values[wi] += up[yi] * xs[xi];
    });
    if (gradB) for (let k = 0; k < up.length; k++) gradB.values[Math.floor(k / geo.outLength) % geo.outChannels] += up[k];
    return [gradX, gradW, gradB];
  });
}

/** The zeros on each side: `same` pads d·(k − 1) / 2 (the rule refuses an odd total). */
export function sidePadding(padding: Dim | 'same', kernel: Dim, dilation: Dim): Dim {
  return padding === 'same' ? dilation.mul(kernel.sub(1)).floorDiv(Dim.of(2)) : padding;
}

/** Why `padding = "same"` cannot be had (it keeps the size at stride 1 and pads evenly, so an odd window); null when it can or the padding is a number. */
export function samePaddingError(layer: string, padding: Dim | 'same', stride: Dim, kernel: Dim, dilation: Dim): RuleResult | null {
  if (padding !== 'same') return null;
  const total = dilation.mul(kernel.sub(1)).constant();
  if (!stride.equals(1)) return ruleError('NN2007', [layer, 'padding = "same"', 'used with stride 1', `stride ${stride}`]);
  if (total !== null && total % 2 !== 0) return ruleError('NN2007', [layer, 'padding = "same"', 'used with an odd window dilation·(k − 1) + 1 (it pads evenly)', `a window of ${total + 1}`]);
  return null;
}

/** A padding as PyTorch spells it: a number or `"same"`. */
export function pyPadding(padding: Dim | 'same' | number | string): string {
  return padding === 'same' ? '"same"' : String(padding);
}

// -- definitions ---------------------------------------------------------------------------

const conv1dRule = ([x, weight]: readonly Shape[], attrs: Conv1dAttrs): RuleResult => {
  const { stride, dilation, groups } = attrs;
  if (x.length !== 3) return ruleError('NN2108', ['Conv1d', 'a 3-D input [N, C, L]', { input: 0 }, formatShape(x)]);
  const [outChannels, inPerGroup, kernel] = weight;
  const reach = dilation.mul(kernel.sub(1)).add(1);
  const same = samePaddingError('Conv1d', attrs.padding, stride, kernel, dilation);
  if (same) return same;
  const padding = sidePadding(attrs.padding, kernel, dilation);
  const length = windowSize(x[2], reach, stride, padding);
  const out = [x[0], outChannels, length];
  const value = length.constant();
  if (value !== null && value < 1) return ruleError('NN2105', ['Conv1d', reach.toString(), x[2].add(padding.scale(2)).toString(), value], out);
  const g = groups.constant();
  const channels = x[1].constant();
  if (g !== null && channels !== null && channels % g !== 0) return ruleError('NN2007', ['Conv1d', 'groups', `a divisor of the ${channels} input channels`, g], out);
  if (!x[1].equals(inPerGroup.mul(groups))) return ruleError('NN2104', ['Conv1d', inPerGroup.mul(groups).toString(), { input: 0 }, formatShape(x), ''], out);
  return { shape: out };
};

/** conv1d's weight gradient: x unfolded into [N, C·k, Lout] columns, one MatMul per group with g. */
function onnxWeightGrad(ctx: LoweringContext, x: Val, w: Val, g: Val, geo: Omit<Geometry, 'batch' | 'length'>): Val {
  const { channels, outChannels, kernel, outLength, stride, padding, dilation, groups } = geo;
  const oneHot = new Array<number>(channels * kernel * kernel).fill(0);
  for (let row = 0; row < channels * kernel; row++) oneHot[row * kernel + (row % kernel)] = 1;
  const cols = ctx.b.op1('Conv', [x.name, ctx.b.constFloat(oneHot, [channels * kernel, 1, kernel])], {
    group: channels, kernel_shape: [kernel], strides: [stride], pads: [padding, padding], dilations: [dilation],
  });
  const inPerGroup = channels / groups;
  const outPerGroup = outChannels / groups;
  const grouped = ctx.b.op1('Reshape', [cols, ctx.b.constInt([0, groups, inPerGroup * kernel, outLength])]);
  const gT = ctx.b.op1('Transpose', [ctx.b.op1('Reshape', [g.name, ctx.b.constInt([0, groups, outPerGroup, outLength])])], { perm: [0, 1, 3, 2] });
  const summed = ctx.b.op1('ReduceSum', [ctx.b.op1('MatMul', [grouped, gT]), ctx.b.constInt([0])], { keepdims: 0 });
  const perOutput = ctx.b.op1('Transpose', [summed], { perm: [0, 2, 1] });
  return ctx.op('Reshape', [perOutput, ctx.b.constInt([outChannels, inPerGroup, kernel])], {}, w.shape);
}

export const conv1dOp = defineOpWith<Conv1dAttrs>()({
  name: 'conv1d',
  surface: 'layer',
  params: [],
  doc: {
    summary: '1-D cross-correlation over `[N, C, L]`, with stride, padding, dilation and groups.',
    gradient: 'dL/dx = the transposed convolution of g with W; dL/dW = the correlation of x with g (summed over the batch); dL/db = Σ g over N, L',
  },
  shape: conv1dRule,
  flops: (inputs, output) => elementCount(output).mul(elementCount(inputs[1].slice(1))).scale(2),
  linearity: 'linear-map',
  ts: ([x, weight, bias], attrs) => conv1d(x, weight, bias ?? null, attrs),
  onnx: {
    forward: (ctx, [x, w, bias], attrs) => {
      const [kernel] = ctx.constantDims([w.shape[2]], 'conv1d kernel');
      const padding = sizeOf(sidePadding(attrs.padding, Dim.of(kernel), attrs.dilation));
      return {
        outputs: [ctx.b.op1('Conv', bias ? [x.name, w.name, bias.name] : [x.name, w.name], {
          kernel_shape: [kernel], strides: [sizeOf(attrs.stride)], pads: [padding, padding], dilations: [sizeOf(attrs.dilation)], group: sizeOf(attrs.groups),
        })],
      };
    },
    backward: (ctx, { inputs: [x, w, bias], attrs }, g, needs) => {
      const [channels, length] = ctx.constantDims(x.shape.slice(1), 'conv1d');
      const [outChannels, , kernel] = ctx.constantDims(w.shape, 'conv1d weight');
      const [outLength] = ctx.constantDims([g.shape[2]], 'conv1d output');
      const stride = sizeOf(attrs.stride);
      const padding = sizeOf(sidePadding(attrs.padding, Dim.of(kernel), attrs.dilation));
      const dilation = sizeOf(attrs.dilation);
      const groups = sizeOf(attrs.groups);
      let dx: Val | null = null;
      if (needs[0]) {
        // output_padding restores the positions the forward stride skipped.
        const outputPadding = length - ((outLength - 1) * stride + dilation * (kernel - 1) + 1 - 2 * padding);
        dx = ctx.op('ConvTranspose', [g.name, w.name], {
          kernel_shape: [kernel], strides: [stride], pads: [padding, padding], dilations: [dilation], group: groups, output_padding: [outputPadding],
        }, x.shape);
      }
      const dw = needs[1] ? onnxWeightGrad(ctx, x, w, g, { channels, outChannels, kernel, outLength, stride, padding, dilation, groups }) : null;
      const db = bias && needs[2] ? ctx.sum(g, [0, 2], false) : null;
      return [dx, dw, db];
    },
  },
  pytorch: ([x, w, b], { stride, padding, dilation, groups }) =>
    `F.conv1d(${x}, ${w}, ${b ?? 'None'}, stride=${stride}, padding=${pyPadding(padding)}, dilation=${dilation}, groups=${groups})`,
});

export const Conv1dLayer = defineLayer({
  name: 'Conv1d',
  op: conv1dOp,
  params: [
    size('in', { aliases: ['in_channels'], min: 1, doc: 'input channels' }),
    size('out', { aliases: ['out_channels'], min: 1, doc: 'output channels' }),
    size('kernel', { aliases: ['kernel_size'], min: 1, doc: 'kernel size' }),
    size('stride', { default: 1, min: 1 }),
    size('padding', { default: 0, min: 0, choices: ['same'], doc: 'zeros added on each side, or "same": the length kept (stride 1, an odd window)' }),
    size('dilation', { default: 1, min: 1, doc: 'spacing between kernel taps' }),
    size('groups', { default: 1, min: 1, doc: 'channel groups (each output channel sees in / groups input channels); must divide in and out' }),
    bool('bias', { default: true, doc: 'learn an additive bias per output channel' }),
  ],
  doc: { summary: '1-D convolution over `[B, C, L]`; `weight: [out, in / groups, k]`, `bias: [out]`. Output length `(L + 2·padding − dilation·(k − 1) − 1) / stride + 1`.' },
  weights: (args) => {
    const perGroup = args.in.floorDiv(args.groups);
    const fanIn = knownSize(perGroup) * knownSize(args.kernel);
    const params: WeightSpec[] = [{ suffix: 'weight', shape: [args.out, perGroup, args.kernel], init: uniformInit('kaiming_uniform', fanIn) }];
    if (args.bias) params.push({ suffix: 'bias', shape: [args.out], init: uniformInit('bias_uniform', fanIn) });
    return { params, buffers: [] };
  },
  attrs: (args) => ({ stride: args.stride, padding: args.padding, dilation: args.dilation, groups: args.groups }),
  inputSize: { arg: 'in', pytorchName: 'in_channels', axis: 1 },
  pytorch: (args) => `nn.Conv1d(${args.in}, ${args.out}, ${args.kernel}, stride=${args.stride}, padding=${pyPadding(args.padding as Dim | 'same')}, dilation=${args.dilation}, groups=${args.groups}${args.bias ? '' : ', bias=False'})`,
});
