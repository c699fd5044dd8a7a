// The run commands: train (with a cancellable progress notification, a status-bar item, the
// run log and the Training view fed by `nn/trainProgress`), stop, probe, gradcheck and ONNX
// export. All of them run the model, so they are refused in an untrusted workspace.

import * as vscode from 'vscode';
import { randomUUID } from 'node:crypto';
import { WorkDoneProgress, type LanguageClient, type RequestType } from 'vscode-languageclient/node.js';
import {
  exportOnnxRequest,
  gradcheckRequest,
  probeRequest,
  stopTrainingRequest,
  trainProgressNotification,
  trainRequest,
  type ExportOnnxParams,
  type GradcheckParams,
  type ProbeParams,
  type TrainParams,
  type TrainProgressParams,
} from '../../../server/src/protocol.js';
import { fileName, resolveTarget, type Target } from '../targets.js';
import { gradcheckReport, gradientTable, runLogLine, trainResultMessage } from './format.js';
import { TrainingPanel } from './panel.js';
import { revealLayer, revealOffsets } from './reveal.js';
import { TrainingRun } from './run.js';
import type { WebviewMessage } from '../webview/view.js';

const SHOW_VIEW = 'Show Training View';
const SHOW_LOG = 'Show Run Log';

/** The run in progress: its events go to the view and the status bar. */
interface ActiveRun {
  run: TrainingRun;
  runId?: string;
}

export class RunController implements vscode.Disposable {
  private readonly output = vscode.window.createOutputChannel('NN Training');
  private readonly statusBar = vscode.window.createStatusBarItem('nn.training', vscode.StatusBarAlignment.Left, 10);
  private readonly panel: TrainingPanel;
  private readonly subscriptions: vscode.Disposable[] = [];
  /** The run the Training view shows: the active one, else the last one. */
  private shown: TrainingRun | undefined;
  private active: ActiveRun | undefined;

  constructor(
    extensionUri: vscode.Uri,
    private readonly client: LanguageClient,
  ) {
    this.panel = new TrainingPanel(extensionUri, (message) => void this.onViewClick(message));
    this.statusBar.name = 'NN Training';
    this.statusBar.command = 'nn.showTrainingView';
    this.statusBar.tooltip = 'Show the Training view';
    this.subscriptions.push(
      client.onNotification(trainProgressNotification, (params: TrainProgressParams) => this.onRunEvent(params)),
    );
  }

  async train(arg: unknown): Promise<void> {
    const target = this.target(arg, 'train its model');
    if (!target || !this.requireTrust('Training')) return;
    const text = await this.textOf(target.uri);
    if (this.active) {
      const choice = await vscode.window.showWarningMessage('A training run is already in progress.', 'Stop It');
      if (choice) await this.stopTraining();
      return;
    }
    const run = new TrainingRun(target.uri.toString(), fileName(target.uri), target.model, text);
    const active: ActiveRun = { run };
    this.active = active;
    this.shown = run;
    void vscode.commands.executeCommand('setContext', 'nn.training', true);
    this.output.appendLine(`── ${new Date().toLocaleTimeString()} train ${target.uri.fsPath}${target.model ? ` (${target.model})` : ''}`);
    this.panel.show(true);
    this.refresh(run);
    const label = target.model ?? fileName(target.uri);
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Training ${label}`, cancellable: true },
        async (progress, token) => {
          // Our own token: the server reports on it instead of opening a second notification.
          const workDoneToken = `nn-train-${randomUUID()}`;
          let reported = 0;
          const progressListener = this.client.onProgress(WorkDoneProgress.type, workDoneToken, (value) => {
            if (value.kind === 'end') return;
            const percentage = value.percentage;
            progress.report({ message: value.message, increment: percentage === undefined ? undefined : percentage - reported });
            reported = percentage ?? reported;
          });
          const cancelListener = token.onCancellationRequested(() => void this.stopTraining());
          try {
            const params: TrainParams = { uri: run.uri, model: target.model, workDoneToken };
            return await this.client.sendRequest(trainRequest, params);
          } finally {
            progressListener.dispose();
            cancelListener.dispose();
          }
        },
      );
      const message = trainResultMessage(run.modelName ?? label, result);
      run.settle(message.text, message.ok);
      this.output.appendLine(message.text);
      const show = message.ok ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
      void show(message.text, SHOW_VIEW, SHOW_LOG).then((choice) => this.onMessageChoice(choice));
    } catch (error) {
      run.settle(`Training ${label} failed`, false);
      this.fail(`Training ${label} failed`, error);
    } finally {
      this.active = undefined;
      void vscode.commands.executeCommand('setContext', 'nn.training', false);
      this.refresh(run);
    }
  }

  async stopTraining(): Promise<void> {
    if (!this.active) {
      void vscode.window.showInformationMessage('No training run is in progress.');
      return;
    }
    this.output.appendLine('stop requested');
    try {
      await this.client.sendRequest(stopTrainingRequest);
    } catch (error) {
      this.fail('Stopping the training run failed', error);
    }
  }

  async probe(arg: unknown): Promise<void> {
    const target = this.target(arg, 'probe its gradients');
    if (!target || !this.requireTrust('Probing gradients')) return;
    const label = target.model ?? fileName(target.uri);
    try {
      const params: ProbeParams = { uri: target.uri.toString(), model: target.model };
      const text = await this.textOf(target.uri);
      const result = await this.requestWithProgress(`Probing the gradients of ${label}…`, probeRequest, params);
      const run = new TrainingRun(params.uri, fileName(target.uri), target.model, text);
      run.applyProbe(result.loss, result.layers, result.findings);
      this.output.appendLine(`── ${new Date().toLocaleTimeString()} probe ${target.uri.fsPath}: ${run.status()}`);
      for (const line of gradientTable(result.params)) this.output.appendLine(line);
      for (const finding of result.findings) this.output.appendLine(`${finding.severity} ${finding.code} in ${finding.layer}: ${finding.message}`);
      // A training run in progress keeps the view and the status bar.
      if (!this.active) {
        this.shown = run;
        this.panel.show(true);
        this.refresh(run);
      }
      const findings = result.findings.length === 1 ? '1 finding' : `${result.findings.length} findings`;
      void vscode.window
        .showInformationMessage(`Gradient probe of ${label}: ${run.status()}, ${findings}.`, SHOW_VIEW, SHOW_LOG)
        .then((choice) => this.onMessageChoice(choice));
    } catch (error) {
      this.fail(`Probing the gradients of ${label} failed`, error);
    }
  }

  async gradcheck(arg: unknown): Promise<void> {
    const target = this.target(arg, 'check its grad blocks');
    if (!target || !this.requireTrust('gradcheck')) return;
    try {
      const params: GradcheckParams = { uri: target.uri.toString(), fn: target.fn };
      const result = await this.requestWithProgress(`Checking grad blocks of ${target.fn ?? fileName(target.uri)}…`, gradcheckRequest, params);
      const report = gradcheckReport(result);
      this.output.appendLine(`── ${new Date().toLocaleTimeString()} gradcheck ${target.uri.fsPath}`);
      for (const line of report.lines) this.output.appendLine(line);
      const show = report.ok ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
      void show(report.summary, SHOW_LOG).then((choice) => this.onMessageChoice(choice));
    } catch (error) {
      this.fail('gradcheck failed', error);
    }
  }

  async exportOnnx(arg: unknown): Promise<void> {
    const target = this.target(arg, 'export its model');
    if (!target || !this.requireTrust('Exporting to ONNX')) return;
    const label = target.model ?? fileName(target.uri);
    try {
      const params: ExportOnnxParams = { uri: target.uri.toString(), model: target.model };
      const result = await this.requestWithProgress(`Exporting ${label} to ONNX…`, exportOnnxRequest, params);
      this.output.appendLine(`exported ${label} to ${result.path}`);
      void vscode.window.showInformationMessage(`Exported ${label} to ${result.path}`);
    } catch (error) {
      this.fail(`Exporting ${label} to ONNX failed`, error);
    }
  }

  showTrainingView(): void {
    this.panel.show(false);
    if (this.shown) this.panel.update(this.shown.view());
  }

  private onRunEvent(params: TrainProgressParams): void {
    const active = this.active;
    if (!active || vscode.Uri.parse(params.uri).toString() !== active.run.uri) return;
    active.runId ??= params.runId;
    if (params.runId !== active.runId) return;
    active.run.apply(params.event);
    this.output.appendLine(runLogLine(params.event));
    this.refresh(active.run);
  }

  /** Brings the status bar and the view up to date with `run`. */
  private refresh(run: TrainingRun): void {
    const running = this.active?.run === run;
    const icon = running ? '$(sync~spin)' : run.failed ? '$(warning)' : '$(check)';
    this.statusBar.text = `${icon} NN ${run.status()}`;
    this.statusBar.show();
    if (this.shown === run) this.panel.update(run.view());
  }

  private async onViewClick(message: Exclude<WebviewMessage, { type: 'ready' }>): Promise<void> {
    const run = this.shown;
    if (!run) return;
    const uri = vscode.Uri.parse(run.uri);
    if (message.type === 'revealLayer') await revealLayer(uri, message.layer, run.modelName);
    else await revealOffsets(uri, message.range);
  }

  private onMessageChoice(choice: string | undefined): void {
    if (choice === SHOW_VIEW) this.showTrainingView();
    else if (choice === SHOW_LOG) this.output.show(true);
  }

  /** Sends a request to the server with a progress notification titled `title` while it runs. */
  private requestWithProgress<P, R>(title: string, type: RequestType<P, R, void>, params: P): Thenable<R> {
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, () => this.client.sendRequest(type, params));
  }

  /** The text the server runs: the open document's (its findings' offsets point into it). */
  private async textOf(uri: vscode.Uri): Promise<string | undefined> {
    try {
      return (await vscode.workspace.openTextDocument(uri)).getText();
    } catch {
      return undefined;
    }
  }

  private target(arg: unknown, action: string): Target | undefined {
    const target = resolveTarget(arg);
    if (!target) void vscode.window.showErrorMessage(`Open a .nn file to ${action}.`);
    return target;
  }

  /** Running a model reads data and writes files: only in a workspace the user trusts. */
  private requireTrust(what: string): boolean {
    if (vscode.workspace.isTrusted) return true;
    void vscode.window.showWarningMessage(
      `${what} is disabled in Restricted Mode: it runs the model on this workspace's files (reading ` +
        'its data, writing checkpoints), so it needs a trusted workspace. Checking, hovers and hints still work.',
      'Manage Workspace Trust',
    ).then((choice) => {
      if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
    });
    return false;
  }

  private fail(what: string, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.output.appendLine(`${what}: ${reason}`);
    void vscode.window.showErrorMessage(`${what}: ${reason}`, SHOW_LOG).then((choice) => this.onMessageChoice(choice));
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.panel.dispose();
    this.statusBar.dispose();
    this.output.dispose();
  }
}
