// The input-scale and update/weight-ratio findings (NN5009, NN5010): the rules at and around
// their thresholds, the sampled steps against the ONNX trainer's statistics steps, and the
// Wrong/Fixed examples of docs/diagnostics.md trained on both back ends, which must report
// the same finding at the same line and step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkProgram } from '../../engine/src/lang/program.js';
import type { TrainIR } from '../../engine/src/lang/api.js';
import type { ParamGradStats, RunEvent } from '../../engine/src/core/events.js';
import { Tensor } from '../../engine/src/tensor/tensor.js';
import { inputScaleFindings, INPUT_SCALE_HIGH } from '../../engine/src/run/inputFindings.js';
import { UpdateRatioTracker, UPDATE_RATIO_HIGH, UPDATE_RATIO_LOW, UPDATE_WARMUP_STEPS, UPDATE_WINDOW } from '../../engine/src/run/updateFindings.js';
import { onnxBackend, tsBackend } from '../../engine/src/run/backends.js';
import { sampledBatch } from '../../engine/src/core/stats.js';
import { prepare } from '../../engine/src/run/prepare.js';
import { train } from '../../engine/src/run/loop.js';
import { docsExamples, runSetup, type Outcome } from '../../bench/diagnose/harness.js';

const program = `model M(x: [B, 2]) -> [B, 2] {
  fc1 = Linear(2, 2)
  return fc1(x)
}

train M {
  data = moons(points = 200)
  optimizer = SGD(lr = 0.01)
}
`;
const spec: TrainIR = checkProgram(program).trains[0]!;
const batchOf = (values: number[], dtype: 'float32' | 'int64' = 'float32') => ({ input: new Tensor(Float32Array.from(values), [values.length / 2, 2], dtype), target: new Tensor(new Float32Array(1), [1], 'float32'), size: values.length / 2 });

test('NN5009: inputs of unit scale are quiet; raw pixels, huge or tiny features are reported at `data`', () => {
  assert.deepEqual(inputScaleFindings(spec, 'x', [batchOf([0.1, -1.2, 0.7, 0.4])], 1), []);
  const [pixels] = inputScaleFindings(spec, 'x', [batchOf([0, 255, 128, 64]), batchOf([200, 10, 30, 90])], 1);
  assert.equal(pixels!.code, 'NN5009');
  assert.deepEqual(pixels!.range, spec.keyRanges.data);
  assert.match(pixels!.message, /the input `x` is far from unit scale: mean 97\.1, std 86\.0, from 0 to 255 over the first 2 batches \(8 values\)/);
  assert.match(pixels!.message, /divide raw pixel values by 255/);
  const [wide] = inputScaleFindings(spec, 'x', [batchOf([1200, -800, 3000, 50])], 1);
  assert.doesNotMatch(wide!.message, /pixel/);
  assert.equal(inputScaleFindings(spec, 'x', [batchOf([INPUT_SCALE_HIGH * 0.9, 0, 0, 0])], 1).length, 0, 'below the threshold');
  assert.equal(inputScaleFindings(spec, 'x', [batchOf([1e-3, -2e-3, 0, 1e-3])], 1).length, 1, 'tiny inputs');
  assert.deepEqual(inputScaleFindings(spec, 'x', [batchOf([0, 0, 0, 0])], 1), [], 'all zero is not a scale');
  assert.deepEqual(inputScaleFindings(spec, 'ids', [batchOf([500, 900, 3, 7], 'int64')], 1), [], 'token ids are not judged');
});

/** One sampled step's statistics: `fc.weight` with the given update ratio, and a zero bias. */
function stats(ratio: number): ParamGradStats[] {
  return [
    { name: 'fc.weight', layer: 'fc', gradNorm: 1, gradMax: 1, gradMeanAbs: 1, zeroFraction: 0, updateRatio: ratio, size: 4, weightNorm: 2 },
    { name: 'fc.bias', layer: 'fc', gradNorm: 1, gradMax: 1, gradMeanAbs: 1, zeroFraction: 0, updateRatio: 1, size: 2, weightNorm: 1e-9 },
  ];
}

function tracker(options: { lr?: (step: number) => number; reported?: 'NN5001' | 'NN5002' } = {}): UpdateRatioTracker {
  return new UpdateRatioTracker(spec, new Set(['fc.weight']), () => ({ start: 3, end: 4 }), options.lr ?? (() => spec.optimizer.lr), (code) => code === options.reported);
}

test('NN5010: a ratio below 1e-5 on 5 sampled steps in a row after the warmup is reported once, at the layer', () => {
  const t = tracker();
  const found = [];
  for (let k = 0; k < 20; k++) found.push(...t.observe(10 + 8 * k, stats(UPDATE_RATIO_LOW / 10)));
  assert.equal(found.length, 1);
  const firstJudged = Math.ceil((UPDATE_WARMUP_STEPS - 10) / 8);
  assert.equal(found[0]!.step, 10 + 8 * (firstJudged + UPDATE_WINDOW - 1));
  assert.deepEqual(found[0]!.range, { start: 3, end: 4 });
  assert.match(found[0]!.message, /^the weights of `fc` barely change: the update\/weight ratio ‖Δw‖\/‖w‖ was 1\.00e-6 to 1\.00e-6 on the last 5 sampled steps/);
  assert.match(found[0]!.message, /the learning rate 0\.01 is too low for this layer/);
});

test('NN5010: a ratio above 0.1 sustained is "too much"; one sample in range breaks the streak; the zero bias does not count', () => {
  const high = tracker();
  const found = [];
  for (let k = 0; k < 10; k++) found.push(...high.observe(UPDATE_WARMUP_STEPS + k, stats(UPDATE_RATIO_HIGH * 3)));
  assert.deepEqual(found.map((f) => `${f.code} ${f.step}`), [`NN5010 ${UPDATE_WARMUP_STEPS + UPDATE_WINDOW - 1}`]);
  assert.match(found[0]!.message, /change too much per step: .* was 0\.300 to 0\.300 .* above 0\.1/);
  const broken = tracker();
  for (let k = 0; k < 20; k++) assert.deepEqual(broken.observe(UPDATE_WARMUP_STEPS + k, stats(k % 4 === 0 ? 1e-3 : UPDATE_RATIO_HIGH * 3)), []);
  const healthy = tracker();
  for (let k = 0; k < 20; k++) assert.deepEqual(healthy.observe(UPDATE_WARMUP_STEPS + k, stats(1e-3)), [], 'the bias ratio of 1 is left out');
});

test('NN5010: not judged in the first steps, at a scheduled rate below half the optimizer\'s, or for a layer a gradient finding explains', () => {
  const early = tracker();
  for (let step = 1; step < UPDATE_WARMUP_STEPS; step++) assert.deepEqual(early.observe(step, stats(UPDATE_RATIO_HIGH * 5)), []);
  const decayed = tracker({ lr: (step) => spec.optimizer.lr * Math.max(0, 1 - step / 100) });
  const found = [];
  for (let step = UPDATE_WARMUP_STEPS; step < 200; step++) found.push(...decayed.observe(step, stats(UPDATE_RATIO_LOW / 10)));
  assert.deepEqual(found, [], 'the end of a decay to zero');
  const vanishing = tracker({ reported: 'NN5001' });
  for (let step = UPDATE_WARMUP_STEPS; step < 100; step++) assert.deepEqual(vanishing.observe(step, stats(UPDATE_RATIO_LOW / 10)), [], 'vanishing explains it');
  const exploding = tracker({ reported: 'NN5002' });
  for (let step = UPDATE_WARMUP_STEPS; step < 100; step++) assert.deepEqual(exploding.observe(step, stats(UPDATE_RATIO_HIGH * 5)), [], 'exploding explains it');
  const collapsing = tracker({ reported: 'NN5001' });
  const found2 = [];
  for (let step = UPDATE_WARMUP_STEPS; step < 100; step++) found2.push(...collapsing.observe(step, stats(UPDATE_RATIO_HIGH * 5)));
  assert.equal(found2.length, 1, 'a vanishing gradient does not explain weights that change too much');
});

test('the TS engine samples the steps on which the ONNX trainer computes statistics', async () => {
  const text = program.replace('optimizer = SGD(lr = 0.01)', 'optimizer = SGD(lr = 0.01)\n  epochs = 3\n  batch = 32');
  const prepared = prepare(text, { baseDir: '.' });
  assert.ok(!Array.isArray(prepared));
  const onnx = await onnxBackend(prepared, 1);
  const statsRun = onnx.statsRun;
  await onnx.release();
  assert.equal(tsBackend(prepared, 1).statsRun, statsRun);
  const dir = mkdtempSync(join(tmpdir(), 'nn-sampled-'));
  try {
    const withStats: number[] = [];
    await train(text, { baseDir: dir, saveDir: dir, backend: 'onnx', threads: 1 }, (e: RunEvent) => {
      if (e.type === 'step' && e.params.length > 0) withStats.push(e.step);
    });
    // 7 batches per epoch, the last one smaller, fewer than the steps per run: each epoch's last.
    assert.ok(statsRun > 7, `${statsRun} steps per run`);
    assert.deepEqual(withStats, [7, 14, 21]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});


/** The fixture data files the examples read (`data/pixels.csv`). */
const dataFiles = Object.fromEntries(['pixels.csv', 'pixels_scaled.csv'].map((f) => [`data/${f}`, readFileSync(join(__dirname, '../fixtures/cases/data', f), 'utf8')]));

const of = (o: Outcome, code: string) => o.findings.map((f, i) => ({ code: f.code, line: o.lines[i], step: f.step, layer: f.layer })).filter((f) => f.code === code);

for (const [code, lines] of [['NN5009', [6]], ['NN5010', [2, 3]]] as const) {
  test(`docs/diagnostics.md ${code}: the Wrong example reports it at the same lines and steps on both back ends, the Fixed one on neither`, async () => {
    const { wrong, fixed } = docsExamples(code);
    const ts = await runSetup({ name: code, text: wrong, files: dataFiles }, 'ts');
    const onnx = await runSetup({ name: code, text: wrong, files: dataFiles }, 'onnx');
    assert.equal(onnx.backend, 'onnx');
    assert.deepEqual(of(ts, code).map((f) => f.line), lines, ts.findings.map((f) => f.message).join('\n'));
    assert.deepEqual(of(onnx, code), of(ts, code));
    if (code === 'NN5009') assert.equal(onnx.findings.find((f) => f.code === code)!.message, ts.findings.find((f) => f.code === code)!.message, 'the same numbers');
    for (const backend of ['ts', 'onnx'] as const) {
      const good = await runSetup({ name: code, text: fixed, files: dataFiles }, backend);
      assert.deepEqual(of(good, code), [], good.findings.map((f) => f.message).join('\n'));
    }
  });
}

test('NN5010 stays quiet on a frozen layer and a zero-initialized bias, on both back ends', async () => {
  const text = `model M(x: [B, 2]) -> [B, 2] {
  fc1 = Linear(2, 32)
  b = param([32], init = zeros)
  fc2 = Linear(32, 2)
  return fc2(relu(fc1(x) + b))
}

train M {
  data = moons(points = 200)
  optimizer = Adam(lr = 0.01)
  freeze = [fc1]
  epochs = 10
}
`;
  for (const backend of ['ts', 'onnx'] as const) {
    const o = await runSetup({ name: 'frozen', text }, backend);
    assert.deepEqual(of(o, 'NN5010'), [], o.findings.map((f) => f.message).join('\n'));
  }
});

test('sampledBatch: the last of every K batches of an epoch, or an epoch\'s last when it is shorter', () => {
  const sampled = (stepsPerEpoch: number, every: number) => Array.from({ length: stepsPerEpoch }, (_, b) => b).filter((b) => sampledBatch(b, stepsPerEpoch, every));
  assert.deepEqual(sampled(20, 8), [7, 15]);
  assert.deepEqual(sampled(7, 8), [6]);
  assert.deepEqual(sampled(16, 8), [7, 15]);
  assert.deepEqual(sampled(3, 1), [0, 1, 2]);
});
