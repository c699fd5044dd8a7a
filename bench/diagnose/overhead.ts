// The monitoring overhead of the ONNX back end on the diagnosis benchmark's healthy setups
// and on the Fashion-MNIST examples:
// the time per step of the run's trainer (statistics on the sampled steps, core/stats.ts `sampledBatch`,
// as `nn train` creates it) against the same trainer never asked for them, on the same batches
// in session runs of the same length, after a warm-up epoch of each; the two alternate, each
// round in the other order, so that machine load falls on both alike, and each one's median
// round counts (its fastest shown too: a shared machine only ever adds time).
// Usage: npx tsx bench/diagnose/overhead.ts [rounds] [epochs per round of a small setup; an example's is 1]

import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { prepare } from '../../engine/src/run/prepare.js';
import { batchLayout } from '../../engine/src/run/loop.js';
import { createOnnxTrainer } from '../../engine/src/run/backendChoice.js';
import { epochOrder, makeBatch } from '../../engine/src/core/batches.js';
import { BUNDLED_EXAMPLES, healthySetups } from './setups.js';
import { sampledBatch } from '../../engine/src/core/stats.js';


const medianOf = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 5);
  const epochsPerRound = Number(process.argv[3] ?? 10);
  const overheads: number[] = [];
  console.log('| setup | steps per epoch | steps per run | median ms/step with statistics | without | overhead | overhead of the fastest rounds |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  // The bundled examples of real size come last: one epoch of each is many session runs of full length.
  const examples = join(__dirname, '../../examples');
  const bundled = new Set(BUNDLED_EXAMPLES.map((file) => `examples/${file}`));
  const setups = healthySetups();
  const runs = [...setups.filter((s) => !bundled.has(s.name)), ...setups.filter((s) => bundled.has(s.name))]
    .map((setup) => ({ name: setup.name, text: setup.text, files: setup.files ?? {}, baseDir: bundled.has(setup.name) ? examples : null }));
  for (const setup of runs) {
    const dir = setup.baseDir ?? mkdtempSync(join(tmpdir(), 'nn-overhead-'));
    try {
      for (const [name, content] of Object.entries(setup.files)) {
        mkdirSync(dirname(join(dir, name)), { recursive: true });
        writeFileSync(join(dir, name), content);
      }
      const prepared = prepare(setup.text, { baseDir: dir });
      if (Array.isArray(prepared)) throw new Error(`${setup.name}: ${prepared.map((e) => e.message).join('; ')}`);
      const { train: spec, lowered, trainSplit } = prepared;
      const initial = new Map(lowered.params.map((p) => [p.name, Float32Array.from(p.tensor.data)] as const));
      for (const b of lowered.buffers) initial.set(b.name, Float32Array.from(b.tensor.data));
      const layout = batchLayout(prepared);
      const order = epochOrder(trainSplit.count, spec.seed, 0, true);
      const batches = Array.from({ length: Math.ceil(trainSplit.count / spec.batch) }, (_, i) => makeBatch(trainSplit, order, i * spec.batch, spec.batch, layout)).map((b) => ({ inputs: b.input, labels: b.target }));
      const options = { fns: prepared.check.fnIrs, seed: spec.seed, threads: 1 };
      // One trainer as `nn train` creates it, asked for the statistics of the sampled steps or
      // never: its runs without statistics use the same graphs either way, and two instances of
      // one trainer differ in speed (memory placement) by as much as is measured here.
      const trainer = await createOnnxTrainer(prepared.model, spec, initial, { ...options, statsAt: 'sampled' });
      const times = { with: [] as number[], without: [] as number[] };
      const timeEpochs = async (withStats: boolean, into: number[], epochs: number): Promise<void> => {
        const started = performance.now();
        for (let e = 0; e < epochs; e++) {
          for (let i = 0; i < batches.length; i += trainer.stepsPerRun) {
            const count = Math.min(trainer.stepsPerRun, batches.length - i);
            await trainer.run(batches.slice(i, i + count), withStats && sampledBatch(i + count - 1, batches.length, trainer.stepsPerRun));
          }
        }
        into.push((performance.now() - started) / (epochs * batches.length));
      };
      // One epoch each first: graphs of every run length are built then, not timed.
      await timeEpochs(true, [], 1);
      await timeEpochs(false, [], 1);
      const epochs = setup.baseDir === null ? epochsPerRound : 1;
      for (let r = 0; r < rounds; r++) {
        const pair = [[true, times.with], [false, times.without]] as const;
        for (const [withStats, into] of r % 2 === 0 ? pair : [...pair].reverse()) await timeEpochs(withStats, into, epochs);
      }
      await trainer.release();
      const a = medianOf(times.with);
      const b = medianOf(times.without);
      const fastest = Math.min(...times.with) / Math.min(...times.without) - 1;
      if (setup.baseDir === null) overheads.push(a / b - 1);
      console.log(`| ${setup.name} | ${batches.length} | ${trainer.stepsPerRun} | ${a.toFixed(3)} | ${b.toFixed(3)} | ${((a / b - 1) * 100).toFixed(1)}% | ${(fastest * 100).toFixed(1)}% |`);
    } finally {
      if (setup.baseDir === null) rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`| median over the ${overheads.length} healthy setups | | | | | ${(medianOf(overheads) * 100).toFixed(1)}% | |`);
}

void main();
