// Parity with PyTorch: the same float32 inputs and weights go through the engine and through
// torch (test/engine/torch_parity.py); forward values, gradients, batch-norm running
// statistics and optimizer steps must agree to 1e-5. Skips when torch is not importable.

import test from 'node:test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from '../../engine/src/index.js';
import { assertClose } from './helpers.js';

const PYTHON = '/usr/bin/python3';
/** One case's results as torch_parity.py prints them (JSON: arrays and numbers by name). */
type TorchResults = Record<string, any>;
const TOLERANCE = 1e-5;

const rng = new E.Rng(2024);
const spec = (x: E.Tensor) => ({ data: x.toArray(), shape: x.shape });
const random = (...shape: number[]) => E.randn(shape, { rng });

const conv = { x: random(2, 3, 7, 6), w: random(4, 3, 3, 3), b: random(4), g: random(2, 4, 4, 3), stride: 2, padding: 1 };
const bn2 = { x: random(4, 3, 5, 5), w: random(3), b: random(3), g: random(4, 3, 5, 5) };
const bn1 = { x: random(8, 5), w: random(5), b: random(5), g: random(8, 5) };
const ln = { x: random(3, 4, 6), w: random(6), b: random(6), g: random(3, 4, 6) };
const ce = { logits: E.mul(random(6, 5), 3), labels: [0, 4, 2, 2, 1, 3] };
const optimizerGrads = [random(10), random(10), random(10)];
const optimizerStart = random(10);
const optimizerCases = {
  adam: { kind: 'Adam', lr: 0.01, weight_decay: 0.1, momentum: 0 },
  adamw: { kind: 'AdamW', lr: 0.01, weight_decay: 0.1, momentum: 0 },
  sgd: { kind: 'SGD', lr: 0.1, weight_decay: 0.01, momentum: 0.9 },
};

function runTorch(): { results: Record<string, TorchResults> } | { skip: string } {
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return { skip: `PyTorch is not importable by ${PYTHON}: ${(probe.stderr || String(probe.error)).trim().split('\n').pop()}` };
  const cases: Record<string, unknown> = {
    conv2d: { op: 'conv2d', x: spec(conv.x), w: spec(conv.w), b: spec(conv.b), g: spec(conv.g), stride: conv.stride, padding: conv.padding },
    bn2: { op: 'batch_norm', x: spec(bn2.x), w: spec(bn2.w), b: spec(bn2.b), g: spec(bn2.g) },
    bn1: { op: 'batch_norm', x: spec(bn1.x), w: spec(bn1.w), b: spec(bn1.b), g: spec(bn1.g) },
    ln: { op: 'layer_norm', x: spec(ln.x), w: spec(ln.w), b: spec(ln.b), g: spec(ln.g) },
    ce: { op: 'cross_entropy', logits: spec(ce.logits), labels: ce.labels },
  };
  for (const [name, options] of Object.entries(optimizerCases)) {
    cases[name] = { op: 'optimizer', ...options, p: spec(optimizerStart), grads: optimizerGrads.map(spec) };
  }
  const dir = mkdtempSync(join(tmpdir(), 'nn-torch-parity-'));
  try {
    const input = join(dir, 'cases.json');
    writeFileSync(input, JSON.stringify(cases));
    const run = spawnSync(PYTHON, [join(__dirname, 'torch_parity.py'), input], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (run.status !== 0) throw new Error(`torch_parity.py failed: ${run.stderr}`);
    return { results: JSON.parse(run.stdout) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const torch = runTorch();

function parity(name: string, body: (expected: TorchResults) => void): void {
  test(`PyTorch parity: ${name}`, (t) => {
    if ('skip' in torch) {
      t.skip(torch.skip);
      return;
    }
    body(torch.results[name]);
  });
}

const leaf = (x: E.Tensor) => new E.Tensor(x.data.slice(), x.shape, x.dtype, true);

parity('conv2d', (expected) => {
  const [x, w, b] = [leaf(conv.x), leaf(conv.w), leaf(conv.b)];
  const y = E.conv2d(x, w, b, { stride: conv.stride, padding: conv.padding });
  y.backward(conv.g);
  assertClose(y.toArray(), expected.y, TOLERANCE, 'y');
  assertClose(x.grad!.toArray(), expected.dx, TOLERANCE, 'dx');
  assertClose(w.grad!.toArray(), expected.dw, TOLERANCE, 'dw');
  assertClose(b.grad!.toArray(), expected.db, TOLERANCE, 'db');
});

for (const [name, data, Layer] of [['bn2', bn2, E.BatchNorm2d], ['bn1', bn1, E.BatchNorm1d]] as const) {
  parity(name, (expected) => {
    const layer = new Layer(data.w.size);
    layer.weight.data.set(data.w.data);
    layer.bias.data.set(data.b.data);
    const x = leaf(data.x);
    const y = layer.forward(x);
    y.backward(data.g);
    assertClose(y.toArray(), expected.y, TOLERANCE, 'y');
    assertClose(x.grad!.toArray(), expected.dx, TOLERANCE, 'dx');
    assertClose(layer.weight.grad!.toArray(), expected.dw, TOLERANCE, 'dweight');
    assertClose(layer.bias.grad!.toArray(), expected.db, TOLERANCE, 'dbias');
    assertClose(layer.runningMean.toArray(), expected.running_mean, TOLERANCE, 'running_mean');
    assertClose(layer.runningVar.toArray(), expected.running_var, TOLERANCE, 'running_var');
    layer.eval();
    assertClose(layer.forward(data.x).toArray(), expected.y_eval, TOLERANCE, 'eval y');
  });
}

parity('ln', (expected) => {
  const [x, w, b] = [leaf(ln.x), leaf(ln.w), leaf(ln.b)];
  const y = E.layerNorm(x, w, b);
  y.backward(ln.g);
  assertClose(y.toArray(), expected.y, TOLERANCE, 'y');
  assertClose(x.grad!.toArray(), expected.dx, TOLERANCE, 'dx');
  assertClose(w.grad!.toArray(), expected.dw, TOLERANCE, 'dw');
  assertClose(b.grad!.toArray(), expected.db, TOLERANCE, 'db');
});

parity('ce', (expected) => {
  const logits = leaf(ce.logits);
  const loss = E.crossEntropy(logits, E.tensor(ce.labels, { dtype: 'int64' }));
  loss.backward();
  assertClose([loss.item()], [expected.loss], TOLERANCE, 'loss');
  assertClose(logits.grad!.toArray(), expected.dlogits, TOLERANCE, 'dlogits');
});

for (const [name, options] of Object.entries(optimizerCases)) {
  parity(name, (expected) => {
    const p = leaf(optimizerStart);
    const optimizer = options.kind === 'SGD'
      ? new E.SGD([p], { lr: options.lr, momentum: options.momentum, weightDecay: options.weight_decay })
      : new (options.kind === 'Adam' ? E.Adam : E.AdamW)([p], { lr: options.lr, weightDecay: options.weight_decay });
    optimizerGrads.forEach((g, step) => {
      p.grad = g;
      optimizer.step();
      assertClose(p.toArray(), expected.steps[step], TOLERANCE, `${options.kind} step ${step + 1}`);
    });
  });
}
