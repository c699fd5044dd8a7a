// Activation checkpointing from the language: `checkpoint(expr)` and the `train` block's
// `checkpoint = [...]` are checked (shape, errors), give the gradients of the plain model on
// the TS engine (float64) and on the ONNX step graph, keep fewer activations on the tape, and
// `nn summary` gives the smaller pass size.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkProgram } from '../../engine/src/lang/program.js';
import { prepare, type Prepared } from '../../engine/src/run/prepare.js';
import { lossOf } from '../../engine/src/backend-ts/objective.js';
import { Tensor } from '../../engine/src/tensor/tensor.js';
import { tapeBytes } from '../../engine/src/autograd/tape.js';
import { Rng } from '../../engine/src/random.js';
import { maxRelativeDifference, randomBatches, runOnnx, runTs } from '../onnx/parityHarness.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { exportPytorch } from '../../engine/src/export/pytorch.js';
import { storedTensor, writeSafetensors } from '../../engine/src/core/safetensors.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildTrainStep } from '../../engine/src/backend-onnx/graphs.js';
import { ModelProto } from '../../engine/src/onnx/schema.js';
import { summarizeModel } from '../../engine/src/lang/summary.js';
import { formatSummary } from '../../engine/src/cli/summary.js';

/** A residual model whose `body` is its forward's middle line and `key` a `train` entry. */
const program = (body: string, key = '') => `model Res(x: [B, 32]) -> [B, 32] {
  fc1 = Linear(32, 32)
  fc2 = Linear(32, 32)
  return x + fc2(tanh(fc1(x)) * sigmoid(x))
}

model Net(x: [B, 2]) -> [B, 3] {
  inp = Linear(2, 32)
  res1 = Res()
  res2 = Res()
  out = Linear(32, 3)
  h = inp(x)
  ${body}
  return out(h)
}

train Net {
  data = spirals(classes = 3, points = 64)
  optimizer = SGD(lr = 0.1)
  batch = 16
  ${key}
}
`;
const PLAIN = 'h = res2(res1(h))';
const PYTHON = '/usr/bin/python3';
const torchMissing = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0 ? 'python3-torch not installed' : false;

function prepared(text: string, dtype: 'float32' | 'float64' = 'float32'): Prepared {
  const p = prepare(text, { baseDir: '.', dtype });
  if (Array.isArray(p)) assert.fail(p.map((e) => e.message).join('; '));
  return p;
}

function codes(text: string): string[] {
  return checkProgram(text).diagnostics.map((d) => `${d.code} ${text.slice(d.range.start, d.range.end)}`);
}

test('checkpoint(expr) has its expression\'s shape', () => {
  const check = checkProgram(program('h = checkpoint(res2(checkpoint(res1(h)) * 2))'));
  assert.deepEqual(check.diagnostics, []);
  const h = check.bindings.filter((b) => b.name === 'h').map((b) => b.shape);
  assert.deepEqual(h, ['[B, 32]', '[B, 32]']);
  const graph = check.irs.get('Net')!.graph;
  assert.equal(graph.checkpoints?.length, 2);
});

test('bad checkpoints are coded errors at what is wrong', () => {
  assert.deepEqual(codes(program(PLAIN, 'checkpoint = [res1, rse2]')), ['NN4002 rse2']);
  const fix = checkProgram(program(PLAIN, 'checkpoint = [res1, rse2]')).diagnostics[0].fixes?.[0];
  assert.equal(fix?.edits[0].newText, 'res2');
  assert.deepEqual(codes(program(PLAIN, 'checkpoint = ["res1"]')), ['NN4002 "res1"']);
  assert.deepEqual(codes(program('h = checkpoint(dropout(res2(res1(h)), p = 0.1))')), ['NN2190 dropout(res2(res1(h)), p = 0.1)']);
  assert.deepEqual(codes(program('h = checkpoint(res1(h), res2(h))')), ['NN2003 checkpoint(res1(h), res2(h))']);
  const message = checkProgram(program('h = checkpoint(dropout(res2(res1(h)), p = 0.1))')).diagnostics[0].message;
  assert.match(message, /`dropout` draws a new random mask when the backward pass recomputes it/);
});

/** Each parameter's gradient and the tape's retained bytes of one float64 step on the TS engine. */
function tsGradients(p: Prepared, [batch] = randomBatches(p.model, 'cross_entropy', [64], 3)): { grads: Map<string, Float64Array>; bytes: number; loss: number } {
  const x = new Tensor(Float64Array.from(batch.x), batch.xShape, 'float64');
  const y = new Tensor(batch.y, batch.yShape, 'int64');
  const mode = { dropout: false, batchNormTraining: true, rng: new Rng(0), detectNonFinite: true, activations: [] };
  const loss = lossOf('cross_entropy', p.lowered.forward([x], mode), y);
  const bytes = tapeBytes(loss);
  loss.backward();
  return { grads: new Map(p.lowered.params.map((q) => [q.name, Float64Array.from(q.tensor.grad!.values)])), bytes, loss: loss.item() };
}

for (const [what, body, key] of [
  ['checkpoint(expr)', 'h = checkpoint(res2(checkpoint(res1(h))))', ''],
  ['the train key', PLAIN, 'checkpoint = [res1, res2]'],
] as const) {
  test(`${what}: the TS engine's float64 gradients are the plain model's, from a smaller tape`, () => {
    const plain = tsGradients(prepared(program(PLAIN), 'float64'));
    const checkpointed = tsGradients(prepared(program(body, key), 'float64'));
    assert.equal(checkpointed.loss, plain.loss);
    for (const [name, g] of plain.grads) {
      const h = checkpointed.grads.get(name)!;
      g.forEach((v, i) => assert.ok(Math.abs(v - h[i]) <= 1e-12 * (1 + Math.abs(v)), `${name}[${i}]: ${h[i]} vs ${v}`));
    }
    // Each Res keeps its fc1, tanh, sigmoid, product and fc2 outputs ([64, 32] each) without checkpointing.
    assert.ok(checkpointed.bytes < plain.bytes * 0.6, `tape bytes ${checkpointed.bytes} vs ${plain.bytes}`);
  });

  test(`${what}: the ONNX step graph trains as without checkpointing, and as the TS engine`, async () => {
    const plain = prepared(program(PLAIN));
    const checkpointed = prepared(program(body, key));
    const batches = randomBatches(plain.model, 'cross_entropy', [16, 16, 16], 5);
    const optimizer = plain.train.optimizer;
    const onnxPlain = await runOnnx(plain.model, plain.check.fnIrs, 'cross_entropy', optimizer, batches, 0);
    const onnxCheckpointed = await runOnnx(checkpointed.model, checkpointed.check.fnIrs, 'cross_entropy', optimizer, batches, 0);
    const tsCheckpointed = runTs(checkpointed.model, checkpointed.check.fnIrs, 'cross_entropy', optimizer, batches, 0);
    const same = maxRelativeDifference(onnxCheckpointed.params, onnxPlain.params);
    assert.ok(same.difference < 1e-6, `ONNX with vs without: ${same.name} differs by ${same.difference}`);
    const parity = maxRelativeDifference(onnxCheckpointed.params, tsCheckpointed.params);
    assert.ok(parity.difference < 1e-5, `ONNX vs TS: ${parity.name} differs by ${parity.difference}`);
    onnxCheckpointed.losses.forEach((l, i) => assert.ok(Math.abs(l - onnxPlain.losses[i]) < 1e-6));
  });
}

/** How many nodes of each op the step graph has once onnxruntime has optimized it ('extended', as the trainer runs it). */
async function optimizedOps(p: Prepared): Promise<Map<string, number>> {
  const graph = buildTrainStep(p.model, p.check.fnIrs, 'cross_entropy', p.train.optimizer, { stats: false, dropout: false, scheduledLr: false, clipGradNorm: null, clipGradValue: null, frozen: [], noDecay: [] });
  const dir = mkdtempSync(join(tmpdir(), 'nn-checkpoint-'));
  try {
    const path = join(dir, 'optimized.onnx');
    const session = await ort.InferenceSession.create(graph.bytes, { graphOptimizationLevel: 'extended', optimizedModelFilePath: path });
    await session.release();
    const model = ModelProto.toObject(ModelProto.decode(readFileSync(path)), { longs: Number }) as { graph: { node: { opType: string }[] } };
    const counts = new Map<string, number>();
    for (const node of model.graph.node) counts.set(node.opType, (counts.get(node.opType) ?? 0) + 1);
    return counts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the ONNX step graph recomputes a checkpointed span in its backward part, after optimization', async () => {
  const plain = await optimizedOps(prepared(program(PLAIN)));
  const checkpointed = await optimizedOps(prepared(program(PLAIN, 'checkpoint = [res1, res2]')));
  // Each Res's fc1 with its tanh (fused into one FusedGemm) and its sigmoid run again in the
  // backward pass: onnxruntime does not merge them with the forward's.
  assert.equal(checkpointed.get('FusedGemm'), 2 * plain.get('FusedGemm')!);
  assert.equal(checkpointed.get('Sigmoid'), 2 * plain.get('Sigmoid')!);
});

test('nn summary gives the pass size with and without checkpointing', () => {
  const check = checkProgram(program(PLAIN, 'checkpoint = [res1, res2]'));
  const net = check.models.find((m) => m.name === 'Net')!;
  // Per sample, float32 activations and gradients: inp, each Res's six [32] values and out's [3]
  // without checkpointing; with it, inp, the two Res outputs and out, plus one Res's five inner
  // values while the backward pass recomputes it.
  const plain = (32 + 12 * 32 + 3) * 8 * 1000;
  const checkpointed = (3 * 32 + 3 + 5 * 32) * 8 * 1000;
  const summary = summarizeModel(check, 'Net')!;
  assert.equal(summary.passBytes.constant(), null);
  assert.match(formatSummary(check, net, 1000), new RegExp(`Forward/backward pass size \\(MB\\): ${(plain / 1e6).toFixed(2)} \\(${(checkpointed / 1e6).toFixed(2)} with checkpointing\\)\\n`));
  const unchecked = checkProgram(program(PLAIN));
  assert.match(formatSummary(unchecked, unchecked.models.find((m) => m.name === 'Net')!, 1000), /pass size \(MB\): [\d.]+\n/);
});

/** Loads the exported module and its weights in float64, and writes each parameter's gradient of one step's loss. */
const GRADIENTS = `
import importlib.util, json, sys
import torch
import torch.nn.functional as F
job = json.load(open(sys.argv[1]))
spec = importlib.util.spec_from_file_location("net", job["py"])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
model = module.load_model(job["weights"]).double()
x = torch.tensor(job["x"], dtype=torch.float64).reshape(job["xShape"])
y = torch.tensor(job["y"], dtype=torch.int64)
F.cross_entropy(model(x), y).backward()
json.dump({name: p.grad.flatten().tolist() for name, p in model.named_parameters()}, open(job["out"], "w"))
`;

test('the exported PyTorch module checkpoints the same spans and gives the TS engine\'s float64 gradients', { skip: torchMissing }, () => {
  const p = prepared(program('h = res2(checkpoint(res1(h)) * 2)', 'checkpoint = [res2]'), 'float64');
  const source = exportPytorch(p.model, p.check.fnIrs, 'net.nn', p.train);
  assert.equal(source.match(/torch\.utils\.checkpoint\.checkpoint\(/g)?.length, 2);
  // float32 weights (what a checkpoint stores), the same on both sides.
  for (const q of p.lowered.params) (q.tensor.data as Float64Array).set(Float32Array.from(q.tensor.data as Float64Array));
  const batches = randomBatches(p.model, 'cross_entropy', [8], 4);
  const ts = tsGradients(p, batches);
  const dir = mkdtempSync(join(tmpdir(), 'nn-checkpoint-'));
  try {
    writeFileSync(join(dir, 'net.py'), source);
    writeSafetensors(join(dir, 'net.safetensors'), { tensors: new Map(p.lowered.params.map((q) => [q.name, storedTensor(q.tensor.shape, Float32Array.from(q.tensor.data as Float64Array))])), metadata: {} });
    const job = { py: join(dir, 'net.py'), weights: join(dir, 'net.safetensors'), x: [...batches[0].x], xShape: batches[0].xShape, y: [...batches[0].y], out: join(dir, 'grads.json') };
    writeFileSync(join(dir, 'job.json'), JSON.stringify(job));
    writeFileSync(join(dir, 'driver.py'), GRADIENTS);
    const result = spawnSync(PYTHON, [join(dir, 'driver.py'), join(dir, 'job.json')], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const torchGrads = JSON.parse(readFileSync(job.out, 'utf8')) as Record<string, number[]>;
    for (const [name, g] of ts.grads) {
      const theirs = torchGrads[name];
      assert.equal(theirs.length, g.length, name);
      g.forEach((v, i) => assert.ok(Math.abs(v - theirs[i]) <= 1e-10 * (1 + Math.abs(v)), `${name}[${i}]: ${theirs[i]} vs ${v}`));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
