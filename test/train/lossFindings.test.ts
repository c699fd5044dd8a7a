// The loss-level findings (NN5006–NN5008): the tracker at and around its thresholds, and the
// Wrong/Fixed examples of docs/diagnostics.md trained on both back ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LossTracker, PLATEAU_STEPS, SPIKE_FACTOR } from '../../engine/src/run/lossFindings.js';
import { checkProgram } from '../../engine/src/lang/program.js';
import type { TrainIR } from '../../engine/src/lang/api.js';
import { runSetup } from '../../bench/diagnose/harness.js';

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

/** The Wrong/Fixed examples of one code in docs/diagnostics.md. */
function examples(code: string): { wrong: string; fixed: string } {
  const doc = readFileSync(join(__dirname, '../../docs/diagnostics.md'), 'utf8');
  const section = doc.slice(doc.indexOf(`\n## ${code}\n`)).split('\n## ')[1]!;
  const block = (label: string): string => /```nn\n([\s\S]*?)```/.exec(section.slice(section.indexOf(`**${label}:**`)))![1]!;
  return { wrong: block('Wrong'), fixed: block('Fixed') };
}

const lineOfKey = (text: string, key: string): number => text.split('\n').findIndex((l) => l.trim().startsWith(`${key} =`)) + 1;

for (const [code, key] of [['NN5006', 'optimizer'], ['NN5007', 'optimizer'], ['NN5008', 'epochs']] as const) {
  for (const backend of ['ts', 'onnx'] as const) {
    test(`docs/diagnostics.md ${code} on ${backend}: the Wrong example reports it at \`${key}\`, the Fixed one does not`, async () => {
      const { wrong, fixed } = examples(code);
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
  const { wrong } = examples('NN5008');
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
  const onnx = await runSetup({ name: 'nan', text }, 'onnx');
  const ts = await runSetup({ name: 'nan', text }, 'ts');
  const nan = (o: typeof onnx) => o.findings.find((f) => f.code === 'NN5004')!;
  assert.equal(onnx.backend, 'onnx');
  assert.match(nan(onnx).message, /the output of `sqrt` \(line 2\)/);
  assert.equal(nan(onnx).step, nan(ts).step);
  assert.equal(onnx.lines[onnx.findings.indexOf(nan(onnx))], 2);
});
