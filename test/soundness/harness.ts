// Runs one generated case through every implementation and reports each disagreement:
// the checker (no error; each binding's shape as the oracle says), the TS engine and the
// ONNX path (every value's runtime shape as the checker says; two training steps from the
// same weights with the same losses), `auto`'s back-end choice, the PyTorch export (a job
// run later, many cases per python process, see pytorch.ts), and every mutant (an error
// with its code at its line, and nothing else).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { CheckResult, Diagnostic, ValueId } from '../../engine/src/lang/api.js';
import { checkProgram } from '../../engine/src/lang/program.js';
import { readDataHeader } from '../../engine/src/data/index.js';
import { writeImageCache } from './imageCache.js';
import { Dim, type Shape } from '../../engine/src/shape/dim.js';
import { emulatingRoundOff, noGrad, roundingSign } from '../../engine/src/autograd/tape.js';
import { Tensor } from '../../engine/src/tensor/tensor.js';
import { prepare, type Prepared } from '../../engine/src/run/prepare.js';
import { batchLayout } from '../../engine/src/run/loop.js';
import { epochOrder, makeBatch, type Batch } from '../../engine/src/core/batches.js';
import { evaluateGraph } from '../../engine/src/backend-ts/lower.js';
import { lossOf } from '../../engine/src/backend-ts/objective.js';
import { onnxBackend, tsBackend, type StepOutcome } from '../../engine/src/run/backends.js';
import { chooseBackend } from '../../engine/src/run/backendChoice.js';
import { buildForward } from '../../engine/src/backend-onnx/graphs.js';
import { OnnxUnsupported } from '../../engine/src/onnx/unsupported.js';
import { Rng } from '../../engine/src/random.js';
import { exportPytorch } from '../../engine/src/export/pytorch.js';
import { storedTensor, writeSafetensors } from '../../engine/src/core/safetensors.js';
import { evalShape, type D } from './dims.js';
import { lineOfTag, mutate, type Case, type Mutant } from './generate.js';
import { evaluateShapeText } from './shapeText.js';

export interface Failure {
  /** Where the implementations disagree: `check`, `binding`, `shape-ts`, `shape-onnx`, `train`, `backend`, `pytorch`, `mutant`... */
  stage: string;
  message: string;
}

/** What the PyTorch driver runs for a case: the export, its weights, one batch, and the TS engine's answers. */
export interface PytorchJob {
  dir: string;
  loss: Case['loss'];
  classes: number | null;
  inputDtype: 'float32' | 'int64';
  inputShape: number[];
  labelShape: number[];
  /** The TS engine's eval-mode output and loss for the batch (null when the TS engine could not compute it). */
  output: Float32Array;
  outputShape: number[];
  lossValue: number | null;
  /** An argmax reads a tie to within round-off: the values may differ, the shape and the run may not. */
  argmaxTie: boolean;
}

export interface CaseResult {
  failures: Failure[];
  mutants: number;
  backend: 'onnx' | 'ts' | null;
  fallback: string | null;
  pytorch: PytorchJob | null;
  /** The stages the case passed (for coverage counts), and `<stage>-within-<reason>` where arbitration judged a difference round-off's. */
  reached: string[];
}

// onnxruntime's own log lines would repeat what a failure reports.
ort.env.logLevel = 'fatal';

// A private data cache with the fixture MNIST and CIFAR-10 (never the user's: those are not the real sets).
process.env.NN_DATA_CACHE = mkdtempSync(join(tmpdir(), 'nn-soundness-cache-'));
process.env.NN_DATA_MIRROR = 'http://127.0.0.1:9';
writeImageCache(process.env.NN_DATA_CACHE);

/** Relative tolerance of the loss and output comparisons (the issue's 1e-4). */
export const TOLERANCE = 1e-4;
/** How many times round-off of the weights alone a float32 run may be off the float64 one (its every op rounds). */
const ROUND_OFF_GAIN = 100;
/** How many times emulated float32 round-off moves the float64 run a float32 run may be off it (EMULATED_RUNS runs sample round-off's directions, not its worst case). */
const EMULATED_GAIN = 10;

export function close(a: number, b: number, tolerance = TOLERANCE): boolean {
  return Math.abs(a - b) <= tolerance * Math.max(Math.abs(a), Math.abs(b)) + 1e-6;
}

function describe(diagnostics: readonly Diagnostic[], text: string): string {
  const lineOf = (offset: number) => text.slice(0, offset).split('\n').length;
  return diagnostics.map((d) => `line ${lineOf(d.range.start)}: ${d.severity} ${d.code}: ${d.message}`).join('\n');
}

function lineOfOffset(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}

/** The case's folder: the `.nn` file and its data files. */
export function writeCase(c: Case, root = tmpdir()): string {
  const dir = mkdtempSync(join(root, 'nn-sound-'));
  writeFileSync(join(dir, 'net.nn'), c.text);
  for (const [path, content] of Object.entries(c.files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

function check(text: string, dir: string): CheckResult {
  return checkProgram(text, { readDataHeader: readDataHeader(dir) });
}

/** The oracle's bindings against the checker's, each evaluated at its dims' values. */
function checkBindings(c: Case, result: CheckResult, failures: Failure[]): Map<string, ValueId> {
  const values = new Map<string, ValueId>();
  for (const b of [...c.bindings, ...c.symbolic]) {
    const line = lineOfTag(c, b.tag);
    const info = result.bindings.find((i) => i.model === b.model && i.name === b.name && lineOfOffset(c.text, i.range.start) === line);
    if (!info) {
      failures.push({ stage: 'binding', message: `line ${line}: the checker shows no binding \`${b.name}\` in ${b.model}` });
      continue;
    }
    const env = new Map([...b.env, ...c.consts]);
    const expected = evalShape(b.shape, env);
    let shown: number[];
    try {
      shown = evaluateShapeText(info.shape, env);
    } catch (error) {
      failures.push({ stage: 'binding', message: `line ${line}: \`${b.name}\` is shown as ${info.shape}: ${(error as Error).message}` });
      continue;
    }
    if (shown.join() !== expected.join()) {
      failures.push({ stage: 'binding', message: `line ${line}: \`${b.name}\` is shown as ${info.shape}, which is [${shown}] at ${formatEnv(env)}; the oracle says [${expected}]` });
    }
    if (b.model === c.model) values.set(bindingKey(b), info.value);
  }
  return values;
}

/** A binding by its line and name (a tuple binding `a, b = chunk(x, 2)` binds several on one line). */
function bindingKey(b: { tag: string; name: string }): string {
  return `${b.tag}/${b.name}`;
}

function formatEnv(env: ReadonlyMap<string, number>): string {
  return [...env].map(([k, v]) => `${k}=${v}`).join(', ');
}

/** A checker shape with the trained model's dim names bound, as numbers (null where it stays symbolic). */
function concreteAt(shape: Shape, env: ReadonlyMap<string, Dim>): (number | null)[] {
  return shape.map((d) => d.substitute(env).constant());
}

/** Runtime shapes against the checker's (every value) and the oracle's (every binding). */
function compareShapes(stage: string, c: Case, prepared: Prepared, runtime: ReadonlyMap<ValueId, readonly number[]>, bindingValues: ReadonlyMap<string, ValueId>, failures: Failure[]): void {
  const graph = prepared.model.graph;
  const dims = new Map([...c.env].map(([k, v]) => [k, Dim.of(v)]));
  for (const [id, actual] of runtime) {
    const value = graph.values[id];
    const expected = concreteAt(value.shape, dims);
    if (expected.join() !== actual.join()) {
      const line = lineOfOffset(c.text, value.range.start);
      failures.push({ stage, message: `line ${line}: value #${id}${value.name ? ` (${value.name})` : ''} has runtime shape [${actual}], the checker says [${value.shape.map(String)}] = [${expected}]` });
    }
  }
  const env = new Map([...c.env, ...c.consts]);
  for (const b of c.bindings) {
    const id = bindingValues.get(bindingKey(b));
    if (id === undefined) continue;
    const actual = runtime.get(id);
    const expected = evalShape(b.shape as D[], env);
    if (!actual) failures.push({ stage, message: `line ${lineOfTag(c, b.tag)}: \`${b.name}\` (value #${id}) has no runtime value` });
    else if (actual.join() !== expected.join()) failures.push({ stage, message: `line ${lineOfTag(c, b.tag)}: \`${b.name}\` has runtime shape [${actual}], the oracle says [${expected}]` });
  }
}

const EVAL_MODE = { dropout: false, batchNormTraining: false, rng: new Rng(0), detectNonFinite: false };

/** Every value of the model graph on the TS engine, in eval mode. */
function tsValues(prepared: Prepared, input: Tensor): Map<ValueId, Tensor> {
  const graph = prepared.model.graph;
  const env = new Map<ValueId, Tensor>();
  graph.params.forEach(({ value }, i) => env.set(value, prepared.lowered.params[i].tensor));
  graph.buffers.forEach(({ value }, i) => env.set(value, prepared.lowered.buffers[i].tensor));
  noGrad(() => evaluateGraph(graph, [input], env, { fns: prepared.check.fnIrs, mode: EVAL_MODE, lineOf: prepared.lineOf }));
  return env;
}

function ortTensor(t: Tensor, dtype: 'float32' | 'int64'): ort.Tensor {
  if (dtype === 'int64') return new ort.Tensor('int64', BigInt64Array.from(t.data, (v) => BigInt(v)), [...t.shape]);
  return new ort.Tensor('float32', Float32Array.from(t.data), [...t.shape]);
}

/** Every value of the model graph through the ONNX forward graph (probed outputs), with the output. */
async function onnxValues(prepared: Prepared, input: Tensor, ids: readonly ValueId[]): Promise<{ shapes: Map<ValueId, number[]>; output: Float32Array }> {
  const forward = buildForward(prepared.model, prepared.check.fnIrs, undefined, ids);
  const session = await ort.InferenceSession.create(forward.bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const feeds: Record<string, ort.Tensor> = { [forward.data[0].name]: ortTensor(input, forward.data[0].dtype) };
    const weights = new Map([...prepared.lowered.params, ...prepared.lowered.buffers].map((p) => [p.name, p.tensor]));
    for (const w of forward.weights) feeds[w.name] = new ort.Tensor('float32', Float32Array.from(weights.get(w.name)!.data), w.shape);
    const out = await session.run(feeds);
    const shapes = new Map<ValueId, number[]>();
    for (const [id, name] of forward.probes) shapes.set(id, out[name].dims.map(Number));
    return { shapes, output: Float32Array.from(out[forward.output].data as Float32Array) };
  } finally {
    await session.release();
  }
}

function maxRelative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 1e-6;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return a.length === b.length ? diff / scale : Infinity;
}

/** The first two batches of the run's first epoch, as the training loop makes them. */
function firstBatches(c: Case, prepared: Prepared): Batch[] {
  const layout = batchLayout(prepared);
  const order = epochOrder(prepared.trainSplit.count, prepared.train.seed, 0, true);
  return [0, 1].map((k) => makeBatch(prepared.trainSplit, order, k * c.batch, c.batch, layout));
}

/** A mutant: an error with each expected code at its line, and no other error or warning. */
export function checkMutant(c: Case, m: Mutant, dir: string, baseline: readonly Diagnostic[]): Failure | null {
  const text = mutate(c, m);
  const result = check(text, dir);
  const line = lineOfTag(c, m.at);
  const known = new Set(baseline.map((d) => `${d.code}:${lineOfOffset(c.text, d.range.start)}`));
  const fresh = result.diagnostics.filter((d) => d.severity !== 'info' && !known.has(`${d.code}:${lineOfOffset(text, d.range.start)}`));
  const problem = (why: string): Failure => ({
    stage: `mutant:${m.kind}`,
    message: `${why}\nmutated line ${lineOfTag(c, m.tag)}: ${m.text.trim()}\nexpected ${m.codes.join(', ')} at line ${line}; got:\n${describe(fresh, text) || '(nothing)'}`,
  });
  const atLine = fresh.filter((d) => d.severity === 'error' && lineOfOffset(text, d.range.start) === line);
  const elsewhere = fresh.filter((d) => lineOfOffset(text, d.range.start) !== line);
  const missing = m.codes.filter((code) => !atLine.some((d) => d.code === code));
  if (missing.length > 0) return problem(`no ${missing.join(', ')} at line ${line}`);
  if (elsewhere.length > 0) return problem('diagnostics on other lines');
  if (m.related) {
    const relatedLine = lineOfTag(c, m.related);
    const points = atLine.some((d) => d.related.some((r) => lineOfOffset(text, r.range.start) === relatedLine));
    if (!points) return problem(`the error does not point at the declaration on line ${relatedLine}`);
  }
  if (!atLine.every((d) => /^NN\d{4}$/.test(d.code))) return problem('an error without a code');
  return null;
}

export interface RunOptions {
  /** Prepare a PyTorch job (its files stay in the case folder until `cleanup`). */
  pytorch: boolean;
  /** Also run the mutants (cheap: the checker only). */
  mutants?: boolean;
}

/** Runs every comparison of one case; never throws (an exception is a failure of its stage). */
export async function runCase(c: Case, options: RunOptions): Promise<CaseResult & { dir: string }> {
  const dir = writeCase(c);
  const result: CaseResult & { dir: string } = { failures: [], mutants: 0, backend: null, fallback: null, pytorch: null, reached: [], dir };
  const fail = (stage: string, message: string) => result.failures.push({ stage, message });
  /** Runs one stage; a stage that throws fails, and the stages that need its result are skipped. */
  const stage = async <T>(name: string, run: () => T | Promise<T>): Promise<T | undefined> => {
    const before = result.failures.length;
    try {
      const value = await run();
      if (result.failures.length === before) result.reached.push(name);
      return value;
    } catch (error) {
      const message = error instanceof OnnxUnsupported ? `OnnxUnsupported: ${error.message}` : error instanceof Error ? (error.stack ?? error.message) : String(error);
      fail(name, `exception: ${message}`);
      return undefined;
    }
  };

  const checked = await stage('check', () => {
    const checked = check(c.text, dir);
    const errors = checked.diagnostics.filter((d) => d.severity === 'error');
    const warnings = checked.diagnostics.filter((d) => d.severity === 'warning');
    if (errors.length > 0) fail('check', describe(errors, c.text));
    if (warnings.length > 0) fail('check-warning', describe(warnings, c.text));
    return errors.length > 0 ? undefined : checked;
  });
  if (!checked) return result;
  if (options.mutants !== false) {
    await stage('mutants', () => {
      for (const m of c.mutants) {
        const failure = checkMutant(c, m, dir, checked.diagnostics);
        result.mutants++;
        if (failure) result.failures.push(failure);
      }
    });
  }
  const bindingValues = (await stage('binding', () => checkBindings(c, checked, result.failures))) ?? new Map<string, ValueId>();

  const prepared = await stage('prepare', () => {
    const prepared = prepare(c.text, { baseDir: dir, check: checked });
    if (!Array.isArray(prepared)) return prepared;
    fail('prepare', prepared.map((e) => `${e.code}: ${e.message}`).join('\n'));
    return undefined;
  });
  if (!prepared) return result;
  const batches = await stage('batches', () => firstBatches(c, prepared));
  if (!batches) return result;
  const [first, second] = batches;
  // The float32 initial weights, for the float64 reference that arbitrates a numerical disagreement.
  const initial = new Map([...prepared.lowered.params, ...prepared.lowered.buffers].map((p) => [p.name, Float64Array.from(p.tensor.data)]));
  let reference: Promise<Reference | null> | undefined;
  const float64 = () => (reference ??= float64Reference(c, dir, checked, initial));

  const tsEnv = await stage('shape-ts', () => {
    const env = tsValues(prepared, first.input);
    const shapes = new Map([...env].filter(([id]) => !prepared.model.graph.params.some((p) => p.value === id)).map(([id, t]) => [id, t.shape]));
    compareShapes('shape-ts', c, prepared, shapes, bindingValues, result.failures);
    return { env, shapes };
  });
  const tsOutput = tsEnv?.env.get(prepared.model.graph.output);
  const tsLoss = tsOutput && (await stage('loss-ts', () => noGrad(() => lossOf(c.loss, tsOutput, first.target)).item()));

  const onnxAvailable = await stage('backend', () => {
    const choice = chooseBackend(prepared.model, prepared.check.fnIrs, { ...prepared.train, backend: 'auto' });
    if ('error' in choice) {
      fail('backend', choice.error);
      return false;
    }
    if (choice.backend === 'onnx') return true;
    result.fallback = choice.reason;
    if (!c.symbolicDims) fail('backend', `auto fell back to the TS engine for a model without symbolic dims: ${choice.reason}`);
    else if (!choice.reason || !/cannot lower/.test(choice.reason)) fail('backend', `auto fell back to the TS engine without saying why: ${choice.reason}`);
    return false;
  });

  if (onnxAvailable && tsEnv && tsOutput) {
    await stage('shape-onnx', async () => {
      const onnx = await onnxValues(prepared, first.input, [...tsEnv.shapes.keys()]);
      compareShapes('shape-onnx', c, prepared, onnx.shapes, bindingValues, result.failures);
      const error = maxRelative(onnx.output, tsOutput.data);
      if (!(error <= TOLERANCE)) {
        const verdict = arbitrate([...tsOutput.data], [...onnx.output], (await float64())?.output ?? null);
        if ('disagreement' in verdict) fail('forward-onnx', `the eval-mode output differs from the TS engine's by ${error.toExponential(2)} (relative); ${verdict.disagreement}`);
        else result.reached.push(`forward-onnx-within-${verdict.agreement}`);
      }
    });
  }
  if (options.pytorch && tsOutput) {
    const tied = argmaxTied(prepared, tsEnv!.env);
    result.pytorch = (await stage('pytorch-export', () => pytorchJob(c, prepared, dir, first, tsOutput, tsLoss ?? null, tied))) ?? null;
  }

  // Two training steps from the same initial weights: the ONNX trainer takes its copy first.
  const onnxTrainer = onnxAvailable ? await stage('train-onnx', () => onnxBackend(prepared, 1)) : undefined;
  result.backend = onnxTrainer ? 'onnx' : 'ts';
  const lossesOf = (steps: StepOutcome[]) => steps.map((s) => ('loss' in s ? s.loss : NaN));
  const tsLosses = await stage('train-ts', async () => lossesOf(await tsBackend(prepared, 1).run([first, second], 1)));
  const onnxLosses = onnxTrainer && (await stage('train-onnx', async () => {
    try {
      return lossesOf(await onnxTrainer.run([first, second], 1));
    } finally {
      await onnxTrainer.release();
    }
  }));
  const reference64 = async () => (c.dropout ? null : await float64());
  if (tsLosses && (tsLosses.length !== 2 || tsLosses.some((l) => !Number.isFinite(l))) && !overflowsAsFloat64Does(tsLosses, (await reference64())?.losses ?? null)) {
    fail('train-ts', `the TS engine did not take two steps: [${tsLosses}]`);
  }
  // Both back ends stop at the step a NaN/Inf appears in; there they agree when both stopped.
  const same = (a: number, b: number) => close(a, b) || (!Number.isFinite(a) && !Number.isFinite(b));
  if (tsLosses && onnxLosses && !(onnxLosses.length === tsLosses.length && tsLosses.every((l, i) => same(l, onnxLosses[i])))) {
    const reference = await reference64();
    const verdict = onnxLosses.length === tsLosses.length ? arbitrate(tsLosses, onnxLosses, reference?.losses ?? null) : { disagreement: `ONNX took ${onnxLosses.length} step(s), the TS engine ${tsLosses.length}` };
    if ('disagreement' in verdict) fail('train', `losses of two steps differ: TS [${tsLosses.map((l) => l.toPrecision(7))}] vs ONNX [${onnxLosses.map((l) => l.toPrecision(7))}]; ${verdict.disagreement}`);
    else result.reached.push(`train-within-${verdict.agreement}`);
  }
  return result;
}

/**
 * The TS engine in float64 from the same (float32) initial weights: the eval output on the
 * first batch and two training steps; how far the values move when every initial weight
 * moves by float32's rounding (one part in 2^24), and when float32's round-off of every op,
 * gradient and update is emulated (EMULATED_RUNS runs): the case's own sensitivity to round-off.
 */
interface Reference {
  output: Reckoned;
  losses: Reckoned;
}

/** Values of the float64 run, and how far round-off moves them (relative to their scale). */
interface Reckoned {
  values: number[];
  /** The shift when the weights are rounded to float32. */
  sensitivity: number;
  /** Each value's largest shift in the runs with float32's round-off emulated. */
  emulated: number[];
}

/** Runs of the float64 reference with float32's round-off emulated, each with its own signs (seeds 1, 2...). */
const EMULATED_RUNS = 2;

async function float64Reference(c: Case, dir: string, checked: CheckResult, initial: ReadonlyMap<string, Float64Array>): Promise<Reference | null> {
  /** One float64 run; with a seed, float32's round-off emulated (its signs from the seed). */
  const run = async (weights: ReadonlyMap<string, Float64Array>, seed: number | null) => {
    const prepared = prepare(c.text, { baseDir: dir, check: checked, dtype: 'float64' });
    if (Array.isArray(prepared)) return null;
    for (const p of [...prepared.lowered.params, ...prepared.lowered.buffers]) p.tensor.data.set(weights.get(p.name)!);
    const emulating = <T>(fn: () => Promise<T>) => (seed === null ? fn() : emulatingRoundOff(seed, fn));
    const batches = firstBatches(c, prepared);
    const output = await emulating(async () => [...tsValues(prepared, batches[0].input).get(prepared.model.graph.output)!.data]);
    const trainer = tsBackend(prepared, 1);
    const losses: number[] = [];
    try {
      for (const [k, batch] of batches.entries()) {
        const before = prepared.lowered.params.map((p) => p.tensor.values.slice());
        const [step] = await emulating(() => trainer.run([batch], k + 1));
        losses.push('loss' in step ? step.loss : NaN);
        if (!('loss' in step)) break;
        if (seed !== null) prepared.lowered.params.forEach((p, i) => roundUpdate(p.tensor.values, before[i], seed));
      }
    } catch {
      losses.length = 0; // the TS engine cannot train it: that is the train-ts stage's failure
    }
    return { output, losses };
  };
  const reference = await run(initial, null);
  if (reference === null) return null;
  const nudged = await run(roundedOff(initial), null);
  const emulated: Awaited<ReturnType<typeof run>>[] = [];
  for (let seed = 1; seed <= EMULATED_RUNS; seed++) emulated.push(await run(initial, seed));
  /** Each value's shift in a run that `moved` it (relative to their scale; a run that could not be compared shifts none). */
  const shifts = (values: number[], moved: readonly number[] | undefined) => {
    const scale = scaleOf(values);
    const each = values.map((v, i) => Math.abs(v - (moved?.[i] ?? NaN)) / scale);
    return each.every(Number.isFinite) ? each : values.map(() => 0);
  };
  const reckoned = (key: 'output' | 'losses'): Reckoned => {
    const values = reference[key];
    const emulatedShifts = emulated.map((e) => shifts(values, e?.[key]));
    return { values, sensitivity: Math.max(0, ...shifts(values, nudged?.[key])), emulated: values.map((_, i) => Math.max(0, ...emulatedShifts.map((e) => e[i]))) };
  };
  return { output: reckoned('output'), losses: reckoned('losses') };
}

/**
 * A float32 update p − u is rounded to float32's precision of its terms, p and u: an
 * absolute error up to 2^-24 of the larger, which is large against a result that cancels
 * (RMSprop's first step at lr 0.1 takes a weight of 1 to 1 − |g|/(|g| + 10·eps) ≈ 4e-7 for g ≈ 0.2).
 */
function roundUpdate(after: Float64Array | Float32Array, before: Float64Array | Float32Array, seed: number): void {
  for (let i = 0; i < after.length; i++) after[i] += roundingSign(after[i], seed) * 2 ** -24 * Math.max(Math.abs(before[i]), Math.abs(after[i] - before[i]));
}

/** The size differences between runs are measured against (at least 1e-6). */
function scaleOf(values: readonly number[]): number {
  return Math.max(1e-6, ...values.map(Math.abs));
}

/** Every weight moved by a relative 2^-24, up or down by a fixed pattern (float32's round-off of it). */
function roundedOff(weights: ReadonlyMap<string, Float64Array>): Map<string, Float64Array> {
  let state = 12345;
  const sign = () => ((state = (state * 1103515245 + 12345) >>> 0) & 0x10000 ? 1 : -1);
  return new Map([...weights].map(([name, w]) => [name, w.map((v) => v * (1 + sign() * 2 ** -24))]));
}

/** How arbitration judged two back ends' values that differ: a disagreement, or why the difference is round-off's. */
type Verdict = { disagreement: string } | { agreement: 'round-off' | 'emulated-round-off' };

/**
 * Float32 round-off differs with the order of operations, and an ill-conditioned model
 * (batch norm over two samples, a layer norm of a row whose values are all equal, a step
 * that makes the loss diverge, an adaptive optimizer's first step on a gradient that is 0 in
 * exact arithmetic) magnifies it, so that one back end may be luckier than the other.
 * Against the float64 run, each back end is off by its largest difference, leaving out the
 * values it is off by no more than EMULATED_GAIN times emulated float32 round-off moves
 * them (value by value: a loss that round-off decides excuses no other); it disagrees when
 * that is more than ten times the tolerance and ten times the other one's, and more than
 * round-off of the weights alone moves the float64 run, times ROUND_OFF_GAIN (the many
 * roundings of a float32 run against the one of its weights). The agreement says whether
 * it needed the emulated round-off.
 */
function arbitrate(ts: readonly number[], onnx: readonly number[], reference: Reckoned | null): Verdict {
  if (reference === null || reference.values.length !== ts.length) return { disagreement: 'no float64 reference to compare with' };
  const { values } = reference;
  const scale = scaleOf(values.filter(fitsFloat32));
  /** How far each back end is off, and whether one disagrees, with emulated round-off excusing `gain` times its shifts. */
  const judge = (gain: number) => {
    // A value float64 puts beyond float32's range is Inf or NaN in float32 on every back end.
    const differences = (xs: readonly number[]) => values.map((v, i) => (fitsFloat32(v) ? Math.abs(xs[i] - v) : Number.isFinite(xs[i]) ? Infinity : 0) / scale);
    const off = (xs: readonly number[]) => Math.max(0, ...differences(xs).filter((d, i) => !(d <= gain * reference.emulated[i])));
    const [a, b] = [off(ts), off(onnx)];
    const worse = (x: number, y: number) => x > 10 * TOLERANCE && x > 10 * y && x > ROUND_OFF_GAIN * reference.sensitivity;
    return { a, b, disagrees: worse(a, b) || worse(b, a) || !Number.isFinite(a + b) };
  };
  const judged = judge(EMULATED_GAIN);
  if (judged.disagrees) {
    const moved = `weights rounded to float32 move it by ${reference.sensitivity.toExponential(2)}, emulated float32 round-off by ${Math.max(0, ...reference.emulated).toExponential(2)}`;
    return { disagreement: `against float64 (${values.slice(0, 4).map((v) => v.toPrecision(7))}; ${moved}), the TS engine is off by ${judged.a.toExponential(2)} and ONNX by ${judged.b.toExponential(2)}` };
  }
  return { agreement: judge(0).disagrees ? 'emulated-round-off' : 'round-off' };
}

/** Whether a float64 value is finite in float32 too. */
function fitsFloat32(v: number): boolean {
  return Number.isFinite(Math.fround(v));
}

/** Whether every loss a float32 run could not give (Inf or NaN) is one that float64 puts beyond float32's range. */
function overflowsAsFloat64Does(losses: readonly number[], reference: Reckoned | null): boolean {
  if (reference === null || reference.values.length !== losses.length) return false;
  return losses.every((l, i) => Number.isFinite(l) || !fitsFloat32(reference.values[i]));
}

/** The PyTorch job of a case: the exported module, the initial weights, the first batch, the TS answers. */
/**
 * Whether an argmax of the model reads a row whose two largest values are equal to within
 * round-off (of the tensor's scale): which index wins is then round-off's choice, in PyTorch as
 * here (a group norm of one-element groups is 0 in exact arithmetic, ±1e-5 in PyTorch's).
 */
function argmaxTied(prepared: Prepared, env: ReadonlyMap<ValueId, Tensor>): boolean {
  return prepared.model.graph.nodes.some((node) => {
    const x = 'op' in node && node.op === 'argmax' ? env.get(node.inputs[0]) : undefined;
    if (!x) return false;
    const axis = (node.attrs as { axis: number | null }).axis;
    const along = axis === null ? -1 : axis < 0 ? axis + x.shape.length : axis;
    const n = along < 0 ? x.data.length : x.shape[along];
    const inner = along < 0 ? 1 : x.shape.slice(along + 1).reduce((p, d) => p * d, 1);
    let scale = 1e-6;
    for (const v of x.data) scale = Math.max(scale, Math.abs(v));
    for (let o = 0; o < x.data.length / (n * inner); o++) {
      for (let i = 0; i < inner; i++) {
        let [best, next] = [-Infinity, -Infinity];
        for (let k = 0; k < n; k++) {
          const v = x.data[(o * n + k) * inner + i];
          if (v > best) [best, next] = [v, best];
          else if (v > next) next = v;
        }
        if (best - next <= 1e-4 * scale) return true;
      }
    }
    return false;
  });
}

function pytorchJob(c: Case, prepared: Prepared, dir: string, batch: Batch, output: Tensor, lossValue: number | null, argmaxTie: boolean): PytorchJob {
  writeFileSync(join(dir, 'model.py'), exportPytorch(prepared.model, prepared.check.fnIrs, 'net.nn'));
  const tensors = new Map([...prepared.lowered.params, ...prepared.lowered.buffers].map((p) => [p.name, storedTensor(p.tensor.shape, Float32Array.from(p.tensor.data))]));
  writeSafetensors(join(dir, 'weights.safetensors'), { tensors, metadata: {} });
  const input = batch.input.dtype === 'int64' ? BigInt64Array.from(batch.input.data, (v) => BigInt(v)) : Float32Array.from(batch.input.data);
  writeFileSync(join(dir, 'input.bin'), new Uint8Array(input.buffer));
  const labels = batch.target.dtype === 'int64' ? BigInt64Array.from(batch.target.data, (v) => BigInt(v)) : Float32Array.from(batch.target.data);
  writeFileSync(join(dir, 'labels.bin'), new Uint8Array(labels.buffer));
  return {
    dir,
    loss: c.loss,
    classes: c.data.classes,
    inputDtype: batch.input.dtype === 'int64' ? 'int64' : 'float32',
    inputShape: [...batch.input.shape],
    labelShape: [...batch.target.shape],
    output: Float32Array.from(output.data),
    outputShape: [...output.shape],
    lossValue,
    argmaxTie,
  };
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
