// Built-in layers with PyTorch's default initialization: Linear, Conv2d, BatchNorm1d/2d,
// LayerNorm, Embedding, Dropout, and Sequential to chain them. Their parameters and buffers
// (shapes and initialization) are those the op registry's layer definitions give, and so are
// the defaults of the options left out.

import type { Tensor } from '../tensor/tensor.js';
import { zeros, ones } from '../tensor/tensor.js';
import { defaultRng, type Rng } from '../random.js';
import { Dim } from '../shape/dim.js';
import { sizeOf } from '../ops/shape-rule.js';
import { layerArgs, type BufferSpec, type Pair, type WeightSpec } from '../ops/def.js';
import { linear, LinearLayer } from '../ops/matmul.js';
import { conv2dOf, Conv2dLayer, type Conv2dAttrs } from '../ops/conv2d.js';
import { batchNorm, BatchNorm1dLayer, layerNorm, LayerNormLayer } from '../ops/normalization.js';
import { embedding, EmbeddingLayer } from '../ops/embedding.js';
import { dropout } from '../ops/dropout.js';
import { Module } from './module.js';
import { initTensor } from './init.js';

/** A module whose parameters and buffers a registry layer's `weights` gives, drawn in its order from `rng`. */
abstract class RegistryModule extends Module {
  protected readonly weights = new Map<string, Tensor>();

  protected constructor(spec: { params: WeightSpec[]; buffers: BufferSpec[] }, rng: Rng) {
    super();
    for (const p of spec.params) this.weights.set(p.suffix, this.registerParameter(p.suffix, initTensor(p.init, p.shape.map(sizeOf), rng)));
    for (const b of spec.buffers) this.weights.set(b.suffix, this.registerBuffer(b.suffix, (b.init === 'zeros' ? zeros : ones)(b.shape.map(sizeOf))));
  }
}

export class Linear extends RegistryModule {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, options: { bias?: boolean; rng?: Rng } = {}) {
    super(LinearLayer.weights(layerArgs(LinearLayer, { in: Dim.of(inFeatures), out: Dim.of(outFeatures), bias: options.bias })), options.rng ?? defaultRng());
    this.weight = this.weights.get('weight')!;
    this.bias = this.weights.get('bias') ?? null;
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

/** A size given for both axes of a `pair` argument. */
const bothAxes = (size: number | undefined): Pair | undefined => (size === undefined ? undefined : [Dim.of(size), Dim.of(size)]);

export class Conv2d extends RegistryModule {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  /** The conv2d op's attributes: the options given, the layer's defaults for the rest. */
  private readonly attrs: Conv2dAttrs;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    options: { stride?: number; padding?: number; bias?: boolean; rng?: Rng } = {},
  ) {
    const given = { in: Dim.of(inChannels), out: Dim.of(outChannels), kernel: bothAxes(kernel), stride: bothAxes(options.stride), padding: bothAxes(options.padding), bias: options.bias };
    const args = layerArgs(Conv2dLayer, given);
    super(Conv2dLayer.weights(args), options.rng ?? defaultRng());
    this.attrs = Conv2dLayer.attrs(args);
    this.weight = this.weights.get('weight')!;
    this.bias = this.weights.get('bias') ?? null;
  }

  forward(x: Tensor): Tensor {
    return conv2dOf(x, this.weight, this.bias, this.attrs);
  }
}

/** Batch norm over channel dim 1; BatchNorm1d and BatchNorm2d differ only in the input rank they accept. */
abstract class BatchNorm extends RegistryModule {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly momentum: number;
  readonly eps: number;

  constructor(readonly features: number, options: { momentum?: number; eps?: number } = {}) {
    // BatchNorm1d's and BatchNorm2d's signatures and weights are the same.
    const args = layerArgs(BatchNorm1dLayer, { c: Dim.of(features), ...options });
    super(BatchNorm1dLayer.weights(args), defaultRng());
    this.momentum = args.momentum;
    this.eps = args.eps;
    this.weight = this.weights.get('weight')!;
    this.bias = this.weights.get('bias')!;
    this.runningMean = this.weights.get('running_mean')!;
    this.runningVar = this.weights.get('running_var')!;
  }

  protected abstract readonly ranks: readonly number[];

  forward(x: Tensor): Tensor {
    if (!this.ranks.includes(x.rank)) {
      throw new RangeError(`${this.constructor.name}: expects an input of rank ${this.ranks.join(' or ')}, got shape [${x.shape.join(', ')}]`);
    }
    return batchNorm(x, this.weight, this.bias, this.runningMean, this.runningVar, { training: this.training, momentum: this.momentum, eps: this.eps });
  }
}

export class BatchNorm1d extends BatchNorm {
  protected readonly ranks = [2, 3];
}

export class BatchNorm2d extends BatchNorm {
  protected readonly ranks = [4];
}

export class LayerNorm extends RegistryModule {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly eps: number;

  constructor(readonly features: number, eps?: number) {
    const args = layerArgs(LayerNormLayer, { f: Dim.of(features), eps });
    super(LayerNormLayer.weights(args), defaultRng());
    this.eps = args.eps;
    this.weight = this.weights.get('weight')!;
    this.bias = this.weights.get('bias')!;
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

export class Embedding extends RegistryModule {
  readonly weight: Tensor;

  constructor(readonly count: number, readonly dim: number, options: { rng?: Rng } = {}) {
    super(EmbeddingLayer.weights(layerArgs(EmbeddingLayer, { n: Dim.of(count), d: Dim.of(dim) })), options.rng ?? defaultRng());
    this.weight = this.weights.get('weight')!;
  }

  /** `ids` is an int64 tensor of any shape; the result adds a trailing `dim` axis. */
  forward(ids: Tensor): Tensor {
    return embedding(ids, this.weight);
  }
}

export class Dropout extends Module {
  constructor(readonly p: number, private readonly rng?: Rng) {
    super();
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training, rng: this.rng });
  }
}

/** Applies modules and plain functions (`relu`) in order; modules are named by index. */
export class Sequential extends Module {
  private readonly stages: (Module | ((x: Tensor) => Tensor))[];

  constructor(...stages: (Module | ((x: Tensor) => Tensor))[]) {
    super();
    this.stages = stages;
    stages.forEach((stage, i) => {
      if (stage instanceof Module) this.registerModule(String(i), stage);
    });
  }

  forward(x: Tensor): Tensor {
    let h = x;
    for (const stage of this.stages) h = stage instanceof Module ? stage.forward(h) : stage(h);
    return h;
  }
}
