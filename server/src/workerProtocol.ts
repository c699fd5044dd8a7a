// Messages between the language server and its training worker (dist/worker.js): the job
// the worker runs, and what it posts back. Plain data only (structured clone).

import type { RunEvent } from '../../engine/src/train/events.js';
import type { ExportOnnxResult, GradcheckResult, ProbeResult, TrainResult } from './protocol.js';

interface DocumentJob {
  /** The `.nn` file's path (data paths are relative to its folder) and its current text. */
  file: string;
  text: string;
}

export type Job =
  | (DocumentJob & { kind: 'train'; model: string; backend: 'auto' | 'ts' | 'onnx'; saveDir: string })
  | (DocumentJob & { kind: 'probe'; model: string; batches: number })
  | (DocumentJob & { kind: 'initProbe'; model: string })
  | (DocumentJob & { kind: 'gradcheck'; fn: string | null })
  | (DocumentJob & { kind: 'exportOnnx'; model: string; outPath: string; weights: string | null });

export interface JobResults {
  train: TrainResult;
  probe: ProbeResult;
  initProbe: ProbeResult;
  gradcheck: GradcheckResult;
  exportOnnx: ExportOnnxResult;
}

/** The worker's `workerData`: the job and a one-element Int32Array flag set to 1 to stop. */
export interface WorkerInput {
  job: Job;
  stop: SharedArrayBuffer;
}

export type WorkerReply =
  | { type: 'event'; event: RunEvent }
  | { type: 'done'; result: JobResults[keyof JobResults] }
  | { type: 'failed'; message: string };
