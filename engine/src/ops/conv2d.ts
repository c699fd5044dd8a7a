// The conv2d primitive (NCHW, square stride and padding): im2col per image, then one GEMM
// with the [out, in·kH·kW] weight; the backward pass reuses the GEMM with transposed operands
// (the kernels are in kernels/conv.ts).

import type { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import { convBiasGrad, convForward, convInputGrad, convWeightGrad, type ConvShape } from '../kernels/conv.js';
import { inferShape } from './shape-rule.js';
import { emptyFloat, requireFloat, resultDType } from './operand.js';

export interface Conv2dOptions {
  stride?: number;
  padding?: number;
}

export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  requireFloat('conv2d', x, weight, ...(bias ? [bias] : []));
  const stride = options.stride ?? 1;
  const padding = options.padding ?? 0;
  const shape = inferShape('conv2d', bias ? [x.shape, weight.shape, bias.shape] : [x.shape, weight.shape], { stride, padding });
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
