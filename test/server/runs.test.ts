// Runs through the server: workspace trust, each code lens's command through
// workspace/executeCommand (train, probe, gradcheck, export) as any LSP client runs it, a
// probe whose statistics reach hovers and hints and whose findings land on the layers'
// lines (also when an edit overtakes the probe), a short training run with `$/progress` and run events, cancellation through
// window/workDoneProgress/cancel, and the init-time gradient pass that shows a ten-sigmoid
// MLP's vanishing gradient before anything trains.

import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CodeLens, Hover, InlayHint } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { UNTRUSTED_SUFFIX } from '../../server/src/ide/codeLens.js';
import { SERVER_COMMANDS, type ExportOnnxResult, type GradcheckResult, type ProbeResult, type TrainProgressParams, type TrainResult } from '../../server/src/protocol.js';
import { HANG_GUARD_MS, LspClient, repoRoot } from './lspClient.js';

const fixtures = resolve(repoRoot, 'test', 'server', 'fixtures');
let workspace: string;
let client: LspClient;

before(async () => {
  workspace = mkdtempSync(join(tmpdir(), 'nn-lsp-'));
  for (const name of ['tiny_train.nn', 'long_train.nn', 'sigmoid_mlp.nn']) copyFileSync(join(fixtures, name), join(workspace, name));
  client = await LspClient.start({ workspaceFolder: workspace });
});
after(async () => {
  await client.stop();
  rmSync(workspace, { recursive: true, force: true });
});

const allLines = { start: { line: 0, character: 0 }, end: { line: 1000, character: 0 } };

/** The `∇ norm (label)` inlay hints of a document, by line. */
async function fetchGradientHints(client: LspClient, uri: string): Promise<Map<number, { norm: number; label: string }>> {
  const hints = await client.request<InlayHint[]>('textDocument/inlayHint', { textDocument: { uri }, range: allLines });
  const out = new Map<number, { norm: number; label: string }>();
  for (const h of hints) {
    const label = String(h.label);
    const m = /^∇ (\S+) \((.+)\)$/.exec(label);
    if (m) out.set(h.position.line, { norm: Number(m[1]), label: m[2] });
  }
  return out;
}

/** Polls the inlay hints until `count` gradient hints show (the init-time pass runs after edits settle), until the hang guard. */
async function waitForGradientHints(client: LspClient, uri: string, count: number): Promise<Map<number, { norm: number; label: string }>> {
  let found = new Map<number, { norm: number; label: string }>();
  const deadline = Date.now() + HANG_GUARD_MS;
  while (Date.now() < deadline && found.size < count) {
    await new Promise((r) => setTimeout(r, 250));
    found = await fetchGradientHints(client, uri);
  }
  return found;
}

describe('workspace trust', () => {
  test('an untrusted workspace refuses training and probing, and says why; trusting it allows them', async () => {
    await LspClient.using({ workspaceFolder: workspace, initializationOptions: { trusted: false } }, async (untrusted) => {
      const uri = await untrusted.open(join(workspace, 'tiny_train.nn'));
      const published = await untrusted.diagnosticsFor(uri);
      assert.deepEqual(published.diagnostics.filter((d) => d.severity === 1), [], 'checking works when untrusted');
      const result = await untrusted.request<TrainResult>('nn/train', { uri });
      assert.equal(result.reason, 'error');
      assert.match(result.message, /not trusted/);
      await assert.rejects(untrusted.request('nn/probe', { uri }), /not trusted/);
      await untrusted.connection.sendNotification('nn/trustChanged', { trusted: true });
      const probed = await untrusted.request<ProbeResult>('nn/probe', { uri });
      assert.equal(probed.params.length, 4);
    });
  });
});

describe('the code lenses\' commands, for any LSP client', () => {
  const lensCommand = async (c: LspClient, uri: string, title: string) => {
    const lenses = await c.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
    const lens = lenses.find((l) => l.command?.title.startsWith(title));
    assert.ok(lens?.command, `a ${title} lens: ${JSON.stringify(lenses)}`);
    return lens.command;
  };

  test('▶ Train through workspace/executeCommand: $/progress on a server token, run events, then window/showMessage', async () => {
    const uri = await client.open(join(workspace, 'tiny_train.nn'));
    const command = await lensCommand(client, uri, '▶ Train');
    assert.equal(command.command, SERVER_COMMANDS.train);
    const notified = client.notifications.length;
    const progressed = client.progress.length;
    const result = await client.request<TrainResult>('workspace/executeCommand', { command: command.command, arguments: command.arguments });
    assert.equal(result.reason, 'done', result.message);
    const progress = client.progress.slice(progressed);
    const token = progress[0]?.token;
    assert.equal(progress[0]?.value.kind, 'begin');
    assert.ok(progress.some((p) => p.token === token && p.value.kind === 'report' && p.value.percentage === 100));
    assert.ok(progress.some((p) => p.token === token && p.value.kind === 'end'));
    const after = client.notifications.slice(notified);
    assert.ok(after.some((n) => n.method === 'nn/trainProgress'));
    const message = await client.waitFor(() => client.notifications.slice(notified).find((n) => n.method === 'window/showMessage'), HANG_GUARD_MS, 'the end message');
    const shown = message.params as { type: number; message: string };
    assert.equal(shown.type, 3, 'information');
    assert.match(shown.message, /Trained Small/);
  });

  test('∇ Probe gradients through workspace/executeCommand: its findings become diagnostics, and a message says so', async () => {
    const uri = await client.open(join(workspace, 'sigmoid_mlp.nn'));
    await client.diagnosticsFor(uri);
    const command = await lensCommand(client, uri, '∇ Probe');
    const notified = client.notifications.length;
    const result = await client.request<ProbeResult>('workspace/executeCommand', { command: command.command, arguments: command.arguments });
    assert.ok(result.findings.length > 0);
    await client.waitFor(() => [...client.published].reverse().find((p) => p.uri === uri && p.diagnostics.some((d) => String(d.code).startsWith('NN5'))), HANG_GUARD_MS, 'findings as diagnostics');
    const message = await client.waitFor(() => client.notifications.slice(notified).find((n) => n.method === 'window/showMessage'), HANG_GUARD_MS, 'the end message');
    assert.match((message.params as { message: string }).message, /finding/);
  });

  test('✓ Gradcheck through workspace/executeCommand: $/progress, then a message naming the fns that pass or fail', async () => {
    const good = await client.open(resolve(repoRoot, 'test', 'fixtures', 'conformance', 'ok_custom_grad.nn'));
    const command = await lensCommand(client, good, '✓ Gradcheck');
    assert.equal(command.command, SERVER_COMMANDS.gradcheck);
    let notified = client.notifications.length;
    const progressed = client.progress.length;
    const passed = await client.request<GradcheckResult>('workspace/executeCommand', { command: command.command, arguments: command.arguments });
    assert.deepEqual(passed.fns.map((f) => [f.fn, f.ok]), [['my_linear', true]]);
    const kinds = client.progress.slice(progressed).map((p) => p.value.kind);
    assert.deepEqual([kinds[0], kinds.at(-1)], ['begin', 'end']);
    const message = await client.waitFor(() => client.notifications.slice(notified).find((n) => n.method === 'window/showMessage'), HANG_GUARD_MS, 'the end message');
    assert.deepEqual(message.params, { type: 3, message: 'gradcheck: my_linear matches finite differences.' });
    const bad = await client.open(join(fixtures, 'wrong_grad.nn'));
    notified = client.notifications.length;
    const failed = await client.request<GradcheckResult>('workspace/executeCommand', { command: SERVER_COMMANDS.gradcheck, arguments: [{ uri: bad, fn: 'scaled' }] });
    assert.equal(failed.fns[0].ok, false);
    const warning = await client.waitFor(() => client.notifications.slice(notified).find((n) => n.method === 'window/showMessage'), HANG_GUARD_MS, 'the end message');
    assert.deepEqual(warning.params, { type: 2, message: 'gradcheck: scaled does not match finite differences.' });
  });

  test('ONNX export through workspace/executeCommand writes the model and says where; a bad argument is a message, not an exception', async () => {
    const uri = await client.open(join(workspace, 'tiny_train.nn'));
    let notified = client.notifications.length;
    const result = await client.request<ExportOnnxResult>('workspace/executeCommand', { command: SERVER_COMMANDS.exportOnnx, arguments: [{ uri, model: 'Small' }] });
    assert.equal(result.path, join(workspace, 'Small.onnx'));
    assert.ok(existsSync(result.path));
    const message = await client.waitFor(() => client.notifications.slice(notified).find((n) => n.method === 'window/showMessage'), HANG_GUARD_MS, 'the end message');
    assert.deepEqual(message.params, { type: 3, message: `Exported Small to ${result.path}.` });
    notified = client.notifications.length;
    assert.equal(await client.request('workspace/executeCommand', { command: SERVER_COMMANDS.exportOnnx, arguments: [] }), null);
    const refusal = await client.waitFor(() => client.notifications.slice(notified).find((n) => n.method === 'window/showMessage'), HANG_GUARD_MS, 'the refusal');
    assert.deepEqual(refusal.params, { type: 1, message: `${SERVER_COMMANDS.exportOnnx} needs a document: { "uri": ... } as its argument.` });
  });

  test('a train the server started on its own progress token is cancelled through that token, and says so', async () => {
    const uri = await client.open(join(workspace, 'long_train.nn'));
    const progressed = client.progress.length;
    const notified = client.notifications.length;
    const running = client.request<TrainResult>('workspace/executeCommand', { command: SERVER_COMMANDS.train, arguments: [{ uri }] });
    const begin = await client.waitFor(() => client.progress.slice(progressed).find((p) => p.value.kind === 'begin'), HANG_GUARD_MS, 'the progress begin');
    await client.waitFor(() => client.notifications.slice(notified).some((n) => n.method === 'nn/trainProgress' && (n.params as TrainProgressParams).event.type === 'step'), HANG_GUARD_MS, 'a training step');
    await client.connection.sendNotification('window/workDoneProgress/cancel', { token: begin.token });
    const result = await running;
    assert.equal(result.reason, 'cancelled');
    assert.ok(client.progress.slice(progressed).some((p) => p.token === begin.token && p.value.kind === 'end'));
    const message = await client.waitFor(() => client.notifications.slice(notified).find((n) => n.method === 'window/showMessage'), HANG_GUARD_MS, 'the end message');
    assert.equal((message.params as { message: string }).message, result.message);
  });

  test('in an untrusted workspace the lenses are shown disabled, with the reason, and name no command', async () => {
    await LspClient.using({ workspaceFolder: workspace, initializationOptions: { trusted: false } }, async (untrusted) => {
      const uri = await untrusted.open(join(workspace, 'tiny_train.nn'));
      await untrusted.diagnosticsFor(uri);
      const lenses = await untrusted.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
      const train = lenses.find((l) => l.command?.title.startsWith('▶ Train'));
      assert.ok(train?.command);
      assert.equal(train.command.title, `▶ Train${UNTRUSTED_SUFFIX}`);
      assert.equal(train.command.command, '');
      const refused = await untrusted.request<TrainResult>('workspace/executeCommand', { command: SERVER_COMMANDS.train, arguments: [{ uri }] });
      assert.equal(refused.reason, 'error');
      assert.match(refused.message, /not trusted/);
      await untrusted.connection.sendNotification('nn/trustChanged', { trusted: true });
      const trusted = await untrusted.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
      assert.equal(trusted.find((l) => l.command?.title === '▶ Train')?.command?.command, SERVER_COMMANDS.train);
    });
  });
});

describe('probe', () => {
  test('gradient statistics per parameter, then shown in hovers and hints labelled "probe"', async () => {
    const uri = await client.open(join(workspace, 'tiny_train.nn'));
    await client.diagnosticsFor(uri);
    const result = await client.request<ProbeResult>('nn/probe', { uri, model: 'Small' });
    assert.deepEqual(result.params.map((p) => p.name), ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    assert.ok(result.params.every((p) => p.gradNorm > 0 && Number.isFinite(p.gradNorm)));
    assert.ok(Number.isFinite(result.loss) && result.loss > 0);
    const hover = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: client.positionOf(uri, 'fc1(x)', 0, 1) });
    const text = (hover.contents as { value: string }).value;
    assert.ok(text.includes('gradients (probe)') && text.includes('`fc1.weight`'), text);
    const hints = await fetchGradientHints(client, uri);
    const fc1 = hints.get(client.positionOf(uri, 'fc1 = Linear').line);
    assert.equal(fc1?.label, 'probe');
    const expected = Math.hypot(result.params[0].gradNorm, result.params[1].gradNorm);
    assert.ok(Math.abs(fc1!.norm - expected) / expected < 0.06, `${fc1!.norm} vs ${expected}`);
  });

  test('findings land on the layers concerned and go away when the model changes', async () => {
    const uri = await client.open(join(workspace, 'sigmoid_mlp.nn'));
    await client.diagnosticsFor(uri);
    const result = await client.request<ProbeResult>('nn/probe', { uri });
    assert.ok(result.findings.length > 0, 'the ten-sigmoid MLP has findings');
    const withFindings = await client.waitFor(() => [...client.published].reverse().find((p) => p.uri === uri && p.diagnostics.some((d) => String(d.code).startsWith('NN5'))));
    const doc = client.document(uri);
    for (const finding of result.findings) {
      const line = doc.positionAt(finding.range.start).line;
      assert.ok(withFindings.diagnostics.some((d) => d.code === finding.code && d.range.start.line === line), `${finding.code} on line ${line + 1}`);
    }
    const version = await client.replace(uri, doc.getText().replace('Linear(32, 2)', 'Linear(32, 2, bias = false)'));
    const changed = await client.diagnosticsFor(uri, version);
    assert.ok(!changed.diagnostics.some((d) => String(d.code).startsWith('NN5')), 'findings dropped after the model changed');
  });

  test('findings of a probe that an edit overtook land on the lines the model moved to', async () => {
    const path = join(workspace, 'sigmoid_mlp_moved.nn');
    copyFileSync(join(fixtures, 'sigmoid_mlp.nn'), path);
    const uri = await client.open(path);
    await client.diagnosticsFor(uri);
    const probed = TextDocument.create(uri, 'nn', 1, client.document(uri).getText());
    const probe = client.request<ProbeResult>('nn/probe', { uri });
    // The re-check of this edit moves the previous trees' offsets (lang/reuse.ts); the probe's results are anchored to the text it ran on.
    const version = await client.replace(uri, `# a line typed above the model while it was probed\n${probed.getText()}`);
    const result = await probe;
    assert.ok(result.findings.length > 0, 'the ten-sigmoid MLP has findings');
    const published = await client.waitFor(() => [...client.published].reverse().find((p) => p.uri === uri && p.version === version && p.diagnostics.some((d) => String(d.code).startsWith('NN5'))));
    for (const finding of result.findings) {
      const line = probed.positionAt(finding.range.start).line + 1;
      assert.ok(published.diagnostics.some((d) => d.code === finding.code && d.range.start.line === line), `${finding.code} on line ${line + 1}`);
    }
  });
});

describe('training', () => {
  test('a short run: $/progress with percentages, every run event, the result at the end', async () => {
    const uri = await client.open(join(workspace, 'tiny_train.nn'));
    const token = 'train-small';
    const started = client.notifications.length;
    const result = await client.request<TrainResult>('nn/train', { uri, model: 'Small', workDoneToken: token });
    assert.equal(result.reason, 'done', result.message);
    assert.ok(result.checkpoint && result.checkpoint.startsWith(workspace) && existsSync(result.checkpoint));
    const progress = client.progress.filter((p) => p.token === token).map((p) => p.value);
    assert.equal(progress[0].kind, 'begin');
    assert.equal(progress[progress.length - 1].kind, 'end');
    const percentages = progress.filter((v) => v.percentage !== undefined).map((v) => v.percentage!);
    assert.ok(percentages.length > 3);
    assert.deepEqual(percentages, [...percentages].sort((a, b) => a - b));
    assert.equal(percentages[percentages.length - 1], 100);
    const events = client.notifications.slice(started).filter((n) => n.method === 'nn/trainProgress').map((n) => (n.params as TrainProgressParams).event);
    assert.equal(events[0].type, 'start');
    assert.equal(events.filter((e) => e.type === 'epoch').length, 3);
    assert.equal(events[events.length - 1].type, 'end');
    const hints = await fetchGradientHints(client, uri);
    assert.match(hints.get(client.positionOf(uri, 'fc2 = Linear').line)?.label ?? '', /^run, step \d+$/);
  });

  test('nn.backend and nn.threads reach the run: the TS engine on 2 threads, then onnxruntime on 1', async () => {
    for (const settings of [{ backend: 'ts', threads: 2 }, { backend: 'onnx', threads: 1 }]) {
      await LspClient.using({ workspaceFolder: workspace, settings }, async (configured) => {
        const uri = await configured.open(join(workspace, 'tiny_train.nn'));
        const result = await configured.request<TrainResult>('nn/train', { uri, model: 'Small' });
        assert.equal(result.reason, 'done', result.message);
        const start = configured.notifications.map((n) => (n.params as TrainProgressParams).event).find((e) => e?.type === 'start');
        assert.ok(start?.type === 'start');
        assert.equal(start.backend, settings.backend);
        assert.equal(start.threads, settings.threads);
      });
    }
  });

  test('cancelling the progress stops the run', async () => {
    const uri = await client.open(join(workspace, 'long_train.nn'));
    const token = 'train-slow';
    const started = client.notifications.length;
    const running = client.request<TrainResult>('nn/train', { uri, workDoneToken: token });
    await client.waitFor(() => client.notifications.slice(started).some((n) => n.method === 'nn/trainProgress' && (n.params as TrainProgressParams).event.type === 'step'), HANG_GUARD_MS, 'a training step');
    await client.connection.sendNotification('window/workDoneProgress/cancel', { token });
    const result = await running;
    assert.equal(result.reason, 'cancelled');
    assert.ok(client.progress.some((p) => p.token === token && p.value.kind === 'end'));
  });

  test('nn/stopTraining stops the running training', async () => {
    const uri = await client.open(join(workspace, 'long_train.nn'));
    const started = client.notifications.length;
    const running = client.request<TrainResult>('nn/train', { uri });
    await client.waitFor(() => client.notifications.slice(started).some((n) => n.method === 'nn/trainProgress' && (n.params as TrainProgressParams).event.type === 'step'), HANG_GUARD_MS, 'a training step');
    const busy = await client.request<TrainResult>('nn/train', { uri });
    assert.equal(busy.reason, 'error');
    assert.match(busy.message, /in progress/);
    assert.deepEqual(await client.request('nn/stopTraining', null), { stopped: true });
    assert.equal((await running).reason, 'cancelled');
    assert.deepEqual(await client.request('nn/stopTraining', null), { stopped: false });
  });

  test('a save folder outside the workspace is refused', async () => {
    const path = join(workspace, 'tiny_train.nn');
    const uri = await client.open(path);
    const doc = client.document(uri);
    const version = await client.replace(uri, doc.getText().replace('seed      = 0', 'seed      = 0\n  save      = "../../elsewhere"'));
    await client.diagnosticsFor(uri, version);
    const result = await client.request<TrainResult>('nn/train', { uri });
    assert.equal(result.reason, 'error');
    assert.match(result.message, /outside the workspace|leaves the workspace/);
  });
});

describe('live gradient flow', () => {
  test('after an edit settles, a ten-sigmoid MLP shows its vanishing gradient "at init"', async () => {
    await LspClient.using({ workspaceFolder: workspace }, async (fresh) => {
      const uri = await fresh.open(join(workspace, 'sigmoid_mlp.nn'));
      const found = await waitForGradientHints(fresh, uri, 1);
      const first = found.get(fresh.positionOf(uri, 'l1  = Linear').line);
      const last = found.get(fresh.positionOf(uri, 'l10 = Linear').line);
      assert.ok(first && last, `gradient hints on l1 and l10: ${JSON.stringify([...found])}`);
      assert.equal(first.label, 'at init');
      assert.ok(first.norm < last.norm / 100, `the gradient vanishes toward the input: l1 ${first.norm}, l10 ${last.norm}`);
      const hover = await fresh.request<Hover>('textDocument/hover', { textDocument: { uri }, position: fresh.positionOf(uri, 'l1(x)', 0, 1) });
      assert.ok((hover.contents as { value: string }).value.includes('gradients (at init)'));
    });
  });

  test('a model without a data set gets its init-time pass on random inputs, labelled so', async () => {
    await LspClient.using({ workspaceFolder: workspace }, async (fresh) => {
      const uri = await fresh.open(join(fixtures, 'no_data.nn'));
      const found = await waitForGradientHints(fresh, uri, 2);
      const fc1 = found.get(fresh.positionOf(uri, 'fc1 = Linear').line);
      assert.equal(fc1?.label, 'at init, random inputs');
      assert.ok(fc1.norm > 0 && Number.isFinite(fc1.norm));
    });
  });
});

describe('gradcheck', () => {
  test('a correct grad block passes, a wrong one fails on the input it gets wrong', async () => {
    const good = await client.open(resolve(repoRoot, 'test', 'fixtures', 'conformance', 'ok_custom_grad.nn'));
    const passed = await client.request<GradcheckResult>('nn/gradcheck', { uri: good });
    assert.deepEqual(passed.fns.map((f) => [f.fn, f.ok]), [['my_linear', true]]);
    const bad = await client.open(join(fixtures, 'wrong_grad.nn'));
    const failed = await client.request<GradcheckResult>('nn/gradcheck', { uri: bad, fn: 'scaled' });
    assert.equal(failed.fns[0].ok, false);
    const [x, s] = failed.fns[0].inputs;
    assert.ok(x.maxRelError > 0.1, `dx is twice what it should be: ${x.maxRelError}`);
    assert.ok(s.maxRelError < 1e-3, `ds is right: ${s.maxRelError}`);
  });
});

describe('ONNX export', () => {
  test('writes a forward-only model inside the workspace, from the last run\'s checkpoint when there is one', async () => {
    const uri = await client.open(join(workspace, 'tiny_train.nn'));
    const result = await client.request<ExportOnnxResult>('nn/exportOnnx', { uri, model: 'Small' });
    assert.equal(result.path, join(workspace, 'Small.onnx'));
    assert.ok(existsSync(result.path));
    assert.ok(readFileSync(result.path).length > 100);
    assert.ok(result.weights?.startsWith(workspace) && result.weights.endsWith('checkpoint.safetensors'), 'the trained weights');
    await assert.rejects(client.request('nn/exportOnnx', { uri, model: 'Small', outPath: '../outside.onnx' }), /outside the workspace/);
  });
});

describe('limits', () => {
  test('nn.limits.maxParameters refuses a probe of a bigger model, and says which limit', async () => {
    const uri = await client.open(join(workspace, 'tiny_train.nn'));
    await client.diagnosticsFor(uri);
    await client.setSettings({ limits: { maxParameters: 10 } }, uri);
    try {
      await assert.rejects(client.request('nn/probe', { uri }), /nn\.limits\.maxParameters/);
    } finally {
      await client.setSettings({}, uri);
    }
  });
});
