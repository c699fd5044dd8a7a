// Custom messages between the VS Code client and the language server, as typed
// RequestType/NotificationType constants (method, parameters and result in one place), the
// commands the server executes for any LSP client, and the Node options the server runs with.
// Both sides import it.

import { NotificationType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';
import { serverNodeOptions } from '../../engine/src/cli/serverNodeOptions.js';
import type { RunEvent, Finding, LayerGradStats, ParamGradStats, EvaluatedOn } from '../../engine/src/core/events.js';

export type { RunEvent, Finding, LayerGradStats, ParamGradStats };

/** Node options the server is started with, by the VS Code client and by `nn lsp`. */
export const serverExecArgv: string[] = [...serverNodeOptions];

/** client → server request: train the model of a `train` block; answers when the run ends. */
export interface TrainParams {
  uri: string;
  model?: string;
  /** The progress token the server reports `$/progress` on; cancel through it. */
  workDoneToken?: string | number;
}
export interface TrainResult {
  reason: 'done' | 'cancelled' | 'nan' | 'early_stop' | 'error';
  message: string;
  checkpoint: string | null;
  testAccuracy: number | null;
  /** The split `testAccuracy` is measured on. */
  evaluatedOn?: EvaluatedOn;
}
export const trainRequest = new RequestType<TrainParams, TrainResult, void>('nn/train');

/** client → server request: stop the running training (same as cancelling its progress).
 * Whether a run was going (it then ends with reason 'cancelled' after saving a checkpoint). */
export interface StopTrainingResult {
  stopped: boolean;
}
export const stopTrainingRequest = new RequestType0<StopTrainingResult, void>('nn/stopTraining');

/** client → server request: one forward + backward pass on the first batches (a probe). */
export interface ProbeParams {
  uri: string;
  model?: string;
  batches?: number;
}
export interface ProbeResult {
  loss: number;
  params: ParamGradStats[];
  layers: LayerGradStats[];
  findings: Finding[];
}
export const probeRequest = new RequestType<ProbeParams, ProbeResult, void>('nn/probe');

/** client → server request: gradcheck every `fn` with a `grad` block (or the one named). */
export interface GradcheckParams {
  uri: string;
  fn?: string;
}
export interface GradcheckResult {
  fns: { fn: string; ok: boolean; inputs: { name: string; maxAbsError: number; maxRelError: number }[] }[];
}
export const gradcheckRequest = new RequestType<GradcheckParams, GradcheckResult, void>('nn/gradcheck');

/** client → server request: export the model to ONNX (forward-only) beside the file. */
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
export const exportOnnxRequest = new RequestType<ExportOnnxParams, ExportOnnxResult, void>('nn/exportOnnx');

/** server → client notification: one run event, for the Training view and status bar. */
export interface TrainProgressParams {
  uri: string;
  runId: string;
  event: RunEvent;
}
export const trainProgressNotification = new NotificationType<TrainProgressParams>('nn/trainProgress');

/**
 * Initialization options the client passes in `initialize`. `trusted` says whether the
 * workspace is trusted: when false, training, probing, gradcheck and export are refused
 * (checking still works). Absent means trusted (an editor without workspace trust, `nn lsp`).
 */
export interface InitializationOptions {
  trusted?: boolean;
}

/** client → server notification: the workspace's trust changed. */
export interface TrustChangedParams {
  trusted: boolean;
}
export const trustChangedNotification = new NotificationType<TrustChangedParams>('nn/trustChanged');

/**
 * The commands the server executes (`workspace/executeCommand`), which its code lenses name,
 * so that ▶ Train works in every LSP client: progress on `$/progress`, cancellable, a
 * `window/showMessage` at the end, findings as diagnostics. Arguments: one object. The VS
 * Code client runs its own richer commands for them instead (the Training view).
 */
export const SERVER_COMMANDS = {
  train: 'nn.server.train',
  probe: 'nn.server.probe',
  gradcheck: 'nn.server.gradcheck',
  exportOnnx: 'nn.server.exportOnnx',
} as const;
export type ServerCommand = (typeof SERVER_COMMANDS)[keyof typeof SERVER_COMMANDS];

export interface ModelCommandArgs {
  uri: string;
  model?: string;
}
export interface FnCommandArgs {
  uri: string;
  fn?: string;
}
