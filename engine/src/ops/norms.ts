// Normalizations written as composites (ops/compose.ts) of mean, sub, mul, pow and reshape:
// GroupNorm, InstanceNorm2d (a group per channel, no running statistics, as PyTorch's
// default) and RMSNorm over the last axis. Their gradients come from those ops on both back ends.

import { Dim, formatShape, type Shape } from '../shape/dim.js';
import { elementCount, ruleError, type RuleResult } from '../shape/rules.js';
import { bool, defineLayer, defineOpWith, number, size, type WeightSpec } from './def.js';
import { compositeRules, type Builder } from './compose.js';
import { ONES, ZEROS } from './initSpecs.js';
import { NORM_EPS } from './normalization.js';
import { sizeOf } from './shape-rule.js';

interface GroupNormAttrs {
  groups: Dim;
  eps: number;
  affine: boolean;
}

/** (v − mean) / √(var + eps) over the last axis of v (biased variance, as every norm). */
function standardize<T>(b: Builder<T>, v: T, eps: number): T {
  const centered = b.apply('sub', [v, b.apply('mean', [v], { axis: -1, keepdims: true })], {});
  const variance = b.apply('mean', [b.apply('mul', [centered, centered], {})], { axis: -1, keepdims: true });
  return b.apply('mul', [centered, b.apply('pow', [b.apply('add', [variance], { scalar: eps })], { exponent: -0.5 })], {});
}

/** x [N, C, *] standardized per (sample, group of C / G channels), then scaled and shifted per channel. */
function groupNorm<T>(b: Builder<T>, [x, weight, bias]: T[], { groups, eps, affine }: GroupNormAttrs): T {
  const shape = b.shape(x);
  const g = sizeOf(groups);
  const perGroup = elementCount(shape.slice(1)).floorDiv(Dim.of(g));
  const grouped = b.apply('reshape', [x], { shape: [shape[0], Dim.of(g), perGroup] });
  const normalized = b.apply('reshape', [standardize(b, grouped, eps)], { shape });
  if (!affine) return normalized;
  const channelShape = [shape[1], ...shape.slice(2).map(() => Dim.of(1))];
  const scaled = b.apply('mul', [normalized, b.apply('reshape', [weight], { shape: channelShape })], {});
  return b.apply('add', [scaled, b.apply('reshape', [bias], { shape: channelShape })], {});
}

function groupNormRule(layer: string) {
  return ([x, weight]: readonly Shape[], { groups }: GroupNormAttrs): RuleResult => {
    if (x.length < 2) return ruleError('NN2108', [layer, 'an input [N, C, ...]', { input: 0 }, formatShape(x)]);
    // Channels that do not fit: the result is unknown (the input's count or the layer's may be the mistake).
    if (weight && !x[1].equals(weight[0])) return ruleError('NN2104', [layer, weight[0].toString(), { input: 0 }, formatShape(x), '']);
    if (layer === 'InstanceNorm2d') {
      // Without affine parameters only the constructor's channel count says what it expects.
      if (!x[1].equals(groups)) return ruleError('NN2104', [layer, groups.toString(), { input: 0 }, formatShape(x), '']);
      // One position per channel standardizes to 0; PyTorch refuses it in training.
      if (x.length === 4 && elementCount(x.slice(2)).constant() === 1) return ruleError('NN2111', [layer, 'more than one position per channel (H·W > 1)', { input: 0 }, formatShape(x)], x);
    }
    const channels = x[1].constant();
    const g = groups.constant();
    if (layer === 'GroupNorm' && channels !== null && g !== null && channels % g !== 0) return ruleError('NN2007', ['GroupNorm', 'groups', `a divisor of the ${channels} channels`, g], x);
    return { shape: x };
  };
}

const NORM_GRADIENT = 'dL/dx = (γ / σ) · (g − mean(g) − x̂ · mean(g ⊙ x̂)) per group; dL/dγ = Σ g ⊙ x̂, dL/dβ = Σ g (through mean, sub, mul and pow)';

export const groupNormOp = defineOpWith<GroupNormAttrs>()({
  name: 'group_norm',
  surface: 'layer',
  params: [],
  doc: { summary: 'The op of `GroupNorm`: standardizes each sample over groups of channels (and all positions).', gradient: NORM_GRADIENT },
  shape: groupNormRule('GroupNorm'),
  flops: (_inputs, output) => elementCount(output).scale(4),
  ...compositeRules<GroupNormAttrs>(groupNorm),
  pytorch: ([x, w, b], { groups, eps }) => `F.group_norm(${x}, ${groups}, ${w ?? 'None'}, ${b ?? 'None'}, eps=${eps})`,
});

export const instanceNorm2dOp = defineOpWith<GroupNormAttrs>()({
  name: 'instance_norm2d',
  surface: 'layer',
  params: [],
  doc: { summary: 'The op of `InstanceNorm2d`: standardizes each channel of each image over its positions.', gradient: NORM_GRADIENT.replace('per group', 'per channel and image') },
  shape: groupNormRule('InstanceNorm2d'),
  flops: (_inputs, output) => elementCount(output).scale(4),
  ...compositeRules<GroupNormAttrs>(groupNorm),
  pytorch: ([x, w, b], { eps }) => `F.instance_norm(${x}, weight=${w ?? 'None'}, bias=${b ?? 'None'}, eps=${eps})`,
});

const eps = number('eps', { default: NORM_EPS, min: 0, doc: 'added to the variance' });

const affineWeights = (affine: boolean, channels: Dim): { params: WeightSpec[]; buffers: [] } => ({
  params: affine ? [{ suffix: 'weight', shape: [channels], init: ONES }, { suffix: 'bias', shape: [channels], init: ZEROS }] : [],
  buffers: [],
});

export const GroupNormLayer = defineLayer({
  name: 'GroupNorm',
  op: groupNormOp,
  params: [
    size('groups', { aliases: ['num_groups'], min: 1, doc: 'channel groups; must divide the channels' }),
    size('c', { aliases: ['num_channels'], min: 1, doc: 'channels (dim 1)' }),
    eps,
    bool('affine', { default: true, doc: 'learn a scale and shift per channel' }),
  ],
  doc: { summary: 'Group normalization over `[B, C, ...]` (Wu & He 2018): each sample\'s channels in `groups` groups, standardized over the group; `weight`, `bias: [C]`. Independent of the batch size.' },
  weights: (args) => affineWeights(args.affine, args.c),
  attrs: (args) => ({ groups: args.groups, eps: args.eps, affine: args.affine }),
  inputSize: { arg: 'c', pytorchName: 'num_channels', axis: 1 },
  pytorch: (args) => `nn.GroupNorm(${args.groups}, ${args.c}, eps=${args.eps}${args.affine ? '' : ', affine=False'})`,
});

export const InstanceNorm2dLayer = defineLayer({
  name: 'InstanceNorm2d',
  op: instanceNorm2dOp,
  params: [size('c', { aliases: ['num_features'], min: 1, doc: 'channels (dim 1)' }), eps, bool('affine', { default: false, doc: 'learn a scale and shift per channel' })],
  doc: { summary: 'Instance normalization over `[B, C, H, W]`: each channel of each image standardized over its positions (PyTorch\'s defaults: no affine parameters, no running statistics).' },
  weights: (args) => affineWeights(args.affine, args.c),
  attrs: (args) => ({ groups: args.c, eps: args.eps, affine: args.affine }),
  inputSize: { arg: 'c', pytorchName: 'num_features', axis: 1 },
  pytorch: (args) => `nn.InstanceNorm2d(${args.c}, eps=${args.eps}${args.affine ? ', affine=True' : ''})`,
});

// -- RMSNorm -------------------------------------------------------------------------------

/** RMSNorm's default eps (LLaMA's; torch.nn.RMSNorm's None means the dtype's machine epsilon). */
export const RMS_NORM_EPS = 1e-6;

export const rmsNormOp = defineOpWith<{ eps: number }>()({
  name: 'rms_norm',
  surface: 'layer',
  params: [],
  doc: { summary: 'The op of `RMSNorm`: `x / √(mean(x²) + eps) · γ` over the last axis.', gradient: 'dL/dx = (γ ⊙ g − x̂ · mean(γ ⊙ g ⊙ x̂)) / rms per row; dL/dγ = Σ g ⊙ x̂ (through mean, mul and pow)' },
  shape: ([x, weight]) =>
    // An input that does not fit: the result is unknown (the input's size or the layer's may be the mistake).
    x.length === 0 || !x[x.length - 1].equals(weight[0]) ? ruleError('NN2111', ['RMSNorm', `${weight[0]} features on the last axis`, { input: 0 }, formatShape(x)]) : { shape: x },
  flops: (_inputs, output) => elementCount(output).scale(3),
  ...compositeRules<{ eps: number }>((b, [x, weight], { eps: epsilon }) => {
    const meanSquare = b.apply('mean', [b.apply('mul', [x, x], {})], { axis: -1, keepdims: true });
    const inverseRms = b.apply('pow', [b.apply('add', [meanSquare], { scalar: epsilon })], { exponent: -0.5 });
    return b.apply('mul', [b.apply('mul', [x, inverseRms], {}), weight], {});
  }),
  pytorch: ([x, w], { eps: epsilon }) => `${x} * torch.rsqrt(${x}.pow(2).mean(-1, keepdim=True) + ${epsilon}) * ${w}`,
});

export const RMSNormLayer = defineLayer({
  name: 'RMSNorm',
  op: rmsNormOp,
  params: [size('f', { aliases: ['normalized_shape'], min: 1, doc: 'normalized features (the last dim)' }), number('eps', { default: RMS_NORM_EPS, min: 0, doc: 'added to the mean square' })],
  doc: { summary: 'Root-mean-square normalization over the last axis (Zhang & Sennrich 2019; LLaMA\'s): no centering, `weight: [F]`, no bias.' },
  weights: (args) => ({ params: [{ suffix: 'weight', shape: [args.f], init: ONES }], buffers: [] }),
  attrs: (args) => ({ eps: args.eps }),
  inputSize: { arg: 'f', pytorchName: 'normalized_shape', axis: -1 },
  // torch.nn.RMSNorm is only in torch 2.4+: the export keeps `weight` as a parameter and applies the op's form.
  pytorch: () => null,
});
