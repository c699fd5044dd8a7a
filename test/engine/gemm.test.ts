// The blocked GEMM kernel against a naive triple loop: every transpose combination,
// sizes that cross the block and micro-tile edges, and accumulation into C.

import test from 'node:test';
import { gemm } from '../../engine/src/kernels/gemm.js';
import { Rng } from '../../engine/src/index.js';
import { assertClose } from './helpers.js';

function randomArray(rng: Rng, size: number): Float64Array {
  return Float64Array.from({ length: size }, () => rng.uniform(-1, 1));
}

for (const [m, n, k] of [[1, 1, 1], [5, 7, 3], [67, 130, 300], [9, 2049, 4]]) {
  for (const transposeA of [false, true]) {
    for (const transposeB of [false, true]) {
      test(`gemm ${m}×${k} · ${k}×${n} (A${transposeA ? 'ᵀ' : ''}, B${transposeB ? 'ᵀ' : ''})`, () => {
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
        const c = start.slice();
        gemm(m, n, k, { data: a, offset: 0, transposed: transposeA }, { data: b, offset: 0, transposed: transposeB }, c, 0, true);
        assertClose(c, expected, 1e-12, 'accumulated C');
        const fresh = new Float64Array(m * n).fill(7);
        gemm(m, n, k, { data: a, offset: 0, transposed: transposeA }, { data: b, offset: 0, transposed: transposeB }, fresh, 0, false);
        assertClose(fresh, expected.map((v, i) => v - start[i]), 1e-12, 'overwritten C');
      });
    }
  }
}
