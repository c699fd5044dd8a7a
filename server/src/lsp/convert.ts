// Conversions between the analysis's offsets and plain data and the protocol's positions,
// ranges, diagnostics and edits.

import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import {
  DiagnosticSeverity,
  DiagnosticTag,
  type Diagnostic as LspDiagnostic,
  type Range,
  type TextEdit as LspTextEdit,
} from 'vscode-languageserver/node';
import type { Diagnostic, Severity, TextEdit, TextRange } from '../../../engine/src/lang/api.js';
import type { Finding } from '../../../engine/src/core/events.js';

/**
 * Where a code's documentation lives: `docs/diagnostics.md` of the installed extension (or
 * checkout), as a file URI, next to the `dist/` folder the server bundle runs from. A file
 * URI works offline and in every editor, and always matches the installed version; each
 * code's entry has the anchor `#nn2103` (the lower-cased code).
 */
export const DIAGNOSTICS_DOC = pathToFileURL(resolve(__dirname, '..', 'docs', 'diagnostics.md')).href;

export function diagnosticHref(code: string): string {
  return `${DIAGNOSTICS_DOC}#${code.toLowerCase()}`;
}

export function toRange(document: TextDocument, range: TextRange): Range {
  return { start: document.positionAt(range.start), end: document.positionAt(range.end) };
}

export function toEdit(document: TextDocument, edit: TextEdit): LspTextEdit {
  return { range: toRange(document, edit.range), newText: edit.newText };
}

function toSeverity(severity: Severity): DiagnosticSeverity {
  return severity === 'error' ? DiagnosticSeverity.Error : severity === 'warning' ? DiagnosticSeverity.Warning : DiagnosticSeverity.Information;
}

export function toDiagnostic(document: TextDocument, d: Diagnostic): LspDiagnostic {
  return {
    range: toRange(document, d.range),
    severity: toSeverity(d.severity),
    code: d.code,
    codeDescription: { href: diagnosticHref(d.code) },
    source: 'nn',
    message: d.message,
    relatedInformation: d.related.map((r) => ({ location: { uri: document.uri, range: toRange(document, r.range) }, message: r.message })),
    ...(d.code === 'NN3101' ? { tags: [DiagnosticTag.Unnecessary] } : {}),
  };
}

/** A run's or probe's finding as a diagnostic on the line of the layer it concerns. */
export function findingDiagnostic(document: TextDocument, finding: Finding, source: string): LspDiagnostic {
  return {
    range: toRange(document, finding.range),
    severity: toSeverity(finding.severity),
    code: finding.code,
    codeDescription: { href: diagnosticHref(finding.code) },
    source,
    message: `${finding.message} (${finding.layer}, step ${finding.step})`,
  };
}
