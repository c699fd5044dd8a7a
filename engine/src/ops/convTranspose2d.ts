// The `ConvTranspose2d` layer and its op `conv_transpose2d` over `[N, C, H, W]` (kernel,
// stride, padding, output padding and dilation per axis; one group): the gradient of a convolution
// with respect to its input, used to upsample (decoders, GANs). A direct loop on the TS
// engine; ONNX's ConvTranspose forward, a Conv for the input gradient and an unfold of g (a
// grouped one-hot Conv) with one batched MatMul for the weight gradient.

import type { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import type { LoweringContext, Val } from '../onnx/context.js';
import { Dim, formatShape, type Shape } from '../shape/dim.js';
import { elementCount, ruleError, type RuleResult } from '../shape/rules.js';
import { bool, defineLayer, defineOpWith, pair, size, type Pair, type WeightSpec } from './def.js';
import { pairOf, pyPair } from './conv2d.js';
import { knownSize, uniformInit } from './initSpecs.js';
import { outputShape } from './shape-rule.js';
import { emptyFloat, requireFloat, resultDType } from './operand.js';

/** Each attribute per axis: (height, width). */
export interface ConvTranspose2dAttrs {
  stride: Pair;
  padding: Pair;
  outputPadding: Pair;
  dilation: Pair;
}

/** (H − 1)·stride − 2·padding + dilation·(k − 1) + output_padding + 1 along `axis` (0 height, 1 width), PyTorch's output size. */
const transposedSize = (size: Dim, kernel: Dim, { stride, padding, outputPadding, dilation }: ConvTranspose2dAttrs, axis: number): Dim =>
  size.sub(1).mul(stride[axis]).sub(padding[axis].scale(2)).add(dilation[axis].mul(kernel.sub(1))).add(outputPadding[axis]).add(1);

interface Geometry {
  batch: number;
  channels: number;
  height: number;
  width: number;
  outChannels: number;
  kernelH: number;
  kernelW: number;
  outH: number;
  outW: number;
  stride: readonly [number, number];
  padding: readonly [number, number];
  dilation: readonly [number, number];
}

/** Calls `visit(xIndex, wIndex, yIndex)` for every product term: x[n, c, i, j] · w[c, o, a, b] into y[n, o, i·s − p + a·d, j·s − p + b·d]. */
function forEachTerm(geo: Geometry, visit: (xi: number, wi: number, yi: number) => void): void {
  const { batch, channels, height, width, outChannels, kernelH, kernelW, outH, outW, stride, padding, dilation } = geo;
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      for (let o = 0; o < outChannels; o++) {
        const wBase = (c * outChannels + o) * kernelH * kernelW;
        const yBase = (n * outChannels + o) * outH * outW;
        const xBase = (n * channels + c) * height * width;
        for (let a = 0; a < kernelH; a++) {
          for (let bIndex = 0; bIndex < kernelW; bIndex++) {
            const wi = wBase + a * kernelW + bIndex;
            for (let i = 0; i < height; i++) {
              const row = i * stride[0] - padding[0] + a * dilation[0];
              if (row < 0 || row >= outH) continue;
              for (let j = 0; j < width; j++) {
                const col = j * stride[1] - padding[1] + bIndex * dilation[1];
                if (col >= 0 && col < outW) visit(xBase + i * width + j, wi, yBase + row * outW + col);
              }
            }
          }
        }
      }
    }
  }
}

export function convTranspose2d(x: Tensor, weight: Tensor, bias: Tensor | null, attrs: ConvTranspose2dAttrs): Tensor {
  requireFloat('conv_transpose2d', x, weight, ...(bias ? [bias] : []));
  const shape = outputShape(convTranspose2dOp, bias ? [x.shape, weight.shape, bias.shape] : [x.shape, weight.shape], attrs);
  const geo: Geometry = {
    batch: x.shape[0], channels: x.shape[1], height: x.shape[2], width: x.shape[3], outChannels: weight.shape[1], kernelH: weight.shape[2], kernelW: weight.shape[3],
    outH: shape[2], outW: shape[3], stride: pairOf(attrs.stride), padding: pairOf(attrs.padding), dilation: pairOf(attrs.dilation),
  };
  const out = emptyFloat(shape, resultDType(x, weight));
  const y = out.values;
  const plane = geo.outH * geo.outW;
  if (bias) for (let k = 0; k < y.length; k++) y[k] = bias.values[Math.floor(k / plane) % geo.outChannels];
  forEachTerm(geo, (xi, wi, yi) => {
    y[yi] += x.values[xi] * weight.values[wi];
  });
  return record('conv_transpose2d', out, bias ? [x, weight, bias] : [x, weight], (g) => {
    const up = g.values;
    const gradX = x.requiresGrad ? emptyFloat(x.shape, g.dtype) : null;
    const gradW = weight.requiresGrad ? emptyFloat(weight.shape, g.dtype) : null;
    const gradB = bias?.requiresGrad ? emptyFloat(bias.shape, g.dtype) : null;
    forEachTerm(geo, (xi, wi, yi) => {
      if (gradX) gradX.values[xi] += up[yi] * weight.values[wi];
      if (gradW) gradW.values[wi] += up[yi] * x.values[xi];
    });
    if (gradB) for (let k = 0; k < up.length; k++) gradB.values[Math.floor(k / plane) % geo.outChannels] += up[k];
    return [gradX, gradW, gradB];
  });
}

// -- definitions ---------------------------------------------------------------------------

const convTranspose2dRule = ([x, weight]: readonly Shape[], attrs: ConvTranspose2dAttrs): RuleResult => {
  if (x.length !== 4) return ruleError('NN2108', ['ConvTranspose2d', 'a 4-D input [N, C, H, W]', { input: 0 }, formatShape(x)]);
  const [inChannels, outChannels] = weight;
  const out = [x[0], outChannels, transposedSize(x[2], weight[2], attrs, 0), transposedSize(x[3], weight[3], attrs, 1)];
  for (const axis of [0, 1]) {
    const value = out[2 + axis].constant();
    if (value !== null && value < 1) return ruleError('NN2105', ['ConvTranspose2d', weight[2 + axis].toString(), x[2 + axis].toString(), value], out);
  }
  if (!x[1].equals(inChannels)) return ruleError('NN2104', ['ConvTranspose2d', inChannels.toString(), { input: 0 }, formatShape(x), ''], out);
  return { shape: out };
};

/** dW[c, o, a, b] = Σ x[n, c, i, j] · g[n, o, i·s − p + a·d, j·s − p + b·d]: g unfolded into [N, O·kh·kw, H·W] columns, one MatMul with x. */
function onnxWeightGrad(ctx: LoweringContext, x: Val, w: Val, g: Val, geo: Omit<Geometry, 'batch' | 'outH' | 'outW'>): Val {
  const { channels, height, width, outChannels, kernelH, kernelW, stride, padding, dilation } = geo;
  const taps = kernelH * kernelW;
  const oneHot = new Array<number>(outChannels * taps * taps).fill(0);
  for (let row = 0; row < outChannels * taps; row++) oneHot[row * taps + (row % taps)] = 1;
  const cols = ctx.b.op1('Conv', [g.name, ctx.b.constFloat(oneHot, [outChannels * taps, 1, kernelH, kernelW])], {
    group: outChannels, kernel_shape: [kernelH, kernelW], strides: [...stride], pads: [...padding, ...padding], dilations: [...dilation],
  });
  // The unfold may see one position more than x where output_padding added a row: keep H × W.
  const cropped = ctx.b.op1('Slice', [cols, ctx.b.constInt([0, 0]), ctx.b.constInt([height, width]), ctx.b.constInt([2, 3])]);
  const colsT = ctx.b.op1('Transpose', [ctx.b.op1('Reshape', [cropped, ctx.b.constInt([0, outChannels * taps, height * width])])], { perm: [0, 2, 1] });
  const perImage = ctx.b.op1('MatMul', [ctx.b.op1('Reshape', [x.name, ctx.b.constInt([0, channels, height * width])]), colsT]);
  const summed = ctx.b.op1('ReduceSum', [perImage, ctx.b.constInt([0])], { keepdims: 0 });
  return ctx.op('Reshape', [summed, ctx.b.constInt([channels, outChannels, kernelH, kernelW])], {}, w.shape);
}

export const convTranspose2dOp = defineOpWith<ConvTranspose2dAttrs>()({
  name: 'conv_transpose2d',
  surface: 'layer',
  params: [],
  doc: {
    summary: '2-D transposed convolution over `[N, C, H, W]`: each input pixel scatters `weight[c]` into a window of the output.',
    gradient: 'dL/dx = the convolution of g with W; dL/dW = the correlation of g with x (summed over the batch); dL/db = Σ g over N, H, W',
  },
  shape: convTranspose2dRule,
  flops: (inputs) => elementCount(inputs[0]).mul(elementCount(inputs[1].slice(1))).scale(2),
  linearity: 'linear-map',
  ts: ([x, weight, bias], attrs) => convTranspose2d(x, weight, bias ?? null, attrs),
  onnx: {
    forward: (ctx, [x, w, bias], attrs) => {
      const kernel = ctx.constantDims(w.shape.slice(2), 'conv_transpose2d kernel');
      const padding = pairOf(attrs.padding);
      return {
        outputs: [ctx.b.op1('ConvTranspose', bias ? [x.name, w.name, bias.name] : [x.name, w.name], {
          kernel_shape: kernel, strides: pairOf(attrs.stride), pads: [...padding, ...padding], output_padding: pairOf(attrs.outputPadding), dilations: pairOf(attrs.dilation),
        })],
      };
    },
    backward: (ctx, { inputs: [x, w, bias], attrs }, g, needs) => {
      const [channels, height, width] = ctx.constantDims(x.shape.slice(1), 'conv_transpose2d');
      const [, outChannels, kernelH, kernelW] = ctx.constantDims(w.shape, 'conv_transpose2d weight');
      const stride = pairOf(attrs.stride);
      const padding = pairOf(attrs.padding);
      const dilation = pairOf(attrs.dilation);
      let dx: Val | null = null;
      if (needs[0]) {
        // The forward's adjoint is the plain convolution with the same weight ([C, O, k, k] read as [out, in]).
        const conv = ctx.b.op1('Conv', [g.name, w.name], {
          kernel_shape: [kernelH, kernelW], strides: [...stride], pads: [...padding, ...padding], dilations: [...dilation],
        });
        dx = ctx.op('Slice', [conv, ctx.b.constInt([0, 0]), ctx.b.constInt([height, width]), ctx.b.constInt([2, 3])], {}, x.shape);
      }
      const dw = needs[1] ? onnxWeightGrad(ctx, x, w, g, { channels, height, width, outChannels, kernelH, kernelW, stride, padding, dilation }) : null;
      const db = bias && needs[2] ? ctx.sum(g, [0, 2, 3], false) : null;
      return [dx, dw, db];
    },
  },
  pytorch: ([x, w, b], { stride, padding, outputPadding, dilation }) =>
    `F.conv_transpose2d(${x}, ${w}, ${b ?? 'None'}, stride=${pyPair(stride)}, padding=${pyPair(padding)}, output_padding=${pyPair(outputPadding)}, dilation=${pyPair(dilation)})`,
});

export const ConvTranspose2dLayer = defineLayer({
  name: 'ConvTranspose2d',
  op: convTranspose2dOp,
  params: [
    size('in', { aliases: ['in_channels'], min: 1, doc: 'input channels' }),
    size('out', { aliases: ['out_channels'], min: 1, doc: 'output channels' }),
    pair('kernel', { aliases: ['kernel_size'], min: 1, doc: 'kernel size: k, or (kh, kw) per axis' }),
    pair('stride', { default: 1, min: 1, doc: 'step: s, or (sh, sw) per axis' }),
    pair('padding', { default: 0, min: 0, doc: 'rows and columns removed from each side of the output: p, or (ph, pw)' }),
    pair('output_padding', { default: 0, min: 0, doc: 'rows and columns added on one side (below the stride): p, or (ph, pw)' }),
    pair('dilation', { default: 1, min: 1, doc: 'spacing between kernel taps: d, or (dh, dw) per axis' }),
    bool('bias', { default: true, doc: 'learn an additive bias per output channel' }),
  ],
  doc: { summary: '2-D transposed convolution over `[B, C, H, W]` (torch.nn.ConvTranspose2d); `weight: [in, out, kh, kw]`, `bias: [out]`. Output height `(H − 1)·stride − 2·padding + dilation·(kh − 1) + output_padding + 1`, per axis (each of kernel, stride, padding, output_padding and dilation one number or a pair `(h, w)`).' },
  weights: (args) => {
    // PyTorch's fan-in of a transposed convolution is weight.size(1) · kh · kw, the output channels'.
    const [kh, kw] = args.kernel;
    const fanIn = knownSize(args.out) * knownSize(kh) * knownSize(kw);
    const params: WeightSpec[] = [{ suffix: 'weight', shape: [args.in, args.out, kh, kw], init: uniformInit('kaiming_uniform', fanIn) }];
    if (args.bias) params.push({ suffix: 'bias', shape: [args.out], init: uniformInit('bias_uniform', fanIn) });
    return { params, buffers: [] };
  },
  attrs: (args) => ({ stride: args.stride, padding: args.padding, outputPadding: args.output_padding, dilation: args.dilation }),
  inputSize: { arg: 'in', pytorchName: 'in_channels', axis: 1 },
  pytorch: (args) =>
    `nn.ConvTranspose2d(${args.in}, ${args.out}, ${pyPair(args.kernel)}, stride=${pyPair(args.stride)}, padding=${pyPair(args.padding)}, output_padding=${pyPair(args.output_padding)}, dilation=${pyPair(args.dilation)}${args.bias ? '' : ', bias=False'})`,
});
