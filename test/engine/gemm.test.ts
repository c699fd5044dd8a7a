// The blocked GEMM kernel against a naive float64 triple loop: both micro-kernels (float64
// JavaScript, float32 WebAssembly SIMD), every transpose combination, sizes that cross the
// block and micro-tile edges, and accumulation into C.

import test from 'node:test';
import assert from 'node:assert/strict';
import { gemm } from '../../engine/src/kernels/gemm.js';
import { simdTiles } from '../../engine/src/kernels/simd-tile.js';
import { Rng } from '../../engine/src/index.js';
import { assertClose } from './helpers.js';

function randomArray(rng: Rng, size: number): Float64Array {
  // Values exact in float32, so both kernels see the same inputs.
  return Float64Array.from({ length: size }, () => Math.fround(rng.uniform(-1, 1)));
}

test('WebAssembly SIMD is available to the float32 kernel on this Node', () => {
  assert.notEqual(simdTiles, null);
});

for (const [m, n, k] of [[1, 1, 1], [5, 7, 3], [67, 130, 300], [9, 2049, 4]]) {
  for (const dtype of ['float64', 'float32'] as const) {
    for (const transposeA of [false, true]) {
      for (const transposeB of [false, true]) {
        test(`gemm ${dtype} ${m}×${k} · ${k}×${n} (A${transposeA ? 'ᵀ' : ''}, B${transposeB ? 'ᵀ' : ''})`, () => {
          const rng = new Rng(m * 1000 + n + k);
          const a = randomArray(rng, m * k);
          const b = randomArray(rng, k * n);
          const start = randomArray(rng, m * n);
          const expected = new Float64Array(m * n);
          for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
            let s = start[i * n + j];
            for (let p = 0; p < k; p++) {
              s += (transposeA ? a[p * m + i] : a[i * k + p]) * (transposeB ? b[j * k + p] : b[p * n + j]);
            }
            expected[i * n + j] = s;
          }
          const Storage = dtype === 'float64' ? Float64Array : Float32Array;
          const tolerance = dtype === 'float64' ? 1e-12 : 2e-5;
          const [aStored, bStored] = [Storage.from(a), Storage.from(b)];
          const c = Storage.from(start);
          gemm(m, n, k, { data: aStored, offset: 0, transposed: transposeA }, { data: bStored, offset: 0, transposed: transposeB }, c, 0, true);
          assertClose(c, expected, tolerance, 'accumulated C');
          const fresh = new Storage(m * n).fill(7);
          gemm(m, n, k, { data: aStored, offset: 0, transposed: transposeA }, { data: bStored, offset: 0, transposed: transposeB }, fresh, 0, false);
          assertClose(fresh, expected.map((v, i) => v - start[i]), tolerance, 'overwritten C');
        });
      }
    }
  }
}
