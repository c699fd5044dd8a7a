// Language features over a real JSON-RPC connection to the built server: diagnostics,
// hovers, inlay hints, code lenses, completion, signature help, navigation, rename,
// symbols, folding and semantic tokens, on the conformance fixtures.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CodeLens, CompletionItem, DocumentSymbol, Hover, InlayHint, Location, SignatureHelp, WorkspaceEdit } from 'vscode-languageserver/node';
import { OPS } from '../../engine/src/ops/registry.js';
import { TRAIN_LOSSES } from '../../engine/src/lang/trainCatalogue.js';
import { SERVER_COMMANDS } from '../../server/src/protocol.js';
import { applyEdits, LspClient, repoRoot } from './lspClient.js';

const conformance = resolve(repoRoot, 'test', 'fixtures', 'conformance');
const fixture = (name: string) => join(conformance, name);

/** Expected codes per line (0-based) from `#! NN2103 NN2104` annotations. */
function annotations(text: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  text.split('\n').forEach((line, i) => {
    const m = /#!\s*((?:NN\d{4}\s*)+)$/.exec(line);
    if (m) out.set(i, m[1].trim().split(/\s+/));
  });
  return out;
}

/** The hover text at the `nth` `needle` in the document, `delta` characters in; fails when there is none. */
async function hoverAt(uri: string, needle: string, nth?: number, delta?: number): Promise<string> {
  const h = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: client.positionOf(uri, needle, nth, delta) });
  assert.ok(h, 'expected a hover');
  const contents = h.contents as { value: string };
  return contents.value;
}

let client: LspClient;
before(async () => {
  client = await LspClient.start();
});
after(async () => {
  await client.stop();
});

test('the server names itself and the package version in its initialize answer', () => {
  assert.deepEqual(client.serverInfo, { name: 'nn-studio', version: JSON.parse(readFileSync(resolve(repoRoot, 'package.json'), 'utf8')).version });
});

describe('diagnostics', () => {
  for (const name of readdirSync(conformance).filter((f) => f.endsWith('.nn'))) {
    test(`${name}: every annotated code on its line, no other error or warning`, async () => {
      const text = readFileSync(fixture(name), 'utf8');
      const uri = await client.open(fixture(name));
      const published = await client.diagnosticsFor(uri);
      const expected = annotations(text);
      for (const [line, codes] of expected) {
        for (const code of codes) {
          assert.ok(published.diagnostics.some((d) => d.code === code && d.range.start.line === line), `${code} expected on line ${line + 1}`);
        }
      }
      for (const d of published.diagnostics) {
        if (d.severity === 3 || d.severity === 4) continue;
        assert.ok(expected.get(d.range.start.line)?.includes(String(d.code)), `unexpected ${d.code} on line ${d.range.start.line + 1}: ${d.message}`);
        assert.equal(d.codeDescription?.href.endsWith(`docs/diagnostics.md#${String(d.code).toLowerCase()}`), true);
        assert.ok(d.codeDescription?.href.startsWith('file://'));
      }
    });
  }

  test('nn.maxNumberOfProblems caps what is published, errors first', async () => {
    await LspClient.using({ settings: { maxNumberOfProblems: 1 } }, async (capped) => {
      const uri = await capped.open(fixture('err_syntax_recovery.nn'));
      await capped.waitFor(() => capped.configurationRequests > 0);
      const version = await capped.replace(uri, readFileSync(fixture('err_syntax_recovery.nn'), 'utf8'));
      const published = await capped.diagnosticsFor(uri, version);
      assert.equal(published.diagnostics.length, 1);
      assert.equal(published.diagnostics[0].severity, 1);
    });
  });

  test('a client whose settings fail or never come still gets its diagnostics, with the defaults', async () => {
    for (const configuration of ['fail', 'never'] as const) {
      await LspClient.using({ configuration }, async (other) => {
        const uri = await other.open(fixture('err_linear_features.nn'));
        const published = await other.diagnosticsFor(uri, 1);
        assert.ok(published.diagnostics.some((d) => d.code === 'NN2103'), `${configuration}: ${JSON.stringify(published.diagnostics)}`);
      });
    }
  });

  test('NN2103 carries related information at the constructor argument', async () => {
    const uri = await client.open(fixture('err_linear_features.nn'));
    const published = await client.diagnosticsFor(uri);
    const d = published.diagnostics.find((x) => x.code === 'NN2103');
    assert.ok(d);
    assert.ok((d.relatedInformation ?? []).some((r) => r.location.range.start.line === 4), 'related information on the `fc1 = Linear(4608, 128)` line');
  });

  test('a burst of edits is checked once per settled version, the last one', async () => {
    const path = fixture('ok_mlp.nn');
    const uri = await client.open(path);
    await client.diagnosticsFor(uri);
    const before = client.published.filter((p) => p.uri === uri).length;
    let version = 0;
    for (let i = 0; i < 30; i++) version = await client.replace(uri, `${readFileSync(path, 'utf8')}\n# edit ${i}\n`);
    const last = await client.diagnosticsFor(uri, version);
    assert.equal(last.version, version);
    const publishes = client.published.filter((p) => p.uri === uri).length - before;
    assert.ok(publishes < 30, `expected superseded checks, got ${publishes} publishes for 30 edits`);
  });

  test('an edit that breaks a shape gets its error, the fix of the edit clears it', async () => {
    const path = fixture('ok_cnn.nn');
    const text = readFileSync(path, 'utf8');
    const uri = await client.open(path);
    await client.diagnosticsFor(uri);
    const broken = await client.replace(uri, text.replace('Linear(9216, 128)', 'Linear(4608, 128)'));
    const errors = await client.diagnosticsFor(uri, broken);
    assert.ok(errors.diagnostics.some((d) => d.code === 'NN2103'));
    const fixed = await client.replace(uri, text);
    assert.ok(!(await client.diagnosticsFor(uri, fixed)).diagnostics.some((d) => d.severity === 1));
  });
});

describe('hover', () => {
  test('a Linear layer: forward shapes, parameters and the backward pass with shapes, from the registry', async () => {
    const uri = await client.open(fixture('ok_cnn.nn'));
    const text = await hoverAt(uri, 'fc1(h)', 0, 1);
    assert.match(text, /\[B, 9216\]` → `\[B, 128\]/);
    assert.ok(text.includes(OPS.linear.doc.gradient), text);
    assert.ok(text.includes('`dL/dx : [B, 9216]`, `dL/dfc1.weight : [128, 9216]`, `dL/dfc1.bias : [128]`'), text);
    assert.ok(text.includes('fc1.weight : [128, 9216]'), text);
    assert.ok(text.includes('1,179,776 parameters'), text);
  });

  test('a Conv2d declaration: its weight gradient shape', async () => {
    const uri = await client.open(fixture('ok_cnn.nn'));
    const text = await hoverAt(uri, 'conv2 =');
    assert.ok(text.includes('`dL/dx : [B, 32, 26, 26]`'), text);
    assert.ok(text.includes('`dL/dconv2.weight : [64, 32, 3, 3]`'), text);
    assert.ok(text.includes(OPS.conv2d.doc.gradient), text);
  });

  test('a Conv2d with a pair kernel: the arguments per axis and the weight [out, in, kh, kw]', async () => {
    const uri = await client.open(join('test/fixtures/cases', 'ok_conv2d_tuple_kernel.nn'));
    const text = await hoverAt(uri, 'Conv2d(1, 4', 0, 1);
    assert.ok(text.includes('kernel = (1, 3), stride = (1, 2), padding = (0, 1), dilation = 1'), text);
    assert.ok(text.includes('conv2d_0.weight : [4, 1, 1, 3]'), text);
  });

  test('activations show their local derivative, from the registry', async () => {
    const uri = await client.open(fixture('ok_cnn.nn'));
    const relu = await hoverAt(uri, 'relu(conv1', 0, 1);
    assert.ok(relu.includes(OPS.relu.doc.derivative!), relu);
    assert.ok(relu.includes('[B, 32, 26, 26]'), relu);
    const lenet = await client.open(fixture('ok_lenet.nn'));
    const tanh = await hoverAt(lenet, 'tanh(c1', 0, 1);
    assert.ok(tanh.includes(OPS.tanh.doc.derivative!), tanh);
  });

  test('attention shows its per-head scores [B, heads, T, T] and the memory growing with T²', async () => {
    const uri = await client.open(resolve(repoRoot, 'test', 'fixtures', 'layers', 'ok_attention.nn'));
    const layer = await hoverAt(uri, 'attn = ');
    assert.ok(layer.includes('`scores per head : [B, 4, T, T]`, `16·B·T·T bytes`'), layer);
    assert.ok(layer.includes('`k per head : [B, 4, T, 4]`'), layer);
    assert.ok(layer.includes('activation memory `32·B·T·T + 256·B·T bytes`'), layer);
    const call = await hoverAt(uri, 'scaled_dot_product_attention(h', 0, 1);
    assert.ok(call.includes('`probabilities : [B, T, T]`, `4·B·T·T bytes`'), call);
  });

  test('a binding shows its shape and its gradient shape', async () => {
    const uri = await client.open(fixture('ok_cnn.nn'));
    const text = await hoverAt(uri, 'h = max_pool2d');
    assert.ok(text.includes('h : [B, 64, 12, 12]'), text);
    assert.ok(text.includes('dL/dh : [B, 64, 12, 12]'), text);
  });

  test('dims and hyper-parameters say what they are', async () => {
    const uri = await client.open(fixture('ok_block.nn'));
    const dim = await hoverAt(uri, 'H, W]');
    assert.match(dim, /symbolic dim of `Residual`/);
    const c = await hoverAt(uri, 'Conv2d(c', 0, 7);
    assert.match(c, /hyper-parameter of the block `Residual`/);
  });

  test('a fn with grad shows the gradient shapes it returns', async () => {
    const uri = await client.open(fixture('ok_custom_grad.nn'));
    const text = await hoverAt(uri, 'my_linear', 0, 2);
    assert.ok(text.includes('dL/dW : [O, I]'), text);
    assert.ok(text.includes('dL/db : [O]'), text);
  });
});

describe('hover on a subscript and its binding', () => {
  const source = [
    'model M(x: [B, T, D]) -> [B, T - 1, D] {',
    '  last = x[:, -1]',
    '  a, b = chunk(x, 2, dim = 0)',
    '  return x[:, :T-1]',
    '}',
    '',
  ].join('\n');
  const open = () => client.open(resolve(repoRoot, 'test', 'server', 'fixtures', 'subscript.nn'), source);

  test('the brackets show the shape taken and the shape given, the binding its symbolic shape', async () => {
    const uri = await open();
    const index = await hoverAt(uri, '[:, -1]', 0, 1);
    assert.ok(index.includes('`[B, T, D][:, -1] → [B, D]`'), index);
    assert.ok(index.includes(OPS.subscript.doc.gradient), index);
    const slice = await hoverAt(uri, '[:, :T-1]', 0, 2);
    assert.ok(slice.includes('→ [B, T - 1, D]`'), slice);
    const binding = await hoverAt(uri, 'last', 0, 1);
    assert.ok(binding.includes('[B, D]'), binding);
  });
});

describe('hover on operators, g and param', () => {
  const source = [
    'model M(x: [B, 4]) -> [B, 3] {',
    '  W = param([4, 3], init = xavier_uniform)',
    '  b = param([3], init = zeros)',
    '  h = x @ W + b',
    '  return h * 0.5',
    '}',
    '',
  ].join('\n');
  const open = () => client.open(resolve(repoRoot, 'test', 'server', 'fixtures', 'operators.nn'), source);

  test('`+` shows the broadcast shapes and the sum over the broadcast axis for the gradient', async () => {
    const uri = await open();
    const text = await hoverAt(uri, ' + b', 0, 1);
    assert.ok(text.includes('`[B, 3] + [3] → [B, 3]`'), text);
    assert.ok(text.includes(OPS.add.doc.gradient), text);
    assert.match(text, /`dL\/db : \[3\]` for `b`, Σ_B over the axes `b` was broadcast along/);
    assert.match(text, /`dL\/da : \[B, 3\]` for `x @ W`$/m);
  });

  test('`@` shows the product\'s shapes; a number operand has no gradient', async () => {
    const uri = await open();
    const matmul = await hoverAt(uri, '@ W', 0, 0);
    assert.ok(matmul.includes('`[B, 4] @ [4, 3] → [B, 3]`'), matmul);
    assert.ok(matmul.includes(OPS.matmul.doc.gradient), matmul);
    const scale = await hoverAt(uri, '* 0.5', 0, 0);
    assert.ok(scale.includes('a number, no gradient'), scale);
  });

  test('a `param` shows its shape, init and gradient', async () => {
    const uri = await open();
    const text = await hoverAt(uri, 'W + b', 0, 0);
    assert.ok(text.includes('`W : [4, 3]`'), text);
    assert.ok(text.includes('init `xavier_uniform`'), text);
    assert.ok(text.includes('`dL/dW : [4, 3]`'), text);
  });

  test('`g` in a grad block is the upstream gradient, with what the block returns', async () => {
    const uri = await client.open(fixture('ok_custom_grad.nn'));
    const text = await hoverAt(uri, 'g @ W', 0, 0);
    assert.ok(text.startsWith('`g : [B, O]`'), text);
    assert.ok(text.includes('`dL/dW : [O, I]`') && text.includes('`dL/db : [O]`'), text);
  });
});

describe('inlay hints and code lens', () => {
  test('the shape after each binding and pipe stage', async () => {
    const uri = await client.open(fixture('ok_cnn.nn'));
    const doc = client.document(uri);
    const hints = await client.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: doc.positionAt(doc.getText().length) } });
    const line = client.positionOf(uri, 'h = relu(conv1(x))').line;
    assert.ok(hints.some((h) => h.position.line === line && h.label === ': [B, 32, 26, 26]'), JSON.stringify(hints.filter((h) => h.position.line === line)));
    const mlp = await client.open(fixture('ok_mlp.nn'));
    const pipeHints = await client.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri: mlp }, range: { start: { line: 0, character: 0 }, end: { line: 100, character: 0 } } });
    assert.ok(pipeHints.some((h) => h.label === '[B, 64]'), JSON.stringify(pipeHints));
  });

  test('shape hints can be switched off', async () => {
    await LspClient.using({ settings: { inlayHints: { shapes: false, gradients: true } } }, async (off) => {
      const uri = await off.open(fixture('ok_cnn.nn'));
      await off.diagnosticsFor(uri);
      const hints = await off.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 100, character: 0 } } });
      assert.deepEqual(hints, []);
    });
  });

  test('Train and Probe on train blocks, Gradcheck on fns with grad', async () => {
    const uri = await client.open(fixture('ok_custom_grad.nn'));
    const lenses = await client.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
    const titles = lenses.map((l) => l.command?.title);
    assert.deepEqual(titles, ['✓ Gradcheck', '▶ Train', '∇ Probe gradients']);
    assert.deepEqual(lenses[0].command?.arguments, [{ uri, fn: 'my_linear' }]);
    // The server's own commands, so that the lenses work in any LSP client.
    assert.equal(lenses[1].command?.command, SERVER_COMMANDS.train);
    assert.equal(lenses[2].command?.command, SERVER_COMMANDS.probe);
    assert.deepEqual(lenses[2].command?.arguments, [{ uri, model: 'Tiny' }]);
  });
});

describe('completion and signature help', () => {
  test('data sets after `data =`, train keys at a line start, layers and locals in a model', async () => {
    const path = fixture('ok_cnn.nn');
    const text = readFileSync(path, 'utf8');
    const uri = await client.open(path, text.replace('  seed      = 0\n', '  seed      = 0\n  \n'));
    const doc = client.document(uri);
    const afterData = doc.positionAt(doc.getText().indexOf('fashion_mnist'));
    const values = await client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: afterData });
    assert.ok(values.some((c) => c.label === 'spirals'));
    assert.ok(!values.some((c) => c.label === 'Linear'));
    const keyLine = doc.positionAt(doc.getText().indexOf('  \n}') + 2);
    const keys = await client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: keyLine });
    assert.ok(keys.some((c) => c.label === 'optimizer'));
    const inBody = await client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: client.positionOf(uri, 'return fc2') });
    const linear = inBody.find((c) => c.label === 'Linear');
    assert.equal(linear?.detail, 'Linear(in, out, bias = true)');
    assert.ok(inBody.some((c) => c.label === 'conv1' && c.detail?.startsWith('Conv2d')));
    assert.ok(inBody.some((c) => c.label === 'classes'));
  });

  test('after `|>` only what takes a tensor', async () => {
    const text = 'const k = 2\nfn twice(v: [N, 2]) -> [N, 2] {\n  return v * 2\n}\nmodel M(x: [B, 2]) -> [B, 2] {\n  fc = Linear(2, 2)\n  W = param([2, 2])\n  h = x |> \n  return fc(h)\n}\n';
    const uri = await client.open(resolve(repoRoot, 'test', 'server', 'fixtures', 'pipe.nn'), text);
    const items = await client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: client.positionOf(uri, '|> ', 0, 3) });
    const labels = items.map((c) => c.label);
    for (const label of ['fc', 'twice', 'M', 'relu', 'softmax', 'Linear', 'Conv2d']) assert.ok(labels.includes(label), `${label} in ${labels.join(' ')}`);
    for (const label of ['x', 'W', 'k', 'h', 'param', 'return', 'true', 'xor']) assert.ok(!labels.includes(label), `no ${label}`);
  });

  test('inside `train`, only its keys, then the values of the key', async () => {
    const text = 'model M(x: [B, 2]) -> [B, 2] {\n  return x |> Linear(2, 2)\n}\ntrain M {\n  data = xor()\n  \n  loss = \n  optimizer = Adam()\n}\n';
    const uri = await client.open(resolve(repoRoot, 'test', 'server', 'fixtures', 'train_completion.nn'), text);
    const keys = (await client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: client.positionOf(uri, '  \n  loss', 0, 2) })).map((c) => c.label);
    assert.deepEqual(keys, ['data', 'loss', 'optimizer', 'epochs', 'batch', 'seed', 'validate', 'backend', 'schedule', 'warmup', 'clip_grad_norm', 'clip_grad_value', 'early_stopping', 'accumulate', 'no_decay', 'freeze', 'checkpoint', 'save']);
    const losses = (await client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: client.positionOf(uri, 'loss = ', 0, 7) })).map((c) => c.label);
    assert.deepEqual(losses, [...TRAIN_LOSSES]);
    assert.deepEqual([...losses].sort(), ['bce_with_logits', 'cross_entropy', 'huber', 'kl_div', 'mse', 'nll', 'smooth_l1']);
    const args = (await client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: client.positionOf(uri, 'Adam(', 0, 5) })).map((c) => c.label);
    assert.deepEqual(args, ['lr =', 'betas =', 'eps =', 'weight_decay =']);
    const betasUri = await client.open(resolve(repoRoot, 'test', 'server', 'fixtures', 'train_betas_hover.nn'), text.replace('  loss = \n', '').replace('Adam()', 'Adam(betas = (0.9, 0.98))'));
    const betas = await hoverAt(betasUri, 'betas =', 0, 1);
    assert.match(betas, /`betas = \(0\.9, 0\.999\)`: argument of `Adam\(lr = 0\.001, betas = \(0\.9, 0\.999\), eps = 1e-8, weight_decay = 0\)`/);
    const controls = 'model M(x: [B, 2]) -> [B, 2] {\n  return x |> Linear(2, 2)\n}\ntrain M {\n  data = xor()\n  no_decay = \n  optimizer = SGD(lr = 0.1, momentum = 0.9)\n}\n';
    const controlsUri = await client.open(resolve(repoRoot, 'test', 'server', 'fixtures', 'train_controls_completion.nn'), controls);
    const groups = (await client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri: controlsUri }, position: client.positionOf(controlsUri, 'no_decay = ', 0, 11) })).map((c) => c.label);
    assert.deepEqual(groups, ['"none"', '"bias_and_norm"']);
    const sgd = (await client.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri: controlsUri }, position: client.positionOf(controlsUri, '0.1, ', 0, 5) })).map((c) => c.label);
    assert.ok(sgd.includes('nesterov ='), sgd.join(' '));
  });

  test('signature help names the active parameter, keyword arguments included', async () => {
    const uri = await client.open(fixture('err_conv_channels.nn'));
    const help = await client.request<SignatureHelp>('textDocument/signatureHelp', { textDocument: { uri }, position: client.positionOf(uri, 'padding = 1', 0, 2) });
    assert.equal(help.signatures[0].label, 'Conv2d(in, out, kernel, stride = 1, padding = 0, dilation = 1, groups = 1, bias = true)');
    assert.equal(help.activeParameter, 4);
    const second = await client.request<SignatureHelp>('textDocument/signatureHelp', { textDocument: { uri }, position: client.positionOf(uri, '16, 3', 0, 1) });
    assert.equal(second.activeParameter, 1);
  });
});

describe('navigation and rename', () => {
  test('definition of a layer call and of a rebound name', async () => {
    const uri = await client.open(fixture('ok_cnn.nn'));
    const fc1 = await client.request<Location>('textDocument/definition', { textDocument: { uri }, position: client.positionOf(uri, 'fc1(h)') });
    assert.deepEqual(fc1.range.start, client.positionOf(uri, 'fc1   ='));
    // `h` in `max_pool2d(h, 2)` is the `h` bound on the line before.
    const h = await client.request<Location>('textDocument/definition', { textDocument: { uri }, position: client.positionOf(uri, 'max_pool2d(h', 0, 11) });
    assert.deepEqual(h.range.start, client.positionOf(uri, 'h = relu(conv2'));
    const model = await client.request<Location>('textDocument/definition', { textDocument: { uri }, position: client.positionOf(uri, 'train Net', 0, 6) });
    assert.deepEqual(model.range.start, client.positionOf(uri, 'Net(x', 0));
  });

  test('references of a const across models and shapes', async () => {
    const uri = await client.open(fixture('ok_cnn.nn'));
    const refs = await client.request<Location[]>('textDocument/references', { textDocument: { uri }, position: client.positionOf(uri, 'classes = 10'), context: { includeDeclaration: true } });
    assert.equal(refs.length, 3);
  });

  test('rename a layer, a model and a rebound name; the result checks clean', async () => {
    const path = fixture('ok_cnn.nn');
    const uri = await client.open(path);
    const layer = await client.request<WorkspaceEdit>('textDocument/rename', { textDocument: { uri }, position: client.positionOf(uri, 'fc1'), newName: 'dense' });
    assert.equal(layer.changes?.[uri].length, 2);
    const model = await client.request<WorkspaceEdit>('textDocument/rename', { textDocument: { uri }, position: client.positionOf(uri, 'Net'), newName: 'Classifier' });
    assert.equal(model.changes?.[uri].length, 2);
    const version = await client.edit(uri, [...layer.changes![uri], ...model.changes![uri]]);
    const renamed = client.document(uri).getText();
    assert.ok(renamed.includes('dense   = Linear(9216, 128)') && renamed.includes('train Classifier'));
    assert.ok(!(await client.diagnosticsFor(uri, version)).diagnostics.some((d) => d.severity === 1));
    const h = await client.request<WorkspaceEdit>('textDocument/rename', { textDocument: { uri }, position: client.positionOf(uri, 'h = flatten'), newName: 'act' });
    assert.equal(h.changes?.[uri].length, applyEdits(renamed, []).match(/\bh\b/g)?.length);
  });

  test('rename refuses built-ins and names that would clash', async () => {
    const uri = await client.open(fixture('ok_cnn.nn'));
    await assert.rejects(client.request('textDocument/rename', { textDocument: { uri }, position: client.positionOf(uri, 'relu'), newName: 'act' }));
    await assert.rejects(client.request('textDocument/rename', { textDocument: { uri }, position: client.positionOf(uri, 'fc1'), newName: 'fc2' }), /already defined/);
  });
});

describe('symbols, folding and semantic tokens', () => {
  test('models with their layers', async () => {
    const uri = await client.open(fixture('ok_block.nn'));
    const symbols = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
    assert.deepEqual(symbols.map((s) => s.name), ['Residual', 'ResNetTiny', 'train ResNetTiny']);
    assert.deepEqual(symbols[1].children?.map((c) => c.name), ['stem', 'res1', 'res2', 'head']);
  });

  test('folding ranges over bodies and comment runs', async () => {
    const uri = await client.open(fixture('ok_block.nn'));
    const folds = await client.request<{ startLine: number; endLine: number; kind?: string }[]>('textDocument/foldingRange', { textDocument: { uri } });
    assert.ok(folds.some((f) => f.kind === 'comment' && f.startLine === 0 && f.endLine === 1));
    assert.ok(folds.some((f) => f.startLine === 2 && f.kind === 'region'));
  });

  test('semantic tokens classify layers, bindings and dims', async () => {
    const uri = await client.open(fixture('ok_block.nn'));
    const legend = ['keyword', 'number', 'string', 'comment', 'function', 'class', 'variable', 'parameter', 'typeParameter', 'property', 'type', 'operator'];
    const { data } = await client.request<{ data: number[] }>('textDocument/semanticTokens/full', { textDocument: { uri } });
    const doc = client.document(uri);
    const tokens: { text: string; type: string }[] = [];
    let line = 0;
    let character = 0;
    for (let i = 0; i < data.length; i += 5) {
      line += data[i];
      character = data[i] === 0 ? character + data[i + 1] : data[i + 1];
      const start = doc.offsetAt({ line, character });
      tokens.push({ text: doc.getText().slice(start, start + data[i + 2]), type: legend[data[i + 3]] });
    }
    assert.ok(tokens.some((t) => t.text === 'Conv2d' && t.type === 'class'));
    assert.ok(tokens.some((t) => t.text === 'Residual' && t.type === 'class'));
    assert.ok(tokens.some((t) => t.text === 'H' && t.type === 'typeParameter'));
    assert.ok(tokens.some((t) => t.text === 'padding' && t.type === 'property'));
    assert.ok(tokens.some((t) => t.text === 'relu' && t.type === 'function'));
  });
});
