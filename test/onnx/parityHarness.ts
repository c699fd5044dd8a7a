// Runs the same training on the TS engine (engine/src/backend-ts/lower.ts) and on the ONNX
// step graph from the same initial weights and batches, for the parity tests.

import type { FnIR, ModelIR, OptimizerSpec, TrainIR } from '../../engine/src/lang/api.js';
import { lowerModel } from '../../engine/src/backend-ts/lower.js';
import { Rng } from '../../engine/src/random.js';
import { Tensor } from '../../engine/src/tensor/tensor.js';
import assert from 'node:assert/strict';
import * as engine from '../../engine/src/index.js';
import { OnnxTrainer } from '../../engine/src/backend-onnx/session.js';
import { lossOf } from '../../engine/src/backend-ts/objective.js';

export interface Batch {
  x: Float32Array | Int32Array;
  xShape: number[];
  xDType: 'float32' | 'int64';
  /** Class ids for cross entropy, else float targets of the output's shape. */
  y: Int32Array | Float32Array;
  yShape: number[];
}

export interface ParityRun {
  losses: number[];
  params: Map<string, Float32Array>;
  /** Parameters whose gradient was rounding noise at every step (TS run only). */
  noiseGradients: Set<string>;
  /**
   * Per parameter, the elements whose gradient was rounding noise at every step (TS run
   * only): attention's key bias, which moves every score of a row alike, so softmax ignores it.
   */
  noiseElements: Map<string, Uint8Array>;
  /** Optimizer state by `<param>.<key>` name, as PyTorch keeps it. */
  optimizerState: Map<string, Float32Array>;
}

/** Random batches fitting the model's input and the loss; the last one is smaller. */
export function randomBatches(model: ModelIR, loss: TrainIR['loss'], sizes: number[], seed: number, classes?: number): Batch[] {
  const rng = new Rng(seed);
  const g = model.graph;
  const input = g.values[g.inputs[0]];
  const outShape = g.values[g.output].shape;
  return sizes.map((batch) => {
    const bind = (d: { constant(): number | null }): number => d.constant() ?? batch;
    const xShape = input.shape.map(bind);
    const n = xShape.reduce((a, b) => a * b, 1);
    const x = input.dtype === 'int64'
      ? Int32Array.from({ length: n }, () => Math.floor(rng.next() * (classes ?? 10)))
      : Float32Array.from({ length: n }, () => rng.normal());
    // Class ids for every row of scores: [B] for [B, C], [B, T] for a sequence's [B, T, C].
    const yShape = loss === 'cross_entropy' ? outShape.slice(0, -1).map(bind) : outShape.map(bind);
    const m = yShape.reduce((a, b) => a * b, 1);
    const classCount = loss === 'cross_entropy' ? (outShape[outShape.length - 1].constant() ?? 2) : 0;
    const y = loss === 'cross_entropy'
      ? Int32Array.from({ length: m }, () => Math.floor(rng.next() * classCount))
      : Float32Array.from({ length: m }, () => (loss === 'bce_with_logits' ? (rng.next() < 0.5 ? 0 : 1) : rng.normal()));
    return { x, xShape, xDType: input.dtype, y, yShape };
  });
}

/** The initial parameters and buffers the TS lowering creates with `seed`. */
export function initialWeights(model: ModelIR, fns: ReadonlyMap<string, FnIR>, seed: number): Map<string, Float32Array> {
  const lowered = lowerModel(model, fns, seed, () => 1);
  const out = new Map<string, Float32Array>();
  for (const p of lowered.params) out.set(p.name, Float32Array.from(p.tensor.values));
  for (const b of lowered.buffers) out.set(b.name, Float32Array.from(b.tensor.values));
  return out;
}

export function runTs(model: ModelIR, fns: ReadonlyMap<string, FnIR>, loss: TrainIR['loss'], optimizer: OptimizerSpec, batches: Batch[], seed: number): ParityRun {
  const lowered = lowerModel(model, fns, seed, () => 1);
  const opt = engine.optimizerFromSpec(optimizer, lowered.params.map((p) => p.tensor));
  const mode = { dropout: false, batchNormTraining: true, rng: new Rng(seed), detectNonFinite: false };
  const losses: number[] = [];
  const noiseGradients = new Set(lowered.params.map((p) => p.name));
  const noiseElements = new Map(lowered.params.map((p) => [p.name, new Uint8Array(p.tensor.size).fill(1)]));
  for (const batch of batches) {
    const x = new Tensor(batch.x, batch.xShape, batch.xDType);
    const y = new Tensor(batch.y, batch.yShape, loss === 'cross_entropy' ? 'int64' : 'float32');
    opt.zeroGrad();
    const value = lossOf(loss, lowered.forward([x], mode), y);
    value.backward();
    const norms = lowered.params.map((p) => l2(p.tensor.grad?.values ?? []));
    const largest = Math.max(...norms);
    lowered.params.forEach((p, i) => { if (norms[i] > 1e-5 * largest) noiseGradients.delete(p.name); });
    let largestElement = 0;
    for (const p of lowered.params) for (const v of p.tensor.grad?.values ?? []) largestElement = Math.max(largestElement, Math.abs(v));
    lowered.params.forEach((p) => {
      const mask = noiseElements.get(p.name)!;
      (p.tensor.grad?.values ?? []).forEach((v, k) => { if (Math.abs(v) > 1e-6 * largestElement) mask[k] = 0; });
    });
    opt.step();
    losses.push(value.item());
  }
  const params = new Map<string, Float32Array>();
  for (const p of lowered.params) params.set(p.name, Float32Array.from(p.tensor.values));
  for (const b of lowered.buffers) params.set(b.name, Float32Array.from(b.tensor.values));
  const optimizerState = new Map<string, Float32Array>();
  for (const [key, buffers] of Object.entries(opt.state())) {
    buffers.forEach((values, i) => { if (values) optimizerState.set(`${lowered.params[i].name}.${key}`, Float32Array.from(values)); });
  }
  return { losses, params, noiseGradients, noiseElements, optimizerState };
}

/**
 * The ONNX run: one `step` per batch, or with `stepsPerRun` > 1 all batches through `run`
 * (unrolled graphs of that many steps, the rest one step at a time). Without `stats`, SGD
 * folds its update into the weight gradients' Gemms.
 */
export async function runOnnx(
  model: ModelIR,
  fns: ReadonlyMap<string, FnIR>,
  loss: TrainIR['loss'],
  optimizer: OptimizerSpec,
  batches: Batch[],
  seed: number,
  { stepsPerRun = 1, stats = true } = {},
): Promise<ParityRun> {
  const trainer = await OnnxTrainer.create(model, fns, { loss, optimizer }, initialWeights(model, fns, seed), { dropout: false, stats, stepsPerRun });
  const feeds = batches.map((batch) => ({
    inputs: { data: batch.x instanceof Int32Array ? BigInt64Array.from(batch.x, (v) => BigInt(v)) : batch.x, shape: batch.xShape },
    labels: { data: batch.y instanceof Int32Array ? BigInt64Array.from(batch.y, (v) => BigInt(v)) : batch.y, shape: batch.yShape },
  }));
  const losses: number[] = [];
  if (stepsPerRun > 1) losses.push(...(await trainer.run(feeds)).map((r) => r.loss));
  else for (const { inputs, labels } of feeds) losses.push((await trainer.step(inputs, labels)).loss);
  const params = trainer.params();
  const optimizerState = trainer.optimizerState();
  await trainer.release();
  return { losses, params, noiseGradients: new Set(), noiseElements: new Map(), optimizerState };
}

function l2(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * values[i];
  return Math.sqrt(sum);
}

/**
 * The largest relative difference ||a - b|| / ||b|| (L2 over each tensor) over all tensors;
 * a tensor that is all zeros in `b` is compared absolutely.
 */
export function maxRelativeDifference(a: ReadonlyMap<string, Float32Array>, b: ReadonlyMap<string, Float32Array>): { name: string; difference: number } {
  let worst = { name: '', difference: 0 };
  for (const [name, reference] of b) {
    const actual = a.get(name);
    if (!actual || actual.length !== reference.length) return { name, difference: Infinity };
    const diff = l2(Float64Array.from(reference, (v, i) => actual[i] - v));
    const relative = diff / Math.max(l2(reference), 1e-12);
    const difference = Number.isNaN(relative) ? Infinity : relative;
    if (difference > worst.difference) worst = { name, difference };
  }
  return worst;
}

/**
 * Asserts that two runs agree: every loss and every tensor to `tolerance` relative.
 * Parameters the loss does not depend on (a bias right before batch norm) get gradients
 * that are rounding noise in both engines; Adam turns noise into steps of up to lr, so
 * those, and the running means they feed, are held to that bound instead.
 */
export function assertParity(ts: ParityRun, onnx: ParityRun, optimizer: OptimizerSpec, tolerance: number): void {
  ts.losses.forEach((l, i) => {
    assert.ok(Math.abs(l - onnx.losses[i]) <= tolerance * Math.abs(l) + 1e-7, `step ${i + 1}: loss ${onnx.losses[i]} (ONNX) vs ${l} (TS)`);
  });
  const noisy = optimizer.kind !== 'SGD' && ts.noiseGradients.size > 0;
  const loose = (name: string): boolean => noisy && (ts.noiseGradients.has(name) || name.endsWith('running_mean'));
  // Under Adam, a parameter's noise-gradient elements are held to the bound below, the rest compared as usual.
  const noiseOf = (name: string): Uint8Array | undefined => (optimizer.kind === 'SGD' ? undefined : ts.noiseElements.get(name));
  const keep = (name: string, values: Float32Array): Float32Array => {
    const mask = noiseOf(name);
    return mask ? values.filter((_, k) => mask[k] === 0) : values;
  };
  const compared = (run: ParityRun) => new Map([...run.params].filter(([name]) => !loose(name)).map(([name, values]) => [name, keep(name, values)]));
  const worst = maxRelativeDifference(compared(onnx), compared(ts));
  assert.ok(worst.difference <= tolerance, `${worst.name} differs by ${worst.difference.toExponential(2)} (relative)`);
  const bound = optimizer.kind === 'SGD' ? 0 : 2 * optimizer.lr * ts.losses.length;
  for (const name of ts.params.keys()) {
    const a = onnx.params.get(name) as Float32Array;
    const b = ts.params.get(name) as Float32Array;
    const mask = noiseOf(name);
    a.forEach((v, i) => {
      if (loose(name) || mask?.[i] === 1) assert.ok(Math.abs(v - b[i]) <= bound, `${name}[${i}]: ${v} vs ${b[i]}`);
    });
  }
}
