// The `nn train`, `nn probe`, `nn gradcheck` and `nn generate` commands, spawned from the built dist/cli.js
// (run `npm run build` first; scripts/test.mjs does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readSafetensors, storedTensor, writeSafetensors } from '../../engine/src/core/safetensors.js';

const cli = resolve('dist/cli.js');
const work = mkdtempSync(join(tmpdir(), 'nn-cli-'));

const XOR = `model Xor(x: [B, 2]) -> [B, 2] {
  hidden = Linear(2, 8)
  out    = Linear(8, 2)
  return out(tanh(hidden(x)))
}

train Xor {
  data      = xor()
  optimizer = Adam(lr = 0.05)
  epochs    = 40
  batch     = 4
  save      = "runs/xor"
}
`;
writeFileSync(join(work, 'xor.nn'), XOR);

function nn(...args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: work, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('nn train --json prints one event per line; each step has step and loss', () => {
  const { code, stdout, stderr } = nn('train', 'xor.nn', '--json');
  assert.equal(code, 0, stderr);
  const events = stdout.trim().split('\n').map((line) => JSON.parse(line));
  const steps = events.filter((e) => e.type === 'step');
  assert.equal(steps.length, 40);
  assert.ok(steps.every((e, i) => e.step === i + 1 && typeof e.loss === 'number'));
  assert.ok(steps[39].loss < steps[0].loss);
  const end = events[events.length - 1];
  assert.equal(end.type, 'end');
  assert.equal(end.reason, 'done');
  assert.ok(existsSync(join(work, 'runs/xor/checkpoint.safetensors')));
  assert.ok(existsSync(join(work, 'runs/xor/run.jsonl')));
});

test('nn train prints a summary with the test accuracy and the checkpoint', () => {
  const { code, stdout } = nn('train', 'xor.nn', '--epochs', '5');
  assert.equal(code, 0);
  assert.match(stdout, /epoch 5\/5: train loss [\d.]+, test loss [\d.]+, test accuracy [\d.]+, train accuracy [\d.]+/);
  assert.match(stdout, /test accuracy: [\d.]+/);
  assert.match(stdout, /checkpoint: .*runs\/xor\/checkpoint\.safetensors/);
});

test('--init loads weights by name and refuses other names or shapes', () => {
  const good = readSafetensors(join(work, 'runs/xor/checkpoint.safetensors'));
  if ('error' in good) assert.fail(good.error);
  assert.equal(nn('train', 'xor.nn', '--epochs', '1', '--init', 'runs/xor/checkpoint.safetensors').code, 0);
  const wrongShape = new Map(good.tensors);
  wrongShape.set('hidden.weight', storedTensor([9, 2], new Float32Array(18)));
  writeSafetensors(join(work, 'shape.safetensors'), { tensors: wrongShape, metadata: {} });
  const shape = nn('train', 'xor.nn', '--init', 'shape.safetensors');
  assert.equal(shape.code, 1);
  assert.match(shape.stderr, /^xor\.nn:7:1: error NN4005: --init shape\.safetensors: `hidden\.weight` has shape \[9, 2\] in the file, the model has \[8, 2\]/m);
  const renamed = new Map([...good.tensors].map(([k, v]) => [k.replace('hidden.', 'fc1.'), v]));
  writeSafetensors(join(work, 'names.safetensors'), { tensors: renamed, metadata: {} });
  const names = nn('train', 'xor.nn', '--init', 'names.safetensors');
  assert.equal(names.code, 1);
  assert.match(names.stderr, /missing `hidden\.weight`, `hidden\.bias`; unexpected `fc1\.bias`, `fc1\.weight`/);
  assert.doesNotMatch(names.stderr, /\n\s+at /, 'no stack trace');
});

test('a bad data file is NN4005 at the data line, without a stack trace', () => {
  writeFileSync(join(work, 'bad.npy'), 'not numpy at all');
  writeFileSync(join(work, 'y.npy'), 'not numpy either');
  writeFileSync(join(work, 'bad.nn'), XOR.replace('xor()', 'npy(x = "bad.npy", y = "y.npy")'));
  const { code, stderr } = nn('train', 'bad.nn');
  assert.equal(code, 1);
  assert.match(stderr, /^bad\.nn:8:\d+: error NN4005: .*bad\.npy.*not a \.npy file/m);
  assert.doesNotMatch(stderr, /\n\s+at /);
});

test('Ctrl-C stops after the current step and saves a checkpoint', async () => {
  writeFileSync(join(work, 'long.nn'), XOR.replace('epochs    = 40', 'epochs    = 100000').replace('runs/xor', 'runs/long'));
  const child = spawn(process.execPath, [cli, 'train', 'long.nn', '--json'], { cwd: work });
  let output = '';
  let interrupted = false;
  child.stdout.on('data', (chunk) => {
    output += chunk;
    if (!interrupted && output.includes('"type":"step"')) {
      interrupted = true;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise((done) => child.on('close', done));
  assert.equal(code, 0);
  const end = JSON.parse(output.trim().split('\n').pop()!);
  assert.equal(end.reason, 'cancelled');
  assert.ok(end.step >= 1);
  assert.ok(existsSync(join(work, 'runs/long/checkpoint.safetensors')));
  const resumed = nn('train', 'long.nn', '--resume', 'runs/long', '--epochs', '2', '--json');
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(JSON.parse(resumed.stdout.split('\n')[0]).resumedFrom, end.step);
});

test('nn probe prints the gradient table, --json its object, --save the mean gradients', () => {
  const table = nn('probe', 'xor.nn');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /hidden\.weight\s+[\d.e+-]+/);
  const json = nn('probe', 'xor.nn', '--json', '--batches', '1', '--save', 'grads.safetensors');
  assert.equal(json.code, 0, json.stderr);
  const result = JSON.parse(json.stdout);
  assert.equal(typeof result.loss, 'number');
  assert.deepEqual(result.params.map((p: { name: string }) => p.name), ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']);
  const grads = readSafetensors(join(work, 'grads.safetensors'));
  if ('error' in grads) assert.fail(grads.error);
  assert.deepEqual(grads.tensors.get('hidden.weight')?.shape, [8, 2]);
});

test('nn gradcheck reports each fn with a grad block', () => {
  const ok = nn('gradcheck', resolve('examples/custom_grad.nn'));
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /ok\s+softsign/);
  assert.match(ok.stdout, /d\/dx: max abs error [\d.e+-]+, max rel error/);
  writeFileSync(join(work, 'wrong.nn'), 'fn sq(x: [N]) -> [N] {\n  return x * x\n} grad(g) {\n  return g * x\n}\n');
  const wrong = nn('gradcheck', 'wrong.nn', '--fn', 'sq');
  assert.equal(wrong.code, 1);
  assert.match(wrong.stdout, /FAIL sq/);
});

// A convolution large enough that the TS engine splits its kernels over threads.
const CONV = `model Conv(x: [B, 1, 28, 28]) -> [B, 10] {
  conv = Conv2d(1, 8, 3)
  fc   = Linear(8 * 13 * 13, 10)
  return fc(flatten(max_pool2d(relu(conv(x)), 2), 1))
}

train Conv {
  data      = fashion_mnist(train = 256, test = 64)
  optimizer = Adam(lr = 0.003)
  epochs    = 1
  batch     = 64
  backend   = "ts"
  save      = "runs/conv"
}
`;
writeFileSync(join(work, 'conv.nn'), CONV);

/** The losses and the start event of `nn train conv.nn --json` with these arguments and Node options. */
function convRun(args: string[], nodeOptions: string[] = [], script = cli) {
  const result = spawnSync(process.execPath, [...nodeOptions, script, 'train', 'conv.nn', '--json', ...args], { cwd: work, encoding: 'utf8', timeout: 120_000 });
  assert.equal(result.status, 0, result.stderr);
  const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
  return { start: events[0], losses: events.filter((e) => e.type === 'step').map((e) => e.loss as number) };
}

test('nn train --threads: the TS engine on 1 and on 2 threads gives the same losses, and the start event says how many', () => {
  const one = convRun(['--threads', '1']);
  const two = convRun(['--threads', '2']);
  assert.equal(one.start.threads, 1);
  assert.equal(two.start.threads, 2);
  assert.equal(one.losses.length, 4);
  assert.deepEqual(two.losses, one.losses);
  const text = spawnSync(process.execPath, [cli, 'train', 'conv.nn', '--threads', '2'], { cwd: work, encoding: 'utf8' });
  assert.match(text.stdout, /backend ts on 2 threads\)/);
});

test('nn train --threads takes 0 (every core) and refuses what is not a non-negative integer', () => {
  assert.ok(convRun(['--threads', '0']).start.threads >= 1);
  for (const bad of ['-1', '1.5', 'two', '']) {
    const { code, stderr } = nn('train', 'conv.nn', `--threads=${bad}`);
    assert.equal(code, 2, `--threads ${bad}`);
    assert.match(stderr, /--threads must be a non-negative integer \(0: every core\), got/);
  }
});

test('nn train --threads 2 still trains where worker threads cannot start: no shared memory, or no worker script', () => {
  const reference = convRun(['--threads', '1']).losses;
  assert.deepEqual(convRun(['--threads', '2'], ['--no-harmony-sharedarraybuffer']).losses, reference);
  // The CLI bundle alone, without dist/kernel-worker.js beside it.
  const alone = mkdtempSync(join(tmpdir(), 'nn-cli-alone-'));
  writeFileSync(join(alone, 'cli.js'), readFileSync(cli));
  symlinkSync(resolve('node_modules'), join(alone, 'node_modules'));
  assert.deepEqual(convRun(['--threads', '2'], [], join(alone, 'cli.js')).losses, reference);
});

test('the smaller CLI problems of issue #15: a closed pipe, an unreadable file, an unknown --fn, the run log, a data set without a test split', () => {
  // `nn train --json | head`: the reader goes away; the command ends quietly.
  const piped = spawnSync('sh', ['-c', `"${process.execPath}" "${cli}" train xor.nn --json | head -1`], { cwd: work, encoding: 'utf8' });
  assert.equal(piped.stdout.trim().split('\n').length, 1);
  assert.doesNotMatch(piped.stderr, /EPIPE|\n\s+at /, piped.stderr);
  // A file that cannot be read is not counted as checked.
  const missing = nn('check', 'missing.nn');
  assert.equal(missing.code, 2);
  assert.match(missing.stdout, /0 file\(s\) checked: 0 error\(s\), 0 warning\(s\); 1 file\(s\) could not be read/);
  // --fn naming no fn with a grad block is a usage error, not a diagnostic of the file.
  writeFileSync(join(work, 'sq.nn'), 'fn sq(x: [*S]) -> [*S] {\n  return x * x\n} grad(g) {\n  return 2 * g * x\n}\n');
  const unknown = nn('gradcheck', 'sq.nn', '--fn', 'nope');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--fn nope: sq\.nn has no fn `nope` with a grad block \(fns with one: sq\)/);
  assert.doesNotMatch(unknown.stderr, /NN\d{4}/);
  // A new run starts a new run log.
  for (let k = 0; k < 2; k++) assert.equal(nn('train', 'xor.nn', '--epochs', '1').code, 0);
  const log = readFileSync(join(work, 'runs/xor/run.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(log.filter((e) => e.type === 'start').length, 1);
  // Without a test split the evaluation is on the training data, and says so.
  writeFileSync(join(work, 'points.csv'), 'a,b,label\n0,1,0\n1,0,1\n1,1,0\n0,0,1\n');
  writeFileSync(join(work, 'csv.nn'), 'model M(x: [B, 2]) -> [B, 2] {\n  return x |> Linear(2, 2)\n}\n\ntrain M {\n  data = csv("points.csv", label = "label")\n  batch = 2\n}\n');
  const noTest = nn('train', 'csv.nn');
  assert.equal(noTest.code, 0, noTest.stderr);
  assert.match(noTest.stdout, /epoch 1\/1: train loss [\d.]+, train-set eval loss [\d.]+, train-set accuracy [\d.]+/);
  assert.match(noTest.stdout, /train-set accuracy: [\d.]+ \(the data set has no test split\)/);
  assert.doesNotMatch(noTest.stdout, /test accuracy|train loss [\d.]+, train loss/);
});

test('nn generate prints the prompt and the sampled characters; bad usage and a non-text model are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nn-generate-cli-'));
  writeFileSync(join(dir, 'corpus.txt'), 'abcabcabcabcabcabcabcabcabcabc');
  writeFileSync(join(dir, 'chars.nn'), `model Chars(x: int[B, 4]) -> [B, 4, 3] {
  emb = Embedding(3, 8)
  head = Linear(8, 3)
  return head(emb(x))
}

train Chars {
  data = text("corpus.txt", block = 4, stride = 2, test = 0)
  epochs = 2
  batch = 4
  save = "runs/chars"
}
`);
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8' });
  const trained = run('train', 'chars.nn');
  assert.equal(trained.status, 0, trained.stderr);
  const sampled = run('generate', 'chars.nn', '--weights', 'runs/chars/checkpoint.safetensors', '--prompt', 'ab', '--tokens', '12', '--seed', '1');
  assert.equal(sampled.status, 0, sampled.stderr);
  assert.match(sampled.stdout, /^ab[abc]{12}\n$/);
  const missing = run('generate', 'chars.nn', '--prompt', 'ab');
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--weights and --prompt are required/);
  const notText = nn('generate', 'xor.nn', '--weights', 'none.safetensors', '--prompt', 'a');
  assert.equal(notText.code, 1);
  assert.match(notText.stderr, /NN4002.*samples from a model trained on `text\(\.\.\.\)` data/);
});
