// Random tensors from a seeded generator.

import { Tensor, allocateFloat, type DType } from './tensor.js';
import { shapeSize } from './shape.js';
import { defaultRng, type Rng } from '../random.js';

export function randn(shape: readonly number[], options: { rng?: Rng; dtype?: DType; std?: number } = {}): Tensor {
  const rng = options.rng ?? defaultRng();
  const dtype = options.dtype ?? 'float32';
  const data = allocateFloat(dtype, shapeSize(shape));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal(0, options.std ?? 1);
  return new Tensor(data, shape, dtype);
}

export function rand(shape: readonly number[], options: { rng?: Rng; dtype?: DType; low?: number; high?: number } = {}): Tensor {
  const rng = options.rng ?? defaultRng();
  const dtype = options.dtype ?? 'float32';
  const data = allocateFloat(dtype, shapeSize(shape));
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform(options.low ?? 0, options.high ?? 1);
  return new Tensor(data, shape, dtype);
}

/** Int64 (Int32Array-backed) integers uniform in [0, high), e.g. class labels. */
export function randint(shape: readonly number[], high: number, options: { rng?: Rng } = {}): Tensor {
  const rng = options.rng ?? defaultRng();
  const data = new Int32Array(shapeSize(shape));
  for (let i = 0; i < data.length; i++) data[i] = rng.int(high);
  return new Tensor(data, shape, 'int64');
}
