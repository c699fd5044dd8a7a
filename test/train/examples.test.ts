// Every example in examples/ trains: over its first steps the loss goes down (on the TS
// engine, and on the ONNX back end for the examples it can lower).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { train } from '../../engine/src/run/loop.js';
import { readSafetensors } from '../../engine/src/core/safetensors.js';

const examples = resolve('examples');
const work = mkdtempSync(join(tmpdir(), 'nn-examples-'));
const STEPS = 30;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function firstLosses(file: string, backend: 'ts' | 'onnx') {
  const text = readFileSync(join(examples, file), 'utf8');
  const controller = new AbortController();
  const losses: number[] = [];
  const withStats: number[] = [];
  let used = '';
  const outcome = await train(text, { baseDir: examples, saveDir: join(work, `${file}-${backend}`), backend, signal: controller.signal }, (e) => {
    if (e.type === 'start') used = e.backend;
    if (e.type === 'step') {
      losses.push(e.loss);
      if (e.params.length > 0) withStats.push(e.step);
      if (losses.length >= STEPS) controller.abort();
    }
  });
  if ('errors' in outcome) assert.fail(`${file}: ${outcome.errors.map((e) => `${e.code} ${e.message}`).join('; ')}`);
  return { losses, withStats, used, end: outcome.end };
}

for (const file of readdirSync(examples).filter((f) => f.endsWith('.nn')).sort()) {
  if (!/^train\s/m.test(readFileSync(join(examples, file), 'utf8'))) continue;
  test(`${file}: the loss goes down on the TS engine`, async () => {
    const { losses, end } = await firstLosses(file, 'ts');
    assert.notEqual(end.reason, 'nan');
    assert.ok(mean(losses.slice(-5)) < mean(losses.slice(0, 5)), `${losses.slice(0, 5)} ... ${losses.slice(-5)}`);
  });
}

test('mlp_spirals.nn: the loss goes down on the ONNX back end too, and its checkpoint is written', async () => {
  const { losses, withStats, used, end } = await firstLosses('mlp_spirals.nn', 'onnx');
  assert.equal(used, 'onnx');
  // 900 points in batches of 32: 28 full batches and a smaller one per epoch, in runs of
  // 8 steps (this small model's state is copied out of each run cheaply) and one of 4, then
  // the last batch alone; the gradient statistics come with the last step of each full run.
  assert.deepEqual(withStats.filter((step) => step <= 40), [8, 16, 24, 37]);
  assert.ok(mean(losses.slice(-5)) < mean(losses.slice(0, 5)), `${losses.slice(0, 5)} ... ${losses.slice(-5)}`);
  const saved = readSafetensors(end.checkpoint!);
  if ('error' in saved) assert.fail(saved.error);
  const weight = saved.tensors.get('linear_0.weight');
  const moment = saved.tensors.get('optim.linear_0.weight.exp_avg');
  assert.deepEqual(weight?.shape, [64, 2]);
  assert.deepEqual(moment?.shape, [64, 2], 'the ONNX trainer\'s optimizer state is in the checkpoint');
  assert.ok(Array.from(moment!.data as Float32Array).some((v) => v !== 0));
  // The ONNX back end takes several steps per session run and stops at a run's end.
  assert.equal(saved.metadata.optimizer_step, String(losses.length));
  assert.equal(end.step, losses.length);
});

test('fashion_cnn.nn, what `npm start` trains: its whole block on the default back end learns and reports nothing', async () => {
  const findings: string[] = [];
  let accuracy = 0;
  const outcome = await train(readFileSync(join(examples, 'fashion_cnn.nn'), 'utf8'), { baseDir: examples, saveDir: join(work, 'npm-start') }, (e) => {
    if (e.type === 'finding') findings.push(`${e.finding.code} ${e.finding.message}`);
    if (e.type === 'epoch' && e.testAccuracy !== null) accuracy = e.testAccuracy;
  });
  if ('errors' in outcome) assert.fail(outcome.errors.map((e) => e.message).join('; '));
  assert.equal(outcome.end.reason, 'done');
  assert.deepEqual(findings, []);
  assert.ok(accuracy > 0.8, `test accuracy ${accuracy}`);
});
