// Training runs end to end through the checker and the TS engine: the loss goes down, runs
// are reproducible, --resume continues bit for bit, NaN/Inf stops the run at the right line,
// findings appear, and probe gradients equal finite differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchLayout, train, type TrainOptions } from '../../engine/src/run/loop.js';
import { probe } from '../../engine/src/run/probe.js';
import { prepare } from '../../engine/src/run/prepare.js';
import { epochOrder, makeBatch, streamRng } from '../../engine/src/core/batches.js';
import { lossOf } from '../../engine/src/backend-ts/objective.js';
import { gradcheckProgram } from '../../engine/src/run/gradcheck.js';
import { centralDifference } from '../../engine/src/gradcheck.js';
import { readSafetensors } from '../../engine/src/core/safetensors.js';
import type { RunEvent } from '../../engine/src/core/events.js';

const work = mkdtempSync(join(tmpdir(), 'nn-train-'));

const SPIRAL_MLP = `
model Mlp(x: [B, 2]) -> [B, 3] {
  fc1 = Linear(2, 32)
  fc2 = Linear(32, 3)
  return fc2(relu(fc1(x)))
}

train Mlp {
  data      = spirals(classes = 3, points = 60)
  optimizer = Adam(lr = 0.01)
  epochs    = 20
  batch     = 16
  seed      = 3
}
`;

async function run(text: string, options: Partial<TrainOptions> = {}, stopAfterSteps?: number) {
  const events: RunEvent[] = [];
  const controller = new AbortController();
  const saveDir = join(work, `run-${Math.random().toString(36).slice(2)}`);
  const outcome = await train(text, { baseDir: work, saveDir, backend: 'ts', signal: controller.signal, ...options }, (e) => {
    events.push(e);
    if (stopAfterSteps !== undefined && e.type === 'step' && e.step >= stopAfterSteps) controller.abort();
  });
  if ('errors' in outcome) assert.fail(outcome.errors.map((e) => `${e.code} ${e.message}`).join('\n'));
  const losses = events.flatMap((e) => (e.type === 'step' ? [e.loss] : []));
  return { end: outcome.end, events, losses };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test('the loss goes down and every step event carries statistics', async () => {
  const { losses, events, end } = await run(SPIRAL_MLP);
  assert.equal(end.reason, 'done');
  assert.equal(losses.length, 20 * Math.ceil(180 / 16), 'the last, smaller batch is a step too');
  assert.ok(mean(losses.slice(-10)) < 0.7 * mean(losses.slice(0, 10)), `losses ${losses.slice(0, 3)} ... ${losses.slice(-3)}`);
  const step = events.find((e) => e.type === 'step');
  assert.ok(step && step.type === 'step');
  assert.deepEqual(step.params.map((p) => p.name), ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
  assert.ok(step.params.every((p) => p.gradNorm > 0 && p.updateRatio > 0));
  assert.equal(step.activations[0]?.op, 'relu');
  const epochs = events.filter((e) => e.type === 'epoch');
  assert.equal(epochs.length, 20);
  assert.ok(end.testAccuracy !== null && end.testAccuracy > 0.7, `test accuracy ${end.testAccuracy}`);
});

test('the same seed gives the same losses; another seed other ones', async () => {
  const a = await run(SPIRAL_MLP);
  const b = await run(SPIRAL_MLP);
  assert.deepEqual(a.losses, b.losses);
  const c = await run(SPIRAL_MLP.replace('seed      = 3', 'seed      = 4'));
  assert.notDeepEqual(a.losses, c.losses);
});

test('--resume continues bit for bit, from an epoch end and from the middle of an epoch', async () => {
  const withDropout = SPIRAL_MLP.replace('return fc2(relu(fc1(x)))', 'return fc2(dropout(relu(fc1(x)), 0.2))');
  const full = await run(withDropout);
  for (const stopAfter of [12, 17, 100]) {
    const dir = join(work, `resume-${stopAfter}`);
    const first = await run(withDropout, { saveDir: dir }, stopAfter);
    assert.equal(first.end.reason, 'cancelled');
    assert.deepEqual(first.losses, full.losses.slice(0, stopAfter));
    const rest = await run(withDropout, { resume: dir });
    assert.equal(rest.end.reason, 'done');
    assert.deepEqual([...first.losses, ...rest.losses], full.losses, `resumed after step ${stopAfter}`);
    const weightsA = readSafetensors(join(dir, 'checkpoint.safetensors'));
    const weightsB = readSafetensors(full.end.checkpoint!);
    if ('error' in weightsA || 'error' in weightsB) assert.fail('checkpoint unreadable');
    assert.deepEqual(weightsA.tensors.get('fc1.weight'), weightsB.tensors.get('fc1.weight'));
    assert.deepEqual(weightsA.tensors.get('optim.fc1.weight.exp_avg'), weightsB.tensors.get('optim.fc1.weight.exp_avg'));
  }
});

test('a too-large learning rate stops the run with NN5004 at the first op that overflows', async () => {
  const text = [
    'model M(x: [B, 2]) -> [B, 3] {',
    '  fc1 = Linear(2, 16)',
    '  fc2 = Linear(16, 3)',
    '  h = fc1(x)',
    '  e = exp(h)',
    '  return fc2(e)',
    '}',
    'train M {',
    '  data      = spirals(classes = 3, points = 30)',
    '  optimizer = SGD(lr = 1000)',
    '  epochs    = 5',
    '}',
  ].join('\n');
  const dir = join(work, 'nan');
  const { end, events } = await run(text, { saveDir: dir });
  assert.equal(end.reason, 'nan');
  const nan = end.findings.find((f) => f.code === 'NN5004');
  assert.ok(nan, JSON.stringify(end.findings));
  assert.equal(text.slice(0, nan.range.start).split('\n').length, 5, `NN5004 at ${JSON.stringify(nan)}`);
  assert.match(nan.message, /exp/);
  assert.ok(!events.some((e) => e.type === 'checkpoint'), 'no checkpoint is written after the NaN');
});

test('a ten-sigmoid MLP shows vanishing gradients (NN5001) on its first layers', () => {
  const layers = Array.from({ length: 10 }, (_, i) => `  fc${i + 1} = Linear(${i === 0 ? 2 : 16}, 16)`);
  const body = Array.from({ length: 10 }, (_, i) => `  h = sigmoid(fc${i + 1}(${i === 0 ? 'x' : 'h'}))`);
  const text = ['model Deep(x: [B, 2]) -> [B, 3] {', ...layers, '  out = Linear(16, 3)', ...body, '  return out(h)', '}', 'train Deep {', '  data = spirals(classes = 3, points = 50)', '}'].join('\n');
  const outcome = probe(text, { baseDir: work, batches: 2 });
  if ('errors' in outcome) assert.fail(outcome.errors.map((e) => e.message).join('\n'));
  const vanishing = outcome.findings.filter((f) => f.code === 'NN5001').map((f) => f.layer);
  assert.ok(vanishing.includes('fc1') && vanishing.includes('fc2'), `NN5001 on ${vanishing}`);
  assert.ok(!vanishing.includes('out') && !vanishing.includes('fc10'), `not on the last layers: ${vanishing}`);
});

test('probe gradients equal central finite differences of the mean loss (float64)', () => {
  const text = `
model Tiny(x: [B, 2]) -> [B, 3] {
  fc1 = Linear(2, 4)
  fc2 = Linear(4, 3)
  return fc2(tanh(fc1(x)))
}
train Tiny {
  data  = moons(points = 12)
  batch = 5
}
`.replace('[B, 3]', '[B, 2]').replace('Linear(4, 3)', 'Linear(4, 2)');
  const options = { baseDir: work, batches: 2, dtype: 'float64' as const };
  const outcome = probe(text, options);
  if ('errors' in outcome) assert.fail(outcome.errors.map((e) => e.message).join('\n'));
  // The same model (same seed, same init), evaluated directly for the finite differences.
  const prepared = prepare(text, options);
  if (Array.isArray(prepared)) assert.fail('prepare failed');
  const layout = batchLayout(prepared);
  const order = epochOrder(prepared.trainSplit.count, 0, 0, false);
  const meanLoss = (): number => {
    let total = 0;
    for (let b = 0; b < 2; b++) {
      const batch = makeBatch(prepared.trainSplit, order, b * 5, 5, layout);
      const mode = { dropout: false, batchNormTraining: true, rng: streamRng(0, 'dropout', 0), detectNonFinite: false };
      total += lossOf('cross_entropy', prepared.lowered.forward([batch.input], mode), batch.target).item();
    }
    return total / 2;
  };
  const eps = 1e-6;
  let checked = 0;
  for (const p of prepared.lowered.params) {
    const analytic = outcome.gradients.get(p.name)!.data;
    for (let k = 0; k < p.tensor.size; k++) {
      const numeric = centralDifference(p.tensor.data as Float64Array, k, meanLoss, eps);
      assert.ok(Math.abs(analytic[k] - numeric) <= 1e-7 + 1e-5 * Math.abs(numeric), `${p.name}[${k}]: ${analytic[k]} vs ${numeric}`);
      checked++;
    }
  }
  assert.equal(checked, 4 * 2 + 4 + 2 * 4 + 2);
});

test('gradcheck passes a correct grad block and fails a wrong one', () => {
  const fn = (db: string) => `
fn my_linear(x: [B, I], W: [O, I], b: [O]) -> [B, O] {
  return x @ transpose(W, 0, 1) + b
} grad(g) {
  dx = g @ W
  dW = transpose(g, 0, 1) @ x
  db = ${db}
  return dx, dW, db
}
`;
  const good = gradcheckProgram(fn('sum(g, 0)'));
  if (!('fns' in good)) assert.fail(JSON.stringify(good));
  assert.equal(good.fns.length, 1);
  assert.ok(good.fns[0].ok);
  assert.deepEqual(good.fns[0].inputs.map((i) => i.name), ['x', 'W', 'b']);
  assert.ok(good.fns[0].inputs.every((i) => i.maxAbsError < 1e-6));
  const bad = gradcheckProgram(fn('sum(g, 0) * 2'));
  if (!('fns' in bad)) assert.fail(JSON.stringify(bad));
  assert.equal(bad.fns[0].ok, false);
  assert.ok(bad.fns[0].inputs[2].maxRelError > 0.1);
  assert.ok(bad.fns[0].inputs[0].maxAbsError < 1e-6, 'the other inputs are still right');
});

test('a custom grad block is the backward pass of its fn during training', async () => {
  writeFileSync(join(work, 'unused.txt'), '');
  const text = `
fn my_linear(x: [B, I], W: [O, I], b: [O]) -> [B, O] {
  return x @ transpose(W, 0, 1) + b
} grad(g) {
  dx = g @ W
  dW = transpose(g, 0, 1) @ x
  db = sum(g, 0)
  return dx, dW, db
}

model M(x: [B, 2]) -> [B, 2] {
  W1 = param([16, 2])
  b1 = param([16], init = zeros)
  fc = Linear(16, 2)
  return fc(relu(my_linear(x, W1, b1)))
}

train M {
  data      = xor()
  optimizer = Adam(lr = 0.05)
  epochs    = 150
  batch     = 4
}
`;
  const { end, losses } = await run(text);
  assert.equal(end.reason, 'done');
  assert.ok(losses[losses.length - 1] < 0.2 * losses[0], `loss ${losses[0]} -> ${losses[losses.length - 1]}`);
});

test('validate = fraction holds out a seeded subset; a file data set without a test split is evaluated on its training data', async () => {
  const held = await run(SPIRAL_MLP.replace('seed      = 3', 'seed      = 3\n  validate  = 0.25').replace('epochs    = 20', 'epochs    = 2'));
  const epoch = held.events.find((e) => e.type === 'epoch');
  assert.ok(epoch && epoch.type === 'epoch');
  assert.equal(epoch.evaluatedOn, 'validation');
  const steps = held.events.filter((e) => e.type === 'step').length;
  assert.equal(steps, 2 * Math.ceil(135 / 16), '45 of the 180 samples are held out');

  const rows = ['a,b,label', ...Array.from({ length: 40 }, (_, i) => `${(i % 2) * 2 - 1 + 0.1 * Math.sin(i)},${Math.cos(i)},${i % 2}`)];
  writeFileSync(join(work, 'points.csv'), rows.join('\n') + '\n');
  const csv = await run(`
model Lin(x: [B, 2]) -> [B, 2] {
  fc = Linear(2, 2)
  return fc(x)
}
train Lin {
  data      = csv("points.csv", label = "label")
  optimizer = Adam(lr = 0.1)
  epochs    = 10
  batch     = 8
}
`);
  const last = csv.events.filter((e) => e.type === 'epoch').pop();
  assert.ok(last && last.type === 'epoch');
  assert.equal(last.evaluatedOn, 'train');
  assert.equal(last.testAccuracy, 1, 'the two classes are separable along a');
});

test('an Embedding model trains on int64 token ids from .npy files', async () => {
  const npy = (descr: string, shape: number[], data: ArrayBufferView): Buffer => {
    let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
    header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
    const head = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
    return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
  };
  // Sequences of 4 tokens; the class is whether token 7 occurs.
  const count = 64;
  const tokens = new BigInt64Array(count * 4);
  const labels = new BigInt64Array(count);
  for (let i = 0; i < count; i++) {
    for (let t = 0; t < 4; t++) tokens[i * 4 + t] = BigInt((i * 3 + t * 5) % 7);
    if (i % 2 === 0) tokens[i * 4 + (i % 4)] = 7n;
    labels[i] = BigInt(tokens.subarray(i * 4, i * 4 + 4).includes(7n) ? 1 : 0);
  }
  writeFileSync(join(work, 'tokens.npy'), npy('<i8', [count, 4], tokens));
  writeFileSync(join(work, 'labels.npy'), npy('<i8', [count], labels));
  const { end, losses } = await run(`
model Bag(tokens: int[B, T]) -> [B, 2] {
  emb = Embedding(8, 8)
  fc  = Linear(8, 2)
  return fc(relu(mean(emb(tokens), 1)))
}
train Bag {
  data      = npy(x = "tokens.npy", y = "labels.npy")
  optimizer = Adam(lr = 0.05)
  epochs    = 30
  batch     = 16
}
`);
  assert.equal(end.reason, 'done');
  assert.ok(losses[losses.length - 1] < 0.3 * losses[0], `loss ${losses[0]} -> ${losses[losses.length - 1]}`);
});
