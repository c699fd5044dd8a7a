// gradcheck itself: it passes correct rules and catches a wrong one.

import test from 'node:test';
import assert from 'node:assert/strict';
import * as E from '../../engine/src/index.js';
import { record } from '../../engine/src/autograd/tape.js';
import { inputs64 } from './helpers.js';

/** x² with a deliberately wrong backward rule (x instead of 2x). */
function brokenSquare(x: E.Tensor): E.Tensor {
  const out = E.noGrad(() => E.mul(x, x));
  return record('broken_square', out, [x], (g) => [E.noGrad(() => E.mul(g, x))]);
}

test('gradcheck flags a wrong backward rule and accepts the right one', () => {
  const [x] = inputs64(1, [3]);
  const bad = E.gradcheck(brokenSquare, [x]);
  assert.equal(bad.ok, false);
  assert.match(bad.message, /input 0 \[3\] element 0, output element 0: analytic/);
  const good = E.gradcheck((t) => E.mul(t, t), [x]);
  assert.equal(good.ok, true);
  assert.ok(good.maxAbsError < 1e-8);
});

test('gradcheck rejects a function that leaves float64', () => {
  const [x] = inputs64(2, [2]);
  const result = E.gradcheck((t) => E.cast(t, 'float32'), [x]);
  assert.equal(result.ok, false);
});
