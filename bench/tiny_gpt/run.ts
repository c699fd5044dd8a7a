// examples/tiny_gpt.nn end to end: `nn train` (the built CLI, default back end, every core)
// against its own PyTorch export trained with the same protocol (torch_tiny_gpt.py, OpenBLAS
// on as many threads): seconds for the 10 epochs and the train and test loss after the last.
// Run: npx tsx bench/tiny_gpt/run.ts [--threads N]

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: { threads: { type: 'string', default: String(availableParallelism()) } } });
const threads = Number(args.threads);
const cli = resolve('dist/cli.js');
const example = resolve('examples/tiny_gpt.nn');
const work = mkdtempSync(join(tmpdir(), 'nn-bench-gpt-'));

interface Result {
  seconds: number;
  trainLoss: number;
  testLoss: number;
}

function ours(): Result {
  const started = performance.now();
  const run = spawnSync(process.execPath, [cli, 'train', example, '--json', '--threads', String(threads)], { cwd: work, encoding: 'utf8', maxBuffer: 256 << 20 });
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`nn train failed: ${run.stderr}`);
  const epochs = run.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((e) => e.type === 'epoch');
  const last = epochs[epochs.length - 1];
  return { seconds, trainLoss: last.trainLoss, testLoss: last.testLoss };
}

function pytorch(): Result | string {
  const module = join(work, 'tiny_gpt.py');
  const exported = spawnSync(process.execPath, [cli, 'export', example, '--format', 'pytorch', '-o', module], { encoding: 'utf8' });
  if (exported.status !== 0) return `export failed: ${exported.stderr}`;
  const started = performance.now();
  const run = spawnSync('/usr/bin/python3', [resolve('bench/tiny_gpt/torch_tiny_gpt.py'), module, resolve('examples/data/text/lighthouse.txt'), '10', String(threads)], { encoding: 'utf8' });
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0) return `PyTorch did not run: ${run.stderr.trim().split('\n').pop()}`;
  const last = JSON.parse(run.stdout.trim().split('\n').pop()!);
  return { seconds, trainLoss: last.trainLoss, testLoss: last.testLoss };
}

try {
  const a = ours();
  console.log(`nn train      ${a.seconds.toFixed(1)} s   train loss ${a.trainLoss.toFixed(3)}   test loss ${a.testLoss.toFixed(3)}   (${threads} threads)`);
  const b = pytorch();
  if (typeof b === 'string') console.log(`PyTorch       skipped: ${b}`);
  else {
    console.log(`PyTorch       ${b.seconds.toFixed(1)} s   train loss ${b.trainLoss.toFixed(3)}   test loss ${b.testLoss.toFixed(3)}`);
    console.log(`ratio PyTorch ÷ ours (whole run): ${(b.seconds / a.seconds).toFixed(2)}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
