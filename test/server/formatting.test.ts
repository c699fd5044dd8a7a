// Formatting over the server connection: on every example and fixture, formatting keeps
// every non-blank character and comment, and formatting the result changes nothing.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import type { TextEdit } from 'vscode-languageserver/node';
import { applyEdits, LspClient, repoRoot } from './lspClient.js';

function nnFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? nnFiles(path) : name.endsWith('.nn') ? [path] : [];
  });
}

const files = [...nnFiles(resolve(repoRoot, 'examples')), ...nnFiles(resolve(repoRoot, 'test', 'fixtures')), ...nnFiles(resolve(repoRoot, 'test', 'server', 'fixtures'))];

let client: LspClient;
before(async () => {
  client = await LspClient.start();
});
after(async () => {
  await client.stop();
});

const options = { tabSize: 2, insertSpaces: true };

test('there are files to format', () => {
  assert.ok(files.length >= 10, `found ${files.length}`);
});

for (const file of files) {
  test(`formatting ${relative(repoRoot, file)} is idempotent and keeps the text`, async () => {
    const text = readFileSync(file, 'utf8');
    const uri = await client.open(file, text);
    const edits = await client.request<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options });
    const once = applyEdits(text, edits);
    assert.equal(once.replace(/\s+/g, ''), text.replace(/\s+/g, ''), 'only whitespace changes');
    await client.replace(uri, once);
    const again = await client.request<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options });
    assert.equal(applyEdits(once, again), once);
  });
}

test('the canonical layout: spacing, indentation, aligned declarations and comments', async () => {
  const text = 'const  a=-1\n\n\n\nmodel M( x : [B,2] )->[B ,4]{\n\n  l1=Linear(2,4)   # first\n   linear2 = Linear(4,4) # second\n  h=x|>l1|>relu\n  return   linear2(h)*-1+ 2**3\n\n}\ntrain M{data=xor()}\n';
  const uri = await client.open(resolve(repoRoot, 'test', 'server', 'fixtures', 'unformatted.nn'), text);
  const edits = await client.request<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options });
  assert.equal(
    applyEdits(text, edits),
    [
      'const a = -1',
      '',
      'model M(x: [B, 2]) -> [B, 4] {',
      '  l1      = Linear(2, 4)  # first',
      '  linear2 = Linear(4, 4)  # second',
      '  h = x |> l1 |> relu',
      '  return linear2(h) * -1 + 2 ** 3',
      '}',
      '',
      'train M { data = xor() }',
      '',
    ].join('\n'),
  );
});

test('slices are laid out as in Python, comparisons and tuple bindings as operators and bindings', async () => {
  const text = 'model M(x: [B, T, 2*D]) -> [B, D] {\n  a,b=chunk(x,2,dim=-1)\n  h = a[ : , 1 : T-1 : 2,...]\n  m = h[...,:-1]>-1\n  return a[:,-1]*(b[:, 0]>=0.5)\n}\n';
  const uri = await client.open(resolve(repoRoot, 'test', 'server', 'fixtures', 'slices.nn'), text);
  const edits = await client.request<TextEdit[]>('textDocument/formatting', { textDocument: { uri }, options });
  assert.equal(
    applyEdits(text, edits),
    'model M(x: [B, T, 2 * D]) -> [B, D] {\n  a, b = chunk(x, 2, dim = -1)\n  h = a[:, 1:T - 1:2, ...]\n  m = h[..., :-1] > -1\n  return a[:, -1] * (b[:, 0] >= 0.5)\n}\n',
  );
});
