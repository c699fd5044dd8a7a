// `nn export --format pytorch --train`: the train.py it writes trains in one process on nn
// train's batches, from its initial weights, step for step with `nn train --backend ts`; under
// torchrun with two gloo processes (DistributedDataParallel, each rank half of every batch) its
// loss curve is nn train's within float rounding. Run with Debian's python3-torch (skipped,
// saying why, where torch cannot be imported).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { run as exportCommand } from '../../engine/src/cli/export.js';
import { train } from '../../engine/src/run/loop.js';
import { prepare } from '../../engine/src/run/prepare.js';
import { loadWeights } from '../../engine/src/run/checkpoint.js';
import { readSafetensors } from '../../engine/src/core/safetensors.js';
import type { RunEvent } from '../../engine/src/core/events.js';

const PYTHON = '/usr/bin/python3';
const torchMissing = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0 ? 'python3-torch not installed' : false;
/** Debian's torch 1.13 on Python 3.11 reads torchrun's default `--redirects 0 --tee 0` as None and fails; 2 (stderr) parses. */
const TORCHRUN = existsSync('/usr/bin/torchrun') ? ['/usr/bin/torchrun'] : [PYTHON, '-m', 'torch.distributed.run'];
const TORCHRUN_STREAMS = ['--redirects', '2', '--tee', '2'];

/**
 * A held-out validation fifth (so the evaluated split is written too), 161 training samples in
 * batches of 16 (the last of 1: under two ranks, one takes no sample of it), a frozen layer, Adam
 * under warmup and a cosine schedule, and gradient-norm clipping.
 */
const MOONS = `model Moons(x: [B, 2]) -> [B, 2] {
  fc1 = Linear(2, 16)
  fc2 = Linear(16, 16)
  out = Linear(16, 2)
  return out(tanh(fc2(tanh(fc1(x)))))
}

train Moons {
  data      = moons(points = 201)
  optimizer = Adam(lr = 0.02)
  epochs    = 3
  batch     = 16
  seed      = 7
  validate  = 0.2
  warmup    = 3
  schedule  = cosine()
  clip_grad_norm = 0.5
  freeze    = [fc2]
}
`;

/** Batch norm (its running statistics are buffers in init.safetensors), SGD with momentum, a step schedule, value clipping, a regression loss. */
const REGRESSION = `model Fit(x: [B, 2]) -> [B, 1] {
  return x |> Linear(2, 8) |> BatchNorm1d(8) |> relu |> Linear(8, 1)
}

train Fit {
  data      = csv("fit.csv", label = "y")
  loss      = mse
  optimizer = SGD(lr = 0.05, momentum = 0.9, weight_decay = 0.01)
  epochs    = 2
  batch     = 10
  schedule  = step(step_size = 3, gamma = 0.5)
  clip_grad_value = 0.2
}
`;

/** A port no one listens on now, for torchrun's rendezvous (its default 29500 may be taken by another run). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

type StepEvent = Extract<RunEvent, { type: 'step' }>;
type EpochEvent = Extract<RunEvent, { type: 'epoch' }>;

/** `nn train --backend ts --epochs N` in-process: its step and epoch events. */
async function nnTrain(dir: string, file: string, epochs: number): Promise<{ steps: StepEvent[]; epochs: EpochEvent[] }> {
  const events: RunEvent[] = [];
  const outcome = await train(readFileSync(join(dir, file), 'utf8'), { baseDir: dir, saveDir: join(dir, 'runs'), backend: 'ts', epochs, threads: 1 }, (e) => events.push(e));
  assert.ok('end' in outcome, JSON.stringify(outcome));
  return { steps: events.filter((e): e is StepEvent => e.type === 'step'), epochs: events.filter((e): e is EpochEvent => e.type === 'epoch') };
}

/** train.py's --json events (rank 0's). */
function scriptEvents(stdout: string): { steps: { step: number; loss: number }[]; epochs: { trainLoss: number; testLoss: number; testAccuracy: number | null }[] } {
  const events = stdout.trim().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
  return { steps: events.filter((e) => e.type === 'step'), epochs: events.filter((e) => e.type === 'epoch') };
}

/** Runs `nn export` in-process; its exit code and what it wrote to stderr. */
async function exportCaptured(args: string[]): Promise<{ code: number; stderr: string }> {
  const write = process.stderr.write;
  let stderr = '';
  process.stderr.write = ((chunk: string) => {
    stderr += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await exportCommand(args), stderr };
  } finally {
    process.stderr.write = write;
  }
}

const within = (a: number, b: number, tolerance: number): boolean => Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(a));

function assertClose(ours: readonly number[], theirs: readonly number[], tolerance: number, what: string): void {
  assert.equal(theirs.length, ours.length, `${what}: step count`);
  ours.forEach((x, i) => assert.ok(within(x, theirs[i], tolerance), `${what}, step ${i + 1}: nn train ${x}, train.py ${theirs[i]}`));
}

test('train.py in one process takes nn train\'s steps: same losses, evaluation and accuracy (Adam, warmup, cosine, clipping, frozen layer, validation split)', { skip: torchMissing }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nn-trainpy-'));
  try {
    writeFileSync(join(dir, 'moons.nn'), MOONS);
    assert.equal(await exportCommand([join(dir, 'moons.nn'), '--format', 'pytorch', '--train', '-o', join(dir, 'Moons.py')]), 0);
    const data = readSafetensors(join(dir, 'train_data.safetensors'));
    assert.ok(!('error' in data));
    assert.deepEqual(data.tensors.get('order')!.shape, [3, 161]);
    assert.deepEqual(data.tensors.get('eval_inputs')!.shape, [40, 2]);

    const ours = await nnTrain(dir, 'moons.nn', 3);
    const result = spawnSync(PYTHON, [join(dir, 'train.py'), '--json'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, result.stderr);
    const theirs = scriptEvents(result.stdout);
    assert.equal(ours.steps.length, 33);
    assertClose(ours.steps.map((s) => s.loss), theirs.steps.map((s) => s.loss), 1e-6, 'train loss');
    assertClose(ours.epochs.map((e) => e.testLoss), theirs.epochs.map((e) => e.testLoss), 1e-6, 'validation loss');
    assert.deepEqual(theirs.epochs.map((e) => e.testAccuracy), ours.epochs.map((e) => e.testAccuracy));
    // The frozen layer ends where it started.
    const init = readSafetensors(join(dir, 'init.safetensors'));
    const trained = readSafetensors(join(dir, 'trained.safetensors'));
    assert.ok(!('error' in init) && !('error' in trained));
    assert.deepEqual(trained.tensors.get('fc2.weight')!.data, init.tensors.get('fc2.weight')!.data);
    assert.notDeepEqual(trained.tensors.get('fc1.weight')!.data, init.tensors.get('fc1.weight')!.data);
    // The way back: nn train --init reads the weights train.py ends with.
    const back = prepare(MOONS, { baseDir: dir });
    assert.ok(!Array.isArray(back));
    assert.equal(loadWeights(join(dir, 'trained.safetensors'), back.lowered.params, back.lowered.buffers), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('train.py in one process takes nn train\'s steps with batch norm buffers, SGD momentum, a step schedule, value clipping and mse', { skip: torchMissing }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nn-trainpy-'));
  try {
    writeFileSync(join(dir, 'fit.nn'), REGRESSION);
    const rows = Array.from({ length: 47 }, (_, i) => {
      const a = Math.sin(i * 1.3);
      const b = Math.cos(i * 0.7);
      return `${a},${b},${(2 * a - b * b + 0.1 * Math.sin(i * 5.1)).toFixed(6)}`;
    });
    writeFileSync(join(dir, 'fit.csv'), ['a,b,y', ...rows].join('\n') + '\n');
    assert.equal(await exportCommand([join(dir, 'fit.nn'), '--format', 'pytorch', '--train', '-o', join(dir, 'Fit.py')]), 0);
    const ours = await nnTrain(dir, 'fit.nn', 2);
    const result = spawnSync(PYTHON, [join(dir, 'train.py'), '--json'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, result.stderr);
    const theirs = scriptEvents(result.stdout);
    assertClose(ours.steps.map((s) => s.loss), theirs.steps.map((s) => s.loss), 1e-6, 'train loss');
    assertClose(ours.epochs.map((e) => e.testLoss), theirs.epochs.map((e) => e.testLoss), 1e-6, 'evaluated loss');
    assert.ok(theirs.epochs.every((e) => e.testAccuracy === null));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('train.py under torchrun --nproc_per_node=2 (gloo, DistributedDataParallel) follows nn train\'s loss curve for an epoch', { skip: torchMissing }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nn-trainpy-'));
  try {
    writeFileSync(join(dir, 'moons.nn'), MOONS);
    assert.equal(await exportCommand([join(dir, 'moons.nn'), '--format', 'pytorch', '--train', '-o', join(dir, 'Moons.py')]), 0);
    const ours = await nnTrain(dir, 'moons.nn', 1);
    const result = spawnSync(TORCHRUN[0], [...TORCHRUN.slice(1), '--nproc_per_node=2', `--master_port=${await freePort()}`, ...TORCHRUN_STREAMS, '--log_dir', join(dir, 'logs'), join(dir, 'train.py'), '--epochs', '1', '--json'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, result.stderr);
    const theirs = scriptEvents(result.stdout);
    // Each rank's mean loss over its half, weighted and all-reduced: the whole batch's to float rounding.
    assertClose(ours.steps.map((s) => s.loss), theirs.steps.map((s) => s.loss), 1e-6, 'train loss under DDP');
    assertClose(ours.epochs.map((e) => e.testLoss), theirs.epochs.map((e) => e.testLoss), 1e-6, 'validation loss under DDP');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nn export --train needs --format pytorch and a train block', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nn-trainpy-'));
  try {
    writeFileSync(join(dir, 'moons.nn'), MOONS);
    writeFileSync(join(dir, 'plain.nn'), 'model Plain(x: [B, 2]) -> [B, 2] {\n  return x |> Linear(2, 2)\n}\n');
    const onnx = await exportCaptured([join(dir, 'moons.nn'), '--format', 'onnx', '--train']);
    assert.equal(onnx.code, 2);
    assert.match(onnx.stderr, /--train needs --format pytorch/);
    const untrained = await exportCaptured([join(dir, 'plain.nn'), '--format', 'pytorch', '--train', '-o', join(dir, 'Plain.py')]);
    assert.equal(untrained.code, 1);
    assert.match(untrained.stderr, /NN4001.*no `train` block/);
    assert.ok(!existsSync(join(dir, 'train.py')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
