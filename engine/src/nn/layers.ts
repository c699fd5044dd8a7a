// Built-in layers with PyTorch's default initialization: Linear, Conv2d, BatchNorm1d/2d,
// LayerNorm, Embedding, Dropout, and Sequential to chain them.

import type { Tensor } from '../tensor/tensor.js';
import { zeros, ones } from '../tensor/tensor.js';
import { defaultRng, type Rng } from '../random.js';
import { linear } from '../ops/matmul.js';
import { conv2d } from '../ops/conv2d.js';
import { batchNorm, layerNorm } from '../ops/normalization.js';
import { embedding } from '../ops/embedding.js';
import { dropout } from '../ops/dropout.js';
import { Module } from './module.js';
import { initTensor } from './init.js';

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, options: { bias?: boolean; rng?: Rng } = {}) {
    super();
    const rng = options.rng ?? defaultRng();
    this.weight = this.registerParameter('weight', initTensor({ kind: 'kaiming_uniform', fanIn: inFeatures }, [outFeatures, inFeatures], rng));
    this.bias = options.bias === false ? null : this.registerParameter('bias', initTensor({ kind: 'bias_uniform', fanIn: inFeatures }, [outFeatures], rng));
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

export class Conv2d extends Module {
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
    super();
    const rng = options.rng ?? defaultRng();
    const fanIn = inChannels * kernel * kernel;
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
    this.weight = this.registerParameter('weight', initTensor({ kind: 'kaiming_uniform', fanIn }, [outChannels, inChannels, kernel, kernel], rng));
    this.bias = options.bias === false ? null : this.registerParameter('bias', initTensor({ kind: 'bias_uniform', fanIn }, [outChannels], rng));
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding });
  }
}

/** Batch norm over channel dim 1; BatchNorm1d and BatchNorm2d differ only in the input rank they accept. */
abstract class BatchNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;

  constructor(readonly features: number, readonly options: { momentum?: number; eps?: number } = {}) {
    super();
    this.weight = this.registerParameter('weight', ones([features]));
    this.bias = this.registerParameter('bias', zeros([features]));
    this.runningMean = this.registerBuffer('running_mean', zeros([features]));
    this.runningVar = this.registerBuffer('running_var', ones([features]));
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

export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly features: number, readonly eps = 1e-5) {
    super();
    this.weight = this.registerParameter('weight', ones([features]));
    this.bias = this.registerParameter('bias', zeros([features]));
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

export class Embedding extends Module {
  readonly weight: Tensor;

  constructor(readonly count: number, readonly dim: number, options: { rng?: Rng } = {}) {
    super();
    this.weight = this.registerParameter('weight', initTensor({ kind: 'normal', std: 1 }, [count, dim], options.rng ?? defaultRng()));
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
