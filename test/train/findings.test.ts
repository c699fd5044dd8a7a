// Gradient statistics and the gradient-flow findings, at and around their thresholds.
import { test } from 'node:test';
import { OPS } from '../../engine/src/ops/registry.js';
import assert from 'node:assert/strict';
import { activationStats, aggregateGradStats, layerGradStats, paramGradStats } from '../../engine/src/core/stats.js';
import {
  DEAD_RELU_FRACTION,
  EXPLODING_NORM,
  EXPLODING_WARMUP_STEPS,
  FindingTracker,
  PERSISTENT_SAMPLES,
  SATURATED_FRACTION,
  VANISHING_RATIO,
  probeFindings,
} from '../../engine/src/run/findings.js';
import type { LayerGradStats } from '../../engine/src/core/events.js';

const range = { start: 0, end: 1 };
const rangeOf = () => range;

function layerWithNorm(layer: string, norm: number): LayerGradStats {
  return aggregateGradStats(layer, [paramGradStats(`${layer}.weight`, layer, [norm * 0.6, norm * 0.8], [1, 1], 0)]);
}

test('parameter statistics', () => {
  const s = paramGradStats('fc.weight', 'fc', [3, -4, 0, 0], [1, 0, 0, 0], 0.5);
  assert.equal(s.gradNorm, 5);
  assert.equal(s.gradMax, 4);
  assert.equal(s.gradMeanAbs, 7 / 4);
  assert.equal(s.zeroFraction, 0.5);
  assert.equal(s.updateRatio, 0.5);
  assert.equal(s.size, 4);
  assert.equal(s.weightNorm, 1);
});

test('layer statistics are those of its parameters taken as one tensor', () => {
  const weight = [3, -4, 0, 0, 1, 1];
  const bias = [0, 2];
  const w = [1, 2, 2, 0, 0, 0];
  const b = [3, 0];
  const params = [paramGradStats('fc.weight', 'fc', weight, w, 1.5), paramGradStats('fc.bias', 'fc', bias, b, 2), paramGradStats('out.weight', 'out', [1], [1], 0)];
  const [fc, out] = layerGradStats(params);
  const all = [...weight, ...bias];
  const together = paramGradStats('fc', 'fc', all, [...w, ...b], Math.hypot(1.5, 2));
  assert.equal(fc.layer, 'fc');
  assert.deepEqual(fc.params, ['fc.weight', 'fc.bias']);
  assert.ok(Math.abs(fc.gradNorm - together.gradNorm) < 1e-12);
  assert.equal(fc.gradMax, together.gradMax);
  assert.ok(Math.abs(fc.gradMeanAbs - together.gradMeanAbs) < 1e-12);
  assert.ok(Math.abs(fc.zeroFraction - together.zeroFraction) < 1e-12);
  assert.ok(Math.abs(fc.updateRatio - together.updateRatio) < 1e-12);
  assert.equal(out.layer, 'out');
});

test('activation statistics: dead ReLU units and saturated sigmoid values', () => {
  // batch 2, 4 units: unit 0 alive in sample 1 only, units 2 and 3 never alive.
  const relu = activationStats('h', 'relu', OPS.relu.activation!, range, [0, 1, 0, 0, 2, 0, 0, 0], 2);
  assert.equal(relu.deadFraction, 0.5);
  const sig = activationStats('s', 'sigmoid', OPS.sigmoid.activation!, range, [0.5, 0.999, 0.001, 0.9], 1);
  assert.equal(sig.saturatedFraction, 0.5);
  const tanh = activationStats('t', 'tanh', OPS.tanh.activation!, range, [0.999, 0, 0, 0], 1);
  assert.equal(tanh.saturatedFraction, 0.25);
});

test('vanishing and exploding gradients in a probe', () => {
  const tiny = VANISHING_RATIO * 0.5;
  const findings = probeFindings([layerWithNorm('fc1', tiny), layerWithNorm('fc2', 1), layerWithNorm('fc3', 2 * EXPLODING_NORM)], [], rangeOf);
  assert.deepEqual(findings.map((f) => `${f.code} ${f.layer}`), ['NN5001 fc1', 'NN5002 fc3']);
  const fine = probeFindings([layerWithNorm('fc1', 0.1), layerWithNorm('fc2', 1)], [], rangeOf);
  assert.deepEqual(fine, []);
});

test('dead ReLU units are reported after the persistent-sample threshold, once', () => {
  const tracker = new FindingTracker(rangeOf);
  const dead = activationStats('h', 'relu', OPS.relu.activation!, range, [0, 0, 0, 1], 1); // 75% dead
  assert.ok(dead.deadFraction > DEAD_RELU_FRACTION);
  const grads = [layerWithNorm('fc1', 1)];
  // Dead units are judged on two windows of samples: the latest must not be reviving.
  for (let step = 1; step < 2 * PERSISTENT_SAMPLES; step++) assert.deepEqual(tracker.observe(step, grads, [dead]), []);
  // Steps without activation statistics (not sampled) neither count nor break the samples' run.
  assert.deepEqual(tracker.observe(2 * PERSISTENT_SAMPLES, grads, []), []);
  const found = tracker.observe(2 * PERSISTENT_SAMPLES + 1, grads, [dead]);
  assert.deepEqual(found.map((f) => f.code), ['NN5003']);
  assert.match(found[0]!.message, /75% of the units .* over 3 consecutive sampled steps, not fewer than over the 3 before \(75%\)/);
  assert.deepEqual(tracker.observe(2 * PERSISTENT_SAMPLES + 2, grads, [dead]), [], 'reported once');
});

test('ReLU units off at the start that training turns back on are not dead', () => {
  // The last ReLU of a 6-layer stack on moons: 72% off at the start, 44–53% later.
  const fractions = [0.72, 0.72, 0.66, 0.66, 0.63, 0.59, 0.53, 0.53, 0.53, 0.5, 0.44, 0.47];
  const tracker = new FindingTracker(rangeOf);
  const found = fractions.flatMap((f, i) => tracker.observe(i + 1, [layerWithNorm('fc1', 1)], [reluDead(f)]));
  assert.deepEqual(found, []);
});

/** ReLU statistics of 100 units, one sample, of which a share `dead` is zero. */
function reluDead(dead: number): ReturnType<typeof activationStats> {
  return activationStats('h', 'relu', OPS.relu.activation!, range, Array.from({ length: 100 }, (_, i) => (i < dead * 100 ? 0 : 1)), 1);
}

/** Tanh statistics of `n` values of which a share `saturated` is saturated (|z| = 5) and the rest is not (z = 0). */
function tanhSaturated(saturated: number, n = 100): ReturnType<typeof activationStats> {
  const values = Array.from({ length: n }, (_, i) => (i < saturated * n ? Math.tanh(5) : 0));
  return activationStats('t', 'tanh', OPS.tanh.activation!, range, values, 1);
}

test('saturation hovering around the threshold is judged on its mean over the sampled steps', () => {
  // The fractions of a tanh after a normal(10) init on spirals: 52%, 34%, 58%, 45%, ... (a mean of 47%).
  const hovering = [0.52, 0.34, 0.58, 0.45, 0.41, 0.53];
  const tracker = new FindingTracker(rangeOf);
  const found = hovering.flatMap((f, i) => tracker.observe(i + 1, [layerWithNorm('fc1', 1)], [tanhSaturated(f)]));
  assert.deepEqual(found.map((f) => `${f.code} ${f.step}`), [`NN5005 ${PERSISTENT_SAMPLES}`]);
  assert.match(found[0]!.message, /48% of the tanh values/);
  // One saturated sample among unsaturated ones is not saturation.
  const quiet = new FindingTracker(rangeOf);
  const once = [0.1, 0.9, 0.1, 0.1, 0.2];
  assert.ok(0.9 > SATURATED_FRACTION);
  assert.deepEqual(once.flatMap((f, i) => quiet.observe(i + 1, [layerWithNorm('fc1', 1)], [tanhSaturated(f)])), []);
});

test('a mean gradient norm growing tenfold from one window to the next is exploding', () => {
  const tracker = new FindingTracker(rangeOf);
  const firedAt: number[] = [];
  for (let step = 0; step <= EXPLODING_WARMUP_STEPS + 30; step++) {
    const grads = [layerWithNorm('fc1', 1.3 ** Math.max(0, step - EXPLODING_WARMUP_STEPS)), layerWithNorm('fc2', 1)];
    if (tracker.observe(step, grads, []).some((f) => f.code === 'NN5002' && f.layer === 'fc1')) firedAt.push(step);
  }
  assert.equal(firedAt.length, 1, 'reported once');
  assert.ok(firedAt[0] > EXPLODING_WARMUP_STEPS + 10 && firedAt[0] <= EXPLODING_WARMUP_STEPS + 20, `fired at ${firedAt[0]}`);
  const early = new FindingTracker(rangeOf);
  for (let step = 0; step <= 10; step++) assert.deepEqual(early.observe(step, [layerWithNorm('fc1', 1.9 ** step)], []), [], 'not during the warm-up');
  const steady = new FindingTracker(rangeOf);
  for (let step = 0; step <= 80; step++) assert.deepEqual(steady.observe(step, [layerWithNorm('fc1', 1.02 ** step)], []), []);
});

test('with sampled statistics (every 32nd step), the growth message names the steps its windows span', () => {
  const tracker = new FindingTracker(rangeOf);
  const found = [];
  for (let sample = 1; sample <= 40; sample++) {
    const step = 32 * sample;
    found.push(...tracker.observe(step, [layerWithNorm('fc1', sample <= 20 ? 1 : 100)], []).filter((f) => f.code === 'NN5002'));
  }
  assert.equal(found.length, 1);
  assert.match(found[0]!.message, /grew [\d.]+× from steps \d+–\d+ to steps \d+–\d+/);
  const [, a, b, c, d] = /from steps (\d+)–(\d+) to steps (\d+)–(\d+)/.exec(found[0]!.message)!.map(Number);
  assert.equal(b - a, 32 * 9, 'the earlier window covers ten samples');
  assert.equal(d - c, 32 * 9, 'the later window covers ten samples');
  assert.equal(d, found[0]!.step);
});

test('a single large mini-batch gradient among small ones is not exploding', () => {
  // What healthy runs near convergence look like: norms around 0.03 with a rare 0.4.
  const tracker = new FindingTracker(rangeOf);
  for (let step = 0; step <= 200; step++) {
    const norm = step % 13 === 0 ? 0.4 : 0.03;
    assert.deepEqual(tracker.observe(step, [layerWithNorm('fc1', norm)], []), [], `step ${step}`);
  }
});
