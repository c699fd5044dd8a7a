// Training faults, through the real `nn train`: NaN/Inf stops with NN5004 and keeps the last
// good checkpoint; SIGKILL at random moments never leaves a torn checkpoint; a corrupt
// checkpoint is refused with a clear message; `--resume` continues bit-for-bit.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildSync } from 'esbuild';
import fc from 'fast-check';
import { readSafetensors, type SafetensorsFile } from '../../engine/src/core/safetensors.js';
import { assertCleanFailure, type CliResult, cliPath, nn, repoRoot, tempWorkspace } from './harness.js';

const CHECKPOINT = 'checkpoint.safetensors';

function spiralModel(options: { optimizer: string; epochs: number; layers?: string; batch?: number; points?: number }): string {
  return [
    'model Mlp(x: [B, 2]) -> [B, 3] {',
    `  return x |> ${options.layers ?? 'Linear(2, 32) |> relu |> Linear(32, 3)'}`,
    '}',
    '',
    'train Mlp {',
    `  data      = spirals(classes = 3, points = ${options.points ?? 40})`,
    `  optimizer = ${options.optimizer}`,
    `  epochs    = ${options.epochs}`,
    `  batch     = ${options.batch ?? 20}`,
    '  seed      = 7',
    '  save      = "run"',
    '}',
    '',
  ].join('\n');
}

/** A folder with `model.nn`; its checkpoints go to `run/`. */
function project(text: string): string {
  const dir = tempWorkspace('train-faults');
  writeFileSync(join(dir, 'model.nn'), text);
  return dir;
}

function readCheckpoint(path: string): SafetensorsFile {
  const file = readSafetensors(path);
  if ('error' in file) throw new Error(`${path}: ${file.error}`);
  return file;
}

function assertFinite(file: SafetensorsFile, what: string): void {
  for (const [name, tensor] of file.tensors) {
    for (const value of tensor.data) assert.ok(Number.isFinite(Number(value)), `${what}: ${name} holds ${value}`);
  }
}

interface JsonEvent {
  type: string;
  step?: number;
  resumedFrom?: number;
  loss?: number;
  reason?: string;
  finding?: { code: string; range: { start: number } };
}

function events(output: string): JsonEvent[] {
  return output.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as JsonEvent);
}

/**
 * Four epochs in one go, and two epochs then `--resume` for the rest, in two fresh projects;
 * `args` go to every run, `resumeArgs` to the resumed one.
 */
function wholeAndSplit(text: string, args: string[], resumeArgs: string[]): { whole: string; split: string; full: CliResult; first: CliResult; resumed: CliResult } {
  const whole = project(text);
  const split = project(text);
  const full = nn(['train', 'model.nn', ...args], whole);
  assert.equal(full.code, 0, full.output);
  const first = nn(['train', 'model.nn', '--epochs', '2', ...args], split);
  assert.equal(first.code, 0, first.output);
  const resumed = nn(['train', 'model.nn', '--resume', 'run', ...resumeArgs], split);
  assert.equal(resumed.code, 0, resumed.output);
  return { whole, split, full, first, resumed };
}

describe('--resume continues a run bit-for-bit', () => {
  it('two epochs, then two more from the checkpoint, equal four in one go (TS engine)', () => {
    const ts = ['--backend', 'ts', '--json'];
    const { whole, split, full, first, resumed } = wholeAndSplit(spiralModel({ optimizer: 'Adam(lr = 0.01)', epochs: 4 }), ts, ts);
    const firstSteps = events(first.output).filter((e) => e.type === 'step').length;
    assert.equal(events(resumed.output).find((e) => e.type === 'start')?.resumedFrom, firstSteps);

    const fullSteps = events(full.output).filter((e) => e.type === 'step');
    const splitSteps = [...events(first.output), ...events(resumed.output)].filter((e) => e.type === 'step');
    assert.equal(fullSteps.length, 2 * firstSteps);
    assert.deepEqual(
      splitSteps.map((e) => [e.step, e.loss]),
      fullSteps.map((e) => [e.step, e.loss]),
      'every step has the same loss, to the last bit',
    );
    const a = readCheckpoint(join(whole, 'run', CHECKPOINT));
    const b = readCheckpoint(join(split, 'run', CHECKPOINT));
    assert.deepEqual([...b.tensors.keys()], [...a.tensors.keys()]);
    for (const [name, tensor] of a.tensors) {
      assert.ok(Buffer.from(tensor.data.buffer).equals(Buffer.from(b.tensors.get(name)!.data.buffer)), `${name} differs after resuming`);
    }
    assert.deepEqual(b.metadata, a.metadata);
  });

  it('a run on the ONNX back end resumes on it, with the same losses as one run (to float32 rounding)', () => {
    for (const optimizer of ['Adam(lr = 0.01)', 'SGD(lr = 0.1, momentum = 0.9)']) {
      // The resumed run leaves `backend` to `auto`: it must pick ONNX again.
      const { full, first, resumed } = wholeAndSplit(spiralModel({ optimizer, epochs: 4 }), ['--backend', 'onnx', '--json'], ['--json']);
      const start = events(resumed.output).find((e) => e.type === 'start') as JsonEvent & { backend?: string; note?: string };
      assert.equal(start.backend, 'onnx', `${optimizer}: backend = "auto" resumes on ONNX`);
      assert.equal(start.note, undefined);

      const fullSteps = events(full.output).filter((e) => e.type === 'step');
      const splitSteps = [...events(first.output), ...events(resumed.output)].filter((e) => e.type === 'step');
      assert.deepEqual(splitSteps.map((e) => e.step), fullSteps.map((e) => e.step));
      // Steps fold differently when the runs of steps are grouped differently: rounding only.
      // Restoring the optimizer state wrong (zeros, or the step count for Adam's bias
      // correction) changes the first resumed losses by far more.
      splitSteps.forEach((e, i) => {
        const expected = fullSteps[i]!.loss as number;
        assert.ok(Math.abs((e.loss as number) - expected) <= 1e-4 * Math.abs(expected), `${optimizer} step ${e.step}: ${e.loss} vs ${expected}`);
      });
    }
  });
});

describe('NaN/Inf stops training with NN5004 and keeps the last good checkpoint', () => {
  it('a learning rate that explodes the weights', () => {
    const dir = project(spiralModel({ optimizer: 'SGD(lr = 0.05)', epochs: 1 }));
    const good = nn(['train', 'model.nn'], dir);
    assert.equal(good.code, 0, good.output);
    const checkpoint = join(dir, 'run', CHECKPOINT);
    const lastGood = readFileSync(checkpoint);

    writeFileSync(join(dir, 'model.nn'), spiralModel({ optimizer: 'SGD(lr = 1e12)', epochs: 5 }));
    const exploded = nn(['train', 'model.nn', '--resume', 'run', '--json'], dir);
    assert.equal(exploded.code, 1, `a NaN run exits 1:\n${exploded.output}`);
    const all = events(exploded.output);
    const nan = all.find((e) => e.type === 'finding' && e.finding?.code === 'NN5004');
    assert.ok(nan, `no NN5004 finding:\n${exploded.output}`);
    assert.equal(all.find((e) => e.type === 'end')?.reason, 'nan');
    assert.ok(readFileSync(checkpoint).equals(lastGood), 'the last good checkpoint is kept unchanged');
    assertFinite(readCheckpoint(checkpoint), 'the kept checkpoint');

    const human = nn(['train', 'model.nn', '--resume', 'run'], dir);
    assert.match(human.output, /NN5004/);
    assert.match(human.output, /model\.nn:\d+:\d+/, 'the terminal message points into the file');
  });
});

describe('a corrupt checkpoint is refused with a clear message', () => {
  const dir = project(spiralModel({ optimizer: 'Adam(lr = 0.01)', epochs: 1 }));
  const checkpoint = join(dir, 'run', CHECKPOINT);
  const corruptions: [string, (good: Buffer) => Buffer][] = [
    ['truncated to half', (good) => good.subarray(0, good.length >> 1)],
    ['an impossible header length', (good) => Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0]), good.subarray(8)])],
    ['a broken JSON header', (good) => Buffer.concat([good.subarray(0, 8), Buffer.from('{"x":'.padEnd(Number(good.readBigUInt64LE(0)), '!')), good.subarray(8 + Number(good.readBigUInt64LE(0)))])],
    ['an empty file', () => Buffer.alloc(0)],
    ['text', () => Buffer.from('not a checkpoint at all\n')],
  ];
  for (const [name, corrupt] of corruptions) {
    it(name, () => {
      if (!existsSync(checkpoint)) assert.equal(nn(['train', 'model.nn'], dir).code, 0);
      const good = readFileSync(checkpoint);
      const bad = corrupt(good);
      writeFileSync(checkpoint, bad);
      try {
        const result = nn(['train', 'model.nn', '--resume', 'run'], dir);
        assertCleanFailure(result, `--resume with ${name}`);
        assert.match(result.output, /checkpoint\.safetensors/, 'the message names the file');
        assert.match(result.output, /corrupt|truncated|not a \.safetensors|shorter/i, `the message says what is wrong:\n${result.output}`);
        assert.ok(readFileSync(checkpoint).equals(bad), 'the refused file is left as it was');
        const init = nn(['train', 'model.nn', '--init', join('run', CHECKPOINT)], dir);
        assertCleanFailure(init, `--init with ${name}`);
      } finally {
        writeFileSync(checkpoint, good);
      }
    });
  }
});

/**
 * Starts `nn train` and SIGKILLs it `delayMs` after its first line (training has started:
 * how long a process takes to get there depends on the machine); resolves when it is gone.
 */
function killDuringTraining(dir: string, delayMs: number): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, 'train', 'model.nn'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] });
    let timer: NodeJS.Timeout | undefined;
    child.stdout!.once('data', () => (timer = setTimeout(() => child.kill('SIGKILL'), delayMs)));
    child.stdout!.resume();
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe('SIGKILL while checkpoints are written never leaves a torn checkpoint', () => {
  it('nn train killed at random moments, many times', async () => {
    // One step per epoch and a 3 MB checkpoint after each: the process spends much of its time saving.
    const layers = 'Linear(2, 512) |> relu |> Linear(512, 512) |> relu |> Linear(512, 3)';
    const dir = project(spiralModel({ optimizer: 'Adam(lr = 0.001)', epochs: 100_000, layers, batch: 30, points: 10 }));
    const checkpoint = join(dir, 'run', CHECKPOINT);
    let killsAfterFirstSave = 0;
    const leftovers = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1_500 }), async (delayMs) => {
        await killDuringTraining(dir, delayMs);
        if (!existsSync(checkpoint)) return;
        killsAfterFirstSave += 1;
        const file = readCheckpoint(checkpoint);
        assert.equal(file.metadata.format, 'nn-studio-checkpoint-1');
        assert.ok(file.tensors.has('linear_0.weight') && file.tensors.has('linear_2.bias'), [...file.tensors.keys()].join(', '));
        assertFinite(file, 'a checkpoint after SIGKILL');
        for (const name of readdirSync(join(dir, 'run'))) if (name.endsWith('.tmp')) leftovers.add(name);
      }),
      { numRuns: 20, seed: 8 },
    );
    assert.ok(killsAfterFirstSave >= 8, `only ${killsAfterFirstSave} kills came after the first checkpoint`);
    // The run resumes from whatever the last kill left.
    const resumed = nn(['train', 'model.nn', '--resume', 'run', '--epochs', String(Number(readCheckpoint(checkpoint).metadata.epoch) + 1)], dir);
    assert.equal(resumed.code, 0, resumed.output);
    console.log(`# ${killsAfterFirstSave} kills after the first save; ${leftovers.size} kills left a temporary file (killed mid-write)`);
  });

  it('the atomic writer itself, killed mid-write many times, leaves the old or the new file', async () => {
    const dir = tempWorkspace('atomic-writes');
    const target = join(dir, CHECKPOINT);
    mkdirSync(dir, { recursive: true });
    // The engine's writer, bundled once so each child starts in plain Node quickly.
    const bundle = join(dir, 'safetensors.js');
    buildSync({ entryPoints: [join(repoRoot, 'engine/src/core/safetensors.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: bundle, logLevel: 'error' });
    // A child that rewrites a 4 MB checkpoint back to back, each version filled with its number.
    const writer = [
      `const { writeSafetensors, storedTensor } = require(${JSON.stringify(bundle)});`,
      'for (let version = 1; ; version++) {',
      '  const data = new Float32Array(1024 * 1024).fill(version);',
      `  writeSafetensors(${JSON.stringify(target)}, { tensors: new Map([['w', storedTensor([data.length], data)]]), metadata: { version: String(version) } });`,
      "  if (version === 1) process.stdout.write('written\\n');",
      '}',
    ].join('\n');
    // Rounds go on until at least five kills landed mid-write (how many that takes depends on
    // how fast this machine writes), each round checking that the file on disk is whole.
    let kills = 0;
    let midWrite = 0;
    let round = 0;
    for (; round < 25 || (midWrite < 5 && round < 300); round++) {
      await new Promise<void>((resolve) => {
        const child = spawn(process.execPath, ['-e', writer], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] });
        // Killed a different while after its first write: each write takes tens of ms, so most kills land mid-write.
        child.stdout!.once('data', () => setTimeout(() => child.kill('SIGKILL'), (round * 37) % 400));
        child.once('exit', () => resolve());
      });
      if (!existsSync(target)) continue;
      kills += 1;
      // A leftover temporary file shows the kill landed mid-write: the case this test is about.
      for (const name of readdirSync(dir).filter((n) => n.endsWith('.tmp'))) {
        midWrite += 1;
        rmSync(join(dir, name));
      }
      const file = readCheckpoint(target);
      const version = Number(file.metadata.version);
      const values = file.tensors.get('w')!.data as Float32Array;
      assert.equal(values.length, 1024 * 1024);
      assert.ok(values.every((v) => v === version), `a torn file: version ${version} holds other values`);
    }
    assert.equal(kills, round);
    assert.ok(midWrite >= 5, `only ${midWrite} of ${kills} kills landed mid-write`);
  });
});
