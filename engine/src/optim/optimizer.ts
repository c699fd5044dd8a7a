// The base of optimizers: the parameter list, zeroGrad, and per-parameter state buffers.

import type { Tensor, FloatArray } from '../tensor/tensor.js';
import { allocateFloat } from '../tensor/tensor.js';

export abstract class Optimizer {
  /** Steps taken so far (Adam's bias correction uses it). */
  stepCount = 0;
  /** The learning rate of the next step (a schedule sets it before each). */
  abstract lr: number;
  /** Indices of the parameters weight decay skips (a `train` block's `no_decay`: PyTorch's second parameter group). */
  readonly noDecay = new Set<number>();

  constructor(readonly params: readonly Tensor[]) {
    for (const p of params) {
      if (!p.requiresGrad) throw new Error(`optimizer: parameter ${p.toString()} does not require a gradient`);
    }
  }

  /** Clears gradients (sets them to null, PyTorch's set_to_none default). */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /** Updates every parameter that has a gradient, in place. */
  step(): void {
    this.stepCount++;
    this.params.forEach((p, i) => {
      if (p.grad) this.update(p.values, p.grad.values, i);
    });
  }

  protected abstract update(param: FloatArray, grad: FloatArray, index: number): void;

  /** The weight decay of parameter `index`: the optimizer's, or 0 in the no-decay group. */
  protected decayOf(index: number, weightDecay: number): number {
    return this.noDecay.has(index) ? 0 : weightDecay;
  }

  /**
   * The per-parameter state buffers by PyTorch's state names (`exp_avg`, `momentum_buffer`),
   * each indexed like `params` (undefined before first use). The arrays are the live stores,
   * so a checkpoint reads them and a resume assigns into them.
   */
  state(): Record<string, (FloatArray | undefined)[]> {
    return {};
  }

  /** A zero-initialized state buffer per parameter (momentum, moments), created on first use. */
  protected stateBuffer(store: (FloatArray | undefined)[], index: number): FloatArray {
    let buffer = store[index];
    if (!buffer) {
      const p = this.params[index];
      buffer = allocateFloat(p.dtype, p.size);
      store[index] = buffer;
    }
    return buffer;
  }
}
