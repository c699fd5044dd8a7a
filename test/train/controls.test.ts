// The `train` block's training controls: learning-rate schedules and warmup against
// torch.optim.lr_scheduler, gradient clipping, and whole steps with them on the TS engine,
// on the ONNX path and in PyTorch (the exported module and make_training/clip_gradients)
// from the same weights and batches; early stopping; bad values are NN4002 at the value.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkProgram } from '../../engine/src/lang/program.js';
import type { TrainIR } from '../../engine/src/lang/api.js';
import { prepare, type Prepared } from '../../engine/src/run/prepare.js';
import { onnxBackend, tsBackend } from '../../engine/src/run/backends.js';
import { batchLayout, train } from '../../engine/src/run/loop.js';
import { epochOrder, makeBatch, type Batch } from '../../engine/src/core/batches.js';
import { learningRate } from '../../engine/src/optim/schedule.js';
import { exportPytorch } from '../../engine/src/export/pytorch.js';
import { pytorchTraining } from '../../engine/src/export/pytorchTraining.js';
import { storedTensor, writeSafetensors } from '../../engine/src/core/safetensors.js';
import type { RunEvent } from '../../engine/src/core/events.js';

const PYTHON = '/usr/bin/python3';
const torchMissing = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0 ? 'python3-torch not installed' : false;

const program = (optimizer: string, controls: string) => `model Net(x: [B, 2]) -> [B, 3] {
  return x |> Linear(2, 16) |> tanh |> Linear(16, 3)
}

train Net {
  data = spirals(classes = 3, points = 64)
  optimizer = ${optimizer}
  batch = 16
  ${controls}
}
`;

function prepared(text: string): Prepared {
  const p = prepare(text, { baseDir: '.' });
  if (Array.isArray(p)) assert.fail(p.map((e) => e.message).join('; '));
  return p;
}

const STEPS = 12;

function batchesOf(p: Prepared): Batch[] {
  const order = epochOrder(p.trainSplit.count, 0, 0, true);
  return Array.from({ length: STEPS }, (_, k) => makeBatch(p.trainSplit, order, (k % 12) * 16, 16, batchLayout(p)));
}

const lossesOf = (outcomes: Awaited<ReturnType<ReturnType<typeof tsBackend>['run']>>): number[] => outcomes.map((s) => ('loss' in s ? s.loss : NaN));

/**
 * STEPS step batches of `accumulate` micro-batches of 16, every fourth with 40 samples
 * (16, 16 and 8), as the loop makes them (run/loop.ts).
 */
function accumulatedBatchesOf(p: Prepared, accumulate: number): Batch[] {
  const order = epochOrder(p.trainSplit.count, 0, 0, true);
  const size = 16 * accumulate;
  return Array.from({ length: STEPS }, (_, k) => makeBatch(p.trainSplit, order, (k % 4) * size, k % 4 === 3 ? 40 : size, batchLayout(p)));
}

/** Losses of STEPS steps on both back ends from the block's seeded weights, and those weights. */
async function bothBackEnds(text: string, batchesFor: (p: Prepared) => Batch[] = batchesOf): Promise<{ ts: number[]; onnx: number[]; p: Prepared; initial: Map<string, Float32Array>; batches: Batch[] }> {
  const p = prepared(text);
  const batches = batchesFor(p);
  const initial = new Map([...p.lowered.params, ...p.lowered.buffers].map((x) => [x.name, Float32Array.from(x.tensor.data)]));
  const onnx = await onnxBackend(p, 1, STEPS);
  const onnxLosses = lossesOf(await onnx.run(batches, 1));
  await onnx.release();
  const ts = lossesOf(await tsBackend(p, 1, STEPS).run(batches, 1));
  return { ts, onnx: onnxLosses, p, initial, batches };
}

/** Trains the exported module in PyTorch with make_training and clip_gradients; its losses. */
function torchLosses(run: { p: Prepared; initial: Map<string, Float32Array>; batches: Batch[] }): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'nn-controls-'));
  try {
    writeFileSync(join(dir, 'net.py'), exportPytorch(run.p.model, run.p.check.fnIrs, 'net.nn', run.p.train));
    writeSafetensors(join(dir, 'w.safetensors'), { tensors: new Map([...run.initial].map(([name, data]) => [name, storedTensor(run.p.model.params.find((q) => q.name === name)!.shape, data)])), metadata: {} });
    const batches = run.batches.map((b) => ({ x: Array.from(b.input.data), shape: b.input.shape, y: Array.from(b.target.data) }));
    writeFileSync(join(dir, 'batches.json'), JSON.stringify(batches));
    const driver = `
import json, sys, torch, torch.nn.functional as F
sys.path.insert(0, ${JSON.stringify(dir)})
import net
model = net.load_model(${JSON.stringify(join(dir, 'w.safetensors'))})
optimizer, scheduler = net.make_training(model, ${STEPS})
losses = []
for b in json.load(open(${JSON.stringify(join(dir, 'batches.json'))})):
    x = torch.tensor(b["x"], dtype=torch.float32).reshape(b["shape"])
    y = torch.tensor(b["y"], dtype=torch.int64)
    optimizer.zero_grad()
    # A step's batch holds up to ACCUMULATE batches of 16: (loss / n).backward() on each.
    xs, ys = x.split(16), y.split(16)
    assert len(xs) <= net.ACCUMULATE
    total = 0.0
    for xm, ym in zip(xs, ys):
        loss = F.cross_entropy(model(xm), ym) / len(xs)
        loss.backward()
        total += loss.item()
    net.clip_gradients(model)
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    losses.append(total)
print(json.dumps(losses))
`;
    const result = spawnSync(PYTHON, ['-c', driver], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    return JSON.parse(result.stdout.trim().split('\n').pop()!) as number[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const close = (a: number[], b: number[], tolerance: number, what: string): void => {
  assert.equal(a.length, b.length, what);
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= tolerance * Math.max(1, Math.abs(x)), `${what}, step ${i + 1}: ${x} vs ${b[i]}`));
};

const CASES = [
  { optimizer: 'SGD(lr = 0.5, momentum = 0.9)', controls: 'warmup = 3\n  schedule = cosine(eta_min = 0.01)\n  clip_grad_norm = 0.2' },
  { optimizer: 'AdamW(lr = 0.05, weight_decay = 0.1)', controls: 'schedule = step(step_size = 4, gamma = 0.5)\n  clip_grad_value = 0.05' },
  { optimizer: 'Adam(lr = 0.05)', controls: 'schedule = linear(start_factor = 0.1, total_iters = 8)\n  clip_grad_norm = 0.5\n  clip_grad_value = 0.1' },
  { optimizer: 'SGD(lr = 0.3)', controls: 'warmup = 5' },
  { optimizer: 'AdamW(lr = 0.05)', controls: 'freeze = [linear_0]\n  clip_grad_norm = 0.3' },
  { optimizer: 'SGD(lr = 0.5, momentum = 0.9, nesterov = true)', controls: 'schedule = one_cycle()' },
  { optimizer: 'Adam(lr = 0.05, betas = (0.9, 0.98))', controls: 'schedule = one_cycle(pct_start = 0.25, div_factor = 10, final_div_factor = 100)\n  clip_grad_norm = 0.5' },
  { optimizer: 'AdamW(lr = 0.05, weight_decay = 0.5)', controls: 'no_decay = "bias_and_norm"' },
  { optimizer: 'SGD(lr = 0.5, momentum = 0.9, weight_decay = 0.1)', controls: 'no_decay = "bias_and_norm"\n  schedule = step(step_size = 3)' },
  { optimizer: 'RMSprop(lr = 0.01, weight_decay = 0.1)', controls: 'no_decay = "bias_and_norm"' },
];

/** Optimizers whose every step a parity test compares; the controls above vary their steps. */
const OPTIMIZER_CASES = [
  'SGD(lr = 0.5, momentum = 0.9, nesterov = true)',
  'SGD(lr = 0.5, momentum = 0.9, weight_decay = 0.1, nesterov = true)',
  'RMSprop()',
  'RMSprop(lr = 0.005, alpha = 0.9, eps = 1e-6, momentum = 0.5, weight_decay = 0.01)',
  'Adam(lr = 0.05, betas = (0.8, 0.98))',
];

for (const optimizer of OPTIMIZER_CASES) {
  test(`${optimizer}: TS and ONNX agree, and PyTorch takes the same steps`, { skip: torchMissing }, async () => {
    for (const controls of ['', 'schedule = cosine()']) {
      const run = await bothBackEnds(program(optimizer, controls));
      close(run.ts, run.onnx, 1e-4, `TS vs ONNX ${controls}`);
      close(run.ts, torchLosses(run), 1e-4, `TS vs PyTorch ${controls}`);
      if (optimizer.includes('nesterov')) {
        const classic = await bothBackEnds(program(optimizer.replace(', nesterov = true', ''), controls));
        assert.ok(run.ts.some((l, i) => Math.abs(l - classic.ts[i]) > 1e-4), 'Nesterov momentum changes the steps');
      }
    }
  });
}

for (const c of CASES) {
  test(`${c.optimizer} with ${c.controls.replace(/\n\s*/g, ', ')}: TS and ONNX agree, and PyTorch takes the same steps`, { skip: torchMissing }, async () => {
    const run = await bothBackEnds(program(c.optimizer, c.controls));
    close(run.ts, run.onnx, 1e-4, 'TS vs ONNX');
    close(run.ts, torchLosses(run), 1e-4, 'TS vs PyTorch');
    const plain = await bothBackEnds(program(c.optimizer, ''));
    assert.ok(run.ts.some((l, i) => Math.abs(l - plain.ts[i]) > 1e-4), 'the controls change the steps');
  });
}

for (const c of [
  { optimizer: 'SGD(lr = 0.5, momentum = 0.9)', controls: 'accumulate = 3' },
  { optimizer: 'AdamW(lr = 0.05, weight_decay = 0.1)', controls: 'accumulate = 3\n  schedule = one_cycle()\n  clip_grad_norm = 0.3\n  no_decay = "bias_and_norm"' },
]) {
  test(`${c.optimizer} with ${c.controls.replace(/\n\s*/g, ', ')}: micro-batches of 16 averaged on TS, ONNX and PyTorch`, { skip: torchMissing }, async () => {
    const run = await bothBackEnds(program(c.optimizer, c.controls), (p) => accumulatedBatchesOf(p, 3));
    close(run.ts, run.onnx, 1e-4, 'TS vs ONNX');
    close(run.ts, torchLosses(run), 1e-4, 'TS vs PyTorch');
  });
}

test('accumulating micro-batches of a mean loss takes the step of their whole batch (no batch norm, no dropout)', async () => {
  // One batch of 64 per step (no partial step: equal micro-batches average to the batch's mean).
  const whole = (p: Prepared): Batch[] => {
    const order = epochOrder(p.trainSplit.count, 0, 0, true);
    return Array.from({ length: STEPS }, (_, k) => makeBatch(p.trainSplit, order, (k % 3) * 64, 64, batchLayout(p)));
  };
  const a = await bothBackEnds(program('SGD(lr = 0.5, momentum = 0.9)', 'accumulate = 4'), whole);
  const b = await bothBackEnds(program('SGD(lr = 0.5, momentum = 0.9)', '').replace('batch = 16', 'batch = 64'), whole);
  close(a.ts, b.ts, 1e-5, 'TS: 4 × 16 vs 64');
  close(a.onnx, b.onnx, 1e-5, 'ONNX: 4 × 16 vs 64');
});

test('accumulation with dropout and batch norm: one dropout stream and one running-statistics update per micro-batch on both back ends', async () => {
  const text = `model Net(x: [B, 2]) -> [B, 3] {
  return x |> Linear(2, 16) |> BatchNorm1d(16) |> tanh |> dropout(0.2) |> Linear(16, 3)
}

train Net {
  data = spirals(classes = 3, points = 64)
  optimizer = Adam(lr = 0.05)
  batch = 16
  accumulate = 3
}
`;
  const run = await bothBackEnds(text, (p) => accumulatedBatchesOf(p, 3));
  close(run.ts, run.onnx, 1e-4, 'TS vs ONNX');
});

test('frozen layers keep their weights on both back ends and leave the gradient statistics', async () => {
  const p = prepared(program('SGD(lr = 0.5, momentum = 0.9, weight_decay = 0.1)', 'freeze = [linear_0]'));
  assert.deepEqual(p.train.controls?.frozen, ['linear_0.weight', 'linear_0.bias']);
  const initial = new Map(p.lowered.params.map((x) => [x.name, Float32Array.from(x.tensor.data)]));
  const batches = batchesOf(p);
  const onnx = await onnxBackend(p, 1, STEPS);
  const onnxSteps = await onnx.run(batches, 1, true);
  onnx.sync();
  const afterOnnx = new Map(p.lowered.params.map((x) => [x.name, Float32Array.from(x.tensor.data)]));
  await onnx.release();
  for (const x of p.lowered.params) x.tensor.data.set(initial.get(x.name)!);
  const tsSteps = await tsBackend(p, 1, STEPS).run(batches, 1);
  for (const [name, before] of initial) {
    const moved = (after: Float32Array) => after.some((v, i) => v !== before[i]);
    const ts = p.lowered.params.find((x) => x.name === name)!.tensor.data as Float32Array;
    assert.equal(moved(ts), !name.startsWith('linear_0.'), `TS: ${name}`);
    assert.equal(moved(afterOnnx.get(name)!), !name.startsWith('linear_0.'), `ONNX: ${name}`);
  }
  for (const steps of [tsSteps, onnxSteps]) {
    const named = steps.flatMap((s) => ('params' in s ? s.params.map((q) => q.name) : []));
    assert.ok(named.length > 0 && named.every((n) => n.startsWith('linear_1.')), named.join(', '));
  }
});

test('the learning rates are those of torch.optim.lr_scheduler, step by step', { skip: torchMissing }, () => {
  const configs = [
    'schedule = step(step_size = 3, gamma = 0.5)',
    'schedule = cosine(T_max = 7, eta_min = 0.001)',
    'schedule = cosine()',
    'schedule = linear(start_factor = 0.25, end_factor = 0.75, total_iters = 6)',
    'warmup = 4',
    'warmup = 4\n  schedule = cosine()',
    'warmup = 3\n  schedule = step(step_size = 2, gamma = 0.3)',
    'schedule = one_cycle()',
    'schedule = one_cycle(pct_start = 0.25, div_factor = 10, final_div_factor = 100)',
  ];
  const total = 20;
  for (const controls of configs) {
    const check = checkProgram(program('SGD(lr = 0.1)', controls));
    const spec = check.trains[0] as TrainIR;
    assert.ok(spec, controls);
    const driver = `
import json, torch
model = torch.nn.Linear(1, 1)
${pytorchTraining(spec).join('\n')}
optimizer, scheduler = make_training(model, ${total})
rates = []
for _ in range(${total}):
    rates.append(optimizer.param_groups[0]["lr"])
    optimizer.step()
    scheduler.step()
print(json.dumps(rates))
`;
    const result = spawnSync(PYTHON, ['-c', driver], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const torchRates = JSON.parse(result.stdout.trim().split('\n').pop()!) as number[];
    const ours = Array.from({ length: total }, (_, t) => learningRate(spec.controls, 0.1, t + 1, total));
    close(ours, torchRates, 1e-9, controls);
  }
});

test('early stopping ends the run after `early_stopping` epochs without a better loss and keeps the best epoch', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nn-early-'));
  try {
    // A rate this large makes the evaluation loss climb after the first epoch.
    const text = program('SGD(lr = 40)', 'epochs = 12\n  early_stopping = 2\n  backend = "ts"');
    const events: RunEvent[] = [];
    const outcome = await train(text, { baseDir: '.', saveDir: dir, threads: 1 }, (e) => events.push(e));
    assert.ok('end' in outcome);
    const epochs = events.filter((e): e is Extract<RunEvent, { type: 'epoch' }> => e.type === 'epoch');
    const best = outcome.end.best!;
    assert.ok(best, 'a best epoch');
    const lowest = Math.min(...epochs.map((e) => e.testLoss));
    assert.equal(best.loss, lowest);
    assert.equal(epochs[best.epoch].testLoss, lowest);
    assert.equal(outcome.end.reason, 'early_stop');
    assert.equal(epochs.length, best.epoch + 3, 'stops two epochs after the best');
    assert.ok(readFileSync(best.path).length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad control values are NN4002 at the value', () => {
  const cases: [string, string, RegExp][] = [
    ['schedule = cosine(eta_min = 1)', 'cosine(eta_min = 1)', /above the optimizer's `lr`/],
    ['schedule = step()', 'step()', /needs `step_size`/],
    ['schedule = step(step_size = 2.5)', '2.5', /`step_size` must be an integer/],
    ['schedule = exponential(gamma = 0.9)', 'exponential(gamma = 0.9)', /expected `step\(step_size, gamma = 0.1\)`/],
    ['schedule = cosine(t_max = 3)', 't_max = 3', /has no argument `t_max`/],
    ['warmup = 1.5', '1.5', /integer of at least 0/],
    ['clip_grad_norm = 0', '0', /positive number/],
    ['clip_grad_value = -1', '-1', /positive number/],
    ['early_stopping = 0', '0', /integer of at least 1/],
    ['freeze = [linear_0, fc9]', 'fc9', /`fc9` is not a layer with parameters of the model; its layers are linear_0, linear_1/],
    ['freeze = [linear_0, linear_1]', '[linear_0, linear_1]', /every parameter is frozen/],
    ['freeze = ["linear_0"]', '"linear_0"', /expected a list of layer names/],
    ['schedule = one_cycle(pct_start = 1.5)', '1.5', /`pct_start` must be a number in \[0, 1\)/],
    ['schedule = one_cycle(div_factor = 0)', '0', /`div_factor` must be above 0/],
    ['warmup = 5\n  schedule = one_cycle()', '5', /`one_cycle` warms up by itself/],
    ['accumulate = 0', '0', /integer of at least 1/],
    ['accumulate = 2.5', '2.5', /integer of at least 1/],
    ['no_decay = "biases"', '"biases"', /expected `"none"` or `"bias_and_norm"`/],
  ];
  for (const [controls, at, message] of cases) {
    const text = program('SGD(lr = 0.1)', controls);
    const errors = checkProgram(text).diagnostics.filter((d) => d.severity === 'error');
    assert.equal(errors.length, 1, `${controls}: ${errors.map((e) => e.message).join('; ')}`);
    assert.equal(errors[0].code, 'NN4002', controls);
    assert.match(errors[0].message, message, controls);
    const start = text.indexOf(at, text.indexOf('batch = 16'));
    assert.deepEqual([errors[0].range.start, errors[0].range.end], [start, start + at.length], controls);
  }
});

test('bad optimizer arguments are NN4002 at the argument', () => {
  const cases: [string, string, RegExp][] = [
    ['SGD(lr = 0.1, nesterov = true)', 'true', /Nesterov momentum needs a `momentum` above 0/],
    ['SGD(lr = 0.1, momentum = 0.9, nesterov = 1)', '1)', /`nesterov` must be `true` or `false`/],
    ['RMSprop(alpha = 1)', '1)', /`alpha` must be a number in \[0, 1\)/],
    ['RMSprop(momentum = -0.5)', '-0.5', /`momentum` must be a non-negative number/],
    ['Adam(betas = 0.9)', '0.9', /`betas` must be a tuple of 2 numbers, as `betas = \(0.9, 0.999\)`/],
    ['Adam(betas = (0.9,))', '(0.9,)', /`betas` must be a tuple of 2 numbers/],
    ['AdamW(betas = (0.9, 0.98, 0.99))', '(0.9, 0.98, 0.99)', /`betas` must be a tuple of 2 numbers/],
    ['Adam(betas = (0.9, 1))', '1', /each of `betas` must be a number in \[0, 1\)/],
    ['AdamW(betas = (-0.1, 0.98))', '-0.1', /each of `betas` must be a number in \[0, 1\)/],
    ['Adam(betas = (0.9, "a"))', '"a"', /each of `betas` must be a number in \[0, 1\)/],
    ['Adam(beta2 = 0.98)', 'beta2 = 0.98', /`Adam` takes PyTorch's `betas = \(b1, b2\)`, not `beta2`/],
    ['SGD(lr = 0.1, betas = (0.9, 0.98))', 'betas = (0.9, 0.98)', /`SGD` has no argument `betas`/],
  ];
  for (const [optimizer, at, message] of cases) {
    const text = program(optimizer, '');
    const errors = checkProgram(text).diagnostics.filter((d) => d.severity === 'error');
    assert.equal(errors.length, 1, `${optimizer}: ${errors.map((e) => e.message).join('; ')}`);
    assert.equal(errors[0].code, 'NN4002', optimizer);
    assert.match(errors[0].message, message, optimizer);
    const start = text.indexOf(at, text.indexOf('optimizer = '));
    const unbalanced = at.split(')').length > at.split('(').length; // `1)`: the call's own parenthesis ends the argument
    const length = unbalanced ? at.length - 1 : at.length;
    assert.deepEqual([errors[0].range.start, errors[0].range.end], [start, start + length], optimizer);
  }
  for (const [betas, beta1, beta2] of [['(0.8, 0.98)', 0.8, 0.98], ['[0.5, 0.9]', 0.5, 0.9], ['(0.9, 0.999)', 0.9, 0.999]] as const) {
    const check = checkProgram(program(`AdamW(betas = ${betas})`, ''));
    assert.deepEqual(check.diagnostics.filter((d) => d.severity === 'error'), [], betas);
    assert.deepEqual([(check.trains[0]?.optimizer as { beta1: number }).beta1, (check.trains[0]?.optimizer as { beta2: number }).beta2], [beta1, beta2], betas);
  }
  const defaults = checkProgram(program('Adam()', '')).trains[0]?.optimizer as { beta1: number; beta2: number };
  assert.deepEqual([defaults.beta1, defaults.beta2], [0.9, 0.999], 'PyTorch\'s default betas');
});

test('betas reach the optimizer: other betas take other steps, the same on TS and ONNX', async () => {
  const runs = [];
  for (const betas of ['(0.9, 0.999)', '(0.5, 0.9)', '(0.9, 0.9)']) {
    const run = await bothBackEnds(program(`Adam(lr = 0.05, betas = ${betas})`, ''));
    close(run.ts, run.onnx, 1e-4, `TS vs ONNX, betas = ${betas}`);
    runs.push(run.ts);
  }
  const differ = (a: number[], b: number[]) => a.some((l, i) => Math.abs(l - b[i]) > 1e-4);
  assert.ok(differ(runs[0], runs[1]), 'beta1 changes the steps');
  assert.ok(differ(runs[0], runs[2]), 'beta2 changes the steps');
  const unnamed = await bothBackEnds(program('Adam(lr = 0.05)', ''));
  assert.deepEqual(unnamed.ts, runs[0], 'the default betas are (0.9, 0.999)');
});

test('the checked block carries the new controls: accumulate, no_decay (every parameter of fewer than 2 dims), nesterov, RMSprop, one_cycle', () => {
  const text = `model Net(x: [B, 2]) -> [B, 3] {
  h = x |> Linear(2, 16) |> LayerNorm(16) |> tanh
  return h |> Linear(16, 3, bias = false)
}

train Net {
  data = spirals()
  optimizer = SGD(lr = 0.1, momentum = 0.9, nesterov = true)
  accumulate = 4
  no_decay = "bias_and_norm"
  schedule = one_cycle(pct_start = 0.4)
}
`;
  const check = checkProgram(text);
  assert.deepEqual(check.diagnostics.filter((d) => d.severity === 'error'), []);
  const spec = check.trains[0] as TrainIR;
  assert.deepEqual(spec.optimizer, { kind: 'SGD', lr: 0.1, momentum: 0.9, weightDecay: 0, nesterov: true });
  assert.equal(spec.controls?.accumulate, 4);
  assert.deepEqual(spec.controls?.noDecay, ['linear_0.bias', 'layernorm_0.weight', 'layernorm_0.bias']);
  assert.deepEqual(spec.controls?.schedule, { kind: 'one_cycle', pctStart: 0.4, divFactor: 25, finalDivFactor: 1e4 });
  const rms = checkProgram(program('RMSprop()', '')).trains[0] as TrainIR;
  assert.deepEqual(rms.optimizer, { kind: 'RMSprop', lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0 });
});

test('with accumulate, an epoch has ceil(N / (batch · accumulate)) optimizer steps', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nn-accumulate-'));
  try {
    // 192 samples, steps of 5 · 16 = 80: two full steps and one of 32 (two micro-batches).
    for (const backend of ['ts', 'onnx']) {
      const text = program('SGD(lr = 0.1)', `accumulate = 5\n  epochs = 2\n  backend = "${backend}"`);
      const events: RunEvent[] = [];
      const outcome = await train(text, { baseDir: '.', saveDir: dir, threads: 1 }, (e) => events.push(e));
      assert.ok('end' in outcome, backend);
      const start = events.find((e): e is Extract<RunEvent, { type: 'start' }> => e.type === 'start')!;
      assert.equal(start.stepsPerEpoch, 3, backend);
      assert.equal(events.filter((e) => e.type === 'step').length, 6, backend);
      assert.equal(outcome.end.step, 6, backend);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--resume with RMSprop (momentum), accumulate and dropout continues bit for bit on the TS engine', async () => {
  const work = mkdtempSync(join(tmpdir(), 'nn-resume-'));
  try {
    const text = program('RMSprop(lr = 0.01, momentum = 0.5)', 'accumulate = 3\n  epochs = 3\n  backend = "ts"\n  schedule = one_cycle()').replace('|> tanh |>', '|> tanh |> dropout(0.2) |>');
    const losses = async (saveDir: string, options: { resume?: string; stopAfter?: number } = {}): Promise<number[]> => {
      const controller = new AbortController();
      const seen: number[] = [];
      const outcome = await train(text, { baseDir: '.', saveDir, threads: 1, signal: controller.signal, ...(options.resume ? { resume: options.resume } : {}) }, (e) => {
        if (e.type !== 'step') return;
        seen.push(e.loss);
        if (options.stopAfter !== undefined && e.step >= options.stopAfter) controller.abort();
      });
      assert.ok('end' in outcome);
      return seen;
    };
    const full = await losses(join(work, 'full'));
    assert.equal(full.length, 12, '3 epochs of ⌈192 / 48⌉ steps');
    const first = await losses(join(work, 'cut'), { stopAfter: 5 });
    const rest = await losses(join(work, 'cut'), { resume: join(work, 'cut') });
    assert.deepEqual([...first, ...rest], full);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('the checker marks the layers `freeze` names as frozen, for the hover', () => {
  const check = checkProgram(program('SGD(lr = 0.1)', 'freeze = [linear_0]'));
  const frozen = Object.fromEntries(check.layers.map((l) => [l.name, l.frozen]));
  assert.deepEqual(frozen, { linear_0: true, linear_1: false });
  assert.ok(checkProgram(program('SGD(lr = 0.1)', '')).layers.every((l) => !l.frozen));
});

test('the PyTorch export gives torch.optim the block\'s betas', () => {
  const spec = checkProgram(program('AdamW(lr = 0.01, betas = (0.8, 0.98))', '')).trains[0] as TrainIR;
  const lines = pytorchTraining(spec).join('\n');
  assert.match(lines, /torch\.optim\.AdamW\(.*betas=\(0\.8, 0\.98\)/);
  if (torchMissing) return;
  const driver = `
import json, torch
model = torch.nn.Linear(1, 1)
${lines}
optimizer, scheduler = make_training(model, 1)
print(json.dumps(list(optimizer.param_groups[0]["betas"])))
`;
  const result = spawnSync(PYTHON, ['-c', driver], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), [0.8, 0.98]);
});
