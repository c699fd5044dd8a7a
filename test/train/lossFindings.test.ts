// The loss-level findings (NN5006–NN5008): the tracker at and around its thresholds, and the
// Wrong/Fixed examples of docs/diagnostics.md trained on both back ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LOSS_WINDOW, LossTracker, PLATEAU_STEPS, SPIKE_FACTOR, UNSETTLED_RISE } from '../../engine/src/run/lossFindings.js';
import { checkProgram } from '../../engine/src/lang/program.js';
import type { TrainIR } from '../../engine/src/lang/api.js';
import { docsExamples, runSetup } from '../../bench/diagnose/harness.js';

const program = `model M(x: [B, 2]) -> [B, 2] {
  return x |> Linear(2, 4)
}

train M {
  data = moons(points = 200)
  optimizer = SGD(lr = 0.01)
  epochs = 30
}
`;
const spec: TrainIR = checkProgram(program).trains[0]!;

test('the train IR carries the range of the lr value', () => {
  assert.equal(program.slice(spec.lrRange!.start, spec.lrRange!.end), '0.01');
});

test('a steadily falling loss, with noise, is quiet', () => {
  const tracker = new LossTracker(spec, 'test', 'best.safetensors');
  for (let step = 1; step <= 500; step++) {
    const loss = 0.7 * Math.exp(-step / 50) + 0.01 * (1 + Math.sin(step * 1.7));
    assert.deepEqual(tracker.observeStep(step, loss, []), [], `step ${step}`);
  }
});

test('a flat loss is NN5006 at the lr, once, with a fix multiplying lr', () => {
  const tracker = new LossTracker(spec, 'test', 'best.safetensors');
  const found = [];
  for (let step = 1; step <= 200; step++) found.push(...tracker.observeStep(step, 0.69 - 1e-5 * step, []));
  assert.deepEqual(found.map((f) => `${f.code} ${f.step}`), [`NN5006 ${PLATEAU_STEPS}`]);
  assert.deepEqual(found[0]!.range, spec.lrRange);
  assert.deepEqual(found[0]!.fix, { title: 'Change lr to 0.1', newText: '0.1' });
});

test('a slowly but surely falling loss is not NN5006', () => {
  const tracker = new LossTracker(spec, 'test', 'best.safetensors');
  for (let step = 1; step <= 200; step++) assert.deepEqual(tracker.observeStep(step, 0.69 * (1 - 0.001 * step), []), []);
});

test('two spikes above the first loss are NN5007 with a fix dividing lr', () => {
  const tracker = new LossTracker(spec, 'test', 'best.safetensors');
  const found = [];
  for (let step = 1; step <= 40; step++) found.push(...tracker.observeStep(step, step === 5 || step === 9 ? 0.7 * (SPIKE_FACTOR + 1) : 0.7, []));
  assert.deepEqual(found.map((f) => `${f.code} ${f.step}`), ['NN5007 9']);
  assert.deepEqual(found[0]!.fix?.newText, '0.001');
  const once = new LossTracker(spec, 'test', 'best.safetensors');
  for (let step = 1; step <= 40; step++) assert.deepEqual(once.observeStep(step, step === 5 ? 0.7 * (SPIKE_FACTOR + 1) : 0.7 - step * 0.01, []), [], 'one spike is not oscillating');
});

test('a loss that falls and climbs back is diverging (NN5007), not a plateau', () => {
  const tracker = new LossTracker(spec, 'test', 'best.safetensors');
  const found = [];
  for (let step = 1; step <= 120; step++) found.push(...tracker.observeStep(step, step < 30 ? 0.7 - step * 0.02 : 0.12 + (step - 30) * 0.02, []));
  assert.deepEqual(found.map((f) => f.code), ['NN5007']);
  assert.match(found[0]!.message, /diverging/);
});

/** A fixed pseudo-random sequence in [0, 1). */
function randoms(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

test('a loss thrown about above its start without progress is NN5007 (oscillating), not NN5006', () => {
  // SGD(lr = 5) on 3 spirals: 1.08 at the first step, a jump to 3.8, then 1.0–2.3, never below the start.
  const random = randoms(7);
  const losses = Array.from({ length: 100 }, (_, i) => (i === 0 ? 1.08 : i === 2 ? 3.83 : i >= 5 && i < 12 ? 1.7 + 0.3 * random() : 1.05 + 0.4 * random()));
  const tracker = new LossTracker(spec, 'test', 'best.safetensors');
  const found = losses.flatMap((loss, i) => tracker.observeStep(i + 1, loss, []));
  assert.deepEqual(found.map((f) => `${f.code} ${f.step}`), [`NN5007 ${PLATEAU_STEPS}`]);
  assert.match(found[0]!.message, /oscillating .* not decreasing .* its start 1\.08 .* rose to .*× the start \(threshold 1\.25×\)/);
  assert.deepEqual(found[0]!.fix?.newText, '0.001');
  // The same start, a flat loss with batch noise that never rises far above it: NN5006.
  const flat = new LossTracker(spec, 'test', 'best.safetensors');
  const noise = randoms(8);
  const plateau = Array.from({ length: 100 }, () => 1.08 * (1 + 0.1 * (noise() - 0.5)));
  assert.ok(Math.max(...plateau) < UNSETTLED_RISE * Math.min(plateau[0]!, plateau.slice(0, LOSS_WINDOW).reduce((a, b) => a + b) / LOSS_WINDOW));
  assert.deepEqual(plateau.flatMap((loss, i) => flat.observeStep(i + 1, loss, [])).map((f) => f.code), ['NN5006']);
});

test('a momentum bump that recovers within a window is not diverging', () => {
  // SGD(lr = 0.1, momentum = 0.9) on spirals: the loss falls to ~0.2, jumps to 0.4–0.9 for five
  // steps around step 70, and falls again.
  const random = randoms(9);
  const losses = Array.from({ length: 150 }, (_, i) => {
    const level = i < 20 ? 0.7 - 0.02 * i : 0.3 * Math.exp(-(i - 20) / 100);
    return i >= 64 && i < 72 && i % 2 === 0 ? 0.8 : level * (0.5 + random());
  });
  const tracker = new LossTracker(spec, 'test', 'best.safetensors');
  assert.deepEqual(losses.flatMap((loss, i) => tracker.observeStep(i + 1, loss, [])).map((f) => f.message), []);
  // The same start, climbing back and staying up: diverging after a window of steps.
  const up = new LossTracker(spec, 'test', 'best.safetensors');
  const climbing = losses.map((loss, i) => (i >= 64 ? 0.8 : loss));
  const found = climbing.flatMap((loss, i) => up.observeStep(i + 1, loss, []));
  assert.deepEqual(found.map((f) => f.code), ['NN5007']);
  assert.match(found[0]!.message, /diverging .* for 10 steps/);
});

test('a noisy evaluated loss at chance that climbs while the train loss falls is NN5008; one unlucky epoch is not', () => {
  // A wide MLP on 60 noisy-XOR rows: the validation loss wanders 0.64–0.70 with one lucky 0.637,
  // then climbs to ~0.76 while the train loss falls from 0.65 to 0.50.
  const random = randoms(10);
  const testLosses = Array.from({ length: 60 }, (_, e) => (e === 30 ? 0.637 : e < 45 ? 0.665 + 0.035 * random() : 0.72 + 0.05 * random()));
  const tracker = new LossTracker(spec, 'validation', 'best.safetensors');
  const found = testLosses.flatMap((testLoss, epoch) => tracker.observeEpoch({ epoch, step: 10 * (epoch + 1), trainLoss: 0.8 - 0.005 * epoch, testLoss }).findings);
  assert.deepEqual(found.map((f) => f.code), ['NN5008']);
  assert.match(found[0]!.message, /the weights of epoch 31 \(the lowest validation loss, 0\.637\)/);
  const quiet = new LossTracker(spec, 'validation', 'best.safetensors');
  const unlucky = [0.9, 0.7, 0.6, 0.55, 0.9, 0.52, 0.5, 0.49, 0.48, 0.47];
  assert.deepEqual(unlucky.flatMap((testLoss, epoch) => quiet.observeEpoch({ epoch, step: epoch, trainLoss: 1 - 0.05 * epoch, testLoss }).findings), []);
});

test('a 3-epoch mean test loss 1.1× the lowest earlier one while train loss falls is NN5008, the best epoch kept, at epochs', () => {
  const tracker = new LossTracker(spec, 'test', 'run/best.safetensors');
  const test = [1, 0.8, 0.6, 0.5, 0.65, 0.7, 0.8, 0.9];
  const results = test.map((testLoss, epoch) => tracker.observeEpoch({ epoch, step: 7 * (epoch + 1), trainLoss: 1 - epoch * 0.1, testLoss }));
  assert.deepEqual(results.map((r) => r.best), [true, true, true, true, false, false, false, false]);
  const found = results.flatMap((r) => r.findings);
  assert.deepEqual(found.map((f) => `${f.code} ${f.step}`), ['NN5008 49']);
  assert.match(found[0]!.message, /rose from 0\.633 over epochs 2–4 to 0\.717 over epochs 5–7 .* the weights of epoch 4 \(the lowest test loss, 0\.500\)/);
  assert.match(found[0]!.message, /run\/best\.safetensors/);
  assert.deepEqual(found[0]!.range, spec.keyRanges.epochs);
  assert.deepEqual(found[0]!.fix, { title: 'Change epochs to 4', newText: '4' });
  const onTrain = new LossTracker(spec, 'train', 'best.safetensors');
  assert.deepEqual(test.flatMap((testLoss, epoch) => onTrain.observeEpoch({ epoch, step: epoch, trainLoss: 1, testLoss }).findings), [], 'no overfitting measured on the training data');
});


const lineOfKey = (text: string, key: string): number => text.split('\n').findIndex((l) => l.trim().startsWith(`${key} =`)) + 1;

for (const [code, key] of [['NN5006', 'optimizer'], ['NN5007', 'optimizer'], ['NN5008', 'epochs']] as const) {
  for (const backend of ['ts', 'onnx'] as const) {
    test(`docs/diagnostics.md ${code} on ${backend}: the Wrong example reports it at \`${key}\`, the Fixed one does not`, async () => {
      const { wrong, fixed } = docsExamples(code);
      const bad = await runSetup({ name: code, text: wrong }, backend);
      assert.equal(bad.backend, backend);
      const at = bad.findings.findIndex((f) => f.code === code);
      assert.ok(at >= 0, `${code} not reported; got ${bad.findings.map((f) => f.code).join(', ') || 'nothing'}`);
      assert.equal(bad.lines[at], lineOfKey(wrong, key));
      const good = await runSetup({ name: code, text: fixed }, backend);
      assert.deepEqual(good.findings.filter((f) => f.code === code), [], good.findings.map((f) => f.message).join('\n'));
    });
  }
}

test('the best evaluated weights are written next to the checkpoint', async () => {
  const { wrong } = docsExamples('NN5008');
  const outcome = await runSetup({ name: 'best', text: wrong }, 'onnx', { keep: true });
  const file = outcome.findings.find((f) => f.code === 'NN5008')!.message.match(/kept in (\S+best\.safetensors)/)![1]!;
  assert.ok(existsSync(file), file);
  assert.ok(existsSync(join(file, '..', 'checkpoint.safetensors')));
});

test('a NaN on ONNX is reported at the op and its line, as on the TS engine (the failing steps replayed)', async () => {
  const text = `model M(x: [B, 2]) -> [B, 2] {
  h = sqrt(Linear(2, 16)(x))
  return Linear(16, 2)(h)
}

train M {
  data = moons(points = 200)
}
`;
  const { onnx, ts, nan } = await nanOnBothBackEnds('nan', text);
  assert.equal(onnx.backend, 'onnx');
  assert.match(nan(onnx).message, /the output of `sqrt` \(line 2\)/);
  assert.equal(nan(onnx).step, nan(ts).step);
  assert.equal(onnx.lines[onnx.findings.indexOf(nan(onnx))], 2);
});

test('a NaN that first appears in a gradient is reported at that step on ONNX too, where the loss shows it a step later', async () => {
  const text = `model M(x: [B, 2]) -> [B, 2] {
  h = sqrt(Linear(2, 16)(x) * 0)
  return Linear(16, 2)(h)
}

train M {
  data = moons(points = 200)
}
`;
  const { onnx, ts, nan } = await nanOnBothBackEnds('nan-gradient', text);
  assert.equal(onnx.backend, 'onnx');
  assert.match(nan(ts).message, /gradient/);
  assert.equal(nan(ts).step, 1);
  assert.equal(nan(onnx).step, nan(ts).step);
  assert.equal(nan(onnx).message, nan(ts).message);
});

/** A setup trained on both back ends, and the NN5004 finding of a run. */
async function nanOnBothBackEnds(name: string, text: string) {
  const onnx = await runSetup({ name, text }, 'onnx');
  const ts = await runSetup({ name, text }, 'ts');
  return { onnx, ts, nan: (o: typeof onnx) => o.findings.find((f) => f.code === 'NN5004')! };
}
