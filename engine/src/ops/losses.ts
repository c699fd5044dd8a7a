// Losses, each reduced by the mean: cross_entropy (fused log-softmax + NLL on logits with
// int64 labels), mse (a composition) and bce_with_logits. NOTE: cross_entropy and
// bce_with_logits are fused primitives for numerical stability; their gradients are
// (softmax − onehot)/B and (σ(x) − t)/n, never a Jacobian.

import type { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import { softmaxKernel } from '../kernels/softmax.js';
import { formatShape, shapesEqual, type Shape } from '../shape/dim.js';
import { ruleError, type RuleResult } from '../shape/rules.js';
import { defineOp, tensor, type RuleInputs } from './def.js';
import { outputShape } from './shape-rule.js';
import { emptyFloat, requireFloat, resultDType } from './operand.js';
import { sub, pow } from './arithmetic.js';
import { mean } from './reduce.js';

export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  requireFloat('cross_entropy', logits);
  if (labels.dtype !== 'int64') throw new TypeError(`cross_entropy: labels must be an int64 tensor of class indices, got ${labels.dtype}`);
  outputShape(crossEntropyOp, [logits.shape, labels.shape], {}, ['float32', 'int64']);
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
  outputShape(mseOp, [prediction.shape, target.shape], {});
  return mean(pow(sub(prediction, target), 2));
}

/** mean(max(x, 0) − x·t + log(1 + e^(−|x|))), stable for any logit magnitude. */
export function bceWithLogits(logits: Tensor, target: Tensor): Tensor {
  requireFloat('bce_with_logits', logits, target);
  outputShape(bceWithLogitsOp, [logits.shape, target.shape], {});
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


// -- definitions ---------------------------------------------------------------------------

const crossEntropyRule = ([logits, labels]: readonly Shape[], _attrs: unknown, dtypes: RuleInputs['dtypes']): RuleResult => {
  if (logits.length !== 2) return ruleError('NN2108', ['cross_entropy', 'logits of shape [B, C]', { input: 0 }, formatShape(logits)], []);
  if (dtypes[1] !== undefined && dtypes[1] !== 'int64') return ruleError('NN2111', ['cross_entropy', 'int class labels', { input: 1 }, formatShape(labels)], []);
  if (labels.length !== 1 || !labels[0].equals(logits[0])) return ruleError('NN2111', ['cross_entropy', `labels of shape [${logits[0]}]`, { input: 1 }, formatShape(labels)], []);
  return { shape: [] };
};

/** Losses of a prediction and a target of the same shape. */
const pairRule = ([prediction, target]: readonly Shape[]): RuleResult =>
  shapesEqual(prediction, target) ? { shape: [] } : ruleError('NN2101', [formatShape(prediction), formatShape(target), 'prediction', 'target'], []);

export const crossEntropyOp = defineOp({
  name: 'cross_entropy',
  surface: 'loss',
  params: [tensor('logits', { doc: 'scores [B, C], not probabilities' }), tensor('labels', { aliases: ['target'], doc: 'int class indices [B]' })],
  doc: { summary: 'Fused log-softmax + negative log-likelihood over `[B, C]` logits and `int` labels `[B]`, averaged over the batch.', gradient: 'dL/dlogits = (softmax(logits) − onehot(labels)) / B' },
  shape: crossEntropyRule,
  target: 'class-ids',
  gradInputs: () => [0],
  ts: ([logits, labels]) => crossEntropy(logits, labels),
  onnx: {
    forward: (ctx, [logits, labels]) => {
      if (logits.shape.length !== 2) throw ctx.unsupported('cross_entropy on logits that are not [B, C]');
      const logp = ctx.op('LogSoftmax', [logits.name], { axis: 1 }, logits.shape);
      return { outputs: [ctx.b.op1('NegativeLogLikelihoodLoss', [logp.name, labels.name], { reduction: 'mean' })], saved: { logp } };
    },
    backward: (ctx, { inputs: [logits, labels], saved: { logp } }, g) => {
      // Fused: (softmax - onehot) / B, never forming the softmax Jacobian.
      const classes = ctx.constantDims([logits.shape[1]], 'cross_entropy classes')[0];
      const oneHot = ctx.b.op1('OneHot', [labels.name, ctx.b.constInt([classes]), ctx.b.constFloat([0, 1])], { axis: -1 });
      const diff = ctx.op('Sub', [ctx.unary('Exp', logp).name, oneHot], {}, logits.shape);
      const scale = ctx.b.op1('Div', [g.name, ctx.count(logits, [0])]);
      return [ctx.binary('Mul', diff, scale, logits), null];
    },
  },
  pytorch: ([logits, labels]) => `F.cross_entropy(${logits}, ${labels})`,
});

export const mseOp = defineOp({
  name: 'mse',
  surface: 'loss',
  params: [tensor('prediction', { aliases: ['input', 'pred'] }), tensor('target')],
  doc: { summary: 'Mean squared error over every element.', gradient: 'dL/dprediction = 2(prediction − target) / N' },
  shape: pairRule,
  target: 'values',
  ts: ([prediction, target]) => mse(prediction, target),
  onnx: {
    forward: (ctx, [prediction, target]) => {
      const diff = ctx.binary('Sub', prediction, target, prediction);
      return { outputs: [ctx.b.op1('ReduceMean', [ctx.binary('Mul', diff, diff, prediction).name], { keepdims: 0 })], saved: { diff } };
    },
    backward: (ctx, { inputs: [prediction, target], saved: { diff } }, g, needs) => {
      const scale = ctx.b.op1('Div', [ctx.b.op1('Mul', [g.name, ctx.scalar(2)]), ctx.count(prediction, prediction.shape.map((_, i) => i))]);
      const dprediction = ctx.binary('Mul', diff, scale, prediction);
      return [needs[0] ? dprediction : null, needs[1] ? ctx.reduceToShape(ctx.unary('Neg', dprediction), target.shape) : null];
    },
  },
  pytorch: ([prediction, target]) => `F.mse_loss(${prediction}, ${target})`,
});

export const bceWithLogitsOp = defineOp({
  name: 'bce_with_logits',
  surface: 'loss',
  params: [tensor('logits', { aliases: ['input'] }), tensor('target', { doc: 'probabilities in [0, 1], the logits\' shape' })],
  doc: { summary: 'Binary cross-entropy on logits, computed stably, averaged over every element.', gradient: 'dL/dlogits = (σ(logits) − target) / N' },
  shape: pairRule,
  target: 'values',
  ts: ([logits, target]) => bceWithLogits(logits, target),
  onnx: {
    forward: (ctx, [z, t]) => {
      // max(z, 0) - z*t + log(1 + exp(-|z|)): stable for large |z|, as PyTorch computes it.
      const softplusNegAbs = ctx.unary('Softplus', ctx.unary('Neg', ctx.unary('Abs', z)));
      const terms = ctx.binary('Add', ctx.binary('Sub', ctx.unary('Relu', z), ctx.binary('Mul', z, t, z), z), softplusNegAbs, z);
      return { outputs: [ctx.b.op1('ReduceMean', [terms.name], { keepdims: 0 })] };
    },
    backward: (ctx, { inputs: [z, t] }, g, needs) => {
      const scale = ctx.b.op1('Div', [g.name, ctx.count(z, z.shape.map((_, i) => i))]);
      const dz = needs[0] ? ctx.binary('Mul', ctx.binary('Sub', ctx.unary('Sigmoid', z), t, z), scale, z) : null;
      const dt = needs[1] ? ctx.reduceToShape(ctx.binary('Mul', ctx.unary('Neg', z), scale, z), t.shape) : null;
      return [dz, dt];
    },
  },
  pytorch: ([logits, target]) => `F.binary_cross_entropy_with_logits(${logits}, ${target})`,
});
