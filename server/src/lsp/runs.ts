// Training, probing, gradcheck and export requests, and the init-time gradient pass after
// an edit settles. All of them run in a worker (jobs.ts); this module reports progress,
// forwards run events, records statistics and findings, and enforces trust and the
// workspace boundary.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import {
  LSPErrorCodes,
  MessageType,
  ResponseError,
  ShowMessageNotification,
  WorkDoneProgress,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressCreateRequest,
  type CancellationToken,
  type Connection,
  type ExecuteCommandParams,
  type ProgressToken,
} from 'vscode-languageserver/node';
import { checkProgram } from '../../../engine/src/lang/program.js';
import { emptySemantics, type SemanticModel } from '../../../engine/src/lang/semantics.js';
import { Dim } from '../../../engine/src/shape/dim.js';
import { CHECKPOINT_FILE } from '../../../engine/src/run/checkpoint.js';
import { splitName, type RunEvent } from '../../../engine/src/core/events.js';
import { sizeLimitProblem } from '../../../engine/src/run/limits.js';
import type { Analysis } from '../ide/analysis.js';
import type { RunResults } from '../ide/runResults.js';
import {
  exportOnnxRequest,
  gradcheckRequest,
  probeRequest,
  SERVER_COMMANDS,
  stopTrainingRequest,
  trainProgressNotification,
  trainRequest,
  type ExportOnnxParams,
  type FnCommandArgs,
  type ModelCommandArgs,
  type ExportOnnxResult,
  type GradcheckParams,
  type GradcheckResult,
  type ProbeParams,
  type ProbeResult,
  type StopTrainingResult,
  type TrainParams,
  type TrainProgressParams,
  type TrainResult,
} from '../protocol.js';
import { RANDOM_DIM_SIZE, type InitProbeResult } from '../workerProtocol.js';
import { Debouncer } from './debounce.js';
import { DownloadProgressReport } from './downloads.js';
import { JobStopped, startJob, type RunningJob } from './jobs.js';
import type { Settings } from './settings.js';
import { filePathOf, writablePath } from './workspace.js';

export interface RunContext {
  document(uri: string): TextDocument | undefined;
  analysis(uri: string): Analysis | null;
  results(uri: string): RunResults;
  settings(): Settings;
  trusted(): boolean;
  roots(): string[];
  progressSupported(): boolean;
  /** Republishes a document's diagnostics and refreshes hints after new run results. */
  resultsChanged(uri: string): void;
  /** A run downloaded a data set: checks every open document anew (their NN4008 notes go). */
  dataChanged(): void;
}

/** The settle time after an edit before the init-time gradient pass runs. */
export const LIVE_GRADIENT_DELAY_MS = 1000;

interface ActiveTraining {
  uri: string;
  model: string;
  job: RunningJob<'train'>;
  progressToken: ProgressToken | null;
}

let runCounter = 0;
let progressCounter = 0;

export class Runs {
  private training: ActiveTraining | null = null;
  private startingTraining = false;
  /** Steps of the current run, from its start event, for progress percentages. */
  private totalSteps = 0;
  /** Progress tokens whose `begin` was sent (a download may begin one before the run's start event). */
  private readonly begun = new Set<ProgressToken>();
  private readonly initJobs = new Map<string, RunningJob<'initProbe'>>();
  private readonly liveDebouncer = new Debouncer();

  constructor(
    private readonly connection: Connection,
    private readonly ctx: RunContext,
  ) {}

  register(): void {
    this.connection.onRequest(trainRequest, (params, token) => this.train(params, token));
    this.connection.onRequest(stopTrainingRequest, () => this.stopTraining());
    this.connection.onRequest(probeRequest, (params) => this.probe(params));
    this.connection.onRequest(gradcheckRequest, (params) => this.gradcheck(params));
    this.connection.onRequest(exportOnnxRequest, (params) => this.exportOnnx(params));
    this.connection.onExecuteCommand((params, token) => this.execute(params, token));
  }

  /**
   * A code lens's command from any LSP client: the run with `$/progress` (cancellable on a
   * train), its findings as diagnostics, and a `window/showMessage` saying how it ended.
   */
  private async execute({ command, arguments: args, workDoneToken }: ExecuteCommandParams, token: CancellationToken): Promise<unknown> {
    const arg = (args?.[0] ?? {}) as Partial<ModelCommandArgs & FnCommandArgs>;
    if (typeof arg.uri !== 'string') {
      this.announce(MessageType.Error, `${command} needs a document: { "uri": ... } as its argument.`);
      return null;
    }
    const uri = arg.uri;
    if (command === SERVER_COMMANDS.train) {
      const result = await this.train({ uri, ...(arg.model ? { model: arg.model } : {}), ...(workDoneToken !== undefined ? { workDoneToken } : {}) }, token);
      this.announce(result.reason === 'error' ? MessageType.Error : result.reason === 'nan' ? MessageType.Warning : MessageType.Info, result.message);
      return result;
    }
    const label = arg.model ?? arg.fn ?? 'this file';
    try {
      switch (command) {
        case SERVER_COMMANDS.probe: {
          const result = await this.withProgress(`Probing the gradients of ${label}`, workDoneToken, () => this.probe({ uri, ...(arg.model ? { model: arg.model } : {}) }));
          const findings = result.findings.length === 1 ? '1 finding' : `${result.findings.length} findings`;
          this.announce(MessageType.Info, `Gradient probe of ${label}: loss ${result.loss.toPrecision(4)}, ${findings}${result.findings.length > 0 ? ' (in the problems list)' : ''}.`);
          return result;
        }
        case SERVER_COMMANDS.gradcheck: {
          const result = await this.withProgress(`Checking the grad blocks of ${label}`, workDoneToken, () => this.gradcheck({ uri, ...(arg.fn ? { fn: arg.fn } : {}) }));
          const failed = result.fns.filter((f) => !f.ok).map((f) => f.fn);
          if (failed.length === 0) this.announce(MessageType.Info, `gradcheck: ${result.fns.map((f) => f.fn).join(', ')} match${result.fns.length === 1 ? 'es' : ''} finite differences.`);
          else this.announce(MessageType.Warning, `gradcheck: ${failed.join(', ')} ${failed.length === 1 ? 'does' : 'do'} not match finite differences.`);
          return result;
        }
        case SERVER_COMMANDS.exportOnnx: {
          const result = await this.withProgress(`Exporting ${label} to ONNX`, workDoneToken, () => this.exportOnnx({ uri, ...(arg.model ? { model: arg.model } : {}) }));
          this.announce(MessageType.Info, `Exported ${label} to ${result.path}.`);
          return result;
        }
        default:
          this.announce(MessageType.Error, `Unknown command ${command}.`);
          return null;
      }
    } catch (error) {
      this.announce(MessageType.Error, (error as Error).message);
      return null;
    }
  }

  /** A `window/showMessage` (a notification: no answer is awaited). */
  private announce(type: MessageType, message: string): void {
    void this.connection.sendNotification(ShowMessageNotification.type, { type, message });
  }

  /** Runs `work` with a `$/progress` begin and end on the client's token, or one of the server's. */
  private async withProgress<T>(title: string, clientToken: ProgressToken | undefined, work: () => Promise<T>): Promise<T> {
    const token = await this.progressToken(clientToken);
    if (token === null) return work();
    this.connection.sendProgress(WorkDoneProgress.type, token, { kind: 'begin', title, cancellable: false });
    try {
      return await work();
    } finally {
      this.connection.sendProgress(WorkDoneProgress.type, token, { kind: 'end' });
    }
  }

  /** Registered after `initialize`, replacing the library's handler, so a client's own token cancels too. */
  registerProgressCancel(): void {
    this.connection.onNotification(WorkDoneProgressCancelNotification.type, ({ token }) => {
      if (this.training && this.training.progressToken === token) this.training.job.stop();
    });
  }

  /** Schedules the init-time gradient pass of a document's models once edits settle. */
  scheduleLiveGradients(uri: string): void {
    this.liveDebouncer.schedule(uri, LIVE_GRADIENT_DELAY_MS, () => void this.liveGradients(uri));
  }

  /** Trust was withdrawn: nothing keeps running on the workspace's data. */
  trustRevoked(): void {
    this.training?.job.stop();
    this.cancelLiveGradients();
  }

  /** Forgets a closed document's pending work. */
  close(uri: string): void {
    this.liveDebouncer.cancel(uri);
    this.initJobs.get(uri)?.kill();
    this.initJobs.delete(uri);
  }

  // ---------------------------------------------------------------------------------------

  private refusal(what: string): string | null {
    return this.ctx.trusted() ? null : `${what} is disabled: this workspace is not trusted. Checking, hovers and hints still work; trust the workspace to run code on its data.`;
  }

  /** The open document's file path, text and analysis. */
  private source(uri: string): { text: string; file: string; analysis: Analysis } | { error: string } {
    const file = filePathOf(uri);
    if (!file) return { error: `${uri} is not a file on disk; save it first.` };
    if (!this.ctx.document(uri)) return { error: `${file} is not open in the editor; open it to run it.` };
    const analysis = this.ctx.analysis(uri);
    if (!analysis) return { error: `${file} could not be analysed.` };
    return { text: analysis.text, file, analysis };
  }

  /**
   * The names of the text a job runs on, for anchoring its results when they arrive: the
   * shared analysis while the document is unchanged, else that text resolved on its own (a
   * re-check moves the shared trees' offsets to the edited text, lang/reuse.ts).
   */
  private namesOf(uri: string, source: { text: string; analysis: Analysis }): () => { semantics: SemanticModel; text: string } {
    const version = this.ctx.document(uri)?.version;
    let own: SemanticModel | null = null;
    return () => {
      if (this.ctx.document(uri)?.version === version) return { semantics: source.analysis.semantics, text: source.text };
      own ??= checkProgram(source.text, { semantics: true }).semantics ?? emptySemantics(source.text);
      return { semantics: own, text: source.text };
    };
  }

  private trainOf(analysis: Analysis, model: string | undefined) {
    const train = model ? analysis.check.trains.find((t) => t.model === model) : analysis.check.trains[0];
    if (train) return train;
    const errors = analysis.check.diagnostics.filter((d) => d.severity === 'error');
    const name = model ?? 'this file';
    if (errors.length > 0) return { error: `${name} cannot run: the file has ${errors.length} error${errors.length > 1 ? 's' : ''} (first: ${errors[0].code} ${errors[0].message}).` };
    return { error: model ? `There is no \`train ${model} { ... }\` block in this file.` : 'This file has no `train` block.' };
  }

  /** Why a model is too big to run under the nn.limits settings (the run's own NN4002 check), or null. */
  private overLimits(analysis: Analysis, model: string, batch: number): string | null {
    const ir = analysis.check.irs.get(model);
    const limits = this.ctx.settings().limits;
    const problem = ir ? sizeLimitProblem(ir, batch, limits) : null;
    if (!problem) return null;
    const setting = problem.key === 'model' ? `nn.limits.maxParameters (${limits.maxParameters.toLocaleString('en-US')})` : `nn.limits.maxActivationBytes (${limits.maxActivationBytes.toLocaleString('en-US')})`;
    return `NN4002 ${problem.message}; the limit is the setting ${setting}`;
  }

  private async train(params: TrainParams, token: CancellationToken): Promise<TrainResult> {
    const fail = (message: string): TrainResult => ({ reason: 'error', message, checkpoint: null, testAccuracy: null });
    const refused = this.refusal('Training');
    if (refused) return fail(refused);
    if (this.training || this.startingTraining) return fail(`A training run of ${this.training?.model ?? 'a model'} is in progress; stop it first (nn/stopTraining).`);
    const source = this.source(params.uri);
    if ('error' in source) return fail(source.error);
    const train = this.trainOf(source.analysis, params.model);
    if ('error' in train) return fail(train.error);
    const tooBig = this.overLimits(source.analysis, train.model, train.batch);
    if (tooBig) return fail(tooBig);
    const save = writablePath(this.ctx.roots(), source.file, train.save);
    if ('error' in save) return fail(save.error);
    this.cancelLiveGradients();

    const runId = `run-${++runCounter}`;
    const names = this.namesOf(params.uri, source);
    // Held while the progress token is created, so a second request cannot start a second run.
    this.startingTraining = true;
    const progressToken = await this.progressToken(params.workDoneToken).finally(() => (this.startingTraining = false));
    const download = new DownloadProgressReport((value) => progressToken !== null && this.progress(progressToken, `Training ${train.model}`, value));
    const job = startJob(
      { kind: 'train', file: source.file, text: source.text, allowPathsOutside: this.ctx.settings().allowPathsOutsideWorkspace, limits: this.ctx.settings().limits, dataCache: this.ctx.settings().dataCache, dataMirror: this.ctx.settings().dataMirror, model: train.model, backend: train.backend === 'auto' ? this.ctx.settings().backend : train.backend, saveDir: save.path, threads: this.ctx.settings().threads },
      (event) => this.onRunEvent(params.uri, runId, train.model, event, progressToken, names),
      (progress) => download.report(progress),
    );
    this.training = { uri: params.uri, model: train.model, job, progressToken };
    const cancelListener = token.onCancellationRequested(() => job.stop());
    try {
      return await job.result;
    } catch (error) {
      if (error instanceof JobStopped) return { reason: 'cancelled', message: `Training of ${train.model} was stopped.`, checkpoint: null, testAccuracy: null };
      return fail(`Training of ${train.model} failed: ${(error as Error).message}`);
    } finally {
      cancelListener.dispose();
      if (progressToken !== null && this.begun.delete(progressToken)) this.connection.sendProgress(WorkDoneProgress.type, progressToken, { kind: 'end' });
      this.training = null;
      if (download.happened) this.ctx.dataChanged();
    }
  }

  private stopTraining(): StopTrainingResult {
    if (!this.training) return { stopped: false };
    this.training.job.stop();
    return { stopped: true };
  }

  private async probe(params: ProbeParams): Promise<ProbeResult> {
    const refused = this.refusal('Probing gradients');
    if (refused) throw new ResponseError(LSPErrorCodes.RequestFailed, refused);
    const source = this.source(params.uri);
    if ('error' in source) throw new ResponseError(LSPErrorCodes.RequestFailed, source.error);
    const train = this.trainOf(source.analysis, params.model);
    if ('error' in train) throw new ResponseError(LSPErrorCodes.RequestFailed, train.error);
    const tooBig = this.overLimits(source.analysis, train.model, train.batch);
    if (tooBig) throw new ResponseError(LSPErrorCodes.RequestFailed, tooBig);
    const download = new DownloadProgressReport(() => undefined);
    const names = this.namesOf(params.uri, source);
    const job = startJob({ kind: 'probe', file: source.file, text: source.text, allowPathsOutside: this.ctx.settings().allowPathsOutsideWorkspace, limits: this.ctx.settings().limits, dataCache: this.ctx.settings().dataCache, dataMirror: this.ctx.settings().dataMirror, model: train.model, batches: params.batches ?? 1 }, () => undefined, (progress) => download.report(progress));
    try {
      const result = await job.result;
      const results = this.ctx.results(params.uri);
      const { semantics, text } = names();
      results.recordStats(train.model, 'probe', 0, result, semantics, text);
      results.recordFindings(train.model, result.findings, semantics, text);
      this.ctx.resultsChanged(params.uri);
      return result;
    } catch (error) {
      throw new ResponseError(LSPErrorCodes.RequestFailed, `Probing ${train.model} failed: ${(error as Error).message}`);
    } finally {
      if (download.happened) this.ctx.dataChanged();
    }
  }

  private async gradcheck(params: GradcheckParams): Promise<GradcheckResult> {
    const refused = this.refusal('Gradcheck');
    if (refused) throw new ResponseError(LSPErrorCodes.RequestFailed, refused);
    const source = this.source(params.uri);
    if ('error' in source) throw new ResponseError(LSPErrorCodes.RequestFailed, source.error);
    const fns = source.analysis.check.fns.filter((f) => f.hasGrad && (params.fn === undefined || f.name === params.fn));
    if (fns.length === 0) throw new ResponseError(LSPErrorCodes.RequestFailed, params.fn ? `There is no fn ${params.fn} with a grad block.` : 'This file has no fn with a grad block.');
    const missing = fns.filter((f) => !source.analysis.check.fnIrs.has(f.name));
    if (missing.length > 0) throw new ResponseError(LSPErrorCodes.RequestFailed, `${missing.map((f) => f.name).join(', ')} does not check; fix its errors first.`);
    try {
      return await startJob({ kind: 'gradcheck', file: source.file, text: source.text, allowPathsOutside: this.ctx.settings().allowPathsOutsideWorkspace, limits: this.ctx.settings().limits, dataCache: this.ctx.settings().dataCache, dataMirror: this.ctx.settings().dataMirror, fn: params.fn ?? null }, () => undefined).result;
    } catch (error) {
      throw new ResponseError(LSPErrorCodes.RequestFailed, `Gradcheck failed: ${(error as Error).message}`);
    }
  }

  private async exportOnnx(params: ExportOnnxParams): Promise<ExportOnnxResult> {
    const refused = this.refusal('Export');
    if (refused) throw new ResponseError(LSPErrorCodes.RequestFailed, refused);
    const source = this.source(params.uri);
    if ('error' in source) throw new ResponseError(LSPErrorCodes.RequestFailed, source.error);
    const model = params.model ?? source.analysis.check.trains[0]?.model ?? source.analysis.check.models.find((m) => m.hyperParams.length === 0)?.name;
    if (!model || !source.analysis.check.irs.has(model)) throw new ResponseError(LSPErrorCodes.RequestFailed, `${model ?? 'No model'} cannot be exported: it does not check without errors.`);
    const tooBig = this.overLimits(source.analysis, model, 1);
    if (tooBig) throw new ResponseError(LSPErrorCodes.RequestFailed, tooBig);
    const out = writablePath(this.ctx.roots(), source.file, params.outPath ?? `${model}.onnx`);
    if ('error' in out) throw new ResponseError(LSPErrorCodes.RequestFailed, out.error);
    // The weights of the model's last run when its checkpoint is there, else the initial ones.
    const train = source.analysis.check.trains.find((t) => t.model === model);
    const saveDir = train ? writablePath(this.ctx.roots(), source.file, train.save) : null;
    const checkpoint = saveDir && 'path' in saveDir ? join(saveDir.path, CHECKPOINT_FILE) : null;
    const weights = checkpoint && existsSync(checkpoint) ? checkpoint : null;
    try {
      return await startJob({ kind: 'exportOnnx', file: source.file, text: source.text, allowPathsOutside: this.ctx.settings().allowPathsOutsideWorkspace, limits: this.ctx.settings().limits, dataCache: this.ctx.settings().dataCache, dataMirror: this.ctx.settings().dataMirror, model, outPath: out.path, weights }, () => undefined).result;
    } catch (error) {
      throw new ResponseError(LSPErrorCodes.RequestFailed, `Export of ${model} failed: ${(error as Error).message}`);
    }
  }

  /** The client's token, else a server-created one when the client supports progress. */
  private async progressToken(clientToken: string | number | undefined): Promise<ProgressToken | null> {
    if (clientToken !== undefined) return clientToken;
    if (!this.ctx.progressSupported()) return null;
    const token = `nn-run-${++progressCounter}`;
    try {
      await this.connection.sendRequest(WorkDoneProgressCreateRequest.type, { token });
      return token;
    } catch {
      return null;
    }
  }

  /** One event of a training run: to the client, to `$/progress`, and into the run's results. */
  private onRunEvent(uri: string, runId: string, model: string, event: RunEvent, progressToken: ProgressToken | null, names: () => { semantics: SemanticModel; text: string }): void {
    const notification: TrainProgressParams = { uri, runId, event };
    this.connection.sendNotification(trainProgressNotification, notification);
    const results = this.ctx.results(uri);
    if (progressToken !== null) this.reportProgress(progressToken, model, event);
    if (event.type === 'step') {
      // A back end that samples its statistics sends steps without them: the last ones stay.
      if (event.layers.length > 0) {
        const { semantics, text } = names();
        results.recordStats(model, 'run', event.step, event, semantics, text);
      }
    } else if (event.type === 'end') {
      const { semantics, text } = names();
      results.recordFindings(model, event.findings, semantics, text);
      this.ctx.resultsChanged(uri);
    } else if (event.type === 'epoch') {
      this.ctx.resultsChanged(uri);
    }
  }

  private reportProgress(token: ProgressToken, model: string, event: RunEvent): void {
    const title = `Training ${model}`;
    if (event.type === 'start') {
      this.totalSteps = Math.max(1, event.epochs * event.stepsPerEpoch);
      this.progress(token, title, { percentage: 0, message: `${event.params.toLocaleString('en-US')} parameters on ${event.backend}` });
    } else if (event.type === 'step') {
      const percentage = Math.min(100, Math.round((100 * event.step) / this.totalSteps));
      this.progress(token, title, { percentage, message: `epoch ${event.epoch + 1} · step ${event.step} · loss ${event.loss.toPrecision(4)}` });
    } else if (event.type === 'epoch') {
      const split = splitName(event.evaluatedOn);
      const accuracy = event.testAccuracy === null ? '' : ` · ${split} accuracy ${(event.testAccuracy * 100).toFixed(1)}%`;
      this.progress(token, title, { message: `epoch ${event.epoch + 1} done · ${split} loss ${event.testLoss.toPrecision(4)}${accuracy}` });
    }
  }

  /** A `$/progress` report, preceded by its `begin` the first time a token is used. */
  private progress(token: ProgressToken, title: string, value: { percentage?: number; message: string }): void {
    if (this.begun.has(token)) {
      this.connection.sendProgress(WorkDoneProgress.type, token, { kind: 'report', ...value });
    } else {
      this.begun.add(token);
      this.connection.sendProgress(WorkDoneProgress.type, token, { kind: 'begin', title, cancellable: true, ...value });
    }
  }

  // ---------------------------------------------------------------------------------------

  private cancelLiveGradients(): void {
    for (const job of this.initJobs.values()) job.kill();
    this.initJobs.clear();
  }

  /** One forward + backward pass at init per affordable model; its statistics label hovers and hints "at init". */
  private async liveGradients(uri: string): Promise<void> {
    const budget = this.ctx.settings().liveGradients.maxFlops;
    if (budget <= 0 || this.training || !this.ctx.trusted()) return;
    const source = this.source(uri);
    if ('error' in source) return;
    this.initJobs.get(uri)?.kill();
    // With a `train` block the pass runs on the first batch of its data, else on random inputs.
    const { check } = source.analysis;
    const candidates = check.models
      .filter((m) => m.hyperParams.length === 0 && check.irs.has(m.name))
      .map((m) => ({ model: m.name, flops: m.flopCount, train: check.trains.find((t) => t.model === m.name) }))
      .filter(({ model, flops, train }) => {
        const batch = train?.batch ?? RANDOM_DIM_SIZE;
        return 3 * countAt(flops, batch) <= budget && !this.overLimits(source.analysis, model, batch);
      });
    const version = this.ctx.document(uri)?.version;
    for (const { model, train } of candidates) {
      const job = startJob({ kind: 'initProbe', file: source.file, text: source.text, allowPathsOutside: this.ctx.settings().allowPathsOutsideWorkspace, limits: this.ctx.settings().limits, dataCache: this.ctx.settings().dataCache, dataMirror: this.ctx.settings().dataMirror, model, withData: train !== undefined }, () => undefined);
      this.initJobs.set(uri, job);
      let result: InitProbeResult;
      try {
        result = await job.result;
      } catch (error) {
        if (error instanceof JobStopped) return; // superseded by a newer edit
        continue; // this model cannot run at init (int inputs without data, say); the others still can
      } finally {
        if (this.initJobs.get(uri) === job) this.initJobs.delete(uri);
      }
      if (this.ctx.document(uri)?.version !== version) return;
      this.ctx.results(uri).recordInit(model, result, result.inputs, source.analysis.semantics, source.text);
      this.ctx.resultsChanged(uri);
    }
  }
}

/** A symbolic count (FLOPs of `2359296*B + 10`) with every dim name set to `size`; unknown counts are infinite. */
export function countAt(count: Dim | null, size: number): number {
  if (count === null) return Infinity;
  const sizes = new Map([...count.names()].map((name) => [name, Dim.of(size)]));
  return count.substitute(sizes).constant() ?? Infinity;
}
