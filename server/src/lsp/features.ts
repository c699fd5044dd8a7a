// The protocol handlers of the language features: each turns a request's positions into
// offsets, asks `ide`, and turns the plain result back into protocol types.

import { pathToFileURL } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  CodeActionKind,
  CompletionItemKind,
  FoldingRangeKind,
  InlayHintKind,
  MarkupKind,
  SemanticTokensBuilder,
  SymbolKind,
  type CodeAction,
  type CodeLens,
  type CompletionItem,
  type Connection,
  type DocumentSymbol,
  type FoldingRange,
  type InlayHint,
  type Location,
  type SemanticTokensLegend,
  type TextEdit,
} from 'vscode-languageserver/node';
import type { Analysis } from '../ide/analysis.js';
import { codeLenses } from '../ide/codeLens.js';
import { quickFixes } from '../ide/codeActions.js';
import { completions, type CompletionKind } from '../ide/completion.js';
import { formatText } from '../ide/formatter.js';
import { hover, type FlowLookup } from '../ide/hover.js';
import { inlayHints } from '../ide/inlayHints.js';
import { definition, prepareRename, references, rename } from '../ide/navigation.js';
import { semanticTokens, TOKEN_MODIFIERS, TOKEN_TYPES } from '../ide/semanticTokens.js';
import { signatureHelp } from '../ide/signatureHelp.js';
import { documentSymbols, foldingRanges, type DocumentSymbol as IdeSymbol } from '../ide/symbols.js';
import { findingDiagnostic, toDiagnostic, toEdit, toRange } from './convert.js';
import type { Finding } from '../../../engine/src/core/events.js';
import type { Settings } from './settings.js';

export const SEMANTIC_TOKENS_LEGEND: SemanticTokensLegend = { tokenTypes: [...TOKEN_TYPES], tokenModifiers: [...TOKEN_MODIFIERS] };

/** What the handlers need from the server: the current analysis and run results of a document. */
export interface FeatureContext {
  document(uri: string): TextDocument | undefined;
  analysis(uri: string): Analysis | null;
  flowLookup(uri: string): FlowLookup;
  /** The latest run's findings still valid for the document's text (their ranges where they are now). */
  findings(uri: string): Finding[];
  settings(): Settings;
  /** Whether the workspace is trusted: runnable code lenses only then. */
  trusted(): boolean;
}

const completionKinds: Record<CompletionKind, CompletionItemKind> = {
  keyword: CompletionItemKind.Keyword,
  function: CompletionItemKind.Function,
  layer: CompletionItemKind.Class,
  variable: CompletionItemKind.Variable,
  constant: CompletionItemKind.Constant,
  model: CompletionItemKind.Class,
  fn: CompletionItemKind.Function,
  key: CompletionItemKind.Property,
  value: CompletionItemKind.Value,
  argument: CompletionItemKind.Field,
};

const symbolKinds: Record<IdeSymbol['kind'], SymbolKind> = {
  model: SymbolKind.Class,
  fn: SymbolKind.Function,
  const: SymbolKind.Constant,
  train: SymbolKind.Event,
  layer: SymbolKind.Field,
  param: SymbolKind.Variable,
};

export function registerFeatures(connection: Connection, ctx: FeatureContext): void {
  const withAnalysis = <T>(uri: string, fallback: T, f: (doc: TextDocument, analysis: Analysis) => T): T => {
    const doc = ctx.document(uri);
    const analysis = ctx.analysis(uri);
    return doc && analysis ? f(doc, analysis) : fallback;
  };

  connection.onHover(({ textDocument, position }) =>
    withAnalysis(textDocument.uri, null, (doc, analysis) => {
      const result = hover(analysis, doc.offsetAt(position), ctx.flowLookup(textDocument.uri));
      return result ? { contents: { kind: MarkupKind.Markdown, value: result.markdown }, range: toRange(doc, result.range) } : null;
    }),
  );

  connection.languages.inlayHint.on(({ textDocument, range }) =>
    withAnalysis<InlayHint[]>(textDocument.uri, [], (doc, analysis) => {
      const hints = inlayHints(analysis, { start: doc.offsetAt(range.start), end: doc.offsetAt(range.end) }, ctx.settings().inlayHints, ctx.flowLookup(textDocument.uri));
      return hints.map((h) => ({
        position: doc.positionAt(h.offset),
        label: h.label,
        kind: h.kind === 'shape' ? InlayHintKind.Type : undefined,
        paddingLeft: true,
        ...(h.tooltip ? { tooltip: h.tooltip } : {}),
      }));
    }),
  );

  connection.onCodeLens(({ textDocument }) =>
    withAnalysis<CodeLens[]>(textDocument.uri, [], (doc, analysis) =>
      // A disabled lens names no command (an empty id): editors show its title, and it does nothing.
      codeLenses(analysis, ctx.trusted()).map((lens) => ({ range: toRange(doc, lens.range), command: { title: lens.title, command: lens.command ?? '', arguments: [lens.argument] } })),
    ),
  );

  connection.onCompletion(({ textDocument, position }) =>
    withAnalysis<CompletionItem[]>(textDocument.uri, [], (doc, analysis) =>
      completions(analysis, doc.offsetAt(position)).map((c) => ({
        label: c.label,
        kind: completionKinds[c.kind],
        ...(c.detail ? { detail: c.detail } : {}),
        ...(c.documentation ? { documentation: { kind: MarkupKind.Markdown, value: c.documentation } } : {}),
        ...(c.insertText ? { insertText: c.insertText } : {}),
      })),
    ),
  );

  connection.onSignatureHelp(({ textDocument, position }) =>
    withAnalysis(textDocument.uri, null, (doc, analysis) => {
      const help = signatureHelp(analysis, doc.offsetAt(position));
      if (!help) return null;
      return {
        signatures: [{ label: help.label, parameters: help.parameters.map((label) => ({ label })), ...(help.documentation ? { documentation: { kind: MarkupKind.Markdown, value: help.documentation } } : {}) }],
        activeSignature: 0,
        activeParameter: help.activeParameter,
      };
    }),
  );

  connection.onDefinition(({ textDocument, position }) =>
    withAnalysis<Location | null>(textDocument.uri, null, (doc, analysis) => {
      const found = definition(analysis, doc.offsetAt(position));
      if (found === null) return null;
      if (found.file === null) return { uri: textDocument.uri, range: toRange(doc, found.range) };
      const uri = pathToFileURL(found.file.path).href;
      return { uri, range: toRange(TextDocument.create(uri, 'nn', 0, found.file.text), found.range) };
    }),
  );

  connection.onReferences(({ textDocument, position, context }) =>
    withAnalysis<Location[]>(textDocument.uri, [], (doc, analysis) =>
      references(analysis, doc.offsetAt(position), context.includeDeclaration).map((r) => ({ uri: textDocument.uri, range: toRange(doc, r) })),
    ),
  );

  connection.onPrepareRename(({ textDocument, position }) =>
    withAnalysis(textDocument.uri, null, (doc, analysis) => {
      const range = prepareRename(analysis, doc.offsetAt(position));
      return range ? { range: toRange(doc, range), placeholder: doc.getText(toRange(doc, range)) } : null;
    }),
  );

  connection.onRenameRequest(({ textDocument, position, newName }) => {
    const doc = ctx.document(textDocument.uri);
    const analysis = ctx.analysis(textDocument.uri);
    if (!doc || !analysis) return null;
    const result = rename(analysis, doc.offsetAt(position), newName);
    if ('error' in result) throw new Error(result.error);
    return { changes: { [textDocument.uri]: result.edits.map((e) => toEdit(doc, e)) } };
  });

  connection.onDocumentSymbol(({ textDocument }) =>
    withAnalysis<DocumentSymbol[]>(textDocument.uri, [], (doc, analysis) => {
      const convert = (s: IdeSymbol): DocumentSymbol => ({
        name: s.name,
        detail: s.detail,
        kind: symbolKinds[s.kind],
        range: toRange(doc, s.range),
        selectionRange: toRange(doc, s.selectionRange),
        children: s.children.map(convert),
      });
      return documentSymbols(analysis).map(convert);
    }),
  );

  connection.onFoldingRanges(({ textDocument }) =>
    withAnalysis<FoldingRange[]>(textDocument.uri, [], (doc, analysis) =>
      foldingRanges(analysis)
        .map((f) => ({ startLine: doc.positionAt(f.start).line, endLine: doc.positionAt(f.end).line - (f.kind === 'region' ? 1 : 0), kind: f.kind === 'comment' ? FoldingRangeKind.Comment : FoldingRangeKind.Region }))
        .filter((f) => f.endLine > f.startLine),
    ),
  );

  connection.onDocumentFormatting(({ textDocument }) =>
    withAnalysis<TextEdit[]>(textDocument.uri, [], (doc, analysis) => {
      const errors = analysis.check.diagnostics.filter((d) => d.code === 'NN1001' || d.code === 'NN1002').map((d) => d.range.start);
      const formatted = formatText(analysis.text, analysis.semantics.tokens, analysis.semantics.tree, errors);
      if (formatted === null || formatted === analysis.text) return [];
      return [{ range: { start: doc.positionAt(0), end: doc.positionAt(analysis.text.length) }, newText: formatted }];
    }),
  );

  connection.languages.semanticTokens.on(({ textDocument }) =>
    withAnalysis(textDocument.uri, { data: [] }, (doc, analysis) => {
      const builder = new SemanticTokensBuilder();
      for (const t of semanticTokens(analysis)) {
        const position = doc.positionAt(t.start);
        const modifiers = t.modifiers.reduce((bits, m) => bits | (1 << TOKEN_MODIFIERS.indexOf(m)), 0);
        builder.push(position.line, position.character, t.length, TOKEN_TYPES.indexOf(t.type), modifiers);
      }
      return builder.build();
    }),
  );

  connection.onCodeAction(({ textDocument, range }) =>
    withAnalysis<CodeAction[]>(textDocument.uri, [], (doc, analysis) => {
      const wanted = { start: doc.offsetAt(range.start), end: doc.offsetAt(range.end) };
      const checked: CodeAction[] = quickFixes(analysis, wanted).map((fix) => ({
        title: fix.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [toDiagnostic(doc, fix.diagnostic)],
        isPreferred: fix.preferred,
        edit: { changes: { [textDocument.uri]: fix.edits.map((e) => toEdit(doc, e)) } },
      }));
      // A run finding's one-token fix (a learning rate, an epoch count) replaces the text at its range.
      const fromRun: CodeAction[] = ctx
        .findings(textDocument.uri)
        .filter((f) => f.fix && f.range.end >= wanted.start && f.range.start <= wanted.end)
        .map((f) => ({
          title: f.fix!.title,
          kind: CodeActionKind.QuickFix,
          diagnostics: [findingDiagnostic(doc, f, 'nn (run)')],
          isPreferred: true,
          edit: { changes: { [textDocument.uri]: [toEdit(doc, { range: f.range, newText: f.fix!.newText })] } },
        }));
      return [...checked, ...fromRun];
    }),
  );
}
