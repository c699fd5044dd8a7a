// The `Conv2d` layer and its op `conv2d` (NCHW, square stride and padding): im2col per
// image, then one GEMM with the [out, in·kH·kW] weight; the backward pass reuses the GEMM
// with transposed operands.

import type { Tensor } from '../tensor/tensor.js';
import type { Val } from '../onnx/context.js';
import { allocateFloat } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import { gemm } from '../kernels/gemm.js';
import { col2im, im2col, type ConvGeometry } from '../kernels/im2col.js';
import { Dim, formatShape, type Shape } from '../shape/dim.js';
import { elementCount, ruleError, windowSize, type RuleResult } from '../shape/rules.js';
import { bool, defineLayer, defineOpWith, size } from './def.js';
import { knownSize, uniformInit } from './initSpecs.js';
import { outputShape, sizeOf } from './shape-rule.js';
import { emptyFloat, requireFloat, resultDType } from './operand.js';

export interface Conv2dOptions {
  stride?: number;
  padding?: number;
}

export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  requireFloat('conv2d', x, weight, ...(bias ? [bias] : []));
  const stride = options.stride ?? 1;
  const padding = options.padding ?? 0;
  const shape = outputShape(conv2dOp, bias ? [x.shape, weight.shape, bias.shape] : [x.shape, weight.shape], { stride: Dim.of(stride), padding: Dim.of(padding) });
  const [batch, channels, height, width] = x.shape;
  const [outChannels, , kernelH, kernelW] = weight.shape;
  const [, , outH, outW] = shape;
  const geometry: ConvGeometry = { channels, height, width, kernelH, kernelW, stride, padding, outH, outW };
  const patch = channels * kernelH * kernelW;
  const spatial = outH * outW;
  const imageSize = channels * height * width;
  const dtype = resultDType(x, weight);
  const cols = allocateFloat(dtype, patch * spatial);
  const out = emptyFloat(shape, dtype);
  const y = out.values;
  const weightOperand = { data: weight.values, offset: 0, transposed: false };
  for (let n = 0; n < batch; n++) {
    im2col(x.values, n * imageSize, geometry, cols);
    gemm(outChannels, spatial, patch, weightOperand, { data: cols, offset: 0, transposed: false }, y, n * outChannels * spatial, false);
    if (bias) {
      const bv = bias.values;
      for (let o = 0; o < outChannels; o++) {
        const start = (n * outChannels + o) * spatial;
        for (let s = 0; s < spatial; s++) y[start + s] += bv[o];
      }
    }
  }
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record('conv2d', out, inputs, (g) => {
    const gv = g.values;
    const gradX = x.requiresGrad ? emptyFloat(x.shape, g.dtype) : null;
    const gradW = weight.requiresGrad ? emptyFloat(weight.shape, g.dtype) : null;
    const gradB = bias?.requiresGrad ? emptyFloat(bias.shape, g.dtype) : null;
    const colGrad = gradX ? allocateFloat(dtype, patch * spatial) : null;
    for (let n = 0; n < batch; n++) {
      const upstream = { data: gv, offset: n * outChannels * spatial, transposed: false };
      if (gradW) {
        // The columns are recomputed rather than kept from the forward pass, to save memory.
        im2col(x.values, n * imageSize, geometry, cols);
        gemm(outChannels, patch, spatial, upstream, { data: cols, offset: 0, transposed: true }, gradW.values, 0, n > 0);
      }
      if (gradX && colGrad) {
        gemm(patch, spatial, outChannels, { data: weight.values, offset: 0, transposed: true }, upstream, colGrad, 0, false);
        col2im(colGrad, geometry, gradX.values, n * imageSize);
      }
      if (gradB) {
        const gb = gradB.values;
        for (let o = 0; o < outChannels; o++) {
          const start = (n * outChannels + o) * spatial;
          let total = 0;
          for (let s = 0; s < spatial; s++) total += gv[start + s];
          gb[o] += total;
        }
      }
    }
    return [gradX, gradW, gradB];
  });
}

// -- definitions ---------------------------------------------------------------------------

export interface Conv2dAttrs {
  stride: Dim;
  padding: Dim;
}

const conv2dRule = ([x, weight]: readonly Shape[], { stride, padding }: Conv2dAttrs): RuleResult => {
  const [outChannels, inChannels, kernelH, kernelW] = weight;
  if (x.length !== 4) return ruleError('NN2108', ['Conv2d', 'a 4-D input [N, C, H, W]', { input: 0 }, formatShape(x)]);
  const height = windowSize(x[2], kernelH, stride, padding);
  const width = windowSize(x[3], kernelW, stride, padding);
  const out = [x[0], outChannels, height, width];
  for (const [outSize, input, kernel] of [[height, x[2], kernelH], [width, x[3], kernelW]] as const) {
    const value = outSize.constant();
    if (value !== null && value < 1) return ruleError('NN2105', ['Conv2d', kernel.toString(), input.add(padding.scale(2)).toString(), value], out);
  }
  if (!x[1].equals(inChannels)) return ruleError('NN2104', ['Conv2d', inChannels.toString(), { input: 0 }, formatShape(x), { origin: 0 }], out);
  return { shape: out };
};

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
  ts: ([x, weight, bias], { stride, padding }) => conv2d(x, weight, bias ?? null, { stride: sizeOf(stride), padding: sizeOf(padding) }),
  onnx: {
    forward: (ctx, [x, w, bias], attrs) => {
      const stride = sizeOf(attrs.stride);
      const padding = sizeOf(attrs.padding);
      const kernel = ctx.constantDims(w.shape.slice(2), 'conv2d kernel');
      const inputs = bias ? [x.name, w.name, bias.name] : [x.name, w.name];
      return { outputs: [ctx.b.op1('Conv', inputs, { kernel_shape: kernel, strides: [stride, stride], pads: [padding, padding, padding, padding] })] };
    },
    backward: (ctx, { inputs: [x, w, bias], attrs }, g, needs) => {
      const stride = sizeOf(attrs.stride);
      const padding = sizeOf(attrs.padding);
      const [h, wd] = ctx.constantDims(x.shape.slice(2), 'conv2d');
      const [, , kh, kw] = ctx.constantDims(w.shape, 'conv2d weight');
      const [oh, ow] = ctx.constantDims(g.shape.slice(2), 'conv2d output');
      let dx: Val | null = null;
      if (needs[0]) {
        // Input gradient: the transposed convolution; output_padding restores rows that the
        // forward stride skipped.
        const outputPadding = [h - ((oh - 1) * stride + kh - 2 * padding), wd - ((ow - 1) * stride + kw - 2 * padding)];
        dx = ctx.op('ConvTranspose', [g.name, w.name], {
          kernel_shape: [kh, kw], strides: [stride, stride], pads: [padding, padding, padding, padding], output_padding: outputPadding,
        }, x.shape);
      }
      let dw: Val | null = null;
      if (needs[1]) {
        // Weight gradient: a convolution of x (batch as channels) with g as the kernel,
        // dilated by the stride; both transposed so the batch is the reduced axis.
        const xt = ctx.op('Transpose', [x.name], { perm: [1, 0, 2, 3] }, [x.shape[1], x.shape[0], x.shape[2], x.shape[3]]);
        const gt = ctx.op('Transpose', [g.name], { perm: [1, 0, 2, 3] }, [g.shape[1], g.shape[0], g.shape[2], g.shape[3]]);
        const fullH = h + 2 * padding - (oh - 1) * stride;
        const fullW = wd + 2 * padding - (ow - 1) * stride;
        let corr = ctx.op('Conv', [xt.name, gt.name], {
          kernel_shape: [oh, ow], pads: [padding, padding, padding, padding], dilations: [stride, stride],
        }, [w.shape[1], w.shape[0], Dim.of(fullH), Dim.of(fullW)]);
        if (fullH !== kh || fullW !== kw) {
          corr = ctx.op('Slice', [corr.name, ctx.b.constInt([0, 0]), ctx.b.constInt([kh, kw]), ctx.b.constInt([2, 3])], {}, [w.shape[1], w.shape[0], Dim.of(kh), Dim.of(kw)]);
        }
        dw = ctx.op('Transpose', [corr.name], { perm: [1, 0, 2, 3] }, w.shape);
      }
      const db = bias && needs[2] ? ctx.sum(g, [0, 2, 3], false) : null;
      return [dx, dw, db];
    },
  },
  pytorch: ([x, w, b], { stride, padding }) => `F.conv2d(${x}, ${w}, ${b ?? 'None'}, stride=${stride}, padding=${padding})`,
});

export const Conv2dLayer = defineLayer({
  name: 'Conv2d',
  op: conv2dOp,
  params: [
    size('in', { aliases: ['in_channels'], min: 1, doc: 'input channels' }),
    size('out', { aliases: ['out_channels'], min: 1, doc: 'output channels' }),
    size('kernel', { aliases: ['kernel_size'], min: 1, doc: 'square kernel size' }),
    size('stride', { default: 1, min: 1 }),
    size('padding', { default: 0, min: 0, doc: 'zeros added on each side' }),
    bool('bias', { default: true, doc: 'learn an additive bias per output channel' }),
  ],
  doc: { summary: '2-D convolution over `[B, C, H, W]`; `weight: [out, in, k, k]`, `bias: [out]`. Output size `(H + 2·padding − k) / stride + 1`.' },
  weights: (args) => {
    const fanIn = knownSize(args.in) * knownSize(args.kernel) * knownSize(args.kernel);
    const params = [{ suffix: 'weight', shape: [args.out, args.in, args.kernel, args.kernel], init: uniformInit('kaiming_uniform', fanIn) }];
    if (args.bias) params.push({ suffix: 'bias', shape: [args.out], init: uniformInit('bias_uniform', fanIn) });
    return { params, buffers: [] };
  },
  attrs: (args) => ({ stride: args.stride, padding: args.padding }),
  inputSize: { arg: 'in', pytorchName: 'in_channels', axis: 1 },
  pytorch: (args) => `nn.Conv2d(${args.in}, ${args.out}, ${args.kernel}, stride=${args.stride}, padding=${args.padding}${args.bias ? '' : ', bias=False'})`,
});
