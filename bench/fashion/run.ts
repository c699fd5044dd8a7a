// End-to-end training race on Fashion-MNIST: `nn train` (the built CLI, default back end,
// every core) against PyTorch (torch_fashion.py: the same models, seed 0, batch 64, Adam
// lr 1e-3, OpenBLAS on every core with the malloc tuning of a tuned user), on the four
// models of this folder, one after the other in one invocation. Each side is a fresh
// process timed from its start: wall seconds per epoch, test accuracy per epoch, time to
// 0.85 / 0.88 / 0.90 test accuracy, and the ratio PyTorch ÷ ours of the whole run (over the
// epochs both finished, when a time cap stops one). Uses the full data set when Debian's
// dataset-fashion-mnist is installed, else the bundled 6,000 / 1,000 subset (and says so).
// Run: npx tsx bench/fashion/run.ts [--models mlp,cnn,lenet,net] [--epochs 5] [--cap SECONDS] [--threads N]

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { IMAGE_SETS } from '../../engine/src/data/catalog.js';
import { subsetDir } from '../../engine/src/data/images.js';
import { DEBIAN_DATASETS_DIR } from '../../engine/src/data/sources.js';

const FASHION = IMAGE_SETS.fashion_mnist;
const FASHION_FULL = FASHION.full;
const FASHION_SUBSET = FASHION.defaults;
const FASHION_SYSTEM_DIR = join(DEBIAN_DATASETS_DIR, FASHION.folder);

const MODELS: Record<string, { file: string; className: string }> = {
  mlp: { file: 'mlp.nn', className: 'Mlp' },
  cnn: { file: 'cnn.nn', className: 'SmallCnn' },
  lenet: { file: 'lenet.nn', className: 'LeNet5' },
  net: { file: 'net.nn', className: 'Net' },
};
const TARGETS = [0.85, 0.88, 0.9];
const MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456';
const HERE = resolve('bench/fashion');

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: Object.keys(MODELS).join(',') },
    epochs: { type: 'string', default: '5' },
    cap: { type: 'string', default: '600' },
    threads: { type: 'string', default: String(availableParallelism()) },
  },
});
const EPOCHS = Number(args.epochs);
const CAP_SECONDS = Number(args.cap);
const THREADS = Number(args.threads);

interface EpochMark {
  seconds: number;
  accuracy: number;
}

/** One side's run: seconds from spawn to its start event and to each epoch event, and to exit. */
interface RunTimes {
  setup: number;
  epochs: EpochMark[];
  total: number;
  capped: boolean;
  failure: string | null;
}

/** Spawns a run that prints one JSON event per line, timestamping each event as it arrives. */
function timedRun(command: string, argv: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<RunTimes> {
  return new Promise((done) => {
    const started = performance.now();
    const seconds = (): number => (performance.now() - started) / 1000;
    const child = spawn(command, argv, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const times: RunTimes = { setup: NaN, epochs: [], total: NaN, capped: false, failure: null };
    const cap = setTimeout(() => {
      times.capped = true;
      child.kill('SIGINT');
    }, CAP_SECONDS * 1000);
    let pending = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const now = seconds();
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const event = JSON.parse(line) as { type: string; testAccuracy?: number | null };
        if (event.type === 'start') times.setup = now;
        if (event.type === 'epoch') times.epochs.push({ seconds: now, accuracy: event.testAccuracy ?? NaN });
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.on('close', (code) => {
      clearTimeout(cap);
      times.total = seconds();
      if (code !== 0 && !times.capped) times.failure = `exit ${code}: ${stderr.trim().split('\n').slice(-3).join(' / ')}`;
      done(times);
    });
  });
}

/** Where the data comes from, and the .nn data line and PyTorch counts that match it. */
function dataSource(): { dir: string; counts: { train: number; test: number }; note: string } {
  if (existsSync(join(FASHION_SYSTEM_DIR, 'train-labels-idx1-ubyte.gz'))) {
    return { dir: FASHION_SYSTEM_DIR, counts: FASHION_FULL, note: `full Fashion-MNIST (${FASHION_FULL.train} / ${FASHION_FULL.test}) from ${FASHION_SYSTEM_DIR}` };
  }
  const dir = subsetDir();
  if (!dir) throw new Error('neither the full Fashion-MNIST nor the bundled subset is available');
  return { dir, counts: FASHION_SUBSET, note: `the full data set is not installed (apt-get install dataset-fashion-mnist): running on the BUNDLED SUBSET (${FASHION_SUBSET.train} / ${FASHION_SUBSET.test}), so times and accuracies are not comparable with full-data runs` };
}

function runOurs(file: string, counts: { train: number; test: number }, work: string): Promise<RunTimes> {
  const text = readFileSync(join(HERE, file), 'utf8').replace(/fashion_mnist\([^)]*\)/, `fashion_mnist(train = ${counts.train}, test = ${counts.test})`);
  const copy = join(work, file);
  writeFileSync(copy, text);
  // As a user runs it: no malloc tuning (it is read at process start; `nn train` cannot set it).
  const env = { ...process.env };
  delete env.GLIBC_TUNABLES;
  return timedRun(process.execPath, [resolve('dist/cli.js'), 'train', copy, '--json', '--epochs', String(EPOCHS), '--threads', String(THREADS)], env, work);
}

function runTorch(className: string, data: { dir: string; counts: { train: number; test: number } }, work: string): Promise<RunTimes> {
  const env = {
    ...process.env,
    LD_LIBRARY_PATH: '/usr/lib/x86_64-linux-gnu/openblas-openmp',
    GLIBC_TUNABLES: MALLOC_TUNABLES,
    OMP_NUM_THREADS: String(THREADS),
  };
  const argv = [join(HERE, 'torch_fashion.py'), className, data.dir, String(data.counts.train), String(data.counts.test), String(EPOCHS), String(THREADS)];
  return timedRun('/usr/bin/python3', argv, env, work);
}

const fmt = (x: number, digits = 1): string => (Number.isFinite(x) ? x.toFixed(digits) : '–');

/** Seconds from spawn to the first epoch at or above `target`. */
function timeTo(run: RunTimes, target: number): number {
  return run.epochs.find((e) => e.accuracy >= target)?.seconds ?? NaN;
}

function printModel(name: string, torch: RunTimes, ours: RunTimes): { ratio: number; row: string } {
  console.log(`\n${name}: setup (spawn to first event) PyTorch ${fmt(torch.setup)} s, ours ${fmt(ours.setup)} s`);
  for (const [side, run] of [['PyTorch', torch], ['ours', ours]] as const) if (run.failure) console.log(`  ${side} failed: ${run.failure}`);
  console.log('  epoch   PyTorch s   acc      ours s   acc');
  const rows = Math.max(torch.epochs.length, ours.epochs.length);
  const epochSeconds = (run: RunTimes, i: number): number => (run.epochs[i] ? run.epochs[i].seconds - (i === 0 ? run.setup : run.epochs[i - 1].seconds) : NaN);
  for (let i = 0; i < rows; i++) {
    console.log(`  ${String(i + 1).padStart(5)}   ${fmt(epochSeconds(torch, i)).padStart(9)}   ${fmt(torch.epochs[i]?.accuracy ?? NaN, 4)}   ${fmt(epochSeconds(ours, i)).padStart(9)}   ${fmt(ours.epochs[i]?.accuracy ?? NaN, 4)}`);
  }
  for (const target of TARGETS) console.log(`  time to ${target.toFixed(2)}: PyTorch ${fmt(timeTo(torch, target))} s, ours ${fmt(timeTo(ours, target))} s`);
  // The whole run when both finished; else up to the last epoch both reached.
  const both = Math.min(torch.epochs.length, ours.epochs.length);
  const full = !torch.capped && !ours.capped && torch.epochs.length === ours.epochs.length;
  const torchSeconds = full ? torch.total : torch.epochs[both - 1]?.seconds ?? NaN;
  const ourSeconds = full ? ours.total : ours.epochs[both - 1]?.seconds ?? NaN;
  const ratio = torchSeconds / ourSeconds;
  const span = full ? 'whole run' : `to the end of epoch ${both} (a time cap stopped a run)`;
  console.log(`  ${span}: PyTorch ${fmt(torchSeconds)} s, ours ${fmt(ourSeconds)} s, PyTorch ÷ ours ${fmt(ratio, 2)}×`);
  const to90 = (run: RunTimes): string => fmt(timeTo(run, 0.9));
  const row = `| ${name} | ${fmt(torchSeconds)} s | ${fmt(ourSeconds)} s | ${fmt(ratio, 2)}× | ${to90(torch)} s | ${to90(ours)} s | ${fmt(torch.epochs.at(-1)?.accuracy ?? NaN, 4)} / ${fmt(ours.epochs.at(-1)?.accuracy ?? NaN, 4)} |`;
  return { ratio, row };
}

async function main(): Promise<void> {
  const chosen = args.models.split(',').map((m) => m.trim());
  const unknown = chosen.filter((m) => !MODELS[m]);
  if (unknown.length > 0) throw new Error(`unknown model ${unknown.join(', ')}; choose from ${Object.keys(MODELS).join(', ')}`);
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('the build failed');
  const data = dataSource();
  console.log(`bench/fashion: ${EPOCHS} epochs, batch 64, Adam lr 1e-3, seed 0, ${THREADS} thread(s) on both sides, time cap ${CAP_SECONDS} s per run`);
  console.log(`data: ${data.note}`);
  console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(', ')} (${availableParallelism()} cores)`);
  const work = mkdtempSync(join(tmpdir(), 'nn-bench-fashion-'));
  const rows: string[] = [];
  try {
    for (const key of chosen) {
      const { file, className } = MODELS[key];
      const load = loadavg()[0];
      const torch = await runTorch(className, data, work);
      const ours = await runOurs(file, data.counts, work);
      rows.push(printModel(className, torch, ours).row);
      console.log(`  load average (1 min) before ${load.toFixed(2)}, after ${loadavg()[0].toFixed(2)}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`\nload average at end: ${loadavg().map((l) => l.toFixed(2)).join(', ')}`);
  console.log('\n| model | PyTorch | `nn train` | PyTorch ÷ ours | PyTorch to 0.90 | ours to 0.90 | final accuracy (PyTorch / ours) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
}

void main();
