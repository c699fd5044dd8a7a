// SGD with momentum and weight decay, PyTorch's formulas (dampening 0, nesterov off):
// g = grad + wd·p; buf = g on the first step, then buf = μ·buf + g; p −= lr·buf.

import type { Tensor, FloatArray } from '../tensor/tensor.js';
import { Optimizer } from './optimizer.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  weightDecay?: number;
}

export class SGD extends Optimizer {
  /** The learning rate of the next step (a schedule sets it before each). */
  lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  private readonly momentumBuffers: (FloatArray | undefined)[] = [];

  constructor(params: readonly Tensor[], options: SgdOptions) {
    super(params);
    this.lr = options.lr;
    this.momentum = options.momentum ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
  }

  override state(): Record<string, (FloatArray | undefined)[]> {
    return { momentum_buffer: this.momentumBuffers };
  }

  protected update(param: FloatArray, grad: FloatArray, index: number): void {
    const { lr, momentum, weightDecay } = this;
    if (momentum === 0) {
      for (let i = 0; i < param.length; i++) param[i] -= lr * (grad[i] + weightDecay * param[i]);
      return;
    }
    const firstStep = this.momentumBuffers[index] === undefined;
    const buffer = this.stateBuffer(this.momentumBuffers, index);
    for (let i = 0; i < param.length; i++) {
      const g = grad[i] + weightDecay * param[i];
      buffer[i] = firstStep ? g : momentum * buffer[i] + g;
      param[i] -= lr * buffer[i];
    }
  }
}
