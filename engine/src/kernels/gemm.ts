// GEMM: C (+)= op(A) · op(B) with op = identity or transpose, row-major. Large products are
// split over the kernel threads (pool.ts) by columns or rows of C, never along the summed
// dimension, so every element is computed exactly as on one thread. Blocked in the BLIS style: panels of A and B are packed into contiguous buffers (which
// also absorbs the transposes, so backward passes never materialize A^T or B^T), then a
// register-blocked micro-kernel runs over the packed panels: for float32 C a strip of 4×8
// WebAssembly SIMD tiles per call (simd-tile.ts), otherwise (float64, or no SIMD) a 4×3 JavaScript
// tile in float64 (4×3 measured faster than 4×4 in V8: the values fit the registers).

import type { FloatArray } from '../tensor/tensor.js';
import { simdTiles, SIMD_MR, SIMD_NR, type SimdTiles } from './simd-tile.js';
import { parallelFor } from './pool.js';

const MR = 4;
const NR = 3;
/** The depth of one packed block: a product sums its K dimension in blocks of this many. */
export const KC = 256;
const MC = 64; // rows of A per packed block
const NC = 2048; // columns of B per packed block

// Packing buffers, grown on demand and reused: no allocation inside the loops.
let packedA = new Float64Array(MC * KC);
let packedB = new Float64Array(KC * NC);
/** The micro-kernel's tile when it overhangs C's edge. */
const edge = new Float64Array(MR * NR);

export interface GemmOperand {
  data: FloatArray;
  offset: number;
  /** True when the operand is stored transposed (A as [K, M], B as [N, K]). */
  transposed: boolean;
}

/** Packs rows [i0, i0+mc) × depth [p0, p0+kc) of op(A) into `mr`-row panels, zero-padded. */
function packA(a: GemmOperand, lda: number, i0: number, mc: number, p0: number, kc: number, dst: FloatArray, mr: number): void {
  const data = a.data;
  for (let ir = 0, panel = 0; ir < mc; ir += mr, panel += kc * mr) {
    const rows = Math.min(mr, mc - ir);
    if (a.transposed) {
      // op(A)'s rows are stored as columns: each depth step reads `rows` consecutive values.
      for (let p = 0; p < kc; p++) {
        const src = a.offset + (p0 + p) * lda + i0 + ir;
        const at = panel + p * mr;
        for (let r = 0; r < mr; r++) dst[at + r] = r < rows ? data[src + r] : 0;
      }
      continue;
    }
    // Row by row, so the reads run along memory.
    for (let r = 0; r < mr; r++) {
      if (r >= rows) {
        for (let p = 0; p < kc; p++) dst[panel + p * mr + r] = 0;
        continue;
      }
      const src = a.offset + (i0 + ir + r) * lda + p0;
      for (let p = 0; p < kc; p++) dst[panel + p * mr + r] = data[src + p];
    }
  }
}

/**
 * Packs depth [p0, p0+kc) × columns [j0, j0+nc) of op(B) into `nr`-column panels, zero-padded:
 * panel q holds columns j0 + q·nr + [0, nr), each depth step's `nr` values together.
 * A convolution packs its image this way directly (im2col.ts), never writing its columns out.
 */
export type PackB = (p0: number, kc: number, j0: number, nc: number, dst: FloatArray, nr: number) => void;

/** The packer of a stored operand B (leading dimension `ldb`). */
function operandPacker(b: GemmOperand, ldb: number): PackB {
  return (p0, kc, j0, nc, dst, nr) => packB(b, ldb, p0, kc, j0, nc, dst, nr);
}

function packB(b: GemmOperand, ldb: number, p0: number, kc: number, j0: number, nc: number, dst: FloatArray, nr: number): void {
  const data = b.data;
  for (let jr = 0, panel = 0; jr < nc; jr += nr, panel += kc * nr) {
    const cols = Math.min(nr, nc - jr);
    if (!b.transposed) {
      for (let p = 0; p < kc; p++) {
        const src = b.offset + (p0 + p) * ldb + j0 + jr;
        const at = panel + p * nr;
        if (cols === nr) for (let col = 0; col < nr; col++) dst[at + col] = data[src + col];
        else for (let col = 0; col < nr; col++) dst[at + col] = col < cols ? data[src + col] : 0;
      }
      continue;
    }
    // op(B)'s columns are stored as rows: column by column, so the reads run along memory.
    for (let col = 0; col < nr; col++) {
      if (col >= cols) {
        for (let p = 0; p < kc; p++) dst[panel + p * nr + col] = 0;
        continue;
      }
      const src = b.offset + (j0 + jr + col) * ldb + p0;
      for (let p = 0; p < kc; p++) dst[panel + p * nr + col] = data[src + p];
    }
  }
}

/** Writes (or adds) the SIMD kernel's strip (rows × cols of C) into C. */
function storeStrip(simd: SimdTiles, c: FloatArray, cOffset: number, ldc: number, rows: number, cols: number, accumulate: boolean): void {
  const strip = simd.strip;
  const stride = Math.ceil(cols / SIMD_NR) * SIMD_NR;
  for (let r = 0; r < rows; r++) {
    const row = cOffset + r * ldc;
    const from = r * stride;
    if (accumulate) for (let col = 0; col < cols; col++) c[row + col] += strip[from + col];
    else c.set(strip.subarray(from, from + cols), row);
  }
}

/** C[rows × cols block] (+)= packed A panel · packed B panel over depth kc. */
function microKernel(
  kc: number,
  aStart: number,
  bStart: number,
  c: FloatArray,
  cOffset: number,
  ldc: number,
  rows: number,
  cols: number,
  accumulate: boolean,
): void {
  const pa = packedA;
  const pb = packedB;
  let c00 = 0, c01 = 0, c02 = 0;
  let c10 = 0, c11 = 0, c12 = 0;
  let c20 = 0, c21 = 0, c22 = 0;
  let c30 = 0, c31 = 0, c32 = 0;
  let ai = aStart;
  let bi = bStart;
  for (let p = 0; p < kc; p++, ai += 4, bi += 3) {
    const a0 = pa[ai], a1 = pa[ai + 1], a2 = pa[ai + 2], a3 = pa[ai + 3];
    let b = pb[bi];
    c00 += a0 * b; c10 += a1 * b; c20 += a2 * b; c30 += a3 * b;
    b = pb[bi + 1];
    c01 += a0 * b; c11 += a1 * b; c21 += a2 * b; c31 += a3 * b;
    b = pb[bi + 2];
    c02 += a0 * b; c12 += a1 * b; c22 += a2 * b; c32 += a3 * b;
  }
  if (rows === MR && cols === NR) {
    let o = cOffset;
    if (accumulate) {
      c[o] += c00; c[o + 1] += c01; c[o + 2] += c02; o += ldc;
      c[o] += c10; c[o + 1] += c11; c[o + 2] += c12; o += ldc;
      c[o] += c20; c[o + 1] += c21; c[o + 2] += c22; o += ldc;
      c[o] += c30; c[o + 1] += c31; c[o + 2] += c32;
    } else {
      c[o] = c00; c[o + 1] = c01; c[o + 2] = c02; o += ldc;
      c[o] = c10; c[o + 1] = c11; c[o + 2] = c12; o += ldc;
      c[o] = c20; c[o + 1] = c21; c[o + 2] = c22; o += ldc;
      c[o] = c30; c[o + 1] = c31; c[o + 2] = c32;
    }
    return;
  }
  edge[0] = c00; edge[1] = c01; edge[2] = c02;
  edge[3] = c10; edge[4] = c11; edge[5] = c12;
  edge[6] = c20; edge[7] = c21; edge[8] = c22;
  edge[9] = c30; edge[10] = c31; edge[11] = c32;
  for (let r = 0; r < rows; r++) {
    for (let col = 0; col < cols; col++) {
      const o = cOffset + r * ldc + col;
      c[o] = accumulate ? c[o] + edge[r * NR + col] : edge[r * NR + col];
    }
  }
}

/** Multiply-adds below which a product runs on the calling thread (about 0.2 ms of work). */
const PARALLEL_GEMM_WORK = 1 << 21;

/**
 * C[M×N] = op(A)[M×K] · op(B)[K×N], or C += ... when `accumulate`. Leading dimensions
 * follow from the stored layouts: A is [M, K] (or [K, M] transposed), B is [K, N] (or [N, K]).
 */
export function gemm(
  m: number,
  n: number,
  k: number,
  a: GemmOperand,
  b: GemmOperand,
  c: FloatArray,
  cOffset: number,
  accumulate: boolean,
): void {
  const byColumns = n >= m;
  const scalars = [m, n, k, a.offset, +a.transposed, b.offset, +b.transposed, cOffset, +accumulate, +byColumns];
  // One chunk per thread: each chunk packs all of the operand it does not split.
  parallelFor('gemm', byColumns ? n : m, m * n * k >= PARALLEL_GEMM_WORK ? m * n * k : 0, [a.data, b.data, c], [2], scalars, 1);
}

/**
 * The rows [first, end) (or with `byColumns` the columns) of the product `gemm` computes;
 * the kernel-thread task behind it (scalars as `gemm` packs them).
 */
export function gemmPart(arrays: readonly FloatArray[], scalars: readonly number[], first: number, end: number): void {
  const [a, b, c] = arrays;
  const [m, n, k, aOffset, aTransposed, bOffset, bTransposed, cOffset, accumulate, byColumns] = scalars;
  const lda = aTransposed ? m : k;
  const ldb = bTransposed ? k : n;
  const opA = { data: a, offset: aOffset, transposed: aTransposed === 1 };
  const opB = { data: b, offset: bOffset, transposed: bTransposed === 1 };
  if (byColumns) {
    // Columns j of op(B) start at j (stored [K, N]) or at row j (stored [N, K]).
    const part = { ...opB, offset: bOffset + first * (opB.transposed ? ldb : 1) };
    gemmBlock(m, end - first, k, opA, lda, operandPacker(part, ldb), c, cOffset + first, n, accumulate === 1);
  } else {
    const part = { ...opA, offset: aOffset + first * (opA.transposed ? 1 : lda) };
    gemmBlock(end - first, n, k, part, lda, operandPacker(opB, ldb), c, cOffset + first * n, n, accumulate === 1);
  }
}

/** The single-threaded product over explicit leading dimensions (ldc: C's row stride). */
function gemmBlock(
  m: number,
  n: number,
  k: number,
  a: GemmOperand,
  lda: number,
  packOpB: PackB,
  c: FloatArray,
  cOffset: number,
  ldc: number,
  accumulate: boolean,
): void {
  if (m === 0 || n === 0) return;
  if (k === 0) {
    if (!accumulate) for (let i = 0; i < m; i++) c.fill(0, cOffset + i * ldc, cOffset + i * ldc + n);
    return;
  }
  const simd = c instanceof Float32Array ? simdTiles : null;
  const mr = simd ? SIMD_MR : MR;
  const nr = simd ? SIMD_NR : NR;
  if (!simd) {
    const needB = Math.min(KC, k) * (Math.ceil(Math.min(NC, n) / NR) * NR);
    if (packedB.length < needB) packedB = new Float64Array(needB);
    const needA = Math.min(KC, k) * (Math.ceil(Math.min(MC, m) / MR) * MR);
    if (packedA.length < needA) packedA = new Float64Array(needA);
  }
  const bufferA = simd ? simd.packedA : packedA;
  const bufferB = simd ? simd.packedB : packedB;
  for (let j0 = 0; j0 < n; j0 += NC) {
    const nc = Math.min(NC, n - j0);
    for (let p0 = 0; p0 < k; p0 += KC) {
      const kc = Math.min(KC, k - p0);
      const add = accumulate || p0 > 0;
      packOpB(p0, kc, j0, nc, bufferB, nr);
      for (let i0 = 0; i0 < m; i0 += MC) {
        const mc = Math.min(MC, m - i0);
        packA(a, lda, i0, mc, p0, kc, bufferA, mr);
        if (simd) {
          // One call computes the whole strip of tiles across the packed B block.
          for (let ir = 0; ir < mc; ir += mr) {
            simd.run(kc, ir * kc, 0, Math.ceil(nc / nr));
            storeStrip(simd, c, cOffset + (i0 + ir) * ldc + j0, ldc, Math.min(mr, mc - ir), nc, add);
          }
          continue;
        }
        for (let jr = 0; jr < nc; jr += nr) {
          const cols = Math.min(nr, nc - jr);
          for (let ir = 0; ir < mc; ir += mr) {
            const rows = Math.min(mr, mc - ir);
            microKernel(kc, ir * kc, jr * kc, c, cOffset + (i0 + ir) * ldc + j0 + jr, ldc, rows, cols, add);
          }
        }
      }
    }
  }
}

/**
 * The product on the calling thread, for kernels that are already split over the threads;
 * B is a stored operand or a packer of it; `ldc` is C's row stride when the product fills a
 * block of a wider matrix.
 */
export function gemmSerial(m: number, n: number, k: number, a: GemmOperand, b: GemmOperand | PackB, c: FloatArray, cOffset: number, accumulate: boolean, ldc = n): void {
  const packOpB = typeof b === 'function' ? b : operandPacker(b, b.transposed ? k : n);
  gemmBlock(m, n, k, a, a.transposed ? m : k, packOpB, c, cOffset, ldc, accumulate);
}

/**
 * One depth block [p0, p0 + kc) (kc ≤ KC) of the product of A [M, K] and Bᵀ (B stored
 * [N, K]) into C [M, N] (not accumulated): what `gemmSerial` adds into C for that block, so
 * that summing the blocks into C in order gives its exact result.
 */
export function gemmDepthBlock(m: number, n: number, k: number, p0: number, kc: number, a: GemmOperand, b: GemmOperand, c: FloatArray, cOffset: number): void {
  gemmBlock(m, n, kc, { ...a, offset: a.offset + p0 }, k, operandPacker({ ...b, offset: b.offset + p0 }, k), c, cOffset, n, false);
}
