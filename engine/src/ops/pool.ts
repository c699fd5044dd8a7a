// 2-D pooling primitives over [N, C, H, W] (or [C, H, W]) input: max_pool2d (gradient to
// the first maximum of each window, saved as indices; padding never wins) and avg_pool2d
// (padding counts as zeros in the average, PyTorch's count_include_pad default).

import { Tensor, allocate } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import { shapeSize } from '../tensor/shape.js';
import { inferShape } from './shape-rule.js';
import { emptyFloat, requireFloat } from './operand.js';
import { averagePool, maxPoolBackward, maxPoolForward, type PoolGeometry } from '../kernels/pooling.js';

function layout(op: 'max_pool2d' | 'avg_pool2d', x: Tensor, kernel: number, stride: number, padding: number): { shape: number[]; pool: PoolGeometry } {
  requireFloat(op, x);
  if (padding < 0 || padding > kernel / 2) throw new RangeError(`${op}: padding ${padding} must be between 0 and half the kernel ${kernel}`);
  const shape = inferShape(op, [x.shape], { kernel, stride, padding });
  // Every leading axis is a plane.
  const [height, width] = x.shape.slice(-2);
  const [outH, outW] = shape.slice(-2);
  return { shape, pool: { planes: shapeSize(x.shape.slice(0, -2)), height, width, outH, outW, kernel, stride, padding } };
}

export function maxPool2d(x: Tensor, kernel: number, stride = kernel, padding = 0): Tensor {
  const { shape, pool } = layout('max_pool2d', x, kernel, stride, padding);
  const out = emptyFloat(shape, x.dtype);
  const argmax = allocate('int64', out.size) as Int32Array;
  maxPoolForward(x.values, out.values, argmax, pool);
  return record('max_pool2d', out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    maxPoolBackward(g.values, argmax, grad.values, pool);
    return [grad];
  }, [new Tensor(argmax, [argmax.length], 'int64')]);
}

export function avgPool2d(x: Tensor, kernel: number, stride = kernel, padding = 0): Tensor {
  const { shape, pool } = layout('avg_pool2d', x, kernel, stride, padding);
  const out = emptyFloat(shape, x.dtype);
  averagePool(x.values, out.values, pool, true);
  return record('avg_pool2d', out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    averagePool(grad.values, g.values, pool, false);
    return [grad];
  });
}
