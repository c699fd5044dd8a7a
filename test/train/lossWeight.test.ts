// A `train` block's loss with class weights (`cross_entropy(weight = [1.0, 3.0])`): the checker
// takes one non-negative number per class (else NN4002 at the list), both back ends train alike
// and differently from the plain loss, and train.py's loss_of is PyTorch's weighted loss.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkProgram } from '../../engine/src/lang/program.js';
import { prepare, type Prepared } from '../../engine/src/run/prepare.js';
import { onnxBackend, tsBackend } from '../../engine/src/run/backends.js';
import { batchLayout } from '../../engine/src/run/loop.js';
import { epochOrder, makeBatch } from '../../engine/src/core/batches.js';
import { lossOf } from '../../engine/src/backend-ts/objective.js';
import { exportPytorch } from '../../engine/src/export/pytorch.js';
import { trainScript } from '../../engine/src/export/trainScript.js';
import { tensor } from '../../engine/src/tensor/tensor.js';

const PYTHON = '/usr/bin/python3';
const torchMissing = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0 ? 'python3-torch not installed' : false;

const program = (loss: string, last = '') => `model Net(x: [B, 2]) -> [B, 3] {
  return x |> Linear(2, 16) |> tanh |> Linear(16, 3)${last}
}

train Net {
  data = spirals(classes = 3, points = 64)
  loss = ${loss}
  batch = 16
}
`;

function prepared(text: string): Prepared {
  const p = prepare(text, { baseDir: '.' });
  if (Array.isArray(p)) assert.fail(p.map((e) => e.message).join('; '));
  return p;
}

async function losses(text: string): Promise<{ ts: number[]; onnx: number[] }> {
  const p = prepared(text);
  const order = epochOrder(p.trainSplit.count, 0, 0, false);
  const batches = [0, 1, 2].map((k) => makeBatch(p.trainSplit, order, k * 16, 16, batchLayout(p)));
  const onnx = await onnxBackend(p, 1);
  const onnxLosses = (await onnx.run(batches, 1)).map((s) => ('loss' in s ? s.loss : NaN));
  await onnx.release();
  const tsLosses = (await tsBackend(p, 1).run(batches, 1)).map((s) => ('loss' in s ? s.loss : NaN));
  return { ts: tsLosses, onnx: onnxLosses };
}

const agree = (a: { ts: number[]; onnx: number[] }, what: string) =>
  a.ts.forEach((l, i) => assert.ok(Math.abs(l - a.onnx[i]) <= 1e-4 * Math.max(1, Math.abs(l)), `${what}, step ${i + 1}: ${l} vs ${a.onnx[i]}`));

test('class weights are checked: accepted in the TrainIR, NN4002 at the list for a wrong count or a bad value', () => {
  const ok = checkProgram(program('cross_entropy(weight = [1.0, 2.0, 0.5], label_smoothing = 0.1)'));
  assert.deepEqual(ok.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.deepEqual(ok.trains[0]?.lossWeight, [1, 2, 0.5]);
  for (const [list, problem] of [['[1.0, 2.0]', /`weight` has 2 class weights, but `Net` scores 3 classes/], ['[1.0, -2.0, 0.5]', /`weight` must be a list of non-negative numbers/], ['2.0', /`weight` must be a list/]] as const) {
    const text = program(`cross_entropy(weight = ${list})`);
    const found = checkProgram(text).diagnostics.find((d) => d.code === 'NN4002');
    assert.ok(found && problem.test(found.message), `${list}: ${found?.message}`);
    assert.deepEqual(found.range, { start: text.indexOf(list), end: text.indexOf(list) + list.length }, list);
  }
  const mse = checkProgram(program('mse(weight = [1.0, 2.0, 0.5])')).diagnostics.find((d) => d.code === 'NN4002');
  assert.ok(mse && /`mse` has no argument `weight`/.test(mse.message), mse?.message);
});

test('cross_entropy(weight = ...) and nll(weight = ...) train alike on both back ends, and differ from the plain loss', async () => {
  const weighted = await losses(program('cross_entropy(weight = [1.0, 3.0, 0.5])'));
  const plain = await losses(program('cross_entropy'));
  agree(weighted, 'cross_entropy');
  assert.ok(Math.abs(weighted.ts[0] - plain.ts[0]) > 1e-3, `${weighted.ts[0]} vs ${plain.ts[0]}`);
  const nll = await losses(program('nll(weight = [0.5, 2.0, 1.0])', ' |> log_softmax(dim = -1)'));
  agree(nll, 'nll');
  assert.ok(Math.abs(nll.ts[0] - plain.ts[0]) > 1e-3, `${nll.ts[0]} vs ${plain.ts[0]}`);
});

test('train.py gives F.cross_entropy the class weights', () => {
  const p = prepared(program('cross_entropy(weight = [1.0, 3.0, 0.5], label_smoothing = 0.1)'));
  assert.match(trainScript(p, 'net.py', 'net.nn'), /F\.cross_entropy\(output, target, weight=torch\.tensor\(\[1\.0, 3\.0, 0\.5\], device=output\.device\), label_smoothing=0\.1\)/);
});

test('train.py\'s weighted loss is the TS loss, by PyTorch', { skip: torchMissing }, () => {
  const p = prepared(program('cross_entropy(weight = [1.0, 3.0, 0.5], label_smoothing = 0.1)'));
  const output = [[0.2, -1.0, 0.7], [1.5, 0.1, -0.3], [-0.4, 0.9, 0.0], [0.3, 0.3, 2.0]];
  const target = [0, 1, 2, 1];
  const ours = lossOf(p.train.loss, tensor(output), tensor(target, { dtype: 'int64' }), p.train.lossArgs, p.train.lossWeight).item();
  const dir = mkdtempSync(join(tmpdir(), 'nn-loss-weight-'));
  try {
    writeFileSync(join(dir, 'net.py'), exportPytorch(p.model, p.check.fnIrs, 'net.nn', p.train));
    writeFileSync(join(dir, 'train.py'), trainScript(p, 'net.py', 'net.nn'));
    const driver = `
import sys, torch
sys.path.insert(0, ${JSON.stringify(dir)})
import train
print(train.loss_of(torch.tensor(${JSON.stringify(output)}), torch.tensor(${JSON.stringify(target)})).item())
`;
    const result = spawnSync(PYTHON, ['-c', driver], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const theirs = Number(result.stdout.trim().split('\n').pop());
    assert.ok(Math.abs(ours - theirs) <= 1e-5, `${ours} vs ${theirs}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
