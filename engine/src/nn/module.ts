// The base of layers: named parameters and buffers in PyTorch's state_dict naming
// (`fc1.weight`, `bn1.running_mean`), child modules, and the train/eval switch.

import type { Tensor } from '../tensor/tensor.js';

export abstract class Module {
  /** Train mode (dropout active, batch norm uses batch statistics); `eval()` turns it off. */
  training = true;
  private readonly ownParams = new Map<string, Tensor>();
  private readonly ownBuffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  abstract forward(input: Tensor): Tensor;

  /** Registers a trainable tensor (marked as requiring a gradient) under `name`. */
  protected registerParameter(name: string, value: Tensor): Tensor {
    value.requiresGrad = true;
    this.ownParams.set(name, value);
    return value;
  }

  protected registerBuffer(name: string, value: Tensor): Tensor {
    this.ownBuffers.set(name, value);
    return value;
  }

  protected registerModule<M extends Module>(name: string, module: M): M {
    this.children.set(name, module);
    return module;
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [...this.ownParams].map(([name, t]) => [prefix + name, t]);
    for (const [name, child] of this.children) out.push(...child.namedParameters(`${prefix}${name}.`));
    return out;
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [...this.ownBuffers].map(([name, t]) => [prefix + name, t]);
    for (const [name, child] of this.children) out.push(...child.namedBuffers(`${prefix}${name}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  train(mode = true): this {
    this.training = mode;
    for (const child of this.children.values()) child.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }
}
