// The catalogue as its reporters use it: a code with cases is reported by one of its cases,
// each case is reported somewhere in the engine, and NN4002's cases read as their templates say.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DIAGNOSTICS, diagnosticEntry } from '../../engine/src/lang/diagnostics.js';
import { checkProgram } from '../../engine/src/lang/program.js';
import { sizeLimitProblem } from '../../engine/src/run/limits.js';

const src = join(__dirname, '..', '..', 'engine', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

const engineText = sourceFiles(src).map((file) => readFileSync(file, 'utf8')).join('\n');
const codesWithCases = Object.keys(DIAGNOSTICS).filter((code) => diagnosticEntry(code)?.variants !== undefined);

test('a code with cases is reported by one of them, never with a sentence of its own as the bare code', () => {
  const bare = [...engineText.matchAll(/\b(?:makeDiagnostic|formatMessage|report|bad)\(\s*(?:f,\s*)?'(NN\d{4})'/g)].map((m) => m[1]).filter((code) => codesWithCases.includes(code));
  assert.deepEqual(bare, []);
});

test('every case of the catalogue is reported somewhere in the engine', () => {
  const cases = codesWithCases.flatMap((code) => Object.keys(diagnosticEntry(code)!.variants!).map((name) => `${code}/${name}`));
  assert.deepEqual(cases.filter((id) => !engineText.includes(`'${id}'`)), []);
});

const model = 'model M(x: [B, 2]) -> [B, 2] {\n  fc1 = Linear(2, 8)\n  fc2 = Linear(8, 2)\n  return x |> fc1 |> relu |> fc2\n}\n';
const trainErrors = (entries: string, data = 'moons(points = 10)'): string[] =>
  checkProgram(`${model}\ntrain M {\n  data = ${data}\n  ${entries}\n}\n`).diagnostics.filter((d) => d.code === 'NN4002').map((d) => d.message);

test('NN4002 cases fill their templates with the names and numbers of the block', () => {
  assert.deepEqual(trainErrors('epoch = 5'), [
    'bad `train` entry `epoch`: unknown key; the keys are data, loss, optimizer, epochs, batch, seed, validate, backend, schedule, warmup, clip_grad_norm, clip_grad_value, early_stopping, accumulate, no_decay, freeze, checkpoint, save',
  ]);
  assert.deepEqual(trainErrors('optimizer = AdamW(betas = (0.9, 0.98, 0.99))'), ['bad `train` entry `optimizer`: `betas` must be a tuple of 2 numbers, as `betas = (0.9, 0.999)`']);
  assert.deepEqual(trainErrors('freeze = [fc9]'), ['bad `train` entry `freeze`: `fc9` is not a layer with parameters of the model; its layers are fc1, fc2']);
  assert.deepEqual(trainErrors('schedule = cosine(eta_min = 1)'), ["bad `train` entry `schedule`: `eta_min` (1) is above the optimizer's `lr` (0.001): the rate would rise"]);
  assert.deepEqual(trainErrors('loss = cross_entropy(weight = [1, 2, 3])'), ['bad `train` entry `loss`: `weight` has 3 class weights, but `M` scores 2 classes']);
  assert.deepEqual(trainErrors('', 'moons(points = 2.5)'), ['bad `train` entry `data`: `points` must be an integer ≥ 1']);
});

test('NN4002 before a run: a model with hyper-parameters, a model over the size limits', () => {
  const block = 'model H[n](x: [B, n]) -> [B, n] {\n  return x\n}\n\ntrain H {\n  data = moons()\n}\n';
  assert.deepEqual(checkProgram(block).diagnostics.filter((d) => d.code === 'NN4002').map((d) => d.message), ['bad `train` entry `model`: `H` has hyper-parameters; train a model that uses it as a block']);
  const ir = checkProgram(`${model}\ntrain M {\n  data = moons()\n}\n`).irs.get('M')!;
  assert.deepEqual(sizeLimitProblem(ir, 32, { maxParameters: 10, maxActivationBytes: 2 ** 31 }), { key: 'model', message: 'bad `train` entry `model`: `M` has 42 parameters (168 bytes as float32), over the limit of 10' });
});
