// Turning run events into the Training view's data: curves, gradient flow, findings, status.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Finding, ParamGradStats, RunEvent } from '../../engine/src/core/events.js';
import { layerGradStats } from '../../engine/src/core/stats.js';
import { MAX_CURVE_POINTS, TrainingRun, averageDown } from '../../client/src/training/run.js';

function param(name: string, gradMeanAbs: number, gradMax: number, zeroFraction = 0): ParamGradStats {
  return { name, layer: name.split('.')[0], gradNorm: gradMax * 2, gradMax, gradMeanAbs, zeroFraction, updateRatio: 0, size: 10, weightNorm: 1 };
}

function finding(code: Finding['code'], layer: string, step: number): Finding {
  return { code, severity: 'warning', message: `${code} in ${layer}`, layer, range: { start: 10, end: 14 }, step };
}

const start: RunEvent = { type: 'start', model: 'Net', backend: 'ts', epochs: 2, stepsPerEpoch: 5, params: 1234 };

function step(stepIndex: number, loss: number, params: ParamGradStats[] = []): RunEvent {
  return { type: 'step', epoch: stepIndex <= 5 ? 0 : 1, step: stepIndex, loss, samplesPerSec: 100, params, layers: layerGradStats(params), activations: [] };
}

test('step and epoch events become the loss and accuracy curves, by global step', () => {
  const run = new TrainingRun('file:///m.nn', 'm.nn', undefined);
  run.apply(start);
  run.apply(step(1, 2.3));
  run.apply(step(2, 1.9));
  run.apply({ type: 'epoch', epoch: 0, step: 5, trainLoss: 2.0, testLoss: 1.8, testAccuracy: 0.4 });
  run.apply(step(6, 1.2));
  run.apply({ type: 'epoch', epoch: 1, step: 10, trainLoss: 1.1, testLoss: 1.0, testAccuracy: null });
  const view = run.view();
  assert.deepEqual(view.trainLoss, [{ x: 1, y: 2.3 }, { x: 2, y: 1.9 }, { x: 6, y: 1.2 }]);
  assert.deepEqual(view.testLoss, [{ x: 5, y: 1.8 }, { x: 10, y: 1.0 }]);
  // An epoch without a test accuracy adds no accuracy point.
  assert.deepEqual(view.testAccuracy, [{ x: 5, y: 0.4 }]);
  assert.equal(view.title, 'Net · m.nn');
  assert.equal(view.running, true);
  assert.equal(view.status, 'epoch 2/2 · step 6/10 · loss 1.2000');
});

test('the run ends with its reason, accuracy and findings', () => {
  const run = new TrainingRun('file:///m.nn', 'm.nn', 'Net');
  assert.equal(run.status(), 'starting…');
  run.apply(start);
  assert.equal(run.status(), 'epoch 1/2 · step 0/10');
  run.apply(step(10, 0.5));
  run.apply({ type: 'end', reason: 'done', step: 10, testAccuracy: 0.873, seconds: 4.4, checkpoint: 'runs/1/model.safetensors', findings: [finding('NN5001', 'fc1', 10)] });
  const view = run.view();
  assert.equal(view.running, false);
  assert.equal(view.status, 'done at step 10 in 4 s · test accuracy 87.3%');
  assert.deepEqual(view.findings.map((f) => f.code), ['NN5001']);
  assert.equal(run.finished, true);

  const cancelled = new TrainingRun('file:///m.nn', 'm.nn', 'Net');
  cancelled.apply(start);
  cancelled.apply({ type: 'end', reason: 'cancelled', step: 3, testAccuracy: null, seconds: 1, checkpoint: null, findings: [] });
  assert.equal(cancelled.status(), 'cancelled at step 3');
});

test('a NaN loss stays out of the curve', () => {
  const run = new TrainingRun('file:///m.nn', 'm.nn', 'Net');
  run.apply(start);
  run.apply(step(1, 2));
  run.apply(step(2, Number.NaN));
  run.apply({ type: 'end', reason: 'nan', step: 2, testAccuracy: null, seconds: 1, checkpoint: null, findings: [] });
  assert.deepEqual(run.view().trainLoss, [{ x: 1, y: 2 }]);
  assert.match(run.status(), /NaN/);
  assert.equal(run.failed, true);
});

test('a run the server refuses or stops before its end event settles with the server\'s answer', () => {
  const refused = new TrainingRun('file:///m.nn', 'm.nn', 'Net');
  refused.settle('Training Net failed: the workspace is not trusted', false);
  assert.equal(refused.status(), 'Training Net failed: the workspace is not trusted');
  assert.deepEqual([refused.finished, refused.failed, refused.view().running], [true, true, false]);

  const stopped = new TrainingRun('file:///m.nn', 'm.nn', 'Net');
  stopped.apply(start);
  stopped.apply(step(1, 2));
  assert.equal(stopped.view().running, true);
  stopped.settle('Training Net was cancelled.', true);
  assert.deepEqual([stopped.finished, stopped.failed, stopped.view().running], [true, false, false]);

  // An end event has the last word.
  const ended = new TrainingRun('file:///m.nn', 'm.nn', 'Net');
  ended.apply(start);
  ended.apply({ type: 'end', reason: 'cancelled', step: 1, testAccuracy: null, seconds: 1, checkpoint: null, findings: [] });
  ended.settle('Training Net was cancelled.', true);
  assert.equal(ended.status(), 'cancelled at step 1');
});

test('the gradient flow follows the latest step, and findings flag their layer', () => {
  const run = new TrainingRun('file:///m.nn', 'm.nn', 'Net');
  run.apply(start);
  run.apply(step(1, 2, [param('fc1.weight', 1e-2, 1e-1), param('fc2.weight', 1e-3, 1e-2)]));
  run.apply(step(2, 1.5, [param('fc1.weight', 1e-4, 1e-3), param('fc2.weight', 1e-3, 1e-2)]));
  run.apply({ type: 'finding', finding: finding('NN5001', 'fc1', 2) });
  let flow = run.view().gradientFlow;
  assert.equal(flow?.step, 2);
  // The layers are the engine's statistics from the event, as they are.
  assert.deepEqual(flow?.layers.map((l) => [l.layer, l.gradMeanAbs, l.gradMax, l.flagged]), [
    ['fc1', 1e-4, 1e-3, true],
    ['fc2', 1e-3, 1e-2, false],
  ]);
  // A later step keeps the flag of a layer that has a finding; a step without statistics
  // leaves the last gradient flow in place.
  run.apply(step(3, 1.4, [param('fc1.weight', 2e-4, 2e-3), param('fc2.weight', 1e-3, 1e-2)]));
  run.apply(step(4, 1.3));
  flow = run.view().gradientFlow;
  assert.equal(flow?.step, 3);
  assert.deepEqual(flow?.layers.map((l) => l.flagged), [true, false]);
  // The same finding again replaces the earlier one.
  run.apply({ type: 'finding', finding: finding('NN5001', 'fc1', 3) });
  assert.deepEqual(run.view().findings.map((f) => [f.code, f.step]), [['NN5001', 3]]);
});

test('a probe shows its gradient flow with no step and its loss in the status', () => {
  const run = new TrainingRun('file:///m.nn', 'm.nn', 'Net');
  run.applyProbe(2.302585, layerGradStats([param('conv1.weight', 1e-3, 1e-2)]), [finding('NN5003', 'conv1', 0)]);
  const view = run.view();
  assert.equal(view.gradientFlow?.step, null);
  assert.equal(view.gradientFlow?.layers[0].flagged, true);
  assert.equal(view.status, 'probe · loss 2.3026');
  assert.equal(view.running, false);
});

test('long curves are averaged down in buckets, keeping their level and order', () => {
  const points = Array.from({ length: 8_000 }, (_, i) => ({ x: i + 1, y: i % 2 === 0 ? 1 : 3 }));
  const averaged = averageDown(points, MAX_CURVE_POINTS);
  assert.equal(averaged.length, MAX_CURVE_POINTS);
  for (const p of averaged) assert.ok(Math.abs(p.y - 2) < 1e-12);
  for (let i = 1; i < averaged.length; i++) assert.ok(averaged[i].x > averaged[i - 1].x);
  assert.equal(averaged[0].x, 4.5); // buckets of 8 points: the mean of steps 1..8
  const short = [{ x: 1, y: 5 }];
  assert.deepEqual(averageDown(short, 10), short);
  assert.notEqual(averageDown(short, 10), short);
});

test('epochs add the train accuracy, a confusion matrix each and the latest worst samples; findings get their lines', () => {
  const text = 'model Net(x: [B, 2]) -> [B, 2] {\n  fc1 = Linear(2, 2)\n  return fc1(x)\n}\n';
  const run = new TrainingRun('file:///m.nn', 'm.nn', undefined, text);
  run.apply({ ...start, classNames: ['cat', 'dog'] } as RunEvent);
  const worst = (index: number) => ({ index, label: 1, predicted: 0, confidence: 0.9, loss: 2.3, shape: [1, 2, 2] as [number, number, number], pixels: 'AAAAAA==' });
  run.apply({ type: 'epoch', epoch: 0, step: 5, trainLoss: 2, testLoss: 1.8, testAccuracy: 0.5, evaluatedOn: 'validation', trainAccuracy: 0.6, confusion: [[3, 1], [2, 2]], worst: [worst(7)] });
  run.apply({ type: 'epoch', epoch: 1, step: 10, trainLoss: 1, testLoss: 0.9, testAccuracy: 0.75, evaluatedOn: 'validation', trainAccuracy: 0.8, confusion: [[4, 0], [1, 3]], worst: [worst(3)] });
  const offset = text.indexOf('fc1 =');
  run.apply({ type: 'finding', finding: { ...finding('NN5001', 'fc1', 7), range: { start: offset, end: offset + 3 } } });
  const view = run.view();
  assert.deepEqual(view.trainAccuracy, [{ x: 5, y: 0.6 }, { x: 10, y: 0.8 }]);
  assert.equal(view.evaluatedSplit, 'validation');
  assert.deepEqual(view.classNames, ['cat', 'dog']);
  assert.deepEqual(view.confusion, [{ epoch: 0, counts: [[3, 1], [2, 2]] }, { epoch: 1, counts: [[4, 0], [1, 3]] }]);
  assert.deepEqual(view.worst, { epoch: 1, samples: [worst(3)] });
  assert.deepEqual(view.findings.map((f) => [f.code, f.line]), [['NN5001', 2]]);
  // Without the file's text a finding has no line.
  const blind = new TrainingRun('file:///m.nn', 'm.nn', undefined);
  blind.apply({ type: 'finding', finding: finding('NN5001', 'fc1', 7) });
  assert.equal(blind.view().findings[0].line, null);
  assert.equal(blind.view().classNames, null);
});
