// im2col / col2im for 2-D convolution: unfold each receptive field of one image into a
// column so the convolution becomes one GEMM, and fold column gradients back.

import type { FloatArray } from '../tensor/tensor.js';

export interface ConvGeometry {
  channels: number;
  height: number;
  width: number;
  kernelH: number;
  kernelW: number;
  stride: number;
  padding: number;
  outH: number;
  outW: number;
}

/**
 * The output columns [first, end) whose input column ow·stride + j − padding lies inside
 * the image (the others read the zero padding).
 */
function insideColumns(j: number, g: ConvGeometry): { first: number; end: number } {
  const { width, stride, padding, outW } = g;
  const first = Math.min(outW, Math.max(0, Math.ceil((padding - j) / stride)));
  const end = Math.max(first, Math.min(outW, Math.floor((width - 1 + padding - j) / stride) + 1));
  return { first, end };
}

/** What im2col's row `row` (channel c, kernel offsets i, j) reads: its image plane, the offsets, and the output columns that fall inside the image. */
function rowTap(row: number, imageOffset: number, g: ConvGeometry): { i: number; j: number; plane: number; inside: { first: number; end: number } } {
  const c = Math.floor(row / (g.kernelH * g.kernelW));
  return { i: Math.floor(row / g.kernelW) % g.kernelH, j: row % g.kernelW, plane: imageOffset + c * g.height * g.width, inside: insideColumns(row % g.kernelW, g) };
}

/** cols[(c·kH + i)·kW + j, oh·outW + ow] = image[c, oh·s + i − p, ow·s + j − p] (0 outside). */
export function im2col(image: FloatArray, imageOffset: number, g: ConvGeometry, cols: FloatArray): void {
  const { channels, height, width, kernelH, kernelW, stride, padding, outH, outW } = g;
  const spatial = outH * outW;
  for (let row = 0; row < channels * kernelH * kernelW; row++) {
    const { i, j, plane, inside } = rowTap(row, imageOffset, g);
    let dst = row * spatial;
    for (let oh = 0; oh < outH; oh++, dst += outW) {
      const ih = oh * stride + i - padding;
      if (ih < 0 || ih >= height) {
        cols.fill(0, dst, dst + outW);
        continue;
      }
      const src = plane + ih * width + j - padding;
      if (inside.first > 0) cols.fill(0, dst, dst + inside.first);
      if (stride === 1) for (let ow = inside.first; ow < inside.end; ow++) cols[dst + ow] = image[src + ow];
      else for (let ow = inside.first; ow < inside.end; ow++) cols[dst + ow] = image[src + ow * stride];
      if (inside.end < outW) cols.fill(0, dst + inside.end, dst + outW);
    }
  }
}

/**
 * im2col's columns [j0, j0+nc) of its rows [p0, p0+kc), written straight into GEMM's packed
 * B panels (gemm.ts `PackB`: `nr` columns per panel, zero past the last column): one pass
 * over the image instead of writing the columns out and packing them again.
 */
export function im2colPacked(image: FloatArray, imageOffset: number, g: ConvGeometry, p0: number, kc: number, j0: number, nc: number, dst: FloatArray, nr: number): void {
  const { height, width, stride, padding, outW } = g;
  const panelJump = kc * nr - nr + 1; // from a panel's last lane to the next panel's first, one depth step on
  for (let p = 0; p < kc; p++) {
    const { i, j, plane, inside } = rowTap(p0 + p, imageOffset, g);
    let at = p * nr;
    let lane = 0;
    let oh = Math.floor(j0 / outW);
    let ow = j0 - oh * outW;
    for (let q = j0, end = j0 + nc; q < end; oh++, ow = 0) {
      const rowEnd = Math.min(outW, ow + end - q);
      const ih = oh * stride + i - padding;
      const src = plane + ih * width + j - padding;
      const rowInside = ih >= 0 && ih < height;
      for (; ow < rowEnd; ow++, q++) {
        dst[at] = rowInside && ow >= inside.first && ow < inside.end ? image[src + ow * stride] : 0;
        if (++lane === nr) {
          lane = 0;
          at += panelJump;
        } else at++;
      }
    }
    for (; lane > 0 && lane < nr; lane++) dst[at++] = 0; // the last panel's lanes past nc
  }
}

/** The adjoint of im2col: adds each column entry back to the image position it came from. */
export function col2im(cols: FloatArray, g: ConvGeometry, image: FloatArray, imageOffset: number): void {
  const { channels, height, width, kernelH, kernelW, stride, padding, outH, outW } = g;
  const spatial = outH * outW;
  let row = 0;
  for (let c = 0; c < channels; c++) {
    const plane = imageOffset + c * height * width;
    for (let i = 0; i < kernelH; i++) {
      for (let j = 0; j < kernelW; j++, row++) {
        const inside = insideColumns(j, g);
        let src = row * spatial;
        for (let oh = 0; oh < outH; oh++, src += outW) {
          const ih = oh * stride + i - padding;
          if (ih < 0 || ih >= height) continue;
          const dst = plane + ih * width + j - padding;
          if (stride === 1) for (let ow = inside.first; ow < inside.end; ow++) image[dst + ow] += cols[src + ow];
          else for (let ow = inside.first; ow < inside.end; ow++) image[dst + ow * stride] += cols[src + ow];
        }
      }
    }
  }
}
