// Shows a place of a `.nn` file in its editor: a finding's range, or a layer's declaration
// found through the language server's document symbols.

import * as vscode from 'vscode';
import type { TextRange } from '../../../engine/src/lang/api.js';
import { fileName } from '../targets.js';
import { findLayerSymbol } from './symbols.js';

async function showRange(uri: vscode.Uri, toRange: (document: vscode.TextDocument) => vscode.Range): Promise<void> {
  const document = await vscode.workspace.openTextDocument(uri);
  const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
  const range = toRange(document);
  const editor = await vscode.window.showTextDocument(document, {
    viewColumn: visible?.viewColumn ?? vscode.ViewColumn.One,
    selection: range,
  });
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

/** Reveals a range given as offsets into the document's text (as findings carry them). */
export function revealOffsets(uri: vscode.Uri, range: TextRange): Promise<void> {
  return showRange(uri, (document) => new vscode.Range(document.positionAt(range.start), document.positionAt(range.end)));
}

type AnySymbol = vscode.DocumentSymbol | vscode.SymbolInformation;

function isDocumentSymbol(symbol: AnySymbol): symbol is vscode.DocumentSymbol {
  return 'selectionRange' in symbol;
}

/** Reveals the declaration of `layer` (in `model` when known); says so when there is none. */
export async function revealLayer(uri: vscode.Uri, layer: string, model: string | undefined): Promise<void> {
  const symbols =
    (await vscode.commands.executeCommand<AnySymbol[] | undefined>('vscode.executeDocumentSymbolProvider', uri)) ?? [];
  const documentSymbols = symbols.filter(isDocumentSymbol);
  const found =
    documentSymbols.length > 0
      ? findLayerSymbol(documentSymbols, layer, model)?.selectionRange
      : findLayerSymbol(symbols.filter((s): s is vscode.SymbolInformation => !isDocumentSymbol(s)), layer, model)?.location.range;
  if (!found) {
    void vscode.window.showInformationMessage(`No declaration of layer ${layer} found in ${fileName(uri)}.`);
    return;
  }
  await showRange(uri, () => found);
}
