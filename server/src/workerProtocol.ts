// Messages between the language server and its training worker (dist/worker.js): the job
// the worker runs, and what it posts back. Plain data only (structured clone).

import type { DownloadProgress } from '../../engine/src/data/fetch.js';
import type { LayerGradStats, ParamGradStats, RunEvent } from '../../engine/src/core/events.js';
import type { SizeLimits } from '../../engine/src/run/limits.js';
import type { ExportOnnxResult, GradcheckResult, ProbeResult, TrainResult } from './protocol.js';

interface DocumentJob {
  /** The `.nn` file's path (data paths are relative to its folder) and its current text. */
  file: string;
  text: string;
  /** `nn.allowPathsOutsideWorkspace`: data files may then come from outside the file's folder. */
  allowPathsOutside: boolean;
  /** `nn.limits.*`: the run refuses a larger model (NN4002) before allocating. */
  limits: SizeLimits;
  /** `nn.dataCache` and `nn.dataMirror` ('' for the environment's or the defaults). */
  dataCache: string;
  dataMirror: string;
}

export type Job =
  | (DocumentJob & { kind: 'train'; model: string; backend: 'auto' | 'ts' | 'onnx'; saveDir: string; threads: number })
  | (DocumentJob & { kind: 'probe'; model: string; batches: number })
  | (DocumentJob & { kind: 'initProbe'; model: string; withData: boolean })
  | (DocumentJob & { kind: 'gradcheck'; fn: string | null })
  | (DocumentJob & { kind: 'exportOnnx'; model: string; outPath: string; weights: string | null });

export interface JobResults {
  train: TrainResult;
  probe: ProbeResult;
  initProbe: InitProbeResult;
  gradcheck: GradcheckResult;
  exportOnnx: ExportOnnxResult;
}

/** The size every symbolic dim (B, T, H...) takes in the init-time pass on random inputs. */
export const RANDOM_DIM_SIZE = 8;

/** The init-time pass: on the first batch of the data set, or on random inputs without one. */
export interface InitProbeResult {
  params: ParamGradStats[];
  layers: LayerGradStats[];
  inputs: 'data' | 'random';
}

/** The worker's `workerData`: the job and a one-element Int32Array flag set to 1 to stop. */
export interface WorkerInput {
  job: Job;
  stop: SharedArrayBuffer;
}

export type WorkerReply =
  | { type: 'event'; event: RunEvent }
  | { type: 'download'; progress: DownloadProgress }
  | { type: 'done'; result: JobResults[keyof JobResults] }
  | { type: 'failed'; message: string };
