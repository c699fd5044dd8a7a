// `nn lsp`: the CLI starts the language server over stdio, so any LSP editor can use it.

import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { LspClient, repoRoot } from './lspClient.js';

test('`nn lsp` speaks LSP over stdio: a broken shape is reported', async () => {
  await LspClient.using({ command: [resolve(repoRoot, 'dist', 'cli.js'), 'lsp'] }, async (client) => {
    const uri = await client.open(resolve(repoRoot, 'test', 'fixtures', 'conformance', 'err_linear_features.nn'));
    const published = await client.diagnosticsFor(uri);
    assert.ok(published.diagnostics.some((d) => d.code === 'NN2103'));
  });
});
