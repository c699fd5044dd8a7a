// A variadic group (`*S`) stands for any number of dims: a fn with one checks with the group
// of one and of two dims, gradcheck tries several group sizes, and a model calling it with a
// two-dim group trains the same on both back ends.

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkProgram } from '../../engine/src/lang/program.js';
import { gradcheckProgram } from '../../engine/src/run/gradcheck.js';
import { train } from '../../engine/src/run/loop.js';
import type { RunEvent } from '../../engine/src/core/events.js';

const codes = (text: string) => checkProgram(text).diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}@${text.slice(0, d.range.start).split('\n').length}`);

const ADDB = (bias: string) => `fn addb(x: [*S, D], b: [D]) -> [*S, D] {
  return x + b
} grad(g) {
  return g, ${bias}
}
`;

test('a grad block that sums one leading axis of a variadic group is refused at the gradient', () => {
  assert.deepEqual(codes(ADDB('sum(g, 0)')), ['NN3002@4']);
  assert.deepEqual(codes(ADDB('sum(reshape(g, [-1, D]), 0)')), []);
});

test('a reduction over axis 0 of [*S, D] does not give [D]', () => {
  assert.deepEqual(codes('fn f(x: [*S, D]) -> [D] {\n  return sum(x, 0)\n}\n'), ['NN2110@2']);
  assert.deepEqual(codes('fn f(x: [*S, D]) -> [*S, D] {\n  return softmax(x)\n}\n'), []);
  assert.deepEqual(codes('fn f(x: [*S, D]) -> [D] {\n  return sum(reshape(x, [-1, D]), 0)\n}\n'), []);
});

test('gradcheck tries every group size: a gradient right only for one-dim groups fails', () => {
  const result = gradcheckProgram(`${ADDB('sum(reshape(g, [-1, D]), 0)')}`, {});
  assert.ok('fns' in result && result.fns.every((f) => f.ok), JSON.stringify(result));
});

test('a model calling a variadic fn with a two-dim group trains the same on both back ends', async () => {
  const text = `${ADDB('sum(reshape(g, [-1, D]), 0)')}
model M(x: [B, 2]) -> [B, 2] {
  fc1 = Linear(2, 6)
  fc2 = Linear(6, 2)
  b = param([3], init = normal(0.5))
  h = reshape(fc1(x), [B, 2, 3])
  return fc2(flatten(addb(h, b), 1))
}
train M {
  data = moons(points = 40)
  epochs = 2
  batch = 8
}
`;
  const run = async (backend: 'ts' | 'onnx') => {
    const losses: number[] = [];
    const outcome = await train(text, { baseDir: mkdtempSync(join(tmpdir(), 'nn-variadic-')), backend }, (event: RunEvent) => {
      if (event.type === 'step') losses.push(event.loss);
      if (event.type === 'start') assert.equal(event.backend, backend, event.note);
    });
    assert.ok('end' in outcome, JSON.stringify(outcome));
    return losses;
  };
  const ts = await run('ts');
  const onnx = await run('onnx');
  ts.forEach((loss, i) => assert.ok(Math.abs(loss - onnx[i]) < 1e-4, `step ${i + 1}: TS ${loss}, ONNX ${onnx[i]}`));
});
