// A probe: forward + backward on the first N batches of the training data in file order
// (no shuffling, dropout off, batch norm in training mode), without updating anything; the
// mean raw gradients, their per-layer statistics and the findings they show.

import type { ActivationStats, Finding, LayerGradStats, ParamGradStats } from '../core/events.js';
import { batchCount, epochOrder, makeBatch, streamRng } from '../core/batches.js';
import { probeFindings, nanFinding } from './findings.js';
import { NonFiniteError } from '../backend-ts/lower.js';
import { lossOf } from '../backend-ts/objective.js';
import { batchLayout, layerRanges } from './loop.js';
import { loadWeights } from './checkpoint.js';
import { prepare, type PrepareOptions, type RunError } from './prepare.js';
import { layerGradStats, paramGradStats } from '../core/stats.js';

export interface ProbeOptions extends PrepareOptions {
  /** Batches to average over (1 by default). */
  batches?: number;
  /** A .safetensors file of weights to probe instead of the fresh initialization. */
  weights?: string;
}

export interface ProbeOutcome {
  /** Mean loss over the probed batches. */
  loss: number;
  params: ParamGradStats[];
  layers: LayerGradStats[];
  activations: ActivationStats[];
  findings: Finding[];
  /** Mean raw gradient per parameter, by state_dict name. */
  gradients: Map<string, { shape: readonly number[]; data: Float32Array | Float64Array }>;
}

export function probe(text: string, options: ProbeOptions): { errors: RunError[] } | ProbeOutcome {
  const prepared = prepare(text, options);
  if (Array.isArray(prepared)) return { errors: prepared };
  const { lowered, train: spec, trainSplit } = prepared;
  if (options.weights) {
    const problem = loadWeights(options.weights, lowered.params, lowered.buffers);
    if (problem) return { errors: [{ code: 'NN4005', message: `--weights ${options.weights}: ${problem.error}`, range: spec.range }] };
  }
  const layout = batchLayout(prepared);
  const batches = Math.min(Math.max(1, options.batches ?? 1), batchCount(trainSplit.count, spec.batch));
  const order = epochOrder(trainSplit.count, spec.seed, 0, false);
  const sums = lowered.params.map((p) => (p.tensor.dtype === 'float64' ? new Float64Array(p.tensor.size) : new Float32Array(p.tensor.size)));
  const activationSums = new Map<string, ActivationStats>();
  let lossSum = 0;
  for (let b = 0; b < batches; b++) {
    const batch = makeBatch(trainSplit, order, b * spec.batch, spec.batch, layout);
    const activations: ActivationStats[] = [];
    const mode = { dropout: false, batchNormTraining: true, rng: streamRng(spec.seed, 'dropout', b), activations, detectNonFinite: true };
    let loss;
    try {
      loss = lossOf(spec.loss, lowered.forward([batch.input], mode), batch.target, spec.lossArgs, spec.lossWeight);
    } catch (error) {
      if (!(error instanceof NonFiniteError)) throw error;
      const line = prepared.lineOf(error.node.range.start);
      const finding = nanFinding(error.where, `the output of \`${error.node.op}\` (line ${line}) is the first value with a NaN or Inf, in probe batch ${b + 1}`, error.node.range, 0);
      return { loss: NaN, params: [], layers: [], activations, findings: [finding], gradients: new Map() };
    }
    for (const p of lowered.params) p.tensor.grad = null;
    loss.backward();
    lossSum += loss.item();
    lowered.params.forEach((p, i) => {
      const grad = p.tensor.grad?.data;
      if (grad) for (let k = 0; k < grad.length; k++) sums[i][k] += grad[k];
    });
    for (const a of activations) {
      const key = `${a.op}:${a.layer}`;
      const sum = activationSums.get(key) ?? { ...a, deadFraction: 0, saturatedFraction: 0 };
      sum.deadFraction += a.deadFraction / batches;
      sum.saturatedFraction += a.saturatedFraction / batches;
      activationSums.set(key, sum);
    }
  }
  for (const sum of sums) for (let k = 0; k < sum.length; k++) sum[k] /= batches;
  const params = lowered.params.map((p, i) => paramGradStats(p.name, p.layer, sums[i], p.tensor.data, 0));
  const activations = [...activationSums.values()];
  const gradients = new Map(lowered.params.map((p, i) => [p.name, { shape: p.tensor.shape, data: sums[i] }]));
  const layers = layerGradStats(params);
  return { loss: lossSum / batches, params, layers, activations, findings: probeFindings(layers, activations, layerRanges(prepared)), gradients };
}

