// 2-D pooling primitives over [N, C, H, W] (or [C, H, W]) input: max_pool2d (gradient to
// the first maximum of each window, saved as indices; padding never wins) and avg_pool2d
// (padding counts as zeros in the average, PyTorch's count_include_pad default).

import { Tensor, type FloatArray } from '../tensor/tensor.js';
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
}

function layout(op: 'max_pool2d' | 'avg_pool2d', x: Tensor, kernel: number, stride: number, padding: number): { shape: number[]; pool: PoolLayout } {
  requireFloat(op, x);
  if (padding < 0 || padding > kernel / 2) throw new RangeError(`${op}: padding ${padding} must be between 0 and half the kernel ${kernel}`);
  const shape = inferShape(op, [x.shape], { kernel, stride, padding });
  // Every leading axis is a plane.
  const [height, width] = x.shape.slice(-2);
  const [outH, outW] = shape.slice(-2);
  return { shape, pool: { planes: shapeSize(x.shape.slice(0, -2)), height, width, outH, outW } };
}

/**
 * Where output position `outIndex`'s window starts along one axis (negative inside the
 * padding). Kernels clip windows to the image with their own loops, not callbacks, for speed.
 */
function windowStart(outIndex: number, stride: number, padding: number): number {
  return outIndex * stride - padding;
}

export function maxPool2d(x: Tensor, kernel: number, stride = kernel, padding = 0): Tensor {
  const { shape, pool } = layout('max_pool2d', x, kernel, stride, padding);
  const { planes, height, width, outH, outW } = pool;
  const out = emptyFloat(shape, x.dtype);
  const argmax = new Int32Array(out.size);
  const src = x.values;
  const dst = out.values;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * height * width;
    for (let oh = 0; oh < outH; oh++) {
      const top = windowStart(oh, stride, padding);
      const rowStart = Math.max(top, 0);
      const rowEnd = Math.min(top + kernel, height);
      for (let ow = 0; ow < outW; ow++, o++) {
        const left = windowStart(ow, stride, padding);
        const colStart = Math.max(left, 0);
        const colEnd = Math.min(left + kernel, width);
        // The first position of a window starts as the best; NaN propagates, as in PyTorch.
        let at = plane + rowStart * width + colStart;
        let best = src[at];
        for (let ih = rowStart; ih < rowEnd; ih++) {
          const row = plane + ih * width;
          for (let iw = colStart; iw < colEnd; iw++) {
            const v = src[row + iw];
            if (v > best || (v !== v && best === best)) {
              best = v;
              at = row + iw;
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

/** Sums (or spreads back) each window: `toOutput` pools src into dst, else spreads dst into src. */
function averageWindows(pool: PoolLayout, kernel: number, stride: number, padding: number, image: FloatArray, pooled: FloatArray, toOutput: boolean): void {
  const { planes, height, width, outH, outW } = pool;
  const scale = 1 / (kernel * kernel);
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * height * width;
    for (let oh = 0; oh < outH; oh++) {
      const top = windowStart(oh, stride, padding);
      const rowStart = Math.max(top, 0);
      const rowEnd = Math.min(top + kernel, height);
      for (let ow = 0; ow < outW; ow++, o++) {
        const left = windowStart(ow, stride, padding);
        const colStart = Math.max(left, 0);
        const colEnd = Math.min(left + kernel, width);
        if (toOutput) {
          let total = 0;
          for (let ih = rowStart; ih < rowEnd; ih++) for (let iw = colStart; iw < colEnd; iw++) total += image[plane + ih * width + iw];
          pooled[o] = total * scale;
        } else {
          const share = pooled[o] * scale;
          for (let ih = rowStart; ih < rowEnd; ih++) for (let iw = colStart; iw < colEnd; iw++) image[plane + ih * width + iw] += share;
        }
      }
    }
  }
}

export function avgPool2d(x: Tensor, kernel: number, stride = kernel, padding = 0): Tensor {
  const { shape, pool } = layout('avg_pool2d', x, kernel, stride, padding);
  const out = emptyFloat(shape, x.dtype);
  averageWindows(pool, kernel, stride, padding, x.values, out.values, true);
  return record('avg_pool2d', out, [x], (g) => {
    const grad = emptyFloat(x.shape, g.dtype);
    averageWindows(pool, kernel, stride, padding, grad.values, g.values, false);
    return [grad];
  });
}
