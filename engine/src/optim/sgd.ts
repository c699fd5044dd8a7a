// SGD with momentum and weight decay, PyTorch's formulas (dampening 0):
// g = grad + wd·p; buf = g on the first step, then buf = μ·buf + g; p −= lr·buf,
// or with Nesterov momentum p −= lr·(g + μ·buf).

import type { Tensor, FloatArray } from '../tensor/tensor.js';
import { Optimizer } from './optimizer.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  /** The learning rate of the next step (a schedule sets it before each). */
  lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  private readonly momentumBuffers: (FloatArray | undefined)[] = [];

  constructor(params: readonly Tensor[], options: SgdOptions) {
    super(params);
    this.lr = options.lr;
    this.momentum = options.momentum ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    this.nesterov = options.nesterov ?? false;
    if (this.nesterov && this.momentum === 0) throw new Error('SGD: Nesterov momentum needs a momentum above 0');
  }

  override state(): Record<string, (FloatArray | undefined)[]> {
    return { momentum_buffer: this.momentumBuffers };
  }

  protected update(param: FloatArray, grad: FloatArray, index: number): void {
    const { lr, momentum, nesterov } = this;
    const weightDecay = this.decayOf(index, this.weightDecay);
    if (momentum === 0) {
      for (let i = 0; i < param.length; i++) param[i] -= lr * (grad[i] + weightDecay * param[i]);
      return;
    }
    const firstStep = this.momentumBuffers[index] === undefined;
    const buffer = this.stateBuffer(this.momentumBuffers, index);
    for (let i = 0; i < param.length; i++) {
      const g = grad[i] + weightDecay * param[i];
      buffer[i] = firstStep ? g : momentum * buffer[i] + g;
      param[i] -= lr * (nesterov ? g + momentum * buffer[i] : buffer[i]);
    }
  }
}
