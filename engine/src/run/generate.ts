// `nn generate`: samples characters from a model trained on `text(...)` data, one at a time.
// The prompt's last (at most) T ids fill the first positions of the model's input [1, T]; a
// causal model's logits at the last filled position depend on those alone, so the rest of the
// input is padding. The next id is drawn from softmax(logits / temperature) by a seeded stream.

import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../random.js';
import { readText } from '../data/text.js';
import { isDataError } from '../data/dataset.js';
import { formatMessage, type DiagnosticArg, type VariantsOf } from '../lang/diagnostics.js';
import { loadWeights } from './checkpoint.js';
import { prepare, type PrepareOptions, type RunError } from './prepare.js';

export interface GenerateOptions extends PrepareOptions {
  /** The .safetensors weights to sample from. */
  weights: string;
  prompt: string;
  /** Characters to generate. */
  tokens: number;
  /** Divides the logits: below 1 sharper, above 1 more random (1 by default). */
  temperature?: number;
  seed?: number;
}

/** Draws an index from softmax(logits / temperature) over `width` values from `start`. */
export function sampleIndex(logits: ArrayLike<number>, start: number, width: number, temperature: number, rng: Rng): number {
  let max = -Infinity;
  for (let c = 0; c < width; c++) max = Math.max(max, logits[start + c]);
  const weights = Array.from({ length: width }, (_, c) => Math.exp((logits[start + c] - max) / temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  let draw = rng.next() * total;
  for (let c = 0; c < width; c++) {
    draw -= weights[c];
    if (draw < 0) return c;
  }
  return width - 1;
}

export function generate(text: string, options: GenerateOptions): { errors: RunError[] } | { text: string } {
  const prepared = prepare(text, options);
  if (Array.isArray(prepared)) return { errors: prepared };
  const { lowered, train, model } = prepared;
  const fail = (id: VariantsOf<'NN4002'>, args: readonly DiagnosticArg[]): { errors: RunError[] } => ({ errors: [{ code: 'NN4002', message: formatMessage(id, args), range: train.range }] });
  if (train.data.kind !== 'text') return fail('NN4002/notTextData', ['data']);
  const input = model.graph.values[model.graph.inputs[0]];
  const output = model.graph.values[model.graph.output];
  const context = input.shape[1]?.constant();
  if (input.shape.length !== 2 || input.dtype !== 'int64' || context === null || context === undefined || output.shape.length !== 3) {
    return fail('NN4002/notCharacterModel', ['model']);
  }
  const read = readText(train.data.path, options.baseDir, train.data.block);
  if (isDataError(read)) return { errors: [{ code: 'NN4005', message: formatMessage('NN4005', [read.path, read.problem]), range: train.dataRange }] };
  const { vocabulary } = read;
  const unknown = [...new Set(options.prompt)].filter((c) => !vocabulary.ids.has(c));
  if (unknown.length > 0) return fail('NN4002/promptCharacters', [unknown.map((c) => JSON.stringify(c)).join(', ')]);
  if (options.prompt.length === 0) return fail('NN4002/emptyPrompt', []);
  const problem = loadWeights(options.weights, lowered.params, lowered.buffers);
  if (problem) return { errors: [{ code: 'NN4005', message: `--weights ${options.weights}: ${problem.error}`, range: train.range }] };
  for (const p of lowered.params) p.tensor.requiresGrad = false;

  const ids = [...options.prompt].map((c) => vocabulary.ids.get(c)!);
  const classes = vocabulary.chars.length;
  const rng = new Rng(options.seed ?? 0);
  const mode = { dropout: false, batchNormTraining: false, rng, detectNonFinite: false };
  let generated = '';
  for (let n = 0; n < options.tokens; n++) {
    const window = ids.slice(-context);
    const batch = new Tensor(Int32Array.from({ length: context }, (_, t) => window[t] ?? 0), [1, context], 'int64');
    const logits = lowered.forward([batch], mode).data;
    const next = sampleIndex(logits, (window.length - 1) * classes, classes, options.temperature ?? 1, rng);
    ids.push(next);
    generated += vocabulary.chars[next];
  }
  return { text: generated };
}
