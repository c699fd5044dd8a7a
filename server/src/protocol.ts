// Custom messages between the VS Code client and the language server: one method and one
// type per message, with the side that sends it, and the Node options the server runs with.
// Plain data only, so both sides import it.

import { serverNodeOptions } from '../../engine/src/cli/serverNodeOptions.js';
import type { RunEvent, Finding, ParamGradStats, EvaluatedOn } from '../../engine/src/train/events.js';

export type { RunEvent, Finding, ParamGradStats };

/** Node options the server is started with, by the VS Code client and by `nn lsp`. */
export const serverExecArgv: string[] = [...serverNodeOptions];

/** client → server request: train the model of a `train` block; answers when the run ends. */
export const trainRequest = 'nn/train';
export interface TrainParams {
  uri: string;
  model?: string;
  /** The progress token the server reports `$/progress` on; cancel through it. */
  workDoneToken?: string | number;
}
export interface TrainResult {
  reason: 'done' | 'cancelled' | 'nan' | 'error';
  message: string;
  checkpoint: string | null;
  testAccuracy: number | null;
  /** The split `testAccuracy` is measured on. */
  evaluatedOn?: EvaluatedOn;
}

/** client → server request: stop the running training (same as cancelling its progress). */
export const stopTrainingRequest = 'nn/stopTraining';
/** Whether a run was going (it then ends with reason 'cancelled' after saving a checkpoint). */
export interface StopTrainingResult {
  stopped: boolean;
}

/** client → server request: one forward + backward pass on the first batches (a probe). */
export const probeRequest = 'nn/probe';
export interface ProbeParams {
  uri: string;
  model?: string;
  batches?: number;
}
export interface ProbeResult {
  loss: number;
  params: ParamGradStats[];
  findings: Finding[];
}

/** client → server request: gradcheck every `fn` with a `grad` block (or the one named). */
export const gradcheckRequest = 'nn/gradcheck';
export interface GradcheckParams {
  uri: string;
  fn?: string;
}
export interface GradcheckResult {
  fns: { fn: string; ok: boolean; inputs: { name: string; maxAbsError: number; maxRelError: number }[] }[];
}

/** client → server request: export the model to ONNX (forward-only) beside the file. */
export const exportOnnxRequest = 'nn/exportOnnx';
export interface ExportOnnxParams {
  uri: string;
  model?: string;
  outPath?: string;
}
export interface ExportOnnxResult {
  path: string;
  /** The checkpoint whose weights were exported, or null for the seeded initial weights. */
  weights?: string | null;
}

/** server → client notification: one run event, for the Training view and status bar. */
export const trainProgressNotification = 'nn/trainProgress';
export interface TrainProgressParams {
  uri: string;
  runId: string;
  event: RunEvent;
}

/**
 * Initialization options the client passes in `initialize`. `trusted` says whether the
 * workspace is trusted: when false, training, probing, gradcheck and export are refused
 * (checking still works). Absent means trusted (an editor without workspace trust, `nn lsp`).
 */
export interface InitializationOptions {
  trusted?: boolean;
}

/** client → server notification: the workspace's trust changed. */
export const trustChangedNotification = 'nn/trustChanged';
export interface TrustChangedParams {
  trusted: boolean;
}

/** The commands the code lenses invoke; the client implements them (arguments: one object). */
export const trainCommand = 'nn.train';
export const probeGradientsCommand = 'nn.probeGradients';
export const gradcheckCommand = 'nn.gradcheck';
export interface ModelCommandArgs {
  uri: string;
  model: string;
}
export interface FnCommandArgs {
  uri: string;
  fn: string;
}
