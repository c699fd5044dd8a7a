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

/** cols[(c·kH + i)·kW + j, oh·outW + ow] = image[c, oh·s + i − p, ow·s + j − p] (0 outside). */
export function im2col(image: FloatArray, imageOffset: number, g: ConvGeometry, cols: FloatArray): void {
  const { channels, height, width, kernelH, kernelW, stride, padding, outH, outW } = g;
  const spatial = outH * outW;
  for (let row = 0; row < channels * kernelH * kernelW; row++) {
    const c = Math.floor(row / (kernelH * kernelW));
    const i = Math.floor(row / kernelW) % kernelH;
    const j = row % kernelW;
    const plane = imageOffset + c * height * width;
    const inside = insideColumns(j, g);
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
