// Half-typed lines over a real JSON-RPC connection to the built server: a key or argument
// with no value yet (`loss = `, `Adam(lr = `, `relu(`) is one error at its line, and hovers
// and completions on the lines after it are what they are without the broken line.

import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import type { CompletionItem, Hover } from 'vscode-languageserver/node';
import { LspClient, repoRoot } from './lspClient.js';

const MODEL = 'model M(x: [B, 2]) -> [B, 2] {\n  fc = Linear(2, 2)\n  BODY\n  h = relu(fc(x))\n  return h\n}\n';
const TRAIN = 'train M {\n  data = xor()\n  TRAIN\n  optimizer = Adam(lr = 0.001)\n  epochs = 3\n}\n';

/** The file with `body` in the model (before `h = relu(fc(x))`) and `train` in the train block (before `optimizer`). */
function file(body: string, train: string): string {
  return MODEL.replace('  BODY\n', body === '' ? '' : `  ${body}\n`) + '\n' + TRAIN.replace('  TRAIN\n', train === '' ? '' : `  ${train}\n`);
}

let client: LspClient;
let opened = 0;
let clean: (string | null)[];
before(async () => {
  client = await LspClient.start();
  clean = await hovers(await open(file('', '')));
  for (const [k, h] of clean.entries()) assert.ok(h, `hover ${k} of the clean file`);
});
after(async () => {
  await client.stop();
});

async function open(text: string): Promise<string> {
  const uri = await client.open(resolve(repoRoot, 'test', 'server', 'fixtures', `half_typed_${opened++}.nn`), text);
  await client.diagnosticsFor(uri);
  return uri;
}

/** The hover text at the first `needle`, `delta` characters in, or null when there is none. */
async function hoverAt(uri: string, needle: string, delta = 0): Promise<string | null> {
  const h = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: client.positionOf(uri, needle, 0, delta) });
  return h === null ? null : (h.contents as { value: string }).value;
}

/** The hovers the tests compare: the optimizer, its `lr`, the epochs, a layer and a binding in the model. */
async function hovers(uri: string): Promise<(string | null)[]> {
  return Promise.all([hoverAt(uri, 'Adam', 1), hoverAt(uri, 'lr = 0.001'), hoverAt(uri, 'epochs'), hoverAt(uri, 'fc = '), hoverAt(uri, 'h = relu'), hoverAt(uri, 'return h', 7)]);
}

for (const [body, train] of [
  ['', 'loss = '],
  ['', 'data = '],
  ['', 'optimizer = Adam(lr = '],
  ['', 'loss = cross_entropy('],
  ['y = relu(', ''],
  ['y = ', ''],
  ['y = h +', ''],
] as const) {
  test(`\`${body || train}\` is one error at its line; the hovers after it are unchanged`, async () => {
    const uri = await open(file(body, train));
    const published = await client.diagnosticsFor(uri);
    const broken = client.positionOf(uri, `${body || train}\n`).line;
    const problems = published.diagnostics.filter((d) => d.severity === 1 || d.severity === 2);
    assert.ok(problems.length > 0, 'the half-typed line is an error');
    for (const d of problems) assert.equal(d.range.start.line, broken, `${d.code} ${d.message} on line ${d.range.start.line + 1}, not the half-typed line ${broken + 1}`);
    assert.deepEqual(await hovers(uri), clean);
  });
}

test('after a half-typed `loss = `, completion still offers the losses there and the train keys on a new line', async () => {
  const text = file('', 'loss = ').replace('  epochs = 3\n', '  epochs = 3\n  \n');
  const uri = await open(text);
  const losses = (await client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: client.positionOf(uri, 'loss = ', 0, 7) })).map((c) => c.label);
  assert.ok(losses.includes('cross_entropy'), losses.join(' '));
  const keys = (await client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: client.positionOf(uri, '  \n}', 0, 2) })).map((c) => c.label);
  assert.ok(keys.includes('batch') && !keys.includes('Linear'), keys.join(' '));
});
