// Normalization primitives: batch norm (1-D and 2-D, train and eval modes, PyTorch's
// running-statistics update) and layer norm over the last dim. NOTE: both are fused
// primitives, not compositions, for speed and for the compact backward formulas.

import type { Tensor } from '../tensor/tensor.js';
import { shapeSize } from '../tensor/shape.js';
import { record } from '../autograd/tape.js';
import { inferShape } from './shape-rule.js';
import { emptyFloat, requireFloat, resultDType } from './operand.js';

export interface BatchNormOptions {
  /** Train mode normalizes with batch statistics and updates the running ones. */
  training: boolean;
  momentum?: number;
  eps?: number;
}

/**
 * Batch norm over x [N, C] or [N, C, L] (batch_norm1d) or [N, C, H, W] (batch_norm2d),
 * per channel C. In train mode `runningMean` and `runningVar` are updated in place with
 * momentum (running = (1 − m)·running + m·batch), the variance unbiased, as in PyTorch.
 */
export function batchNorm(
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  runningMean: Tensor,
  runningVar: Tensor,
  options: BatchNormOptions,
): Tensor {
  const op = x.rank === 4 ? 'batch_norm2d' : 'batch_norm1d';
  requireFloat(op, x, runningMean, runningVar, ...(weight ? [weight] : []), ...(bias ? [bias] : []));
  const shape = inferShape(op, [x.shape, (weight ?? runningMean).shape], {});
  const momentum = options.momentum ?? 0.1;
  const eps = options.eps ?? 1e-5;
  const [batch, channels] = x.shape;
  const inner = shapeSize(x.shape.slice(2));
  const count = batch * inner;
  const src = x.values;
  const mean = new Float64Array(channels);
  const invStd = new Float64Array(channels);
  if (options.training) {
    if (count < 2) throw new RangeError(`${op}: train mode needs more than one value per channel, got input ${JSON.stringify(x.shape)}`);
    const rm = runningMean.values;
    const rv = runningVar.values;
    for (let c = 0; c < channels; c++) {
      let total = 0;
      for (let n = 0; n < batch; n++) {
        const start = (n * channels + c) * inner;
        for (let i = 0; i < inner; i++) total += src[start + i];
      }
      const mu = total / count;
      let squares = 0;
      for (let n = 0; n < batch; n++) {
        const start = (n * channels + c) * inner;
        for (let i = 0; i < inner; i++) squares += (src[start + i] - mu) ** 2;
      }
      const variance = squares / count;
      mean[c] = mu;
      invStd[c] = 1 / Math.sqrt(variance + eps);
      rm[c] = (1 - momentum) * rm[c] + momentum * mu;
      rv[c] = (1 - momentum) * rv[c] + momentum * (squares / (count - 1));
    }
  } else {
    for (let c = 0; c < channels; c++) {
      mean[c] = runningMean.values[c];
      invStd[c] = 1 / Math.sqrt(runningVar.values[c] + eps);
    }
  }
  const out = emptyFloat(shape, resultDType(x, ...(weight ? [weight] : [])));
  const y = out.values;
  const w = weight?.values;
  const b = bias?.values;
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      const start = (n * channels + c) * inner;
      const scale = invStd[c] * (w ? w[c] : 1);
      const shift = (b ? b[c] : 0) - mean[c] * scale;
      for (let i = 0; i < inner; i++) y[start + i] = src[start + i] * scale + shift;
    }
  }
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record(op, out, inputs, (g) => {
    const up = g.values;
    const gradX = x.requiresGrad ? emptyFloat(x.shape, g.dtype) : null;
    const gradW = weight?.requiresGrad ? emptyFloat(weight.shape, g.dtype) : null;
    const gradB = bias?.requiresGrad ? emptyFloat(bias.shape, g.dtype) : null;
    for (let c = 0; c < channels; c++) {
      // Σg and Σg·x̂ over the channel's values.
      let sumG = 0;
      let sumGXhat = 0;
      for (let n = 0; n < batch; n++) {
        const start = (n * channels + c) * inner;
        for (let i = 0; i < inner; i++) {
          sumG += up[start + i];
          sumGXhat += up[start + i] * (src[start + i] - mean[c]) * invStd[c];
        }
      }
      if (gradW) gradW.values[c] = sumGXhat;
      if (gradB) gradB.values[c] = sumG;
      if (!gradX) continue;
      const scale = invStd[c] * (w ? w[c] : 1);
      const gx = gradX.values;
      for (let n = 0; n < batch; n++) {
        const start = (n * channels + c) * inner;
        for (let i = 0; i < inner; i++) {
          if (options.training) {
            const xhat = (src[start + i] - mean[c]) * invStd[c];
            gx[start + i] = scale * (up[start + i] - sumG / count - xhat * sumGXhat / count);
          } else {
            gx[start + i] = scale * up[start + i];
          }
        }
      }
    }
    return weight ? (bias ? [gradX, gradW, gradB] : [gradX, gradW]) : bias ? [gradX, gradB] : [gradX];
  });
}

/** Layer norm over the last dim with weight and bias [features] (PyTorch's F.layer_norm). */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  requireFloat('layer_norm', x, weight, bias);
  const shape = inferShape('layer_norm', [x.shape, weight.shape, bias.shape], {});
  const features = weight.size;
  const rows = x.size / Math.max(features, 1);
  const src = x.values;
  const w = weight.values;
  const b = bias.values;
  const mean = new Float64Array(rows);
  const invStd = new Float64Array(rows);
  const out = emptyFloat(shape, resultDType(x, weight));
  const y = out.values;
  for (let r = 0; r < rows; r++) {
    const start = r * features;
    let total = 0;
    for (let f = 0; f < features; f++) total += src[start + f];
    const mu = total / features;
    let squares = 0;
    for (let f = 0; f < features; f++) squares += (src[start + f] - mu) ** 2;
    mean[r] = mu;
    invStd[r] = 1 / Math.sqrt(squares / features + eps);
    for (let f = 0; f < features; f++) y[start + f] = (src[start + f] - mu) * invStd[r] * w[f] + b[f];
  }
  return record('layer_norm', out, [x, weight, bias], (g) => {
    const up = g.values;
    const gradX = emptyFloat(x.shape, g.dtype);
    const gradW = emptyFloat(weight.shape, g.dtype);
    const gradB = emptyFloat(bias.shape, g.dtype);
    const gx = gradX.values;
    for (let r = 0; r < rows; r++) {
      const start = r * features;
      let sumD = 0;
      let sumDXhat = 0;
      for (let f = 0; f < features; f++) {
        const xhat = (src[start + f] - mean[r]) * invStd[r];
        const d = up[start + f] * w[f];
        sumD += d;
        sumDXhat += d * xhat;
        gradW.values[f] += up[start + f] * xhat;
        gradB.values[f] += up[start + f];
      }
      for (let f = 0; f < features; f++) {
        const xhat = (src[start + f] - mean[r]) * invStd[r];
        gx[start + f] = invStd[r] * (up[start + f] * w[f] - sumD / features - xhat * sumDXhat / features);
      }
    }
    return [gradX, gradW, gradB];
  });
}
