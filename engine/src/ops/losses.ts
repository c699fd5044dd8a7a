// Losses, each reduced by the mean: cross_entropy (fused log-softmax + NLL on logits with
// int64 labels, over [..., C] with class weights and label smoothing), nll, mse (a
// composition), bce_with_logits, huber, smooth_l1 and kl_div. NOTE: cross_entropy and
// bce_with_logits are fused primitives for numerical stability; their gradients are
// (softmax − target distribution)/B and (σ(x) − t)/n, never a Jacobian.

import type { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import { softmaxKernel } from '../kernels/softmax.js';
import { formatShape, shapesEqual, type Shape } from '../shape/dim.js';
import { ruleError, type RuleResult } from '../shape/rules.js';
import { defineOp, number, tensor, type OnnxRules, type RuleInputs } from './def.js';
import type { LoweringContext, Val } from '../onnx/context.js';
import { Dim } from '../shape/dim.js';
import { pyFloat } from './unary.js';
import { outputShape } from './shape-rule.js';
import { emptyFloat, requireFloat, resultDType } from './operand.js';
import { sub, pow } from './arithmetic.js';
import { mean } from './reduce.js';

export interface CrossEntropyOptions {
  /** Class weights [C]; absent: every class weighs 1. */
  weight?: Tensor | null;
  /** ε: the target puts 1 − ε on the label and ε / C on every class (PyTorch's label_smoothing). */
  labelSmoothing?: number;
}

/** Class ids as numbers, each checked against the class count. */
function classIds(op: string, labels: Tensor, classes: number): ArrayLike<number> {
  if (labels.dtype !== 'int64') throw new TypeError(`${op}: labels must be an int64 tensor of class indices, got ${labels.dtype}`);
  const ids = labels.data;
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] < 0 || ids[i] >= classes) throw new RangeError(`${op}: label ${ids[i]} at position ${i} is outside [0, ${classes})`);
  }
  return ids;
}

/**
 * Cross-entropy of logits [..., C] against class ids [...], PyTorch's weighted mean:
 * Σᵢ ((1 − ε)·w[yᵢ]·(−log pᵢ[yᵢ]) + ε/C·Σ_c w_c·(−log pᵢ_c)) / Σᵢ w[yᵢ].
 */
export function crossEntropy(logits: Tensor, labels: Tensor, options: CrossEntropyOptions = {}): Tensor {
  requireFloat('cross_entropy', logits);
  const weight = options.weight ?? null;
  const smoothing = options.labelSmoothing ?? 0;
  outputShape(crossEntropyOp, weight ? [logits.shape, labels.shape, weight.shape] : [logits.shape, labels.shape], { label_smoothing: smoothing }, ['float32', 'int64']);
  const classes = logits.shape[logits.rank - 1];
  const rows = logits.size / classes;
  const targets = classIds('cross_entropy', labels, classes);
  const w = weight ? weight.values : null;
  const weightOf = (c: number): number => (w ? w[c] : 1);
  let weightSum = 0;
  for (let c = 0; c < classes; c++) weightSum += weightOf(c);
  const logProbs = emptyFloat(logits.shape, logits.dtype);
  softmaxKernel(logits.values, logProbs.values, rows, classes, 1, false);
  const lp = logProbs.values;
  let total = 0;
  let norm = 0;
  for (let r = 0; r < rows; r++) {
    const y = targets[r];
    let smooth = 0;
    if (smoothing > 0) for (let c = 0; c < classes; c++) smooth -= weightOf(c) * lp[r * classes + c];
    total += (1 - smoothing) * weightOf(y) * -lp[r * classes + y] + (smoothing / classes) * smooth;
    norm += weightOf(y);
  }
  const out = emptyFloat([], logits.dtype);
  out.values[0] = total / norm;
  return record('cross_entropy', out, [logits], (g) => {
    const scale = g.values[0] / norm;
    const grad = emptyFloat(logits.shape, g.dtype);
    const gd = grad.values;
    for (let r = 0; r < rows; r++) {
      const y = targets[r];
      for (let c = 0; c < classes; c++) {
        const p = Math.exp(lp[r * classes + c]);
        const hard = (1 - smoothing) * weightOf(y) * (p - (c === y ? 1 : 0));
        gd[r * classes + c] = (hard + (smoothing / classes) * (weightSum * p - weightOf(c))) * scale;
      }
    }
    return [grad];
  }, [logProbs, labels]);
}

/** Negative log-likelihood of log-probabilities [..., C] at class ids [...], weighted as cross_entropy. */
export function nll(logProbs: Tensor, labels: Tensor, weight: Tensor | null = null): Tensor {
  requireFloat('nll', logProbs);
  outputShape(nllOp, weight ? [logProbs.shape, labels.shape, weight.shape] : [logProbs.shape, labels.shape], {}, ['float32', 'int64']);
  const classes = logProbs.shape[logProbs.rank - 1];
  const rows = logProbs.size / classes;
  const targets = classIds('nll', labels, classes);
  const weightOf = (c: number): number => (weight ? weight.values[c] : 1);
  let total = 0;
  let norm = 0;
  for (let r = 0; r < rows; r++) {
    total -= weightOf(targets[r]) * logProbs.values[r * classes + targets[r]];
    norm += weightOf(targets[r]);
  }
  const out = emptyFloat([], logProbs.dtype);
  out.values[0] = total / norm;
  return record('nll', out, [logProbs], (g) => {
    const grad = emptyFloat(logProbs.shape, g.dtype);
    for (let r = 0; r < rows; r++) grad.values[r * classes + targets[r]] = (-weightOf(targets[r]) * g.values[0]) / norm;
    return [grad];
  });
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

/** PyTorch's default huber delta and smooth_l1 beta. */
export const HUBER_DELTA = 1;

/**
 * The mean over elements of a robust loss of d = prediction − target: `value(d)`, whose
 * derivative is `slope(d)` (huber and smooth_l1).
 */
function robustLoss(op: 'huber' | 'smooth_l1', prediction: Tensor, target: Tensor, value: (d: number) => number, slope: (d: number) => number): Tensor {
  requireFloat(op, prediction, target);
  const p = prediction.values;
  const t = target.values;
  const n = p.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += value(p[i] - t[i]);
  const out = emptyFloat([], resultDType(prediction, target));
  out.values[0] = total / n;
  return record(op, out, [prediction, target], (g) => {
    const scale = g.values[0] / n;
    const gradP = prediction.requiresGrad ? emptyFloat(prediction.shape, g.dtype) : null;
    const gradT = target.requiresGrad ? emptyFloat(target.shape, g.dtype) : null;
    for (let i = 0; i < n; i++) {
      const s = slope(p[i] - t[i]) * scale;
      if (gradP) gradP.values[i] = s;
      if (gradT) gradT.values[i] = -s;
    }
    return [gradP, gradT];
  });
}

/** Huber: ½d² for |d| < δ, else δ·(|d| − ½δ). */
export function huber(prediction: Tensor, target: Tensor, delta = HUBER_DELTA): Tensor {
  outputShape(huberOp, [prediction.shape, target.shape], { delta });
  return robustLoss('huber', prediction, target, (d) => (Math.abs(d) < delta ? 0.5 * d * d : delta * (Math.abs(d) - 0.5 * delta)), (d) => Math.min(Math.max(d, -delta), delta));
}

/** Smooth L1: ½d²/β for |d| < β, else |d| − ½β (huber / β). */
export function smoothL1(prediction: Tensor, target: Tensor, beta = HUBER_DELTA): Tensor {
  outputShape(smoothL1Op, [prediction.shape, target.shape], { beta });
  return robustLoss('smooth_l1', prediction, target, (d) => (Math.abs(d) < beta ? (0.5 * d * d) / beta : Math.abs(d) - 0.5 * beta), (d) => (Math.abs(d) < beta ? d / beta : Math.sign(d)));
}

/** KL(target ‖ exp(input)) summed and divided by the batch: Σ t·(log t − input) / B, 0·log 0 = 0. */
export function klDiv(input: Tensor, target: Tensor): Tensor {
  requireFloat('kl_div', input, target);
  outputShape(klDivOp, [input.shape, target.shape], {});
  const x = input.values;
  const t = target.values;
  const batch = input.shape[0];
  let total = 0;
  for (let i = 0; i < x.length; i++) if (t[i] > 0) total += t[i] * (Math.log(t[i]) - x[i]);
  const out = emptyFloat([], resultDType(input, target));
  out.values[0] = total / batch;
  return record('kl_div', out, [input, target], (g) => {
    const scale = g.values[0] / batch;
    const gradX = input.requiresGrad ? emptyFloat(input.shape, g.dtype) : null;
    const gradT = target.requiresGrad ? emptyFloat(target.shape, g.dtype) : null;
    for (let i = 0; i < x.length; i++) {
      if (gradX) gradX.values[i] = -t[i] * scale;
      if (gradT) gradT.values[i] = t[i] > 0 ? (Math.log(t[i]) + 1 - x[i]) * scale : 0;
    }
    return [gradX, gradT];
  });
}

// -- definitions ---------------------------------------------------------------------------

/** Scores [..., C] (logits or log-probabilities) against int class ids [...] and optional class weights [C]. */
function classLossRule(op: string, scores: string) {
  return ([logits, labels, weight]: readonly Shape[], _attrs: unknown, dtypes: RuleInputs['dtypes']): RuleResult => {
    if (logits.length < 2) return ruleError('NN2108', [op, `${scores} of shape [B, C] (or [B, T, C])`, { input: 0 }, formatShape(logits)], []);
    const rows = logits.slice(0, -1);
    if (dtypes[1] !== undefined && dtypes[1] !== 'int64') return ruleError('NN2111', [op, 'int class labels', { input: 1 }, formatShape(labels)], []);
    if (!shapesEqual(labels, rows)) return ruleError('NN2111', [op, `labels of shape ${formatShape(rows)}`, { input: 1 }, formatShape(labels)], []);
    const classes = logits[logits.length - 1];
    if (weight && (weight.length !== 1 || !weight[0].equals(classes))) return ruleError('NN2111', [op, `class weights of shape [${classes}]`, { input: 2 }, formatShape(weight)], []);
    return { shape: [] };
  };
}

/** The ONNX view of class scores [..., C] and ids [...] as [N, C] and [N]. */
function flatClasses(ctx: LoweringContext, scores: Val, labels: Val): { scores: Val; labels: Val; classes: number } {
  const [classes] = ctx.constantDims([scores.shape[scores.shape.length - 1]], 'the classes of a loss');
  if (scores.shape.length === 2) return { scores, labels, classes };
  const rows = Dim.named('N');
  return {
    scores: ctx.op('Reshape', [scores.name, ctx.b.constInt([-1, classes])], {}, [rows, Dim.of(classes)]),
    labels: ctx.op('Reshape', [labels.name, ctx.b.constInt([-1])], {}, [rows], 'int64'),
    classes,
  };
}

/** A class loss's labels are ids below its class count, the scores' last dim. */
const classIdsInput = { input: 1, count: ([scores]: readonly Shape[]) => scores[scores.length - 1], noun: 'classes' };

/** Losses of a prediction and a target of the same shape. */
const pairRule = ([prediction, target]: readonly Shape[]): RuleResult =>
  shapesEqual(prediction, target) ? { shape: [] } : ruleError('NN2101', [formatShape(prediction), formatShape(target), 'prediction', 'target'], []);

export const crossEntropyOp = defineOp({
  name: 'cross_entropy',
  surface: 'loss',
  params: [
    tensor('logits', { doc: 'scores [B, C] (or [B, T, C]), not probabilities' }),
    tensor('labels', { aliases: ['target'], doc: 'int class indices [B] (or [B, T])' }),
    tensor('weight', { default: null, doc: 'class weights [C]; the mean is weighted by the labels\' weights' }),
    number('label_smoothing', { default: 0, min: 0, max: 1, doc: 'ε: the target puts 1 − ε on the label and ε / C on every class' }),
  ],
  doc: {
    summary: 'Fused log-softmax + negative log-likelihood over `[..., C]` logits and `int` labels `[...]`, averaged over the positions (weighted by `weight`, smoothed by `label_smoothing`).',
    gradient: 'dL/dlogits = (softmax(logits) − target distribution) / B (the target: onehot(labels), smoothed and weighted)',
  },
  shape: classLossRule('cross_entropy', 'logits'),
  gradInputs: () => [0],
  target: 'class-ids',
  ids: classIdsInput,
  ts: ([logits, labels, weight], { label_smoothing }) => crossEntropy(logits, labels, { weight: weight ?? null, labelSmoothing: label_smoothing }),
  onnx: {
    forward: (ctx, [logits, labels, weight], { label_smoothing: smoothing }) => {
      const flat = flatClasses(ctx, logits, labels);
      const logp = ctx.op('LogSoftmax', [flat.scores.name], { axis: 1 }, flat.scores.shape);
      const oneHot = ctx.op('OneHot', [flat.labels.name, ctx.b.constInt([flat.classes]), ctx.b.constFloat([0, 1])], { axis: -1 }, flat.scores.shape);
      // Per row: the label's weight, and the weighted smoothing term Σ_c w_c·log p_c.
      const classWeights = weight ? weight.name : ctx.b.constFloat(new Array<number>(flat.classes).fill(1));
      const rowWeight = ctx.b.op1('ReduceSum', [ctx.b.op1('Mul', [oneHot.name, classWeights]), ctx.b.constInt([1])], { keepdims: 0 });
      const picked = ctx.b.op1('ReduceSum', [ctx.b.op1('Mul', [oneHot.name, logp.name]), ctx.b.constInt([1])], { keepdims: 0 });
      const smooth = ctx.b.op1('ReduceSum', [ctx.b.op1('Mul', [logp.name, classWeights]), ctx.b.constInt([1])], { keepdims: 0 });
      const perRow = ctx.b.op1('Add', [
        ctx.b.op1('Mul', [ctx.b.op1('Mul', [rowWeight, picked]), ctx.scalar(-(1 - smoothing))]),
        ctx.b.op1('Mul', [smooth, ctx.scalar(-smoothing / flat.classes)]),
      ]);
      const norm: Val = { name: ctx.b.op1('ReduceSum', [rowWeight], { keepdims: 0 }), shape: [], dtype: 'float32' };
      const loss = ctx.b.op1('Div', [ctx.b.op1('ReduceSum', [perRow], { keepdims: 0 }), norm.name]);
      return { outputs: [loss], saved: { logp, oneHot, norm, rowWeight: { name: rowWeight, shape: [flat.scores.shape[0]], dtype: 'float32' } } };
    },
    backward: (ctx, { inputs: [logits, , weight], attrs: { label_smoothing: smoothing }, saved: { logp, oneHot, norm, rowWeight } }, g) => {
      // Fused: ((1 − ε)·w_y·(p − onehot) + ε/C·(Σw·p − w)) / Σ w_y, never the softmax Jacobian.
      const classes = logp.shape[1].constant()!;
      const classWeights = weight ? weight.name : ctx.b.constFloat(new Array<number>(classes).fill(1));
      const p = ctx.unary('Exp', logp);
      const hard = ctx.b.op1('Mul', [ctx.b.op1('Sub', [p.name, oneHot.name]), ctx.b.op1('Unsqueeze', [rowWeight.name, ctx.b.constInt([1])])]);
      const weightSum = ctx.b.op1('ReduceSum', [classWeights], { keepdims: 0 });
      const soft = ctx.b.op1('Sub', [ctx.b.op1('Mul', [p.name, weightSum]), classWeights]);
      const combined = ctx.b.op1('Add', [ctx.b.op1('Mul', [hard, ctx.scalar(1 - smoothing)]), ctx.b.op1('Mul', [soft, ctx.scalar(smoothing / classes)])]);
      const scaled = ctx.op('Mul', [combined, ctx.b.op1('Div', [g.name, norm.name])], {}, logp.shape);
      return [logits.shape.length === 2 ? scaled : ctx.reshape(scaled, logits.shape, [logits]), null, null];
    },
  },
  pytorch: ([logits, labels, weight], { label_smoothing }, ctx) => {
    const flat = ctx.inShapes[0].length > 2;
    const classes = ctx.inShapes[0][ctx.inShapes[0].length - 1];
    const options = `${weight ? `, weight=${weight}` : ''}${label_smoothing > 0 ? `, label_smoothing=${pyFloat(label_smoothing)}` : ''}`;
    return flat ? `F.cross_entropy(${logits}.reshape(-1, ${classes}), ${labels}.reshape(-1)${options})` : `F.cross_entropy(${logits}, ${labels}${options})`;
  },
});

export const nllOp = defineOp({
  name: 'nll',
  surface: 'loss',
  params: [
    tensor('log_probs', { aliases: ['input'], doc: 'log-probabilities [B, C] (or [B, T, C]), e.g. log_softmax\'s' }),
    tensor('labels', { aliases: ['target'], doc: 'int class indices [B] (or [B, T])' }),
    tensor('weight', { default: null, doc: 'class weights [C]; the mean is weighted by the labels\' weights' }),
  ],
  doc: { summary: 'Negative log-likelihood of log-probabilities at the labels, averaged (weighted by `weight`) as PyTorch\'s `F.nll_loss`.', gradient: 'dL/dlog_probs = −w_y · onehot(labels) / Σ w_y' },
  shape: classLossRule('nll', 'log-probabilities'),
  gradInputs: () => [0],
  target: 'class-ids',
  ids: classIdsInput,
  ts: ([logProbs, labels, weight]) => nll(logProbs, labels, weight ?? null),
  onnx: {
    forward: (ctx, [logProbs, labels, weight]) => {
      const flat = flatClasses(ctx, logProbs, labels);
      return { outputs: [ctx.b.op1('NegativeLogLikelihoodLoss', [flat.scores.name, flat.labels.name, ...(weight ? [weight.name] : [])], { reduction: 'mean' })], saved: { labels: flat.labels } };
    },
    backward: (ctx, { inputs: [logProbs, , weight], saved: { labels } }, g) => {
      const [classes] = ctx.constantDims([logProbs.shape[logProbs.shape.length - 1]], 'the classes of nll');
      const classWeights = weight ? weight.name : ctx.b.constFloat(new Array<number>(classes).fill(1));
      const oneHot = ctx.b.op1('Mul', [ctx.b.op1('OneHot', [labels.name, ctx.b.constInt([classes]), ctx.b.constFloat([0, 1])], { axis: -1 }), classWeights]);
      const norm = ctx.b.op1('ReduceSum', [oneHot], { keepdims: 0 });
      const grad = ctx.op('Mul', [oneHot, ctx.b.op1('Neg', [ctx.b.op1('Div', [g.name, norm])])], {}, [labels.shape[0], Dim.of(classes)]);
      return [logProbs.shape.length === 2 ? grad : ctx.reshape(grad, logProbs.shape, [logProbs]), null, null];
    },
  },
  pytorch: ([logProbs, labels, weight], _attrs, ctx) => {
    const classes = ctx.inShapes[0][ctx.inShapes[0].length - 1];
    const options = weight ? `, weight=${weight}` : '';
    return ctx.inShapes[0].length > 2 ? `F.nll_loss(${logProbs}.reshape(-1, ${classes}), ${labels}.reshape(-1)${options})` : `F.nll_loss(${logProbs}, ${labels}${options})`;
  },
});

export const mseOp = defineOp({
  name: 'mse',
  surface: 'loss',
  params: [tensor('prediction', { aliases: ['input', 'pred'] }), tensor('target')],
  doc: { torchClass: 'MSE', summary: 'Mean squared error over every element.', gradient: 'dL/dprediction = 2(prediction − target) / N' },
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
  doc: { torchClass: 'BCEWithLogits', summary: 'Binary cross-entropy on logits, computed stably, averaged over every element.', gradient: 'dL/dlogits = (σ(logits) − target) / N' },
  shape: pairRule,
  target: 'values',
  binaryLogits: true,
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
      // σ(z) as exp(min(z, 0)) / (1 + exp(−|z|)), not onnxruntime's Sigmoid, which is inexact
      // far in the tail: a gradient of 1e-8 for a true 1e-12 that Adam then takes as a full step.
      const sigmoid = () => {
        const tail = ctx.unary('Exp', ctx.unary('Neg', ctx.unary('Abs', z)));
        return ctx.binary('Div', ctx.unary('Exp', ctx.binary('Sub', z, ctx.unary('Relu', z), z)), ctx.binary('Add', tail, ctx.scalar(1), z), z);
      };
      const dz = needs[0] ? ctx.binary('Mul', ctx.binary('Sub', sigmoid(), t, z), scale, z) : null;
      const dt = needs[1] ? ctx.reduceToShape(ctx.binary('Mul', ctx.unary('Neg', z), scale, z), t.shape) : null;
      return [dz, dt];
    },
  },
  pytorch: ([logits, target]) => `F.binary_cross_entropy_with_logits(${logits}, ${target})`,
});

/** The ONNX rules of a robust loss: `value` and `slope` of d = prediction − target, as ONNX nodes. */
function robustOnnx<A>(value: (ctx: LoweringContext, d: Val, absolute: Val, attrs: A) => Val, slope: (ctx: LoweringContext, d: Val, absolute: Val, attrs: A) => Val): OnnxRules<A> {
  return {
    forward: (ctx, [prediction, target], attrs) => {
      const d = ctx.binary('Sub', prediction, target, prediction);
      const absolute = ctx.unary('Abs', d);
      return { outputs: [ctx.b.op1('ReduceMean', [value(ctx, d, absolute, attrs).name], { keepdims: 0 })], saved: { d, absolute } };
    },
    backward: (ctx, { inputs: [prediction, target], attrs, saved: { d, absolute } }, g, needs) => {
      const scale = ctx.b.op1('Div', [g.name, ctx.count(prediction, prediction.shape.map((_, i) => i))]);
      const dp = ctx.binary('Mul', slope(ctx, d, absolute, attrs), scale, prediction);
      return [needs[0] ? dp : null, needs[1] ? ctx.reduceToShape(ctx.unary('Neg', dp), target.shape) : null];
    },
  };
}

/** `inside` where |d| < bound, else `outside`. */
const piecewise = (ctx: LoweringContext, absolute: Val, bound: number, inside: Val, outside: Val): Val => ctx.where(ctx.b.op1('Less', [absolute.name, ctx.scalar(bound)]), inside, outside);
const times = (ctx: LoweringContext, v: Val, k: number): Val => ctx.binary('Mul', v, ctx.scalar(k), v);
const halfSquare = (ctx: LoweringContext, d: Val): Val => times(ctx, ctx.binary('Mul', d, d, d), 0.5);

export const huberOp = defineOp({
  name: 'huber',
  surface: 'loss',
  params: [tensor('prediction', { aliases: ['input', 'pred'] }), tensor('target'), number('delta', { default: HUBER_DELTA, above: 0, doc: 'where the loss turns from quadratic to linear' })],
  doc: { summary: 'Huber loss averaged over every element: `½d²` for `|d| < δ`, else `δ·(|d| − ½δ)`, d = prediction − target; robust to outliers.', gradient: 'dL/dprediction = clamp(d, −δ, δ) / N' },
  shape: (shapes) => pairRule(shapes),
  target: 'values',
  ts: ([prediction, target], { delta }) => huber(prediction, target, delta),
  onnx: robustOnnx<{ delta: number }>(
    (ctx, d, absolute, { delta }) => piecewise(ctx, absolute, delta, halfSquare(ctx, d), times(ctx, ctx.binary('Sub', absolute, ctx.scalar(0.5 * delta), absolute), delta)),
    (ctx, d, _absolute, { delta }) => ctx.op('Clip', [d.name, ctx.scalar(-delta), ctx.scalar(delta)], {}, d.shape),
  ),
  pytorch: ([prediction, target], { delta }) => `F.huber_loss(${prediction}, ${target}, delta=${pyFloat(delta)})`,
});

export const smoothL1Op = defineOp({
  name: 'smooth_l1',
  surface: 'loss',
  params: [tensor('prediction', { aliases: ['input', 'pred'] }), tensor('target'), number('beta', { default: HUBER_DELTA, min: 0, doc: 'where the loss turns from quadratic to linear' })],
  doc: { summary: 'Smooth L1 loss averaged over every element: `½d²/β` for `|d| < β`, else `|d| − ½β` (huber divided by β).', gradient: 'dL/dprediction = (d/β for |d| < β, else sign(d)) / N' },
  shape: (shapes) => pairRule(shapes),
  target: 'values',
  ts: ([prediction, target], { beta }) => smoothL1(prediction, target, beta),
  onnx: robustOnnx<{ beta: number }>(
    (ctx, d, absolute, { beta }) => piecewise(ctx, absolute, beta, times(ctx, halfSquare(ctx, d), 1 / beta), ctx.binary('Sub', absolute, ctx.scalar(0.5 * beta), absolute)),
    (ctx, d, absolute, { beta }) => piecewise(ctx, absolute, beta, times(ctx, d, 1 / beta), ctx.unary('Sign', d)),
  ),
  pytorch: ([prediction, target], { beta }) => `F.smooth_l1_loss(${prediction}, ${target}, beta=${pyFloat(beta)})`,
});

export const klDivOp = defineOp({
  name: 'kl_div',
  surface: 'loss',
  params: [tensor('log_probs', { aliases: ['input'], doc: 'the model\'s log-probabilities [B, ...]' }), tensor('target', { doc: 'probabilities, the input\'s shape' })],
  doc: { summary: 'Kullback-Leibler divergence KL(target ‖ exp(log_probs)) summed and divided by the batch size (PyTorch\'s `reduction="batchmean"`, the mathematically correct mean).', gradient: 'dL/dlog_probs = −target / B; dL/dtarget = (log target + 1 − log_probs) / B' },
  shape: (shapes) => pairRule(shapes),
  target: 'values',
  ts: ([input, target]) => klDiv(input, target),
  onnx: {
    forward: (ctx, [x, t]) => {
      // t·(log t − x) with 0·log 0 = 0: the log of max(t, tiny), multiplied by t.
      const logT = ctx.unary('Log', ctx.op('Max', [t.name, ctx.scalar(1e-30)], {}, t.shape));
      const terms = ctx.binary('Mul', t, ctx.binary('Sub', logT, x, x), x);
      const batch = ctx.count(x, [0]);
      return { outputs: [ctx.b.op1('Div', [ctx.b.op1('ReduceSum', [terms.name], { keepdims: 0 }), batch])], saved: { logT } };
    },
    backward: (ctx, { inputs: [x, t], saved: { logT } }, g, needs) => {
      const scale = ctx.b.op1('Div', [g.name, ctx.count(x, [0])]);
      const dx = needs[0] ? ctx.binary('Mul', ctx.unary('Neg', t), scale, x) : null;
      const positive = ctx.b.op1('Greater', [t.name, ctx.zero()]);
      const dt = needs[1] ? ctx.where(positive, ctx.binary('Mul', ctx.binary('Sub', ctx.binary('Add', logT, ctx.scalar(1), logT), x, x), scale, x), ctx.zero()) : null;
      return [dx, dt];
    },
  },
  pytorch: ([input, target]) => `F.kl_div(${input}, ${target}, reduction="batchmean")`,
});
