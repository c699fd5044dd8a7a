// What a `train` block takes, as data: its keys with their defaults, the built-in data sets
// and the optimizers with their arguments. The checker (training.ts) binds against these, and
// the editor's completion, hover and signature help and the generated docs tables show them.

import { IMAGE_SETS, type ImageSetName } from '../data/catalog.js';
import { defaultOf, type Param } from '../ops/def.js';
import { ALL_OPS, OPS } from '../ops/registry.js';
import type { DataHeader, DataSpec, OptimizerSpec, ScheduleSpec, TrainIR } from './api.js';

/** An argument of a data set, optimizer or schedule: a positive integer, a non-negative number, a string or a flag (`true`/`false`, its default 0 or 1). */
export interface ScalarParam {
  readonly name: string;
  readonly kind: 'count' | 'number' | 'string' | 'flag';
  /** Absent: required (unless `defaultText` says what stands in). */
  readonly default?: number;
  /** An optional argument's default when no number is it (a cosine's `T_max`: the run's steps), as the docs show it. */
  readonly defaultText?: string;
  /** The least a count may be (default 1: a test split may be empty, 0). */
  readonly min?: number;
  /** The bound a number stays below (RMSprop's alpha: 1, as PyTorch checks). */
  readonly below?: number;
  readonly doc: string;
}

/** An optimizer's argument that is a tuple of numbers, each in [0, below): Adam's `betas = (0.9, 0.999)`, as many as its default has. */
export interface TupleParam {
  readonly name: string;
  readonly kind: 'tuple';
  readonly default: readonly number[];
  readonly defaultText?: undefined;
  readonly below: number;
  readonly doc: string;
}

export type TrainParam = ScalarParam | TupleParam;

export interface DataSetDef {
  readonly name: DataSpec['kind'];
  readonly params: readonly ScalarParam[];
  readonly doc: string;
  /** One sample's shape and the class count, as the docs show them (Markdown). */
  readonly samples: string;
  readonly classes: string;
  /** Read from files (their paths are the string arguments); else built in. */
  readonly files: boolean;
  /** A built-in set's header from its arguments (file sets are read by the caller). */
  readonly header?: (args: Readonly<Record<string, number>>) => DataHeader;
}

const count = (name: string, defaultValue: number, doc: string, min = 1): ScalarParam => ({ name, kind: 'count', default: defaultValue, min, doc });
const path = (name: string, doc: string): ScalarParam => ({ name, kind: 'string', doc });

function imageSet(name: ImageSetName, origin: string): DataSetDef {
  const set = IMAGE_SETS[name];
  const [c, h, w] = set.sampleShape;
  return {
    name,
    params: [
      count('train', set.defaults.train, `training images, the first of the official ${set.full.train}`),
      count('test', set.defaults.test, `test images, the first of the official ${set.full.test} (0: evaluate on the training data)`, 0),
    ],
    doc: `${set.title} images \`[${c}, ${h}, ${w}]\`, pixels scaled to [0, 1], ${set.classes} classes: the first \`train\` training and \`test\` test images of the official files, as torchvision's \`${set.title.replace(/-/g, '')}\` with \`ToTensor()\` gives them; ${origin}.`,
    samples: `\`[${set.sampleShape.join(', ')}]\``,
    classes: String(set.classes),
    files: false,
    header: () => ({ sampleShape: set.sampleShape, classes: set.classes, labelShape: [] }),
  };
}

const twoFeatures = (classes: number): DataHeader => ({ sampleShape: [2], classes, labelShape: [] });

/** The data sets a `train` block's `data` names, in the order the docs list them. */
export const DATA_SETS: Readonly<Record<DataSpec['kind'], DataSetDef>> = {
  fashion_mnist: imageSet('fashion_mnist', 'the defaults are the subset bundled with NN Studio (no download)'),
  mnist: imageSet('mnist', 'downloaded into the data cache on first use'),
  cifar10: imageSet('cifar10', 'downloaded into the data cache on first use (CIFAR-10\'s binary version)'),
  spirals: {
    name: 'spirals',
    params: [count('classes', 3, 'arms, one class each'), count('points', 100, 'points per class')],
    doc: 'Interleaved 2-D spirals (CS231n\'s), `points` per class, generated from fixed seeds (the same for every `seed`).',
    samples: '`[2]`',
    classes: '`classes`',
    files: false,
    header: (args) => twoFeatures(args.classes),
  },
  moons: {
    name: 'moons',
    params: [count('points', 200, 'points in each split')],
    doc: 'Two interleaved half-moons with noise, generated from fixed seeds (the same for every `seed`).',
    samples: '`[2]`',
    classes: '2',
    files: false,
    header: () => twoFeatures(2),
  },
  xor: {
    name: 'xor',
    params: [],
    doc: 'The four XOR points.',
    samples: '`[2]`',
    classes: '2',
    files: false,
    header: () => twoFeatures(2),
  },
  csv: {
    name: 'csv',
    params: [path('path', 'the CSV file, relative to the `.nn` file'), path('label', 'the label column\'s header')],
    doc: 'A CSV file with a header line: every column but `label` is a feature; numbers quoted or not, the delimiter `,` `;` tab or `|` that the header uses most, a UTF-8 BOM skipped.',
    samples: '`[number of columns − 1]`',
    classes: 'largest id + 1 for integer labels, else regression targets `[1]`',
    files: true,
  },
  idx: {
    name: 'idx',
    params: [path('images', 'the IDX images file'), path('labels', 'the IDX labels file')],
    doc: 'IDX files (the MNIST format): `[N, H, W]` images get a channel dim, as `fashion_mnist`; uint8 is scaled to [0, 1].',
    samples: '`[1, H, W]` for `[N, H, W]` images, else the array without its first dim',
    classes: 'largest label + 1',
    files: true,
  },
  npy: {
    name: 'npy',
    params: [path('x', 'the `.npy` samples'), path('y', 'the `.npy` labels or targets')],
    doc: 'NumPy `.npy` arrays of samples and labels (v1.0/2.0 headers, little-endian `<f4 <f8 <i4 <i8 |u1`).',
    samples: 'the shape of `x` without its first dim',
    classes: 'largest id + 1 for integer `y`, else regression targets',
    files: true,
  },
  text: {
    name: 'text',
    params: [path('path', 'the UTF-8 text file, relative to the `.nn` file'), count('block', 64, 'characters per sample (the model\'s sequence length T)'), count('stride', 64, 'characters between the starts of two samples'), { name: 'test', kind: 'number', default: 0.1, below: 1, doc: 'the fraction of the text, at its end, that is the test split (0: none)' }],
    doc: 'Character-level language modelling: the file\'s distinct characters in code-point order are the vocabulary (id = rank); each sample is `block` character ids from a window start (every `stride` characters), its labels the next character at each position. The last `test` fraction of the text is the test split, so no test window overlaps a training one.',
    samples: '`int[block]` character ids',
    classes: 'the number of distinct characters',
    files: true,
  },
};

/** The data set of this name, if there is one. */
export function dataSetDef(name: string): DataSetDef | undefined {
  return Object.prototype.hasOwnProperty.call(DATA_SETS, name) ? DATA_SETS[name as DataSpec['kind']] : undefined;
}

export interface OptimizerDef {
  readonly name: OptimizerSpec['kind'];
  readonly params: readonly TrainParam[];
  readonly doc: string;
}

const rate = (name: string, defaultValue: number | undefined, doc: string, below?: number): ScalarParam => ({ name, kind: 'number', ...(defaultValue === undefined ? {} : { default: defaultValue }), ...(below === undefined ? {} : { below }), doc });
const adamParams = (weightDecay: number, decayDoc: string): TrainParam[] => [
  rate('lr', 0.001, 'learning rate'),
  { name: 'betas', kind: 'tuple', default: [0.9, 0.999], below: 1, doc: 'decays of the gradient\'s running mean and of the squared gradient\'s, each in [0, 1)' },
  rate('eps', 1e-8, 'added to the denominator'),
  rate('weight_decay', weightDecay, decayDoc),
];

const flag = (name: string, doc: string): ScalarParam => ({ name, kind: 'flag', default: 0, doc });

/** The optimizers a `train` block's `optimizer` names, as in torch.optim. */
export const OPTIMIZERS: Readonly<Record<OptimizerSpec['kind'], OptimizerDef>> = {
  SGD: {
    name: 'SGD',
    params: [rate('lr', undefined, 'learning rate'), rate('momentum', 0, 'momentum factor'), rate('weight_decay', 0, 'L2 penalty added to the gradient'), flag('nesterov', 'Nesterov momentum: the step is g + momentum · buf (needs a momentum)')],
    doc: 'Stochastic gradient descent with optional momentum, Nesterov\'s with `nesterov = true` (torch.optim.SGD).',
  },
  Adam: { name: 'Adam', params: adamParams(0, 'L2 penalty added to the gradient'), doc: 'Adam (torch.optim.Adam); weight decay is an L2 penalty added to the gradient.' },
  AdamW: { name: 'AdamW', params: adamParams(0.01, 'decoupled weight decay'), doc: 'Adam with decoupled weight decay (torch.optim.AdamW).' },
  RMSprop: {
    name: 'RMSprop',
    params: [rate('lr', 0.01, 'learning rate'), rate('alpha', 0.99, 'decay of the squared gradient\'s running mean', 1), rate('eps', 1e-8, 'added to the denominator'), rate('weight_decay', 0, 'L2 penalty added to the gradient'), rate('momentum', 0, 'momentum factor')],
    doc: 'RMSprop (torch.optim.RMSprop, not centered): v = alpha · v + (1 − alpha) · g², p −= lr · g / (√v + eps), through a momentum buffer when `momentum` > 0.',
  },
};

export function optimizerDef(name: string): OptimizerDef | undefined {
  return Object.prototype.hasOwnProperty.call(OPTIMIZERS, name) ? OPTIMIZERS[name as OptimizerSpec['kind']] : undefined;
}

/** The optimizer when a `train` block names none. */
export const DEFAULT_OPTIMIZER: OptimizerSpec = { kind: 'Adam', lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

export interface ScheduleDef {
  readonly name: ScheduleSpec['kind'];
  readonly params: readonly ScalarParam[];
  /** The torch.optim.lr_scheduler class it is. */
  readonly torch: string;
  readonly doc: string;
}

/** The learning-rate schedules a `train` block's `schedule` names, stepped once per optimizer step. */
export const SCHEDULES: Readonly<Record<ScheduleSpec['kind'], ScheduleDef>> = {
  step: {
    name: 'step',
    params: [{ name: 'step_size', kind: 'count', doc: 'steps between two decays' }, rate('gamma', 0.1, 'the factor of each decay')],
    torch: 'StepLR',
    doc: 'lr · gamma^⌊t / step_size⌋ at step t (torch.optim.lr_scheduler.StepLR).',
  },
  cosine: {
    name: 'cosine',
    params: [{ name: 'T_max', kind: 'count', defaultText: 'steps', doc: 'steps of the half cosine (default: every step of the run after the warmup)' }, rate('eta_min', 0, 'the least learning rate')],
    torch: 'CosineAnnealingLR',
    doc: 'eta_min + (lr − eta_min) · (1 + cos(π t / T_max)) / 2 at step t (torch.optim.lr_scheduler.CosineAnnealingLR).',
  },
  linear: {
    name: 'linear',
    params: [rate('start_factor', 1 / 3, 'the factor of lr at the first step'), rate('end_factor', 1, 'the factor from step total_iters on'), count('total_iters', 5, 'steps from start_factor to end_factor')],
    torch: 'LinearLR',
    doc: 'lr times a factor going linearly from start_factor to end_factor over total_iters steps (torch.optim.lr_scheduler.LinearLR).',
  },
  one_cycle: {
    name: 'one_cycle',
    params: [
      rate('pct_start', 0.3, 'the fraction of the run\'s steps spent raising the rate', 1),
      rate('div_factor', 25, 'the first rate is lr / div_factor'),
      rate('final_div_factor', 1e4, 'the last rate is lr / (div_factor · final_div_factor)'),
    ],
    torch: 'OneCycleLR',
    doc: 'The 1cycle policy over every step of the run (torch.optim.lr_scheduler.OneCycleLR with max_lr = lr, anneal_strategy "cos", cycle_momentum off): cosine from lr / div_factor up to lr over the first pct_start of the steps, then cosine down to lr / (div_factor · final_div_factor).',
  },
};

export function scheduleDef(name: string): ScheduleDef | undefined {
  return Object.prototype.hasOwnProperty.call(SCHEDULES, name) ? SCHEDULES[name as ScheduleSpec['kind']] : undefined;
}

/** An argument's default as written in `.nn` (`true`, `0.001`, `(0.9, 0.999)`), its numbers by `format`. */
export function trainDefaultText(p: TrainParam, format: (n: number) => string): string | undefined {
  const d = p.default;
  if (d === undefined) return undefined;
  if (typeof d !== 'number') return `(${d.map(format).join(', ')})`;
  return p.kind === 'flag' ? String(d === 1) : format(d);
}

/** A data set's, optimizer's or schedule's call as the docs show it: `step(step_size, gamma = 0.1)`. */
export function trainCallSignature(name: string, params: readonly TrainParam[]): string {
  const shown = (p: TrainParam): string => (p.default !== undefined ? `${p.name} = ${trainDefaultText(p, (n) => String(+n.toPrecision(6)))}` : p.defaultText !== undefined ? `${p.name} = <${p.defaultText}>` : p.name);
  return `${name}(${params.map(shown).join(', ')})`;
}

export type TrainLoss = TrainIR['loss'];

/** The losses a `train` block's `loss` names: the registry's ops of surface `loss`. */
export const TRAIN_LOSSES: readonly TrainLoss[] = ALL_OPS.filter((op) => op.surface === 'loss').map((op) => op.name as TrainLoss);

/** A loss's attributes as a `train` block applies it: its given number arguments, the others at their defaults (label_smoothing 0, delta 1). */
export function lossAttrs(loss: TrainLoss, args: Readonly<Record<string, number>> = {}): Record<string, unknown> {
  const attrs: Record<string, unknown> = {};
  for (const param of OPS[loss].params) if (param.kind !== 'tensor' && param.kind !== 'tensors') attrs[param.name] = args[param.name] ?? defaultOf(param);
  return attrs;
}

/** The number arguments a `train` block may give a loss (`cross_entropy(label_smoothing = 0.1)`), with their bounds. */
export function lossParams(loss: TrainLoss): readonly Param[] {
  return (OPS[loss].params as readonly Param[]).filter((p) => p.kind === 'number');
}

/** Whether a loss takes class weights (`cross_entropy(weight = [1.0, 2.0])`), a `weight` tensor in its registry entry. */
export function lossTakesWeight(loss: TrainLoss): boolean {
  return OPS[loss].params.some((p) => p.name === 'weight' && p.kind === 'tensor');
}

/** The loss when a `train` block names none (PyTorch's usual classifier loss). */
export const DEFAULT_LOSS: TrainLoss = 'cross_entropy';

/** The back ends a `train` block's `backend` names. */
export const BACKENDS = ['auto', 'ts', 'onnx'] as const;

/**
 * What a key's value is: a data set or optimizer call, a loss name, a count, a seed, a
 * fraction or `test`, a back end, a folder path.
 */
export type TrainValueKind = 'data' | 'optimizer' | 'loss' | 'count' | 'seed' | 'validate' | 'backend' | 'path' | 'schedule' | 'steps' | 'positive' | 'patience' | 'layers' | 'decay_groups';

/** What `no_decay` may name: the parameters the optimizer's weight decay skips. */
export const NO_DECAY_GROUPS = ['none', 'bias_and_norm'] as const;

export interface TrainKeyDef {
  readonly name: string;
  readonly value: TrainValueKind;
  /** The default as written in `.nn` (absent: required). */
  readonly default?: string;
  readonly doc: string;
}

/** The keys of a `train` block (LANGUAGE.md §9), in the order the docs list them. */
export const TRAIN_KEYS: readonly TrainKeyDef[] = [
  { name: 'data', value: 'data', doc: 'The data set: a built-in one or files.' },
  { name: 'loss', value: 'loss', default: DEFAULT_LOSS, doc: 'The loss between the model output and the targets, by name or with its number arguments (`cross_entropy(label_smoothing = 0.1)`) and, for `cross_entropy` and `nll`, class weights, one per class (`cross_entropy(weight = [1.0, 2.0, 0.5])`).' },
  { name: 'optimizer', value: 'optimizer', default: 'Adam(lr = 0.001)', doc: 'The optimizer, as in torch.optim.' },
  { name: 'epochs', value: 'count', default: '1', doc: 'Passes over the training data (an integer ≥ 1).' },
  { name: 'batch', value: 'count', default: '32', doc: 'Samples per step (an integer ≥ 1).' },
  { name: 'seed', value: 'seed', default: '0', doc: 'Seed of initialization, shuffling and dropout (an integer ≥ 0).' },
  { name: 'validate', value: 'validate', default: '"test"', doc: 'A fraction in (0, 1) of the training data held out, or `"test"` for the data set\'s test split (files without one hold out nothing).' },
  { name: 'backend', value: 'backend', default: '"auto"', doc: '`"auto"`, `"ts"` (the TypeScript autograd engine) or `"onnx"` (onnxruntime-node).' },
  { name: 'schedule', value: 'schedule', default: 'none', doc: 'A learning-rate schedule, stepped after every optimizer step as in torch.optim.lr_scheduler.' },
  { name: 'warmup', value: 'steps', default: '0', doc: 'Steps of linear warmup before the schedule: lr · (1/N + (1 − 1/N) · t/N) at step t < N, as `LinearLR(start_factor = 1/N, total_iters = N)` followed by the schedule in `SequentialLR` (an integer ≥ 0).' },
  { name: 'clip_grad_norm', value: 'positive', default: 'none', doc: 'Scales all gradients down so that their total L2 norm is at most this (`torch.nn.utils.clip_grad_norm_`), before the update; the gradient statistics show the clipped gradients.' },
  { name: 'clip_grad_value', value: 'positive', default: 'none', doc: 'Clamps every gradient element to [−v, v] (`torch.nn.utils.clip_grad_value_`), after `clip_grad_norm`.' },
  { name: 'early_stopping', value: 'patience', default: 'none', doc: 'Stops when the evaluation loss has not improved for this many epochs (an integer ≥ 1), keeping the best epoch\'s weights in `best.safetensors` beside the checkpoint.' },
  { name: 'accumulate', value: 'count', default: '1', doc: 'Micro-batches of `batch` samples per optimizer step (an integer ≥ 1): their gradients are averaged, as `(loss / accumulate).backward()` on each and `optimizer.step()` after every `accumulate`-th in PyTorch; an epoch\'s last step averages the micro-batches left. Schedules, warmup and clipping count and act on optimizer steps.' },
  { name: 'no_decay', value: 'decay_groups', default: '"none"', doc: '`"bias_and_norm"`: the optimizer\'s `weight_decay` skips every parameter of fewer than 2 dims (biases and the weights of norm layers), as two parameter groups in PyTorch (the second with `weight_decay = 0`); `"none"`: every parameter decays, as `torch.optim` does with `model.parameters()`.' },
  { name: 'freeze', value: 'layers', default: '[]', doc: 'Layers (or block instances, or raw `param`s) whose parameters get no gradient and no update: `freeze = [conv1, conv2]`, as `requires_grad_(False)` in PyTorch.' },
  { name: 'checkpoint', value: 'layers', default: '[]', doc: 'Layer or block instances whose applications keep no activations for the backward pass and are recomputed in it (activation checkpointing, as `torch.utils.checkpoint.checkpoint`): less memory for more compute, the same gradients; `checkpoint = [res1, res2]`. Around any expression in a forward: `checkpoint(block(h))`.' },
  { name: 'save', value: 'path', default: '"runs/<model>"', doc: 'Output folder for checkpoints (`.safetensors`), the exported `.onnx` and the run log.' },
];

export function trainKeyDef(name: string): TrainKeyDef | undefined {
  return TRAIN_KEYS.find((k) => k.name === name);
}

/** A key's default as a number (`epochs`, `batch`, `seed`). */
export function numericDefault(key: string): number {
  return Number(trainKeyDef(key)?.default);
}
