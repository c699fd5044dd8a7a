// Runs one job in a worker thread so training never blocks the server's event loop:
// events stream back as they happen, stopping is cooperative (a shared flag the training
// loop polls) with termination as the fallback.

import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DownloadProgress } from '../../../engine/src/data/fetch.js';
import type { RunEvent } from '../../../engine/src/core/events.js';
import type { Job, JobResults, WorkerInput, WorkerReply } from '../workerProtocol.js';

export interface RunningJob<K extends keyof JobResults> {
  result: Promise<JobResults[K]>;
  /** Asks the job to stop at its next step; terminates the worker if it has not within `graceMs`. */
  stop(graceMs?: number): void;
  /** Terminates the worker at once (for work whose result is no longer wanted). */
  kill(): void;
}

export class JobStopped extends Error {
  constructor() {
    super('stopped');
  }
}

const workerPath = resolve(__dirname, 'worker.js');

export function startJob<K extends keyof JobResults>(job: Job & { kind: K }, onEvent: (event: RunEvent) => void, onDownload: (progress: DownloadProgress) => void = () => undefined): RunningJob<K> {
  const stop = new SharedArrayBuffer(4);
  const input: WorkerInput = { job, stop };
  const worker = new Worker(workerPath, { workerData: input });
  let settled = false;
  let killTimer: NodeJS.Timeout | undefined;
  const result = new Promise<JobResults[K]>((resolvePromise, reject) => {
    worker.on('message', (reply: WorkerReply) => {
      if (reply.type === 'event') onEvent(reply.event);
      else if (reply.type === 'download') onDownload(reply.progress);
      else if (reply.type === 'done') {
        settled = true;
        resolvePromise(reply.result as JobResults[K]);
      } else {
        settled = true;
        reject(new Error(reply.message));
      }
    });
    worker.on('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.on('exit', () => {
      if (killTimer) clearTimeout(killTimer);
      if (!settled) reject(Atomics.load(new Int32Array(stop), 0) === 1 ? new JobStopped() : new Error('the worker exited before finishing'));
    });
  });
  return {
    result,
    stop(graceMs = 5000) {
      Atomics.store(new Int32Array(stop), 0, 1);
      killTimer ??= setTimeout(() => void worker.terminate(), graceMs);
    },
    kill() {
      Atomics.store(new Int32Array(stop), 0, 1);
      void worker.terminate();
    },
  };
}
