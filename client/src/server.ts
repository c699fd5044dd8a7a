// Starts the bundled language server (dist/server.js) over Node IPC, keeps it told whether
// VS Code trusts the workspace, and runs the extension's own commands (with the Training
// view) where a code lens names one of the server's.

import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node.js';
import {
  trustChangedNotification,
  type InitializationOptions,
  type ServerCommand,
  type TrustChangedParams,
  serverExecArgv,
} from '../../server/src/protocol.js';
import { CLIENT_COMMAND_FOR } from './serverCommands.js';

export function createLanguageClient(context: vscode.ExtensionContext): LanguageClient {
  const module = vscode.Uri.joinPath(context.extensionUri, 'dist', 'server.js').fsPath;
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc, options: { execArgv: serverExecArgv } },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: [...serverExecArgv, '--nolazy', '--inspect=6009'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'nn' },
      { scheme: 'untitled', language: 'nn' },
    ],
    synchronize: { configurationSection: 'nn' },
    // A function, so that a restarted server learns the trust of the moment.
    initializationOptions: (): InitializationOptions => ({ trusted: vscode.workspace.isTrusted }),
    middleware: {
      executeCommand: (command, args, next) => {
        const own = CLIENT_COMMAND_FOR[command as ServerCommand];
        return own ? vscode.commands.executeCommand(own, ...args) : next(command, args);
      },
    },
  };
  // The id `nn` makes the client read `nn.trace.server`.
  return new LanguageClient('nn', 'NN Language Server', serverOptions, clientOptions);
}

/** Tells a running server when the user grants the workspace trust. */
export function forwardWorkspaceTrust(client: LanguageClient): vscode.Disposable {
  return vscode.workspace.onDidGrantWorkspaceTrust(() => {
    if (!client.isRunning()) return;
    const params: TrustChangedParams = { trusted: true };
    void client.sendNotification(trustChangedNotification, params);
  });
}
