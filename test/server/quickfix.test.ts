// Quick fixes from the checker's fixes, applied through the protocol and re-checked: the
// diagnostic they fix is gone and no new error appears.

import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import type { CodeAction } from 'vscode-languageserver/node';
import { LspClient, repoRoot } from './lspClient.js';

let client: LspClient;
before(async () => {
  client = await LspClient.start();
});
after(async () => {
  await client.stop();
});

const cases: [file: string, code: string][] = [
  ['err_linear_features.nn', 'NN2103'],
  ['err_conv_channels.nn', 'NN2104'],
  ['err_grad_shape.nn', 'NN3002'],
  ['warn_softmax_ce.nn', 'NN3102'],
];

for (const [file, code] of cases) {
  test(`${code}: the quick fix in ${file} removes the diagnostic`, async () => {
    const uri = await client.open(resolve(repoRoot, 'test', 'fixtures', 'conformance', file));
    const published = await client.diagnosticsFor(uri);
    const diagnostic = published.diagnostics.find((d) => d.code === code);
    assert.ok(diagnostic, `${code} reported`);
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: diagnostic.range, context: { diagnostics: [diagnostic] } });
    const fix = actions.find((a) => a.kind === 'quickfix' && a.diagnostics?.some((d) => d.code === code));
    assert.ok(fix?.edit?.changes?.[uri], `a quick fix for ${code}`);
    const version = await client.edit(uri, fix.edit.changes[uri]);
    const after = await client.diagnosticsFor(uri, version);
    assert.ok(!after.diagnostics.some((d) => d.code === code), `${code} gone after "${fix.title}"`);
    assert.ok(!after.diagnostics.some((d) => d.severity === 1), `no error after "${fix.title}": ${after.diagnostics.map((d) => d.message).join('; ')}`);
  });
}

test('did-you-mean fixes for a misspelt layer, function, keyword argument and train key, each applied in turn', async () => {
  const text = [
    'model M(x: [B, 2]) -> [B, 2] {',
    '  fc = Linera(2, 2)',
    '  h = rleu(x)',
    '  h = softmax(h, axs = 1)',
    '  return fc(h)',
    '}',
    'train M {',
    '  data  = xor()',
    '  epocs = 2',
    '}',
    '',
  ].join('\n');
  const uri = await client.open(resolve(repoRoot, 'test', 'server', 'fixtures', 'misspelt.nn'), text);
  let published = await client.diagnosticsFor(uri);
  const applied: string[] = [];
  for (let round = 0; round < 6; round++) {
    const diagnostic = published.diagnostics.find((d) => d.severity === 1);
    if (!diagnostic) break;
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: diagnostic.range, context: { diagnostics: [diagnostic] } });
    const fix = actions.find((a) => a.title.startsWith('Change to'));
    assert.ok(fix?.edit?.changes?.[uri], `a did-you-mean fix for ${diagnostic.code} ${diagnostic.message}`);
    applied.push(fix.title);
    published = await client.diagnosticsFor(uri, await client.edit(uri, fix.edit.changes[uri]));
  }
  assert.deepEqual(applied, ['Change to `Linear`', 'Change to `relu`', 'Change to `axis`', 'Change to `epochs`']);
  assert.deepEqual(published.diagnostics.filter((d) => d.severity === 1), []);
});
