// examples/tiny_gpt.nn's PyTorch export trains the way NN Studio does: from the same initial
// weights, three AdamW steps on the same batches of the bundled text give the same losses on
// the TS engine, on the ONNX back end and in PyTorch (Debian's python3-torch; skipped, saying
// why, where it cannot be imported). Also: `nn generate` samples only characters of the text.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { exportPytorch } from '../../engine/src/export/pytorch.js';
import { prepare } from '../../engine/src/run/prepare.js';
import { onnxBackend, tsBackend } from '../../engine/src/run/backends.js';
import { batchLayout } from '../../engine/src/run/loop.js';
import { epochOrder, makeBatch, type Batch } from '../../engine/src/core/batches.js';
import { storedTensor, writeSafetensors } from '../../engine/src/core/safetensors.js';
import { generate } from '../../engine/src/run/generate.js';

const PYTHON = '/usr/bin/python3';
const torchMissing = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0 ? 'python3-torch is not importable by /usr/bin/python3' : null;
const examples = resolve('examples');
const text = readFileSync(join(examples, 'tiny_gpt.nn'), 'utf8');
const STEPS = 3;

/** Three AdamW steps in PyTorch on the exported module, from the given weights, on the given batches. */
const DRIVER = `
import importlib.util, json, sys
import torch
import torch.nn.functional as F
job = json.load(open(sys.argv[1]))
spec = importlib.util.spec_from_file_location("tiny_gpt", job["py"])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
model = module.load_model(job["weights"])
model.train()
opt = torch.optim.AdamW(model.parameters(), lr=job["lr"], weight_decay=job["weight_decay"])
losses = []
for batch in job["batches"]:
    x = torch.tensor(batch["x"], dtype=torch.int64).reshape(batch["shape"])
    y = torch.tensor(batch["y"], dtype=torch.int64).reshape(batch["shape"])
    out = model(x)
    loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
print(json.dumps(losses))
`;

function firstBatches(prepared: Exclude<ReturnType<typeof prepare>, unknown[]>): Batch[] {
  const layout = batchLayout(prepared);
  const order = epochOrder(prepared.trainSplit.count, 0, 0, false);
  return Array.from({ length: STEPS }, (_, k) => makeBatch(prepared.trainSplit, order, k * prepared.train.batch, prepared.train.batch, layout));
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b));

test('tiny_gpt.nn: three steps give the same losses on the TS engine, on ONNX and in PyTorch from its export', { skip: torchMissing ?? false }, async () => {
  const prepared = prepare(text, { baseDir: examples });
  if (Array.isArray(prepared)) assert.fail(prepared.map((e) => e.message).join('; '));
  const batches = firstBatches(prepared);
  const dir = mkdtempSync(join(tmpdir(), 'nn-tiny-gpt-'));
  try {
    // The initial weights, before either back end moves them.
    writeSafetensors(join(dir, 'init.safetensors'), {
      tensors: new Map(prepared.lowered.params.map((p) => [p.name, storedTensor(p.tensor.shape, Float32Array.from(p.tensor.data))])),
      metadata: {},
    });
    writeFileSync(join(dir, 'model.py'), exportPytorch(prepared.model, prepared.check.fnIrs, 'tiny_gpt.nn'));
    const optimizer = prepared.train.optimizer;
    assert.equal(optimizer.kind, 'AdamW');
    writeFileSync(join(dir, 'job.json'), JSON.stringify({
      py: join(dir, 'model.py'),
      weights: join(dir, 'init.safetensors'),
      lr: optimizer.lr,
      weight_decay: optimizer.kind === 'AdamW' ? optimizer.weightDecay : 0,
      batches: batches.map((b) => ({ x: [...b.input.data], y: [...b.target.data], shape: b.input.shape })),
    }));
    writeFileSync(join(dir, 'driver.py'), DRIVER);
    const onnx = await onnxBackend(prepared, 1);
    const onnxLosses = (await onnx.run(batches, 1)).map((s) => ('loss' in s ? s.loss : NaN));
    await onnx.release();
    const tsLosses = (await tsBackend(prepared, 1).run(batches, 1)).map((s) => ('loss' in s ? s.loss : NaN));
    const run = spawnSync(PYTHON, [join(dir, 'driver.py'), join(dir, 'job.json')], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const torchLosses = JSON.parse(run.stdout) as number[];
    assert.equal(tsLosses.length, STEPS);
    assert.ok(tsLosses.every((l, i) => close(l, torchLosses[i]) && close(onnxLosses[i], torchLosses[i])), `TS ${tsLosses}, ONNX ${onnxLosses}, PyTorch ${torchLosses}`);
    assert.ok(tsLosses[STEPS - 1] < tsLosses[0], `the loss goes down: ${tsLosses}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nn generate samples characters of the text after the prompt, the same ones for the same seed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nn-generate-'));
  try {
    const prepared = prepare(text, { baseDir: examples });
    if (Array.isArray(prepared)) assert.fail(prepared.map((e) => e.message).join('; '));
    const weights = join(dir, 'w.safetensors');
    writeSafetensors(weights, { tensors: new Map(prepared.lowered.params.map((p) => [p.name, storedTensor(p.tensor.shape, Float32Array.from(p.tensor.data))])), metadata: {} });
    const options = { baseDir: examples, weights, prompt: 'The wind', tokens: 40, seed: 3 };
    const first = generate(text, options);
    const again = generate(text, options);
    if ('errors' in first || 'errors' in again) assert.fail('generate failed');
    assert.equal(first.text.length, 40);
    assert.equal(first.text, again.text);
    const alphabet = new Set(readFileSync(join(examples, 'data/text/lighthouse.txt'), 'utf8'));
    assert.ok([...first.text].every((ch) => alphabet.has(ch)), first.text);
    const unknown = generate(text, { ...options, prompt: 'The ✓' });
    assert.ok('errors' in unknown && /never uses: "✓"/.test(unknown.errors[0].message), JSON.stringify(unknown));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
