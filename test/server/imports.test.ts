// Imports over a real JSON-RPC connection to the built server: go-to-definition into the
// imported file, hover and completion of imported names, an open document's unsaved text
// read before the disk's, and the importing file checked again when the imported one changes.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import type { CompletionItem, Hover, Location } from 'vscode-languageserver/node';
import { HANG_GUARD_MS, LspClient } from './lspClient.js';

const dir = mkdtempSync(join(tmpdir(), 'nn-lsp-imports-'));
const BLOCKS = `const hidden = 16

model Mlp[n_in, n_out](x: [B, n_in]) -> [B, n_out] {
  fc1 = Linear(n_in, hidden)
  return x |> fc1 |> relu |> Linear(hidden, n_out)
}

fn scale(x: [*S]) -> [*S] {
  return x * 0.5
}
`;
const MAIN = `import "blocks.nn"

model Net(x: [B, 4]) -> [B, 2] {
  body = Mlp(4, 2)
  return scale(body(x)) * hidden
}
`;
writeFileSync(join(dir, 'blocks.nn'), BLOCKS);
writeFileSync(join(dir, 'main.nn'), MAIN);
const blocksUri = pathToFileURL(join(dir, 'blocks.nn')).href;

let client: LspClient;
before(async () => {
  client = await LspClient.start({ workspaceFolder: dir });
});
after(async () => {
  await client.stop();
});

test('an importing file checks cleanly; definition, hover and completion reach the imported file', async () => {
  const uri = await client.open(join(dir, 'main.nn'));
  const published = await client.diagnosticsFor(uri);
  assert.deepEqual(published.diagnostics.map((d) => `${d.code} ${d.message}`), []);

  const mlp = await client.request<Location>('textDocument/definition', { textDocument: { uri }, position: client.positionOf(uri, 'Mlp(4', 0, 1) });
  assert.equal(mlp.uri, blocksUri);
  const blocksLines = BLOCKS.split('\n');
  assert.deepEqual(mlp.range, { start: { line: 2, character: 6 }, end: { line: 2, character: 9 } });
  assert.equal(blocksLines[2].slice(6, 9), 'Mlp');
  const scale = await client.request<Location>('textDocument/definition', { textDocument: { uri }, position: client.positionOf(uri, 'scale(body') });
  assert.equal(scale.uri, blocksUri);
  assert.equal(scale.range.start.line, 7);

  // The block's instance hovers as one of a block in the same file; the fn with its signature.
  const block = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: client.positionOf(uri, 'Mlp(4', 0, 1) });
  assert.match((block?.contents as { value: string }).value, /body\.fc1\.weight : \[16, 4\][\s\S]*back through the body of `Mlp`/);
  const fn = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: client.positionOf(uri, 'scale(body') });
  assert.match((fn?.contents as { value: string }).value, /scale\(x: \[\*S\]\) -> \[\*S\]/);

  const constant = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: client.positionOf(uri, 'hidden') });
  assert.equal((constant?.contents as { value: string }).value, '`const hidden = 16`\n\nfrom `blocks.nn`');

  const items = await client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: client.positionOf(uri, 'scale(body') });
  const labels = items.map((i) => i.label);
  for (const name of ['Mlp', 'scale', 'hidden', 'Net']) assert.ok(labels.includes(name), `completion lacks ${name}: ${labels.join(', ')}`);

  // Renaming an imported name from the importing file would leave its definition behind.
  const renamed = await client.connection.sendRequest('textDocument/rename', { textDocument: { uri }, position: client.positionOf(uri, 'Mlp(4', 0, 1), newName: 'Block' }).then(
    () => null,
    (error: Error) => error.message,
  );
  assert.match(String(renamed), /defined in an imported file/);
});

test("an open imported file's unsaved text wins over the disk's, and its edits re-check the importing file", async () => {
  const uri = await client.open(join(dir, 'main.nn'));
  await client.diagnosticsFor(uri);
  const before = client.published.length;
  // Opened with text that differs from the disk's: Mlp renamed, so main.nn no longer finds it.
  await client.open(join(dir, 'blocks.nn'), BLOCKS.replace('model Mlp', 'model Wide'));
  const undefinedMlp = await client.waitFor(() => client.published.slice(before).find((p) => p.uri === uri && p.diagnostics.some((d) => d.code === 'NN2001')), HANG_GUARD_MS, 'main.nn re-checked with NN2001');
  assert.match(undefinedMlp.diagnostics.find((d) => d.code === 'NN2001')!.message, /`Mlp`/);
  const again = client.published.length;
  await client.replace(blocksUri, BLOCKS);
  await client.waitFor(() => client.published.slice(again).find((p) => p.uri === uri && p.diagnostics.length === 0), HANG_GUARD_MS, 'main.nn clean again');
});

test('an imported file changed on disk (workspace/didChangeWatchedFiles) re-checks the importing file', async () => {
  assert.ok(client.registrations.includes('workspace/didChangeWatchedFiles'), client.registrations.join(', '));
  await client.connection.sendNotification('textDocument/didClose', { textDocument: { uri: blocksUri } });
  const uri = await client.open(join(dir, 'main.nn'));
  await client.diagnosticsFor(uri);
  const before = client.published.length;
  writeFileSync(join(dir, 'blocks.nn'), BLOCKS.replace('fn scale', 'fn halve'));
  await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: blocksUri, type: 2 }] });
  const published = await client.waitFor(() => client.published.slice(before).find((p) => p.uri === uri && p.diagnostics.some((d) => d.code === 'NN2001')), HANG_GUARD_MS, 'main.nn re-checked after the disk change');
  assert.match(published.diagnostics.find((d) => d.code === 'NN2001')!.message, /`scale`/);
  writeFileSync(join(dir, 'blocks.nn'), BLOCKS);
});
