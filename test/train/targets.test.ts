// What a loss compares the output with (lang/targets.ts), on both back ends: class labels
// as values for a [B, 1] output, one-hot for a [B, C] output, regression targets [B] for a
// [B] output; and NN4007 when no form fits.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { train } from '../../engine/src/run/loop.js';
import { checkProgram } from '../../engine/src/lang/program.js';
import { readDataHeader } from '../../engine/src/data/index.js';
import type { RunEvent } from '../../engine/src/core/events.js';

const dir = mkdtempSync(join(tmpdir(), 'nn-targets-'));
writeFileSync(join(dir, 'r.csv'), 'x1,x2,y\n1,2,3\n2,3,5\n3,1,4\n4,4,8\n2,2,4\n');

const model = (output: string, body: string, data: string, loss: string) => `
model M(x: [B, 2]) -> ${output} {
  fc = Linear(2, ${output === '[B, 2]' ? 2 : 1})
  return ${body}
}
train M {
  data = ${data}
  loss = ${loss}
  epochs = 2
  batch = 4
}
`;

const CASES = {
  'bce_with_logits on class labels, output [B, 1]': model('[B, 1]', 'fc(x)', 'moons(points = 40)', 'bce_with_logits'),
  'mse on class labels, output [B, 2] (one-hot)': model('[B, 2]', 'fc(x)', 'moons(points = 40)', 'mse'),
  'bce_with_logits on class labels, output [B, 2] (one-hot)': model('[B, 2]', 'fc(x)', 'moons(points = 40)', 'bce_with_logits'),
  'mse on a regression csv, output [B]': model('[B]', 'reshape(fc(x), [B])', 'csv("r.csv", label = "y")', 'mse'),
  'mse on a regression csv, output [B, 1]': model('[B, 1]', 'fc(x)', 'csv("r.csv", label = "y")', 'mse'),
};

async function losses(text: string, backend: 'ts' | 'onnx'): Promise<number[]> {
  const steps: number[] = [];
  const outcome = await train(text, { baseDir: dir, saveDir: mkdtempSync(join(dir, 'run-')), backend }, (event: RunEvent) => {
    if (event.type === 'step') steps.push(event.loss);
    if (event.type === 'start') assert.equal(event.backend, backend, event.note);
  });
  assert.ok('end' in outcome, JSON.stringify(outcome));
  return steps;
}

for (const [name, text] of Object.entries(CASES)) {
  test(`${name}: checks clean and trains the same on both back ends`, async () => {
    const check = checkProgram(text, { readDataHeader: readDataHeader(dir) });
    assert.deepEqual(check.diagnostics.filter((d) => d.severity === 'error'), []);
    const ts = await losses(text, 'ts');
    const onnx = await losses(text, 'onnx');
    assert.ok(ts.length > 0);
    ts.forEach((loss, i) => assert.ok(Math.abs(loss - onnx[i]) <= 1e-4 * Math.max(1, Math.abs(loss)), `step ${i + 1}: TS ${loss}, ONNX ${onnx[i]}`));
  });
}

test('an output no target form fits is NN4007 at the loss', () => {
  const text = model('[B, 1]', 'fc(x)', 'spirals(classes = 3, points = 30)', 'mse').replace('Linear(2, 1)', 'Linear(2, 3)').replace('-> [B, 1]', '-> [B, 3, 1]').replace('return fc(x)', 'return reshape(fc(x), [B, 3, 1])');
  const codes = checkProgram(text, { readDataHeader: readDataHeader(dir) }).diagnostics.map((d) => d.code);
  assert.deepEqual(codes, ['NN4007']);
});
