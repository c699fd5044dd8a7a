// RMSprop with PyTorch's formulas (not centered): g = grad + wd·p; v = α·v + (1−α)·g²;
// p −= lr·g / (√v + eps), or with momentum buf = μ·buf + g / (√v + eps); p −= lr·buf.

import type { Tensor, FloatArray } from '../tensor/tensor.js';
import { Optimizer } from './optimizer.js';

export interface RmspropOptions {
  lr?: number;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
}

export class RMSprop extends Optimizer {
  /** The learning rate of the next step (a schedule sets it before each). */
  lr: number;
  readonly alpha: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly momentum: number;
  private readonly squareAverages: (FloatArray | undefined)[] = [];
  private readonly momentumBuffers: (FloatArray | undefined)[] = [];

  constructor(params: readonly Tensor[], options: RmspropOptions = {}) {
    super(params);
    this.lr = options.lr ?? 0.01;
    this.alpha = options.alpha ?? 0.99;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    this.momentum = options.momentum ?? 0;
  }

  override state(): Record<string, (FloatArray | undefined)[]> {
    return this.momentum > 0 ? { square_avg: this.squareAverages, momentum_buffer: this.momentumBuffers } : { square_avg: this.squareAverages };
  }

  protected update(param: FloatArray, grad: FloatArray, index: number): void {
    const { lr, alpha, eps, momentum } = this;
    const weightDecay = this.decayOf(index, this.weightDecay);
    const v = this.stateBuffer(this.squareAverages, index);
    const buffer = momentum > 0 ? this.stateBuffer(this.momentumBuffers, index) : null;
    for (let i = 0; i < param.length; i++) {
      const g = grad[i] + weightDecay * param[i];
      v[i] = alpha * v[i] + (1 - alpha) * g * g;
      const scaled = g / (Math.sqrt(v[i]) + eps);
      if (buffer) {
        buffer[i] = momentum * buffer[i] + scaled;
        param[i] -= lr * buffer[i];
      } else param[i] -= lr * scaled;
    }
  }
}
