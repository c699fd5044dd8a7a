// 2-D pooling kernels over planes of [planes, H, W]: max pooling with the flat index of each
// window's first maximum (padding never wins; NaN propagates, as in PyTorch), its gradient
// routed back through those indices, and average pooling and its gradient. Split over the
// kernel threads by planes: a plane's windows only read and write that plane.

import type { FloatArray } from '../tensor/tensor.js';
import { parallelFor } from './pool.js';

export interface PoolGeometry {
  planes: number;
  height: number;
  width: number;
  outH: number;
  outW: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
}

function toScalars(g: PoolGeometry): number[] {
  return [g.planes, g.height, g.width, g.outH, g.outW, g.kernelH, g.kernelW, g.strideH, g.strideW, g.padH, g.padW];
}

function fromScalars(v: readonly number[]): PoolGeometry {
  const [planes, height, width, outH, outW, kernelH, kernelW, strideH, strideW, padH, padW] = v;
  return { planes, height, width, outH, outW, kernelH, kernelW, strideH, strideW, padH, padW };
}

/**
 * Where output position `outIndex`'s window starts along one axis (negative inside the
 * padding). NOTE: the kernels clip windows to the image with their own loops, not
 * callbacks, for speed (so max and average pooling repeat the window loops).
 */
function windowStart(outIndex: number, stride: number, padding: number): number {
  return outIndex * stride - padding;
}

const workOf = (g: PoolGeometry): number => g.planes * g.outH * g.outW * g.kernelH * g.kernelW;

/** dst = the maximum of each window of src; argmax = its flat index into src. */
export function maxPoolForward(src: FloatArray, dst: FloatArray, argmax: Int32Array, g: PoolGeometry): void {
  parallelFor('max_pool', g.planes, workOf(g), [src, dst, argmax], [1, 2], toScalars(g));
}

export function maxPoolPart(arrays: readonly (FloatArray | Int32Array)[], scalars: readonly number[], first: number, end: number): void {
  const [src, dst, argmax] = arrays;
  const { height, width, outH, outW, kernelH, kernelW, strideH, strideW, padH, padW } = fromScalars(scalars);
  if (kernelH === 2 && kernelW === 2 && strideH === 2 && strideW === 2 && padH === 0 && padW === 0) {
    maxPool2x2(src, dst, argmax, height, width, outH, outW, first, end);
    return;
  }
  let o = first * outH * outW;
  for (let p = first; p < end; p++) {
    const plane = p * height * width;
    for (let oh = 0; oh < outH; oh++) {
      const top = windowStart(oh, strideH, padH);
      const rowStart = Math.max(top, 0);
      const rowEnd = Math.min(top + kernelH, height);
      for (let ow = 0; ow < outW; ow++, o++) {
        const left = windowStart(ow, strideW, padW);
        const colStart = Math.max(left, 0);
        const colEnd = Math.min(left + kernelW, width);
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
}

/** The common 2×2, stride-2 windows without the general loops (the same comparisons, in the same order). */
function maxPool2x2(src: ArrayLike<number>, dst: { [i: number]: number }, argmax: { [i: number]: number }, height: number, width: number, outH: number, outW: number, first: number, end: number): void {
  let o = first * outH * outW;
  for (let p = first; p < end; p++) {
    const plane = p * height * width;
    for (let oh = 0; oh < outH; oh++) {
      const top = plane + 2 * oh * width;
      for (let ow = 0; ow < outW; ow++, o++) {
        const corner = top + 2 * ow;
        let at = corner;
        let best = src[corner];
        let v = src[corner + 1];
        if (v > best || (v !== v && best === best)) { best = v; at = corner + 1; }
        v = src[corner + width];
        if (v > best || (v !== v && best === best)) { best = v; at = corner + width; }
        v = src[corner + width + 1];
        if (v > best || (v !== v && best === best)) { best = v; at = corner + width + 1; }
        dst[o] = best;
        argmax[o] = at;
      }
    }
  }
}

/** grad (zeroed, src's shape) += upstream at each window's argmax. */
export function maxPoolBackward(upstream: FloatArray, argmax: Int32Array, grad: FloatArray, g: PoolGeometry): void {
  parallelFor('max_pool_grad', g.planes, g.planes * g.outH * g.outW * 2, [upstream, argmax, grad], [2], toScalars(g));
}

export function maxPoolGradPart(arrays: readonly (FloatArray | Int32Array)[], scalars: readonly number[], first: number, end: number): void {
  const [up, argmax, gd] = arrays;
  const { outH, outW } = fromScalars(scalars);
  for (let i = first * outH * outW; i < end * outH * outW; i++) gd[argmax[i]] += up[i];
}

/** Averages each window of `image` into `pooled` (`toOutput`), or spreads `pooled` back into `image`. */
export function averagePool(image: FloatArray, pooled: FloatArray, g: PoolGeometry, toOutput: boolean): void {
  parallelFor('average_pool', g.planes, workOf(g), [image, pooled], [toOutput ? 1 : 0], [...toScalars(g), +toOutput]);
}

export function averagePoolPart(arrays: readonly FloatArray[], scalars: readonly number[], first: number, end: number): void {
  const [image, pooled] = arrays;
  const { height, width, outH, outW, kernelH, kernelW, strideH, strideW, padH, padW } = fromScalars(scalars);
  const toOutput = scalars[11] === 1;
  const scale = 1 / (kernelH * kernelW);
  let o = first * outH * outW;
  for (let p = first; p < end; p++) {
    const plane = p * height * width;
    for (let oh = 0; oh < outH; oh++) {
      const top = windowStart(oh, strideH, padH);
      const rowStart = Math.max(top, 0);
      const rowEnd = Math.min(top + kernelH, height);
      for (let ow = 0; ow < outW; ow++, o++) {
        const left = windowStart(ow, strideW, padW);
        const colStart = Math.max(left, 0);
        const colEnd = Math.min(left + kernelW, width);
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
