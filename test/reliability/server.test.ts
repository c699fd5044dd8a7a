// The language server never dies and never falls behind: thousands of random edits (garbage,
// huge lines, lone UTF-16 surrogates) over a real JSON-RPC connection, then correct answers
// for a valid document; a 100,000-line file keeps hovers answered and edits superseding.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Hover, Position, TextEdit } from 'vscode-languageserver/node';
import { LspClient, repoRoot } from '../server/lspClient.js';
import { tempWorkspace } from './harness.js';

const validText = readFileSync(join(repoRoot, 'test', 'fixtures', 'conformance', 'ok_mlp.nn'), 'utf8');
const workspace = tempWorkspace('server');

/** LSP errors a client must accept: the request was cancelled or its document moved on. */
const acceptableErrorCodes = new Set([-32800, -32801]);

const nnFragments = [
  'model ', 'fn ', 'train ', 'grad(g) {', 'const c = c', '(', ')', '[', ']', '{', '}', '|>', '**', '@', '"', '\\',
  '#', '\n', ';', ',', '=', 'Linear(', 'Conv2d(1, 8, 3)', '[B, *S]', '1e999', '-1e308', '1e12', '0.', '.5e', 'x -> ',
  'return ', 'h = relu(h)\n', 'data = npy(x = "../../outside.npy", y = "/etc/hostname")', 'reshape(x, [-1, -1])',
];

const insertedText = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...nnFragments) },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 2, arbitrary: fc.constantFrom('\uD800', '\uDC00', '\uDBFF\uDBFF', 'a\uDFFFb', '\uFFFF', '\u0000', '\u2028', '\r\n', '\r') },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 30_000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 50, max: 5_000 }).map((n) => '('.repeat(n)) },
);

interface RandomEdit {
  /** Where the edit starts, as a fraction of the text's length. */
  at: number;
  deleteLength: number;
  text: string;
}

const randomEdit: fc.Arbitrary<RandomEdit> = fc.record({
  at: fc.integer({ min: 0, max: 1_000_000 }).map((n) => n / 1_000_000),
  deleteLength: fc.oneof(fc.constant(0), fc.nat({ max: 20 }), fc.nat({ max: 5_000 })),
  text: fc.oneof(insertedText, fc.constant('')),
});

const requests = ['hover', 'inlayHint', 'documentSymbol', 'semanticTokens', 'completion', 'codeLens', 'foldingRange', 'formatting', 'codeAction', 'signatureHelp', 'definition'] as const;

function requestParams(kind: (typeof requests)[number], uri: string, position: Position): [string, unknown] {
  const textDocument = { uri };
  const range = { start: { line: 0, character: 0 }, end: position };
  switch (kind) {
    case 'hover':
    case 'completion':
    case 'signatureHelp':
    case 'definition':
      return [`textDocument/${kind}`, { textDocument, position }];
    case 'inlayHint':
      return ['textDocument/inlayHint', { textDocument, range }];
    case 'semanticTokens':
      return ['textDocument/semanticTokens/full', { textDocument }];
    case 'formatting':
      return ['textDocument/formatting', { textDocument, options: { tabSize: 2, insertSpaces: true } }];
    case 'codeAction':
      return ['textDocument/codeAction', { textDocument, range, context: { diagnostics: [] } }];
    default:
      return [`textDocument/${kind}`, { textDocument }];
  }
}

/** Diagnostics with the document's own URI (in related information) replaced, to compare two documents. */
function withUri(diagnostics: unknown[], uri: string): unknown {
  return JSON.parse(JSON.stringify(diagnostics).split(uri).join('<document>'));
}

function hoverText(hover: Hover | null): string {
  if (!hover) return '';
  const contents = hover.contents;
  if (typeof contents === 'string') return contents;
  if (Array.isArray(contents)) return contents.map((c) => (typeof c === 'string' ? c : c.value)).join('\n');
  return contents.value;
}

describe('the language server survives random edits', () => {
  let client: LspClient;
  before(async () => {
    client = await LspClient.start({ workspaceFolder: workspace });
  });
  after(() => client.stop());

  it('answers hover and diagnostics correctly after thousands of hostile edits', async () => {
    // What a fresh server says about the valid document: the reference after the storm.
    const referenceUri = await client.open(join(workspace, 'reference.nn'), validText);
    const referenceDiagnostics = (await client.diagnosticsFor(referenceUri, 1, 30_000)).diagnostics;
    const hoverAt = client.positionOf(referenceUri, 'Linear(hidden, 3)');
    const referenceHover = hoverText(await client.request<Hover | null>('textDocument/hover', { textDocument: { uri: referenceUri }, position: hoverAt }));
    assert.match(referenceHover, /\[B, 3\]/, 'the reference hover shows the layer output shape');
    assert.deepEqual(referenceDiagnostics.filter((d) => d.severity === 1 || d.severity === 2), []);

    let edits = 0;
    let run = 0;
    const outcome = await fc.check(
      fc.asyncProperty(fc.array(randomEdit, { minLength: 40, maxLength: 100, size: 'max' }), fc.array(fc.nat(), { minLength: 10, maxLength: 10 }), async (storm, picks) => {
        run += 1;
        const runStarted = performance.now();
        const uri = await client.open(join(workspace, `storm-${run}.nn`), validText);
        for (let i = 0; i < storm.length; i++) {
          const { at, deleteLength, text } = storm[i]!;
          const doc = client.document(uri);
          const length = doc.getText().length;
          const start = Math.floor(at * length);
          const end = Math.min(length, start + deleteLength);
          const edit: TextEdit = { range: { start: doc.positionAt(start), end: doc.positionAt(end) }, newText: text };
          await client.edit(uri, [edit]);
          edits += 1;
          if (i % 10 === 9) {
            // A request on the broken text: any answer, or a cancellation, but never an internal error.
            const pick = picks[Math.floor(i / 10) % picks.length]!;
            const kind = requests[pick % requests.length]!;
            const current = client.document(uri);
            const position = current.positionAt(pick % (current.getText().length + 1));
            const [method, params] = requestParams(kind, uri, position);
            const asked = performance.now();
            await client.request(method, params).catch((error: { code?: number; message?: string }) => {
              if (!acceptableErrorCodes.has(error.code ?? 0)) throw new Error(`${method} failed after ${edits} edits: ${error.message}`);
            });
            if (process.env.NN_RELIABILITY_VERBOSE) process.stderr.write(`${method} ${(performance.now() - asked).toFixed(0)} ms, text ${current.getText().length}\n`);
          }
        }
        // The storm ends; the document becomes valid again and must be analysed like a fresh one.
        const version = await client.replace(uri, validText);
        const diagnostics = (await client.diagnosticsFor(uri, version, 30_000)).diagnostics;
        assert.deepEqual(withUri(diagnostics, uri), withUri(referenceDiagnostics, referenceUri));
        const hover = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: hoverAt });
        assert.equal(hoverText(hover), referenceHover);
        await client.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
        if (process.env.NN_RELIABILITY_VERBOSE) process.stderr.write(`# run ${run}: ${storm.length} edits in ${(performance.now() - runStarted).toFixed(0)} ms\n`);
      }),
      { numRuns: 40, seed: 20261127, endOnFailure: true },
    );
    if (outcome.failed) {
      // The counterexample holds 100 kB strings: report its shape, not its text.
      const storm = (outcome.counterexample?.[0] ?? []) as RandomEdit[];
      const summary = storm.map((e) => `${(e.at * 100).toFixed(0)}%-${e.deleteLength}+${JSON.stringify(e.text.slice(0, 12))}${e.text.length > 12 ? `…(${e.text.length})` : ''}`);
      assert.fail(`run ${run} (seed ${outcome.seed}): ${String((outcome.errorInstance as Error | undefined)?.message ?? outcome.errorInstance)}\nedits: ${summary.join(' ')}`);
    }
    assert.ok(edits >= 2000, `only ${edits} edits were sent`);
  });
});

/** A valid model of `lines` lines: a long chain of bindings, each one shape-checked. */
function hugeModel(lines: number): string {
  const body = Array.from({ length: lines - 3 }, (_, i) => (i % 2 === 0 ? '  h = relu(h)' : '  h = h + h'));
  return ['model Huge(x: [B, 16]) -> [B, 16] {', '  h = relu(x)', ...body, '  return h', '}', ''].join('\n');
}

describe('a 100,000-line file stays responsive', () => {
  let client: LspClient;
  before(async () => {
    client = await LspClient.start({ workspaceFolder: workspace });
  });
  after(() => client.stop());

  it('answers a hover while checking, and newer edits supersede older checks', async () => {
    const text = hugeModel(100_000);
    const started = performance.now();
    const uri = await client.open(join(workspace, 'huge.nn'), text);
    const hover = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: 1, character: 3 } });
    const hoverMs = performance.now() - started;
    assert.match(hoverText(hover), /\[B, 16\]/);
    const first = await client.diagnosticsFor(uri, 1, 120_000);
    const checkMs = performance.now() - started;
    assert.deepEqual(first.diagnostics.filter((d) => d.severity === 1), []);
    // One check of the whole file bounds the wait for a hover (it is answered from that check).
    assert.ok(hoverMs <= checkMs + 1000, `hover took ${hoverMs.toFixed(0)} ms, the check ${checkMs.toFixed(0)} ms`);

    // Type 10 characters as fast as a client sends them: the server must not check each version in turn.
    const typed = 10;
    const burstStart = performance.now();
    let version = 1;
    for (let i = 0; i < typed; i++) {
      version = await client.edit(uri, [{ range: { start: { line: 1, character: 14 }, end: { line: 1, character: 14 } }, newText: i % 2 ? ' ' : '#' }]);
    }
    const last = await client.diagnosticsFor(uri, version, 120_000);
    const burstMs = performance.now() - burstStart;
    assert.deepEqual(last.diagnostics.filter((d) => d.severity === 1), []);
    const checkedVersions = new Set(client.published.filter((p) => p.uri === uri && (p.version ?? 0) > 1).map((p) => p.version));
    if (process.env.NN_RELIABILITY_VERBOSE) process.stderr.write(`hover ${hoverMs.toFixed(0)} ms, check ${checkMs.toFixed(0)} ms, ${typed} edits ${burstMs.toFixed(0)} ms, versions published: ${[...checkedVersions].join(" ")}\n`);
    assert.ok(checkedVersions.size <= typed / 2, `${checkedVersions.size} of ${typed} superseded versions were checked`);
    assert.ok(burstMs < 4 * checkMs + 2000, `${typed} quick edits took ${burstMs.toFixed(0)} ms; one check takes ${checkMs.toFixed(0)} ms`);
  });
});
