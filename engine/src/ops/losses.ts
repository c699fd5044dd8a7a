// Losses, each reduced by the mean: cross_entropy (fused log-softmax + NLL on logits with
// int64 labels), mse (a composition) and bce_with_logits. NOTE: cross_entropy and
// bce_with_logits are fused primitives for numerical stability; their gradients are
// (softmax − onehot)/B and (σ(x) − t)/n, never a Jacobian.

import type { Tensor } from '../tensor/tensor.js';
import { formatDims, sameShape } from '../tensor/shape.js';
import { record } from '../autograd/tape.js';
import { softmaxKernel } from '../kernels/softmax.js';
import { inferShape } from './shape-rule.js';
import { emptyFloat, requireFloat, resultDType } from './operand.js';
import { sub, pow } from './arithmetic.js';
import { mean } from './reduce.js';

export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  requireFloat('cross_entropy', logits);
  if (labels.dtype !== 'int64') throw new TypeError(`cross_entropy: labels must be an int64 tensor of class indices, got ${labels.dtype}`);
  inferShape('cross_entropy', [logits.shape, labels.shape], {});
  const [batch, classes] = logits.shape;
  const targets = labels.data;
  for (let b = 0; b < batch; b++) {
    if (targets[b] < 0 || targets[b] >= classes) throw new RangeError(`cross_entropy: label ${targets[b]} at row ${b} is outside [0, ${classes})`);
  }
  const logProbs = emptyFloat(logits.shape, logits.dtype);
  softmaxKernel(logits.values, logProbs.values, batch, classes, 1, false);
  let total = 0;
  for (let b = 0; b < batch; b++) total -= logProbs.values[b * classes + targets[b]];
  const out = emptyFloat([], logits.dtype);
  out.values[0] = total / batch;
  return record('cross_entropy', out, [logits], (g) => {
    const scale = g.values[0] / batch;
    const grad = emptyFloat(logits.shape, g.dtype);
    const gd = grad.values;
    const lp = logProbs.values;
    for (let i = 0; i < gd.length; i++) gd[i] = Math.exp(lp[i]) * scale;
    for (let b = 0; b < batch; b++) gd[b * classes + targets[b]] -= scale;
    return [grad];
  }, [logProbs, labels]);
}

/** Mean squared error (composition of sub, pow and mean). */
export function mse(prediction: Tensor, target: Tensor): Tensor {
  inferShape('mse', [prediction.shape, target.shape], {});
  return mean(pow(sub(prediction, target), 2));
}

/** mean(max(x, 0) − x·t + log(1 + e^(−|x|))), stable for any logit magnitude. */
export function bceWithLogits(logits: Tensor, target: Tensor): Tensor {
  requireFloat('bce_with_logits', logits, target);
  inferShape('bce_with_logits', [logits.shape, target.shape], {});
  if (!sameShape(logits.shape, target.shape)) {
    throw new RangeError(`bce_with_logits: target shape ${formatDims(target.shape)} differs from logits ${formatDims(logits.shape)}`);
  }
  const x = logits.values;
  const t = target.values;
  const n = x.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += Math.max(x[i], 0) - x[i] * t[i] + Math.log1p(Math.exp(-Math.abs(x[i])));
  const out = emptyFloat([], resultDType(logits, target));
  out.values[0] = total / n;
  return record('bce_with_logits', out, [logits, target], (g) => {
    const scale = g.values[0] / n;
    const gradLogits = emptyFloat(logits.shape, g.dtype);
    const gradTarget = target.requiresGrad ? emptyFloat(target.shape, g.dtype) : null;
    for (let i = 0; i < n; i++) {
      const s = x[i] >= 0 ? 1 / (1 + Math.exp(-x[i])) : Math.exp(x[i]) / (1 + Math.exp(x[i]));
      gradLogits.values[i] = (s - t[i]) * scale;
      if (gradTarget) gradTarget.values[i] = -x[i] * scale;
    }
    return [gradLogits, gradTarget];
  });
}

