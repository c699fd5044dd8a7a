// Small helpers every op uses: turning numbers into tensors, picking the result dtype,
// and allocating a float result.

import { Tensor, allocateFloat, full, type DType } from '../tensor/tensor.js';
import { shapeSize } from '../tensor/shape.js';

export type Operand = Tensor | number;

/** float64 wins, so gradcheck stays in double precision end to end. */
export function resultDType(...inputs: Operand[]): DType {
  return inputs.some((x) => x instanceof Tensor && x.dtype === 'float64') ? 'float64' : 'float32';
}

export function asTensor(value: Operand, like: Operand): Tensor {
  if (value instanceof Tensor) return value;
  return full([], value, like instanceof Tensor && like.dtype === 'float64' ? 'float64' : 'float32');
}

export function emptyFloat(shape: readonly number[], dtype: DType): Tensor {
  return new Tensor(allocateFloat(dtype, shapeSize(shape)), shape, dtype === 'int64' ? 'float32' : dtype);
}

/** Throws, naming the op, when a float op receives an int64 tensor. */
export function requireFloat(op: string, ...inputs: Tensor[]): void {
  for (const x of inputs) {
    if (x.dtype === 'int64') throw new TypeError(`${op}: expects a float tensor, got int64 ${x.toString()}`);
  }
}
