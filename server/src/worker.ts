// Entry point of dist/worker.js: runs one job (train, probe, the init-time pass, gradcheck,
// ONNX export) in a worker thread, posting run events as they happen and the result at the
// end. Stopping is a shared flag set by the server, polled here and turned into the training
// loop's AbortSignal.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { dataSources } from '../../engine/src/data/sources.js';
import { exportOnnx, readWeightsFile } from '../../engine/src/export/onnx.js';
import { sourceChecks } from '../../engine/src/data/sourceFiles.js';
import { gradcheckProgram } from '../../engine/src/run/gradcheck.js';
import { checkProgram } from '../../engine/src/lang/program.js';
import { probe } from '../../engine/src/run/probe.js';
import { train } from '../../engine/src/run/loop.js';
import { fetchTrainData, type RunError } from '../../engine/src/run/prepare.js';
import { writeFileAtomic } from '../../engine/src/core/safetensors.js';
import type { ExportOnnxResult, ProbeResult, TrainResult } from './protocol.js';
import { randomInputProbe } from './randomProbe.js';
import { layerGradStats } from '../../engine/src/core/stats.js';
import type { InitProbeResult, Job, JobResults, WorkerInput, WorkerReply } from './workerProtocol.js';

const port = parentPort;
if (!port) throw new Error('dist/worker.js runs as a worker thread of the language server');
const input = workerData as WorkerInput;
const stopFlag = new Int32Array(input.stop);

const post = (reply: WorkerReply) => port.postMessage(reply);

/** The job's data sources: its `nn.dataCache` / `nn.dataMirror` over the environment's. */
const sourcesOf = (job: Job) => dataSources({ cacheDir: job.dataCache, mirror: job.dataMirror });

function describe(errors: readonly RunError[]): string {
  return errors.map((e) => `${e.code} ${e.message}`).join('; ');
}

async function runTrain(job: Job & { kind: 'train' }): Promise<TrainResult> {
  const controller = new AbortController();
  const poll = setInterval(() => {
    if (Atomics.load(stopFlag, 0) === 1) controller.abort();
  }, 25);
  try {
    const options = { baseDir: dirname(job.file), file: job.file, allowPathsOutside: job.allowPathsOutside, limits: job.limits, model: job.model, backend: job.backend, threads: job.threads, saveDir: job.saveDir, sources: sourcesOf(job) };
    const outcome = await train(job.text, { ...options, signal: controller.signal, onDownload: (progress) => post({ type: 'download', progress }) }, (event) => post({ type: 'event', event }));
    if ('errors' in outcome) return { reason: 'error', message: describe(outcome.errors), checkpoint: null, testAccuracy: null };
    const { end } = outcome;
    const accuracy = end.testAccuracy === null ? '' : `, accuracy ${(end.testAccuracy * 100).toFixed(1)}%`;
    const message =
      end.reason === 'done' ? `Trained ${job.model}: ${end.step} steps in ${end.seconds.toFixed(1)} s${accuracy}.`
      : end.reason === 'cancelled' ? `Training of ${job.model} stopped at step ${end.step}; checkpoint saved.`
      : end.reason === 'early_stop' ? `Training of ${job.model} stopped early at step ${end.step}; best epoch ${(end.best?.epoch ?? 0) + 1} kept in ${end.best?.path}.`
      : `Training of ${job.model} stopped at step ${end.step}: NaN or Inf (see the NN5004 diagnostic).`;
    return { reason: end.reason, message, checkpoint: end.checkpoint, testAccuracy: end.testAccuracy, evaluatedOn: end.evaluatedOn };
  } finally {
    clearInterval(poll);
  }
}

async function runProbe(job: Job & { kind: 'probe' }): Promise<ProbeResult> {
  const options = { baseDir: dirname(job.file), file: job.file, allowPathsOutside: job.allowPathsOutside, limits: job.limits, model: job.model, batches: job.batches, sources: sourcesOf(job) };
  const fetched = await fetchTrainData(job.text, { ...options, onDownload: (progress) => post({ type: 'download', progress }) });
  if ('errors' in fetched) throw new Error(describe(fetched.errors));
  const outcome = probe(job.text, { ...options, check: fetched.check });
  if ('errors' in outcome) throw new Error(describe(outcome.errors));
  return { loss: outcome.loss, params: outcome.params, layers: outcome.layers, findings: outcome.findings };
}

/** One pass at init: the first batch of the data when it loads, else random inputs. */
function runInitProbe(job: Job & { kind: 'initProbe' }): InitProbeResult {
  if (job.withData) {
    // Never downloads: the pass runs after edits, unasked; data not on the machine means random inputs.
    const outcome = probe(job.text, { baseDir: dirname(job.file), file: job.file, allowPathsOutside: job.allowPathsOutside, limits: job.limits, model: job.model, batches: 1, sources: sourcesOf(job) });
    if (!('errors' in outcome)) return { params: outcome.params, layers: outcome.layers, inputs: 'data' };
  }
  const random = randomInputProbe(job.text, job.model, sourceChecks(job.file));
  if ('error' in random) throw new Error(random.error);
  return { params: random.params, layers: layerGradStats(random.params), inputs: 'random' };
}

function runExport(job: Job & { kind: 'exportOnnx' }): ExportOnnxResult {
  const weights = job.weights === null ? undefined : readWeightsFile(job.weights);
  if (weights && 'error' in weights) throw new Error(`${job.weights}: ${weights.error}`);
  const exported = exportOnnx(job.text, job.model, weights, sourceChecks(job.file));
  if ('error' in exported) throw new Error(exported.error);
  mkdirSync(dirname(job.outPath), { recursive: true });
  writeFileAtomic(job.outPath, Buffer.from(exported.bytes));
  return { path: job.outPath, weights: job.weights };
}

async function run(job: Job): Promise<JobResults[keyof JobResults]> {
  switch (job.kind) {
    case 'train':
      return runTrain(job);
    case 'probe':
      return runProbe(job);
    case 'initProbe':
      return runInitProbe(job);
    case 'gradcheck': {
      const check = checkProgram(job.text, sourceChecks(job.file));
      const outcome = gradcheckProgram(job.text, job.fn === null ? { check } : { only: job.fn, check });
      if ('errors' in outcome) throw new Error(describe(outcome.errors));
      if ('unknownFn' in outcome) throw new Error(`no fn \`${outcome.unknownFn}\` with a grad block (fns with one: ${outcome.withGrad.join(', ') || 'none'})`);
      return { fns: outcome.fns };
    }
    case 'exportOnnx':
      return runExport(job);
  }
}

run(input.job).then(
  (result) => post({ type: 'done', result }),
  (error: unknown) => post({ type: 'failed', message: error instanceof Error ? error.message : String(error) }),
);
