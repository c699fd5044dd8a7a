// The soundness benchmark of issue #15: N generated programs (default 10,000, seed 15, the
// first few hundred of which npm test runs) through the checker, the TS engine, the ONNX
// path and (every 10th) the PyTorch export, with their mutants, on worker threads. Prints
// cases/s, what each stage passed, the constructs covered, and every disagreement (grouped
// by signature) with its shrunk program. Exit 1 on any disagreement.
// Run: npx tsx bench/soundness/run.ts [N] [--seed S] [--workers W] [--pytorch-every K] [--shrink-seconds T]

import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { caseLists, shrink, type CampaignResult, type Disagreement } from '../../test/soundness/campaign.js';
import { coveredConstructs, STRUCTURES } from '../../test/soundness/coverage.js';
import { torchMissing } from '../../test/soundness/pytorch.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seed: { type: 'string', default: '15' }, workers: { type: 'string' }, 'pytorch-every': { type: 'string', default: '10' }, 'shrink-seconds': { type: 'string', default: '20' } },
});
const N = Number(positionals[0] ?? 10_000);
const SEED = Number(values.seed);
const WORKERS = Number(values.workers ?? Math.max(1, Math.min(2, cpus().length)));
const missing = torchMissing();
const PYTORCH_EVERY = missing ? 0 : Number(values['pytorch-every']);

type Posted = Omit<CampaignResult, 'reached' | 'features' | 'backends'> & { reached: [string, number][]; features: [string, number][]; backends: [string, number][] };

function runWorker(lists: number[][], first: number, onProgress: (n: number) => void): Promise<Posted> {
  return new Promise((resolve, reject) => {
    // A worker loads the TypeScript through tsx's require hook, however this script was started.
    const source = `require('tsx/cjs'); require(${JSON.stringify(join(__dirname, 'worker.ts'))});`;
    const worker = new Worker(source, { eval: true, workerData: { lists, first, pytorchEvery: PYTORCH_EVERY } });
    let done = 0;
    worker.on('message', (m: { progress?: number; result?: Posted }) => {
      if (m.progress !== undefined) {
        onProgress(m.progress - done);
        done = m.progress;
      }
      if (m.result) resolve(m.result);
    });
    worker.on('error', reject);
  });
}

function add(into: Map<string, number>, entries: [string, number][]): void {
  for (const [k, v] of entries) into.set(k, (into.get(k) ?? 0) + v);
}

async function main(): Promise<void> {
  console.log(`bench/soundness: ${N} cases of seed ${SEED} on ${WORKERS} worker(s); PyTorch ${missing ? `skipped (${missing})` : `every ${PYTORCH_EVERY}th case`}`);
  const lists = caseLists(SEED, N);
  const started = Date.now();
  let done = 0;
  let reported = 0;
  const progress = (n: number) => {
    done += n;
    if (done - reported >= 500) {
      reported = done;
      console.log(`  ${done} cases, ${(done / ((Date.now() - started) / 1000)).toFixed(1)} cases/s`);
    }
  };
  const chunk = Math.ceil(N / WORKERS);
  const parts = await Promise.all(Array.from({ length: WORKERS }, (_, w) => runWorker(lists.slice(w * chunk, (w + 1) * chunk), w * chunk, progress)));
  const seconds = (Date.now() - started) / 1000;

  const reached = new Map<string, number>();
  const features = new Map<string, number>();
  const backends = new Map<string, number>();
  const disagreements: Disagreement[] = [];
  let cases = 0;
  let mutants = 0;
  let pytorchCases = 0;
  for (const p of parts) {
    cases += p.cases;
    mutants += p.mutants;
    pytorchCases += p.pytorchCases;
    add(reached, p.reached);
    add(features, p.features);
    add(backends, p.backends);
    disagreements.push(...p.disagreements);
  }
  const failing = new Set(disagreements.map((d) => d.index)).size;
  console.log(`\n${cases} cases and ${mutants} mutants in ${seconds.toFixed(0)} s: ${(cases / seconds).toFixed(1)} cases/s; ${cases - failing} cases without a disagreement`);
  console.log(`trained on: ${[...backends].map(([k, v]) => `${k} ${v}`).join(', ')}; PyTorch compared on ${pytorchCases}`);
  console.log(`stages passed: ${[...reached].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const covered = coveredConstructs(features.keys());
  console.log(`constructs: ${[...features].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const notCovered = STRUCTURES.filter((s) => !covered.has(s));
  if (notCovered.length > 0) console.log(`not covered: ${notCovered.join(', ')}`);

  const groups = new Map<string, Disagreement[]>();
  for (const d of disagreements) groups.set(d.signature, [...(groups.get(d.signature) ?? []), d]);
  console.log(`\n${groups.size} kinds of disagreement`);
  for (const [signature, list] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
    const indices = [...new Set(list.map((d) => d.index))];
    console.log(`\n== ${signature}: ${indices.length} case(s)`);
    console.log(`cases: ${indices.slice(0, 30).join(', ')}${indices.length > 30 ? ', ...' : ''}`);
    console.log(list[0].failure.message.split('\n').filter((l) => !/^\s+at /.test(l)).slice(0, 12).join('\n'));
    const minimal = await shrink(list.reduce((a, b) => (b.text.length < a.text.length ? b : a)), Number(values['shrink-seconds']) * 1000);
    console.log(`minimal program:\n${minimal}`);
  }
  process.exitCode = groups.size > 0 ? 1 : 0;
}

main();
