// Shared helpers for engine tests: seeded float64 inputs and numeric comparisons.

import assert from 'node:assert/strict';
import { Rng, randn, gradcheck, type Tensor } from '../../engine/src/index.js';

export function inputs64(seed: number, ...shapes: number[][]): Tensor[] {
  const rng = new Rng(seed);
  return shapes.map((shape) => randn(shape, { rng, dtype: 'float64' }));
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-9, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const scale = Math.max(1, Math.abs(expected[i]));
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance * scale, `${what}[${i}]: ${actual[i]} vs expected ${expected[i]}`);
  }
}

export function assertGradcheck(fn: (...xs: Tensor[]) => Tensor, xs: Tensor[]): void {
  const result = gradcheck(fn, xs);
  assert.ok(result.ok, result.message);
}
