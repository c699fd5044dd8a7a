// The engine's tensor: a flat typed array in row-major order, a shape, a dtype, and the
// autograd fields (requiresGrad, grad, the tape node that produced it).

import type { TapeNode } from '../autograd/tape.js';
import { shapeSize, formatDims } from './shape.js';
import { sharedArray, wantsShared } from '../kernels/pool.js';

/**
 * Element types. `int64` holds labels and token ids; it is stored in an `Int32Array`
 * (ids and class indices fit in 32 bits, and JS numbers index arrays directly).
 */
export type DType = 'float32' | 'float64' | 'int64';
export type FloatArray = Float32Array | Float64Array;
export type TensorData = FloatArray | Int32Array;

/**
 * Zeroed storage for `size` elements; large arrays go to shared memory while the kernel
 * threads are on, so the threads read and write them in place.
 */
export function allocate(dtype: DType, size: number): TensorData {
  if (dtype === 'int64') return wantsShared(size) ? sharedArray(Int32Array, size) : new Int32Array(size);
  return allocateFloat(dtype, size);
}

export function allocateFloat(dtype: DType, size: number): FloatArray {
  const type = dtype === 'float64' ? Float64Array : Float32Array;
  return wantsShared(size) ? sharedArray(type, size) : new type(size);
}

export class Tensor {
  /** The accumulated gradient after `backward()`, for tensors that require one. */
  grad: Tensor | null = null;
  /** The tape node that produced this tensor, or null for a leaf. */
  gradFn: TapeNode | null = null;

  constructor(
    readonly data: TensorData,
    readonly shape: readonly number[],
    readonly dtype: DType,
    public requiresGrad = false,
  ) {
    if (data.length !== shapeSize(shape)) {
      throw new RangeError(`tensor of shape ${formatDims(shape)} needs ${shapeSize(shape)} elements, got ${data.length}`);
    }
    if (requiresGrad && dtype === 'int64') throw new TypeError('an int64 tensor cannot require a gradient');
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The float storage; throws for int64 tensors, which float ops do not accept. */
  get values(): FloatArray {
    if (this.dtype === 'int64') throw new TypeError('expected a float tensor, got int64');
    return this.data as FloatArray;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.data.length !== 1) throw new RangeError(`item() needs one element, tensor has shape ${formatDims(this.shape)}`);
    return this.data[0];
  }

  toArray(): number[] {
    return Array.from(this.data);
  }

  /** Backpropagates from this tensor (a scalar unless `upstreamGrad` is given). */
  backward(upstreamGrad?: Tensor): void {
    backwardHook(this, upstreamGrad);
  }

  /** A tensor sharing this one's data, cut from the tape. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, this.dtype, false);
  }

  /** Sets `requiresGrad` on a leaf and returns it, for chaining. */
  requireGrad(flag = true): this {
    if (this.gradFn) throw new Error('requireGrad() is for leaf tensors; use detach() first');
    this.requiresGrad = flag;
    return this;
  }

  toString(): string {
    return `Tensor(${formatDims(this.shape)}, ${this.dtype})`;
  }
}

/** Set by the tape module, which imports Tensor; breaks the import cycle. */
let backwardHook: (root: Tensor, upstreamGrad?: Tensor) => void = () => {
  throw new Error('autograd tape not loaded');
};
export function installBackward(fn: (root: Tensor, upstreamGrad?: Tensor) => void): void {
  backwardHook = fn;
}

export type NestedArray = number | NestedArray[];

function nestedShape(values: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = values;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  return shape;
}

function flattenNested(values: NestedArray, out: number[] = []): number[] {
  if (Array.isArray(values)) for (const item of values) flattenNested(item, out);
  else out.push(values);
  return out;
}

/** Builds a tensor from a number or nested arrays: `tensor([[1, 2], [3, 4]])`. */
export function tensor(
  values: NestedArray | ArrayLike<number>,
  options: { shape?: readonly number[]; dtype?: DType; requiresGrad?: boolean } = {},
): Tensor {
  const dtype = options.dtype ?? 'float32';
  const isNested = typeof values === 'number' || Array.isArray(values);
  const shape = options.shape ?? (isNested ? nestedShape(values as NestedArray) : [values.length]);
  const flat: number[] = isNested ? flattenNested(values as NestedArray) : Array.from(values as ArrayLike<number>);
  const data = allocate(dtype, flat.length);
  data.set(flat);
  return new Tensor(data, shape, dtype, options.requiresGrad ?? false);
}

export function full(shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor {
  const data = allocate(dtype, shapeSize(shape));
  if (value !== 0) data.fill(value);
  return new Tensor(data, shape, dtype);
}

export function zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return full(shape, 0, dtype);
}

export function ones(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return full(shape, 1, dtype);
}

/** Copies a tensor to another float dtype (float64 for gradcheck). */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  const data = allocate(dtype, x.size);
  data.set(x.data);
  return new Tensor(data, x.shape, dtype, false);
}
