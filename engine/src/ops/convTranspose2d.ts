// The `ConvTranspose2d` layer and its op `conv_transpose2d` over `[N, C, H, W]` (square kernel,
// stride, padding, output padding and dilation; one group): the gradient of a convolution
// with respect to its input, used to upsample (decoders, GANs). A direct loop on the TS
// engine; ONNX's ConvTranspose forward, a Conv for the input gradient and an unfold of g (a
// grouped one-hot Conv) with one batched MatMul for the weight gradient.

import type { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import type { LoweringContext, Val } from '../onnx/context.js';
import { Dim, formatShape, type Shape } from '../shape/dim.js';
import { elementCount, ruleError, type RuleResult } from '../shape/rules.js';
import { bool, defineLayer, defineOpWith, size, type WeightSpec } from './def.js';
import { knownSize, uniformInit } from './initSpecs.js';
import { outputShape, sizeOf } from './shape-rule.js';
import { emptyFloat, requireFloat, resultDType } from './operand.js';

export interface ConvTranspose2dAttrs {
  stride: Dim;
  padding: Dim;
  outputPadding: Dim;
  dilation: Dim;
}

/** (H − 1)·stride − 2·padding + dilation·(k − 1) + output_padding + 1, PyTorch's output size. */
const transposedSize = (size: Dim, kernel: Dim, { stride, padding, outputPadding, dilation }: ConvTranspose2dAttrs): Dim =>
  size.sub(1).mul(stride).sub(padding.scale(2)).add(dilation.mul(kernel.sub(1))).add(outputPadding).add(1);

interface Geometry {
  batch: number;
  channels: number;
  height: number;
  width: number;
  outChannels: number;
  kernel: number;
  outH: number;
  outW: number;
  stride: number;
  padding: number;
  dilation: number;
}

/** Calls `visit(xIndex, wIndex, yIndex)` for every product term: x[n, c, i, j] · w[c, o, a, b] into y[n, o, i·s − p + a·d, j·s − p + b·d]. */
function forEachTerm(geo: Geometry, visit: (xi: number, wi: number, yi: number) => void): void {
  const { batch, channels, height, width, outChannels, kernel, outH, outW, stride, padding, dilation } = geo;
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      for (let o = 0; o < outChannels; o++) {
        const wBase = (c * outChannels + o) * kernel * kernel;
        const yBase = (n * outChannels + o) * outH * outW;
        const xBase = (n * channels + c) * height * width;
        for (let a = 0; a < kernel; a++) {
          for (let bIndex = 0; bIndex < kernel; bIndex++) {
            const wi = wBase + a * kernel + bIndex;
            for (let i = 0; i < height; i++) {
              const row = i * stride - padding + a * dilation;
              if (row < 0 || row >= outH) continue;
              for (let j = 0; j < width; j++) {
                const col = j * stride - padding + bIndex * dilation;
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
    batch: x.shape[0], channels: x.shape[1], height: x.shape[2], width: x.shape[3], outChannels: weight.shape[1], kernel: weight.shape[2], outH: shape[2], outW: shape[3],
    stride: sizeOf(attrs.stride), padding: sizeOf(attrs.padding), dilation: sizeOf(attrs.dilation),
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
  const [inChannels, outChannels, kernel] = weight;
  const out = [x[0], outChannels, transposedSize(x[2], kernel, attrs), transposedSize(x[3], kernel, attrs)];
  for (const d of [out[2], out[3]]) {
    const value = d.constant();
    if (value !== null && value < 1) return ruleError('NN2105', ['ConvTranspose2d', kernel.toString(), x[2].toString(), value], out);
  }
  if (!x[1].equals(inChannels)) return ruleError('NN2104', ['ConvTranspose2d', inChannels.toString(), { input: 0 }, formatShape(x), ''], out);
  return { shape: out };
};

/** dW[c, o, a, b] = Σ x[n, c, i, j] · g[n, o, i·s − p + a·d, j·s − p + b·d]: g unfolded into [N, O·k·k, H·W] columns, one MatMul with x. */
function onnxWeightGrad(ctx: LoweringContext, x: Val, w: Val, g: Val, geo: Omit<Geometry, 'batch' | 'outH' | 'outW'>): Val {
  const { channels, height, width, outChannels, kernel, stride, padding, dilation } = geo;
  const taps = kernel * kernel;
  const oneHot = new Array<number>(outChannels * taps * taps).fill(0);
  for (let row = 0; row < outChannels * taps; row++) oneHot[row * taps + (row % taps)] = 1;
  const cols = ctx.b.op1('Conv', [g.name, ctx.b.constFloat(oneHot, [outChannels * taps, 1, kernel, kernel])], {
    group: outChannels, kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [padding, padding, padding, padding], dilations: [dilation, dilation],
  });
  // The unfold may see one position more than x where output_padding added a row: keep H × W.
  const cropped = ctx.b.op1('Slice', [cols, ctx.b.constInt([0, 0]), ctx.b.constInt([height, width]), ctx.b.constInt([2, 3])]);
  const colsT = ctx.b.op1('Transpose', [ctx.b.op1('Reshape', [cropped, ctx.b.constInt([0, outChannels * taps, height * width])])], { perm: [0, 2, 1] });
  const perImage = ctx.b.op1('MatMul', [ctx.b.op1('Reshape', [x.name, ctx.b.constInt([0, channels, height * width])]), colsT]);
  const summed = ctx.b.op1('ReduceSum', [perImage, ctx.b.constInt([0])], { keepdims: 0 });
  return ctx.op('Reshape', [summed, ctx.b.constInt([channels, outChannels, kernel, kernel])], {}, w.shape);
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
      const [kernel] = ctx.constantDims([w.shape[2]], 'conv_transpose2d kernel');
      const stride = sizeOf(attrs.stride);
      const padding = sizeOf(attrs.padding);
      const extra = sizeOf(attrs.outputPadding);
      const dilation = sizeOf(attrs.dilation);
      return {
        outputs: [ctx.b.op1('ConvTranspose', bias ? [x.name, w.name, bias.name] : [x.name, w.name], {
          kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [padding, padding, padding, padding], output_padding: [extra, extra], dilations: [dilation, dilation],
        })],
      };
    },
    backward: (ctx, { inputs: [x, w, bias], attrs }, g, needs) => {
      const [channels, height, width] = ctx.constantDims(x.shape.slice(1), 'conv_transpose2d');
      const [, outChannels, kernel] = ctx.constantDims(w.shape, 'conv_transpose2d weight');
      const stride = sizeOf(attrs.stride);
      const padding = sizeOf(attrs.padding);
      const dilation = sizeOf(attrs.dilation);
      let dx: Val | null = null;
      if (needs[0]) {
        // The forward's adjoint is the plain convolution with the same weight ([C, O, k, k] read as [out, in]).
        const conv = ctx.b.op1('Conv', [g.name, w.name], {
          kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [padding, padding, padding, padding], dilations: [dilation, dilation],
        });
        dx = ctx.op('Slice', [conv, ctx.b.constInt([0, 0]), ctx.b.constInt([height, width]), ctx.b.constInt([2, 3])], {}, x.shape);
      }
      const dw = needs[1] ? onnxWeightGrad(ctx, x, w, g, { channels, height, width, outChannels, kernel, stride, padding, dilation }) : null;
      const db = bias && needs[2] ? ctx.sum(g, [0, 2, 3], false) : null;
      return [dx, dw, db];
    },
  },
  pytorch: ([x, w, b], { stride, padding, outputPadding, dilation }) =>
    `F.conv_transpose2d(${x}, ${w}, ${b ?? 'None'}, stride=${stride}, padding=${padding}, output_padding=${outputPadding}, dilation=${dilation})`,
});

export const ConvTranspose2dLayer = defineLayer({
  name: 'ConvTranspose2d',
  op: convTranspose2dOp,
  params: [
    size('in', { aliases: ['in_channels'], min: 1, doc: 'input channels' }),
    size('out', { aliases: ['out_channels'], min: 1, doc: 'output channels' }),
    size('kernel', { aliases: ['kernel_size'], min: 1, doc: 'square kernel size' }),
    size('stride', { default: 1, min: 1 }),
    size('padding', { default: 0, min: 0, doc: 'rows and columns removed from each side of the output' }),
    size('output_padding', { default: 0, min: 0, doc: 'rows and columns added on one side (below the stride)' }),
    size('dilation', { default: 1, min: 1, doc: 'spacing between kernel taps' }),
    bool('bias', { default: true, doc: 'learn an additive bias per output channel' }),
  ],
  doc: { summary: '2-D transposed convolution over `[B, C, H, W]` (torch.nn.ConvTranspose2d); `weight: [in, out, k, k]`, `bias: [out]`. Output size `(H − 1)·stride − 2·padding + dilation·(k − 1) + output_padding + 1`.' },
  weights: (args) => {
    // PyTorch's fan-in of a transposed convolution is weight.size(1) · k · k, the output channels'.
    const fanIn = knownSize(args.out) * knownSize(args.kernel) * knownSize(args.kernel);
    const params: WeightSpec[] = [{ suffix: 'weight', shape: [args.in, args.out, args.kernel, args.kernel], init: uniformInit('kaiming_uniform', fanIn) }];
    if (args.bias) params.push({ suffix: 'bias', shape: [args.out], init: uniformInit('bias_uniform', fanIn) });
    return { params, buffers: [] };
  },
  attrs: (args) => ({ stride: args.stride, padding: args.padding, outputPadding: args.output_padding, dilation: args.dilation }),
  inputSize: { arg: 'in', pytorchName: 'in_channels', axis: 1 },
  pytorch: (args) =>
    `nn.ConvTranspose2d(${args.in}, ${args.out}, ${args.kernel}, stride=${args.stride}, padding=${args.padding}, output_padding=${args.output_padding}, dilation=${args.dilation}${args.bias ? '' : ', bias=False'})`,
});
