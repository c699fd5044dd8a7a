// Normalization layers: BatchNorm2d and BatchNorm1d (train and eval modes, PyTorch's
// running-statistics update) and LayerNorm over the last dim, with their ops. NOTE: both
// kernels are fused primitives, not compositions, for speed and compact backward formulas.

import type { Tensor } from '../tensor/tensor.js';
import { shapeSize } from '../tensor/shape.js';
import { record } from '../autograd/tape.js';
import { Dim, formatShape, type Shape } from '../shape/dim.js';
import { elementCount, ruleError, type RuleResult } from '../shape/rules.js';
import type { LoweringContext, Val } from '../onnx/context.js';
import { defineLayer, defineOpWith, number, size, type OnnxRules, type OpDef } from './def.js';
import { ONES, ZEROS } from './initSpecs.js';
import { outputShape } from './shape-rule.js';
import { pyFloat } from './unary.js';
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
  const momentum = options.momentum ?? BATCH_NORM_MOMENTUM;
  const eps = options.eps ?? NORM_EPS;
  const shape = outputShape<NormAttrs>(x.rank === 4 ? batchNorm2dOp : batchNorm1dOp, [x.shape, (weight ?? runningMean).shape], { eps, momentum });
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
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = NORM_EPS): Tensor {
  requireFloat('layer_norm', x, weight, bias);
  const shape = outputShape(layerNormOp, [x.shape, weight.shape, bias.shape], { eps });
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

// -- definitions ---------------------------------------------------------------------------

/** PyTorch's defaults: the epsilon added to the variance, and the running statistics' momentum. */
export const NORM_EPS = 1e-5;
export const BATCH_NORM_MOMENTUM = 0.1;

interface NormAttrs {
  eps: number;
  momentum: number;
}

/**
 * An input that does not fit the layer: the result has the input's shape or the one the layer
 * expects, whichever is right, so it is unknown (no shape).
 */
const batchNormRule = (op: 'BatchNorm2d' | 'BatchNorm1d') => ([x, weight]: readonly Shape[]): RuleResult => {
  const ranks = op === 'BatchNorm2d' ? [4] : [2, 3];
  if (!ranks.includes(x.length)) {
    return ruleError('NN2108', [op, op === 'BatchNorm2d' ? 'a 4-D input [N, C, H, W]' : 'a 2-D or 3-D input [N, C] or [N, C, L]', { input: 0 }, formatShape(x)]);
  }
  if (x[1].equals(weight[0])) return { shape: x };
  return op === 'BatchNorm2d'
    ? ruleError('NN2104', [op, weight[0].toString(), { input: 0 }, formatShape(x), { origin: 0 }])
    : ruleError('NN2111', [op, `${weight[0]} features on axis 1`, { input: 0 }, formatShape(x)]);
};

/** (x - mean) / sqrt(var + eps) over `axes`, with the biased variance, as PyTorch normalizes. */
function normalize(ctx: LoweringContext, x: Val, axes: number[], eps: number): { xhat: Val; invstd: Val; mean: Val; variance: Val } {
  const mean = ctx.reduce('ReduceMean', x, axes, true);
  const centered = ctx.binary('Sub', x, mean, x);
  const variance = ctx.reduce('ReduceMean', ctx.binary('Mul', centered, centered, x), axes, true);
  const invstd = ctx.unary('Reciprocal', ctx.unary('Sqrt', ctx.binary('Add', variance, ctx.scalar(eps), variance)));
  return { xhat: ctx.binary('Mul', centered, invstd, x), invstd, mean, variance };
}

/** dx of a normalization: invstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) over `axes`. */
function normalizeBackward(ctx: LoweringContext, dxhat: Val, xhat: Val, invstd: Val, axes: number[]): Val {
  const meanD = ctx.reduce('ReduceMean', dxhat, axes, true);
  const meanDX = ctx.reduce('ReduceMean', ctx.binary('Mul', dxhat, xhat, xhat), axes, true);
  const inner = ctx.binary('Sub', ctx.binary('Sub', dxhat, meanD, xhat), ctx.binary('Mul', xhat, meanDX, xhat), xhat);
  return ctx.binary('Mul', inner, invstd, xhat);
}

/** The batch-norm reduction axes: every axis but the channel axis 1. */
function batchNormAxes(rank: number): number[] {
  return Array.from({ length: rank }, (_, i) => i).filter((i) => i !== 1);
}

/** A per-channel vector [C] reshaped to broadcast over [B, C, ...]. */
function channelView(ctx: LoweringContext, v: Val, rank: number): Val {
  return ctx.reshape(v, [Dim.of(1), v.shape[0], ...Array.from({ length: rank - 2 }, () => Dim.of(1))]);
}

const batchNormOnnx: OnnxRules<NormAttrs> = {
  forward: (ctx, [x, gamma, beta, runningMean, runningVar], { eps, momentum }) => {
    const rank = x.shape.length;
    if (!ctx.mode.training) {
      return { outputs: [ctx.b.op1('BatchNormalization', [x.name, gamma.name, beta.name, runningMean.name, runningVar.name], { epsilon: { f: eps } })] };
    }
    const axes = batchNormAxes(rank);
    const { xhat, invstd, mean, variance } = normalize(ctx, x, axes, eps);
    const y = ctx.binary('Add', ctx.binary('Mul', xhat, channelView(ctx, gamma, rank), x), channelView(ctx, beta, rank), x);
    // Running statistics as PyTorch keeps them: the variance is unbiased (n / (n - 1)).
    const n = ctx.count(x, axes);
    const bessel = ctx.b.op1('Div', [n, ctx.b.op1('Sub', [n, ctx.scalar(1)])]);
    const keep = ctx.scalar(1 - momentum);
    const take = ctx.scalar(momentum);
    const blend = (running: Val, batch: Val): Val => ctx.binary('Add', ctx.binary('Mul', running, keep, running), ctx.binary('Mul', batch, take, running), running);
    const newMean = blend(runningMean, ctx.reshape(mean, runningMean.shape));
    const newVar = blend(runningVar, ctx.binary('Mul', ctx.reshape(variance, runningVar.shape), bessel, runningVar));
    return { outputs: [y.name], saved: { xhat, invstd }, bufferUpdates: [newMean, newVar] };
  },
  backward: (ctx, { inputs: [x, gamma], saved: { xhat, invstd } }, g, needs) => {
    if (!xhat) throw ctx.unsupported('the gradient of batch norm in eval mode');
    const rank = x.shape.length;
    const axes = batchNormAxes(rank);
    const dx = needs[0] ? normalizeBackward(ctx, ctx.binary('Mul', g, channelView(ctx, gamma, rank), g), xhat, invstd, axes) : null;
    const dgamma = needs[1] ? ctx.sum(ctx.binary('Mul', g, xhat, g), axes, false) : null;
    const dbeta = needs[2] ? ctx.sum(g, axes, false) : null;
    return [dx, dgamma, dbeta, null, null];
  },
};

/** Inputs: x, weight [C], bias [C], running_mean [C], running_var [C]; no gradient reaches the running statistics. */
function batchNormOp<const N extends 'batch_norm2d' | 'batch_norm1d'>(name: N, layer: 'BatchNorm2d' | 'BatchNorm1d'): OpDef<NormAttrs> & { name: N } {
  return defineOpWith<NormAttrs>()({
    name,
    surface: 'layer',
    params: [],
    doc: { summary: `The op of \`${layer}\`: normalizes each channel by its batch statistics (running ones in eval mode).`, gradient: 'dL/dx = (γ / σ) · (g − mean(g) − x̂ · mean(g ⊙ x̂)) per channel; dL/dγ = Σ g ⊙ x̂, dL/dβ = Σ g' },
    shape: batchNormRule(layer),
    flops: (_inputs, output) => elementCount(output).scale(2),
    gradInputs: () => [0, 1, 2],
    sideEffect: 'updates the running statistics again',
    ts: ([x, weight, bias, runningMean, runningVar], { eps, momentum }, { mode }) => batchNorm(x, weight, bias, runningMean, runningVar, { training: mode.batchNormTraining, eps, momentum }),
    onnx: batchNormOnnx,
    pytorch: ([x, w, b, mean, variance], { eps, momentum }, ctx) =>
      `F.batch_norm(${x}, ${mean}, ${variance}, ${w}, ${b}, training=${ctx.inModule ? 'self.training' : 'False'}, momentum=${pyFloat(momentum)}, eps=${eps})`,
  });
}

export const batchNorm2dOp = batchNormOp('batch_norm2d', 'BatchNorm2d');
export const batchNorm1dOp = batchNormOp('batch_norm1d', 'BatchNorm1d');

const eps = number('eps', { default: NORM_EPS, min: 0, doc: 'added to the variance' });
const momentum = number('momentum', { default: BATCH_NORM_MOMENTUM, min: 0, max: 1, doc: 'the running statistics\' update rate' });

function batchNormLayer<const N extends 'BatchNorm2d' | 'BatchNorm1d'>(name: N, summary: string, channel: string) {
  return defineLayer({
    name,
    op: name === 'BatchNorm2d' ? batchNorm2dOp : batchNorm1dOp,
    params: [size('c', { aliases: name === 'BatchNorm1d' ? ['num_features', 'f'] : ['num_features'], min: 1, doc: channel }), eps, momentum],
    doc: { summary },
    weights: (args) => ({
      params: [{ suffix: 'weight', shape: [args.c], init: ONES }, { suffix: 'bias', shape: [args.c], init: ZEROS }],
      buffers: [{ suffix: 'running_mean', shape: [args.c], init: 'zeros' }, { suffix: 'running_var', shape: [args.c], init: 'ones' }],
    }),
    attrs: (args): NormAttrs => ({ eps: args.eps, momentum: args.momentum }),
    inputSize: { arg: 'c', pytorchName: 'num_features', axis: 1 },
    pytorch: (args) => `nn.${name}(${args.c}, eps=${args.eps}, momentum=${pyFloat(args.momentum)})`,
  });
}

export const BatchNorm2dLayer = batchNormLayer('BatchNorm2d', 'Batch normalization over `[B, C, H, W]` per channel; `weight`, `bias: [C]`, running statistics as buffers.', 'channels');
export const BatchNorm1dLayer = batchNormLayer('BatchNorm1d', 'Batch normalization over `[B, C]` or `[B, C, L]` per feature.', 'features');

/** An input that does not fit: the result is unknown (the input's size or the layer's may be the mistake). */
const layerNormRule = ([x, weight]: readonly Shape[]): RuleResult =>
  x.length === 0 || !x[x.length - 1].equals(weight[0])
    ? ruleError('NN2111', ['LayerNorm', `${weight[0]} features on the last axis`, { input: 0 }, formatShape(x)])
    : { shape: x };

export const layerNormOp = defineOpWith<{ eps: number }>()({
  name: 'layer_norm',
  surface: 'layer',
  params: [],
  doc: { summary: 'The op of `LayerNorm`: normalizes each row over the last axis.', gradient: 'dL/dx = (γ / σ) · (g − mean(g) − x̂ · mean(g ⊙ x̂)) per row; dL/dγ = Σ g ⊙ x̂, dL/dβ = Σ g' },
  shape: layerNormRule,
  flops: (_inputs, output) => elementCount(output).scale(2),
  ts: ([x, weight, bias], { eps: epsilon }) => layerNorm(x, weight, bias, epsilon),
  onnx: {
    forward: (ctx, [x, gamma, beta], attrs) => {
      const { xhat, invstd } = normalize(ctx, x, [x.shape.length - 1], attrs.eps);
      return { outputs: [ctx.binary('Add', ctx.binary('Mul', xhat, gamma, x), beta, x).name], saved: { xhat, invstd } };
    },
    backward: (ctx, { inputs: [x, gamma], saved: { xhat, invstd } }, g, needs) => {
      const dx = needs[0] ? normalizeBackward(ctx, ctx.binary('Mul', g, gamma, g), xhat, invstd, [x.shape.length - 1]) : null;
      const dgamma = needs[1] ? ctx.reduceToShape(ctx.binary('Mul', g, xhat, g), gamma.shape) : null;
      const dbeta = needs[2] ? ctx.reduceToShape(g, gamma.shape) : null;
      return [dx, dgamma, dbeta];
    },
  },
  pytorch: ([x, w, b], attrs, ctx) => `F.layer_norm(${x}, (${ctx.inShapes[1][0]},), ${w}, ${b}, eps=${attrs.eps})`,
});

export const LayerNormLayer = defineLayer({
  name: 'LayerNorm',
  op: layerNormOp,
  params: [size('f', { aliases: ['normalized_shape'], min: 1, doc: 'normalized features (the last dim)' }), eps],
  doc: { summary: 'Layer normalization over the last axis; `weight`, `bias: [F]`.' },
  weights: (args) => ({ params: [{ suffix: 'weight', shape: [args.f], init: ONES }, { suffix: 'bias', shape: [args.f], init: ZEROS }], buffers: [] }),
  attrs: (args) => ({ eps: args.eps }),
  inputSize: { arg: 'f', pytorchName: 'normalized_shape', axis: -1 },
  pytorch: (args) => `nn.LayerNorm(${args.f}, eps=${args.eps})`,
});
