// 2-D pooling primitives over NCHW input without padding: max_pool2d (gradient to the
// first maximum of each window, saved as indices) and avg_pool2d.

import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import { shapeSize } from '../tensor/shape.js';
import { inferShape } from './shape-rule.js';
import { emptyFloat, requireFloat } from './operand.js';

interface PoolLayout {
  planes: number;
  height: number;
  width: number;
  outH: number;
  outW: number;
  kernel: number;
  stride: number;
}

function layout(op: 'max_pool2d' | 'avg_pool2d', x: Tensor, kernel: number, stride: number): { shape: number[]; pool: PoolLayout } {
  requireFloat(op, x);
  const shape = inferShape(op, [x.shape], { kernel, stride, padding: 0 });
  // [N, C, H, W] or [C, H, W]: every leading axis is a plane.
  const [height, width] = x.shape.slice(-2);
  const [outH, outW] = shape.slice(-2);
  return { shape, pool: { planes: shapeSize(x.shape.slice(0, -2)), height, width, outH, outW, kernel, stride } };
}

export function maxPool2d(x: Tensor, kernel: number, stride = kernel): Tensor {
  const { shape, pool } = layout('max_pool2d', x, kernel, stride);
  const { planes, height, width, outH, outW } = pool;
  const out = emptyFloat(shape, x.dtype);
  const argmax = new Int32Array(out.size);
  const src = x.values;
  const dst = out.values;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * height * width;
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++, o++) {
        let best = -Infinity;
        let at = plane + oh * stride * width + ow * stride;
        for (let i = 0; i < kernel; i++) {
          const row = plane + (oh * stride + i) * width + ow * stride;
          for (let j = 0; j < kernel; j++) {
            const v = src[row + j];
            if (v > best) {
              best = v;
              at = row + j;
            }
          }
        }
        dst[o] = best;
        argmax[o] = at;
      }
    }
  }
  return record('max_pool2d', out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    const gd = grad.values;
    const up = g.values;
    for (let i = 0; i < argmax.length; i++) gd[argmax[i]] += up[i];
    return [grad];
  }, [new Tensor(argmax, [argmax.length], 'int64')]);
}

export function avgPool2d(x: Tensor, kernel: number, stride = kernel): Tensor {
  const { shape, pool } = layout('avg_pool2d', x, kernel, stride);
  const { planes, height, width, outH, outW } = pool;
  const scale = 1 / (kernel * kernel);
  const out = emptyFloat(shape, x.dtype);
  const src = x.values;
  const dst = out.values;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * height * width;
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++, o++) {
        let total = 0;
        for (let i = 0; i < kernel; i++) {
          const row = plane + (oh * stride + i) * width + ow * stride;
          for (let j = 0; j < kernel; j++) total += src[row + j];
        }
        dst[o] = total * scale;
      }
    }
  }
  return record('avg_pool2d', out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    const gd = grad.values;
    const up = g.values;
    let k = 0;
    for (let p = 0; p < planes; p++) {
      const plane = p * height * width;
      for (let oh = 0; oh < outH; oh++) {
        for (let ow = 0; ow < outW; ow++, k++) {
          const share = up[k] * scale;
          for (let i = 0; i < kernel; i++) {
            const row = plane + (oh * stride + i) * width + ow * stride;
            for (let j = 0; j < kernel; j++) gd[row + j] += share;
          }
        }
      }
    }
    return [grad];
  });
}
