// Works out which `.nn` file and model (or fn) a command is about: the arguments a code lens
// passes, a file a menu passes, or else the active (or a visible) `.nn` editor.

import * as vscode from 'vscode';

export interface Target {
  uri: vscode.Uri;
  model?: string;
  fn?: string;
}

/** What the server's code lenses pass: `{ uri, model }` or `{ uri, fn }`, `uri` a string. */
interface LensArgument {
  uri: string | vscode.Uri;
  model?: unknown;
  fn?: unknown;
}

function isLensArgument(arg: unknown): arg is LensArgument {
  if (typeof arg !== 'object' || arg === null || !('uri' in arg)) return false;
  const uri = (arg as { uri: unknown }).uri;
  return typeof uri === 'string' || uri instanceof vscode.Uri;
}

function optionalName(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** The command's target, or undefined when there is neither an argument nor a `.nn` editor. */
export function resolveTarget(arg: unknown): Target | undefined {
  if (arg instanceof vscode.Uri) return { uri: arg };
  if (isLensArgument(arg)) {
    const uri = typeof arg.uri === 'string' ? vscode.Uri.parse(arg.uri) : arg.uri;
    return { uri, model: optionalName(arg.model), fn: optionalName(arg.fn) };
  }
  // With the Training view focused there is no active editor: fall back to a visible one.
  const editors = [vscode.window.activeTextEditor, ...vscode.window.visibleTextEditors];
  const editor = editors.find((e) => e?.document.languageId === 'nn');
  return editor ? { uri: editor.document.uri } : undefined;
}

/** The file's base name, for titles and messages. */
export function fileName(uri: vscode.Uri): string {
  return uri.path.slice(uri.path.lastIndexOf('/') + 1);
}
