// A `train` block's loss with arguments (`cross_entropy(label_smoothing = 0.2)`): both back
// ends apply them alike, they change the loss, and bad ones are NN4002 at the argument.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkProgram } from '../../engine/src/lang/program.js';
import { prepare } from '../../engine/src/run/prepare.js';
import { onnxBackend, tsBackend } from '../../engine/src/run/backends.js';
import { batchLayout } from '../../engine/src/run/loop.js';
import { epochOrder, makeBatch } from '../../engine/src/core/batches.js';

const program = (loss: string) => `model Net(x: [B, 2]) -> [B, 2] {
  return x |> Linear(2, 16) |> tanh |> Linear(16, 2)
}

train Net {
  data = moons(points = 64)
  loss = ${loss}
  batch = 16
}
`;

async function losses(loss: string): Promise<{ ts: number[]; onnx: number[] }> {
  const prepared = prepare(program(loss), { baseDir: '.' });
  if (Array.isArray(prepared)) assert.fail(prepared.map((e) => e.message).join('; '));
  const order = epochOrder(prepared.trainSplit.count, 0, 0, false);
  const batches = [0, 1, 2].map((k) => makeBatch(prepared.trainSplit, order, k * 16, 16, batchLayout(prepared)));
  const onnx = await onnxBackend(prepared, 1);
  const onnxLosses = (await onnx.run(batches, 1)).map((s) => ('loss' in s ? s.loss : NaN));
  await onnx.release();
  const tsLosses = (await tsBackend(prepared, 1).run(batches, 1)).map((s) => ('loss' in s ? s.loss : NaN));
  return { ts: tsLosses, onnx: onnxLosses };
}

test('cross_entropy(label_smoothing = 0.2) trains alike on both back ends, and differs from the plain loss', async () => {
  const smoothed = await losses('cross_entropy(label_smoothing = 0.2)');
  const plain = await losses('cross_entropy');
  smoothed.ts.forEach((l, i) => assert.ok(Math.abs(l - smoothed.onnx[i]) <= 1e-5 * Math.abs(l), `step ${i + 1}: ${l} vs ${smoothed.onnx[i]}`));
  assert.ok(Math.abs(smoothed.ts[0] - plain.ts[0]) > 1e-3, `${smoothed.ts[0]} vs ${plain.ts[0]}`);
});

test('a loss argument out of range or unknown is NN4002 at the argument', () => {
  for (const [loss, problem] of [['cross_entropy(label_smoothing = 2)', /label_smoothing` must be a number in \[0, 1\]/], ['huber(beta = 1)', /`huber` has no argument `beta`/]] as const) {
    const result = checkProgram(program(loss));
    const found = result.diagnostics.find((d) => d.code === 'NN4002');
    assert.ok(found && problem.test(found.message), `${loss}: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  }
});
