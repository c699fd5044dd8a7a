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

/** cols[(c·kH + i)·kW + j, oh·outW + ow] = image[c, oh·s + i − p, ow·s + j − p] (0 outside). */
export function im2col(image: FloatArray, imageOffset: number, g: ConvGeometry, cols: FloatArray): void {
  im2colRows(image, imageOffset, g, cols, 0, g.channels * g.kernelH * g.kernelW);
}

/** Rows [first, end) of im2col's columns, written from row 0 of `cols` on. */
export function im2colRows(image: FloatArray, imageOffset: number, g: ConvGeometry, cols: FloatArray, first: number, end: number): void {
  const { height, width, kernelH, kernelW, stride, padding, outH, outW } = g;
  const spatial = outH * outW;
  for (let row = first; row < end; row++) {
    const c = Math.floor(row / (kernelH * kernelW));
    const i = Math.floor(row / kernelW) % kernelH;
    const j = row % kernelW;
    const plane = imageOffset + c * height * width;
    let dst = (row - first) * spatial;
    for (let oh = 0; oh < outH; oh++) {
      const ih = oh * stride + i - padding;
      if (ih < 0 || ih >= height) {
        cols.fill(0, dst, dst + outW);
        dst += outW;
        continue;
      }
      const src = plane + ih * width;
      let iw = j - padding;
      for (let ow = 0; ow < outW; ow++, iw += stride) cols[dst++] = iw >= 0 && iw < width ? image[src + iw] : 0;
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
        let src = row * spatial;
        for (let oh = 0; oh < outH; oh++) {
          const ih = oh * stride + i - padding;
          if (ih < 0 || ih >= height) {
            src += outW;
            continue;
          }
          const dst = plane + ih * width;
          let iw = j - padding;
          for (let ow = 0; ow < outW; ow++, iw += stride, src++) if (iw >= 0 && iw < width) image[dst + iw] += cols[src];
        }
      }
    }
  }
}
