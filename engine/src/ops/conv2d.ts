// The conv2d primitive (NCHW, square stride and padding): im2col per image, then one GEMM
// with the [out, in·kH·kW] weight; the backward pass reuses the GEMM with transposed operands.

import type { Tensor } from '../tensor/tensor.js';
import { allocateFloat } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import { gemm } from '../kernels/gemm.js';
import { col2im, im2col, type ConvGeometry } from '../kernels/im2col.js';
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
