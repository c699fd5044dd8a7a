// Built-in layers with PyTorch's default initialization: Linear, Conv2d, BatchNorm1d/2d,
// LayerNorm, Embedding, Dropout, and Sequential to chain them. Their parameters and buffers
// (shapes and initialization) are those the op registry's layer definitions give.

import type { Tensor } from '../tensor/tensor.js';
import { zeros, ones } from '../tensor/tensor.js';
import { defaultRng, type Rng } from '../random.js';
import { Dim } from '../shape/dim.js';
import { sizeOf } from '../ops/shape-rule.js';
import type { BufferSpec, WeightSpec } from '../ops/def.js';
import { linear, LinearLayer } from '../ops/matmul.js';
import { conv2d, Conv2dLayer } from '../ops/conv2d.js';
import { batchNorm, BatchNorm1dLayer, layerNorm, LayerNormLayer, NORM_EPS, BATCH_NORM_MOMENTUM } from '../ops/normalization.js';
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
    super(LinearLayer.weights({ in: Dim.of(inFeatures), out: Dim.of(outFeatures), bias: options.bias !== false }), options.rng ?? defaultRng());
    this.weight = this.weights.get('weight')!;
    this.bias = this.weights.get('bias') ?? null;
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

export class Conv2d extends RegistryModule {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly stride: number;
  readonly padding: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    options: { stride?: number; padding?: number; bias?: boolean; rng?: Rng } = {},
  ) {
    const stride = options.stride ?? 1;
    const padding = options.padding ?? 0;
    const pair = (n: number) => [Dim.of(n), Dim.of(n)] as const;
    const args = { in: Dim.of(inChannels), out: Dim.of(outChannels), kernel: pair(kernel), stride: pair(stride), padding: pair(padding), dilation: pair(1), groups: Dim.of(1), bias: options.bias !== false };
    super(Conv2dLayer.weights(args), options.rng ?? defaultRng());
    this.stride = stride;
    this.padding = padding;
    this.weight = this.weights.get('weight')!;
    this.bias = this.weights.get('bias') ?? null;
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding });
  }
}

/** Batch norm over channel dim 1; BatchNorm1d and BatchNorm2d differ only in the input rank they accept. */
abstract class BatchNorm extends RegistryModule {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;

  constructor(readonly features: number, readonly options: { momentum?: number; eps?: number } = {}) {
    // BatchNorm1d's and BatchNorm2d's weights are the same.
    super(BatchNorm1dLayer.weights({ c: Dim.of(features), eps: options.eps ?? NORM_EPS, momentum: options.momentum ?? BATCH_NORM_MOMENTUM }), defaultRng());
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
    return batchNorm(x, this.weight, this.bias, this.runningMean, this.runningVar, { training: this.training, ...this.options });
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

  constructor(readonly features: number, readonly eps = NORM_EPS) {
    super(LayerNormLayer.weights({ f: Dim.of(features), eps }), defaultRng());
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
    super(EmbeddingLayer.weights({ n: Dim.of(count), d: Dim.of(dim), padding_idx: undefined }), options.rng ?? defaultRng());
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
