// Adam and AdamW with PyTorch's formulas and bias correction:
// m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²; p −= (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + eps).
// Adam adds weight decay to the gradient (L2); AdamW decays the weight: p ·= 1 − lr·wd.

import type { Tensor, FloatArray } from '../tensor/tensor.js';
import { Optimizer } from './optimizer.js';
import { adamUpdate } from '../kernels/adam.js';

export interface AdamOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

export class Adam extends Optimizer {
  /** The learning rate of the next step (a schedule sets it before each). */
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly firstMoments: (FloatArray | undefined)[] = [];
  private readonly secondMoments: (FloatArray | undefined)[] = [];

  constructor(params: readonly Tensor[], options: AdamOptions = {}, private readonly decoupled = false) {
    super(params);
    this.lr = options.lr ?? 1e-3;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? (decoupled ? 0.01 : 0);
  }

  override state(): Record<string, (FloatArray | undefined)[]> {
    return { exp_avg: this.firstMoments, exp_avg_sq: this.secondMoments };
  }

  protected update(param: FloatArray, grad: FloatArray, index: number): void {
    const { lr, beta1, beta2, eps, decoupled } = this;
    const weightDecay = this.decayOf(index, this.weightDecay);
    const m = this.stateBuffer(this.firstMoments, index);
    const v = this.stateBuffer(this.secondMoments, index);
    adamUpdate(param, grad, m, v, {
      beta1,
      beta2,
      eps,
      stepSize: lr / (1 - beta1 ** this.stepCount),
      sqrtCorrection2: Math.sqrt(1 - beta2 ** this.stepCount),
      l2: decoupled ? 0 : weightDecay,
      decay: decoupled ? 1 - lr * weightDecay : 1,
    });
  }
}

/** Adam with decoupled weight decay (default 0.01, as in PyTorch). */
export class AdamW extends Adam {
  constructor(params: readonly Tensor[], options: AdamOptions = {}) {
    super(params, options, true);
  }
}
