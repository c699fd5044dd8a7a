// 2-D convolution kernels (NCHW): im2col per image and a GEMM with the [out, in·kH·kW]
// weight, for the forward pass, the input gradient (col2im of Wᵀ·g) and the weight and bias
// gradients. Split over the kernel threads by images (the weight gradient's per-image
// blocks summed in order afterwards) and by output channels (bias), so each value is
// summed in the same order on any number of threads.

import type { FloatArray } from '../tensor/tensor.js';
import { gemmDepthBlock, gemmSerial, KC, type PackB } from './gemm.js';
import { col2im, im2col, im2colPacked, type ConvGeometry } from './im2col.js';
import { isShared, parallelFor, sharedArray, wantsShared } from './pool.js';

/** The shapes of one convolution, flattened into a task's scalars. */
export interface ConvShape extends ConvGeometry {
  batch: number;
  outChannels: number;
}

function toScalars(s: ConvShape, hasBias: boolean): number[] {
  return [s.channels, s.height, s.width, s.kernelH, s.kernelW, s.stride, s.padding, s.outH, s.outW, s.batch, s.outChannels, +hasBias];
}

function fromScalars(v: readonly number[]): { shape: ConvShape; hasBias: boolean } {
  const [channels, height, width, kernelH, kernelW, stride, padding, outH, outW, batch, outChannels, hasBias] = v;
  return { shape: { channels, height, width, kernelH, kernelW, stride, padding, outH, outW, batch, outChannels }, hasBias: hasBias === 1 };
}

const patchOf = (s: ConvShape): number => s.channels * s.kernelH * s.kernelW;
const spatialOf = (s: ConvShape): number => s.outH * s.outW;

// One im2col buffer per thread and dtype, grown on demand.
let scratch32 = new Float32Array(0);
let scratch64 = new Float64Array(0);
function scratch(like: FloatArray, size: number): FloatArray {
  if (like instanceof Float64Array) {
    if (scratch64.length < size) scratch64 = new Float64Array(size);
    return scratch64;
  }
  if (scratch32.length < size) scratch32 = new Float32Array(size);
  return scratch32;
}

const NO_BIAS = new Float32Array(0);

/** y[N, out, oH, oW] = conv(x, w) + bias. */
export function convForward(x: FloatArray, w: FloatArray, bias: FloatArray | null, y: FloatArray, s: ConvShape): void {
  const work = s.batch * s.outChannels * patchOf(s) * spatialOf(s);
  parallelFor('conv_forward', s.batch, work, [x, w, bias ?? NO_BIAS, y], [3], toScalars(s, bias !== null));
}

export function convForwardPart(arrays: readonly FloatArray[], scalars: readonly number[], first: number, end: number): void {
  const [x, w, bias, y] = arrays;
  const { shape: s, hasBias } = fromScalars(scalars);
  const patch = patchOf(s);
  const spatial = spatialOf(s);
  const imageSize = s.channels * s.height * s.width;
  const weight = { data: w, offset: 0, transposed: false };
  for (let n = first; n < end; n++) {
    const packColumns: PackB = (p0, kc, j0, nc, dst, nr) => im2colPacked(x, n * imageSize, s, p0, kc, j0, nc, dst, nr);
    gemmSerial(s.outChannels, spatial, patch, weight, packColumns, y, n * s.outChannels * spatial, false);
    if (!hasBias) continue;
    for (let o = 0; o < s.outChannels; o++) {
      const start = (n * s.outChannels + o) * spatial;
      for (let i = 0; i < spatial; i++) y[start + i] += bias[o];
    }
  }
}

/** gx[N, in, H, W] += the input gradient of g (gx starts zeroed): col2im of Wᵀ·g per image. */
export function convInputGrad(g: FloatArray, w: FloatArray, gx: FloatArray, s: ConvShape): void {
  const work = s.batch * s.outChannels * patchOf(s) * spatialOf(s);
  parallelFor('conv_input_grad', s.batch, work, [g, w, gx], [2], toScalars(s, false));
}

export function convInputGradPart(arrays: readonly FloatArray[], scalars: readonly number[], first: number, end: number): void {
  const [g, w, gx] = arrays;
  const { shape: s } = fromScalars(scalars);
  const patch = patchOf(s);
  const spatial = spatialOf(s);
  const imageSize = s.channels * s.height * s.width;
  const colGrad = scratch(gx, patch * spatial);
  const weightT = { data: w, offset: 0, transposed: true };
  for (let n = first; n < end; n++) {
    gemmSerial(patch, spatial, s.outChannels, weightT, { data: g, offset: n * s.outChannels * spatial, transposed: false }, colGrad, 0, false);
    col2im(colGrad, s, gx, n * imageSize);
  }
}

/**
 * gw[out, in·kH·kW] = Σ over images of g_n · cols_nᵀ. The threads compute each image's
 * product in GEMM depth blocks (per image, im2col once); the calling thread then sums the
 * blocks in image and block order, exactly as one GEMM accumulating image after image does.
 */
export function convWeightGrad(x: FloatArray, g: FloatArray, gw: FloatArray, s: ConvShape): void {
  const patch = patchOf(s);
  const spatial = spatialOf(s);
  const blocks = Math.ceil(spatial / KC);
  const size = patch * s.outChannels;
  const partials = partialScratch(gw, s.batch * blocks * size);
  parallelFor('conv_weight_grad', s.batch, s.batch * s.outChannels * patch * spatial, [x, g, partials], [2], toScalars(s, false));
  sumBlocks(partials, s.batch * blocks, gw);
}

export function convWeightGradPart(arrays: readonly FloatArray[], scalars: readonly number[], first: number, end: number): void {
  const [x, g, partials] = arrays;
  const { shape: s } = fromScalars(scalars);
  const patch = patchOf(s);
  const spatial = spatialOf(s);
  const blocks = Math.ceil(spatial / KC);
  const size = patch * s.outChannels;
  const imageSize = s.channels * s.height * s.width;
  const cols = scratch(partials, patch * spatial);
  for (let n = first; n < end; n++) {
    im2col(x, n * imageSize, s, cols);
    const upstream = { data: g, offset: n * s.outChannels * spatial, transposed: false };
    for (let block = 0; block < blocks; block++) {
      const p0 = block * KC;
      gemmDepthBlock(s.outChannels, patch, spatial, p0, Math.min(KC, spatial - p0), upstream, { data: cols, offset: 0, transposed: true }, partials, (n * blocks + block) * size);
    }
  }
}

/** target = partials[0] + partials[1] + ... (each of target's length), added in order; the threads take slices of target. */
function sumBlocks(partials: FloatArray, count: number, target: FloatArray): void {
  parallelFor('sum_blocks', target.length, count * target.length, [partials, target], [1], [count]);
}

export function sumBlocksPart(arrays: readonly FloatArray[], scalars: readonly number[], first: number, end: number): void {
  const [partials, target] = arrays;
  const [count] = scalars;
  const size = target.length;
  for (let i = first; i < end; i++) target[i] = partials[i];
  for (let k = 1; k < count; k++) {
    const at = k * size;
    for (let i = first; i < end; i++) target[i] += partials[at + i];
  }
}

// The weight gradient's per-image blocks: a buffer kept between calls (shared with the
// kernel threads when they are on).
let partials32: Float32Array = new Float32Array(0);
let partials64: Float64Array = new Float64Array(0);
function partialScratch(like: FloatArray, size: number): FloatArray {
  const shared = wantsShared(size);
  if (like instanceof Float64Array) {
    if (partials64.length < size || isShared(partials64) !== shared) partials64 = shared ? sharedArray(Float64Array, size) : new Float64Array(size);
    return partials64.subarray(0, size);
  }
  if (partials32.length < size || isShared(partials32) !== shared) partials32 = shared ? sharedArray(Float32Array, size) : new Float32Array(size);
  return partials32.subarray(0, size);
}

/** gb[out] = Σ of g over images and positions, per output channel. */
export function convBiasGrad(g: FloatArray, gb: FloatArray, s: ConvShape): void {
  parallelFor('conv_bias_grad', s.outChannels, s.batch * s.outChannels * spatialOf(s), [g, gb], [1], toScalars(s, true));
}

export function convBiasGradPart(arrays: readonly FloatArray[], scalars: readonly number[], first: number, end: number): void {
  const [g, gb] = arrays;
  const { shape: s } = fromScalars(scalars);
  const spatial = spatialOf(s);
  for (let n = 0; n < s.batch; n++) {
    for (let o = first; o < end; o++) {
      const start = (n * s.outChannels + o) * spatial;
      let total = 0;
      for (let i = 0; i < spatial; i++) total += g[start + i];
      gb[o] += total;
    }
  }
}
