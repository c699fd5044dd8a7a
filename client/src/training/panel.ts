// The "Training" webview panel beside the editor: shows the latest TrainingView, posting it
// at most a few times a second, and hands the webview's clicks to the extension.

import * as vscode from 'vscode';
import type { HostMessage, TrainingView, WebviewMessage } from '../webview/view.js';
import { createNonce, trainingPanelHtml } from './panelHtml.js';

/** Posting every step of a fast run would flood the webview; 5 updates a second look live. */
const POST_INTERVAL_MS = 200;

export class TrainingPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private view: TrainingView | undefined;
  private postTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly onClick: (message: Exclude<WebviewMessage, { type: 'ready' }>) => void,
  ) {}

  /** Opens the panel beside the editor, or brings it forward. */
  show(preserveFocus: boolean): void {
    if (this.panel) {
      this.panel.reveal(undefined, preserveFocus);
      return;
    }
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const panel = vscode.window.createWebviewPanel(
      'nn.training',
      'Training',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus },
      { enableScripts: true, localResourceRoots: [dist] },
    );
    const webview = panel.webview;
    webview.html = trainingPanelHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css')).toString(),
      nonce: createNonce(),
    });
    webview.onDidReceiveMessage((message: WebviewMessage) => {
      // The page loads anew whenever it is shown again; `ready` asks for the current view.
      if (message.type === 'ready') this.post();
      else this.onClick(message);
    });
    panel.onDidDispose(() => {
      this.panel = undefined;
      clearTimeout(this.postTimer);
      this.postTimer = undefined;
    });
    this.panel = panel;
  }

  update(view: TrainingView): void {
    this.view = view;
    if (this.panel && this.postTimer === undefined) {
      this.postTimer = setTimeout(() => {
        this.postTimer = undefined;
        this.post();
      }, POST_INTERVAL_MS);
    }
  }

  private post(): void {
    if (!this.panel || !this.view) return;
    const message: HostMessage = { type: 'update', view: this.view };
    void this.panel.webview.postMessage(message);
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
