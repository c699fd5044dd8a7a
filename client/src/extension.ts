// The NN Studio extension's entry point: starts the language server and registers the
// `nn.*` commands.

import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node.js';
import { createLanguageClient, forwardWorkspaceTrust } from './server.js';
import { RunController } from './training/controller.js';

let client: LanguageClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const languageClient = createLanguageClient(context);
  client = languageClient;
  const runs = new RunController(context.extensionUri, languageClient);
  const commands: Record<string, (arg?: unknown) => unknown> = {
    'nn.train': (arg) => runs.train(arg),
    'nn.stopTraining': () => runs.stopTraining(),
    'nn.probeGradients': (arg) => runs.probe(arg),
    'nn.gradcheck': (arg) => runs.gradcheck(arg),
    'nn.exportOnnx': (arg) => runs.exportOnnx(arg),
    'nn.showTrainingView': () => runs.showTrainingView(),
    'nn.restartServer': () => restartServer(languageClient),
  };
  context.subscriptions.push(
    runs,
    forwardWorkspaceTrust(languageClient),
    ...Object.entries(commands).map(([id, handler]) => vscode.commands.registerCommand(id, handler)),
  );
  // Not awaited: the commands work (and report a stopped server) while the server starts.
  languageClient.start().catch((error: unknown) => {
    void vscode.window.showErrorMessage(`The NN language server did not start: ${String(error)}`);
  });
}

async function restartServer(languageClient: LanguageClient): Promise<void> {
  try {
    if (languageClient.isRunning()) await languageClient.restart();
    else await languageClient.start();
    void vscode.window.showInformationMessage('The NN language server restarted.');
  } catch (error) {
    void vscode.window.showErrorMessage(`The NN language server did not restart: ${String(error)}`);
  }
}

export function deactivate(): Promise<void> | undefined {
  return client?.stop();
}
