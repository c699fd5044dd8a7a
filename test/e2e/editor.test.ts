// End-to-end scenarios 1-5 in a real VS Code (code-server + headless Chromium), trusted
// workspace: the extension is installed from its .vsix and used through the screen only.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeEditor } from './harness/suite.js';
import { listFiles } from './harness/run.js';
import { positionOf, waitFor, type Workbench } from './harness/workbench.js';
import { exampleFile, withTrainKey, writeVariant } from './model.js';
import { chartSignature, readSafetensorsHeader, trainingViewFrame } from './training.js';

const shape = /^:?\s*\[[^\]]*\]$/;

async function clickTrainLens(bench: Workbench): Promise<void> {
  const lens = bench.editor.locator('.codelens-decoration a', { hasText: 'Train' }).first();
  await lens.waitFor({ timeout: 30_000 });
  await lens.click();
}

describeEditor('NN Studio in VS Code (trusted workspace)', { runName: 'trusted', trusted: true }, (scenario) => {
  scenario('1 open a model: NN mode, shapes as inlay hints, no diagnostics', async ({ bench }) => {
    await bench.openFile(exampleFile);
    assert.equal(await bench.languageMode(), 'NN');
    const hints = await waitFor('shape inlay hints', () => bench.inlayHints(), (h) => h.some((hint) => hint.includes('[B, 784]')), 30_000);
    for (const hint of hints) assert.match(hint, shape, `inlay hint ${JSON.stringify(hint)} is not a shape`);
    assert.equal(await bench.squiggleCount('error'), 0);
    assert.equal(await bench.squiggleCount('warning'), 0);
    assert.deepEqual(await bench.problems(), []);
  });

  scenario('2 the flatten-size mistake: NN2103 at the call, hover, quick fix', async ({ bench, run }) => {
    const text = writeVariant(run.workspace, 'flatten_mistake.nn');
    await bench.openFile('flatten_mistake.nn');
    // fc1 = Linear(16 * 7 * 7, 64): type half the flattened size, as if one pooling were counted twice.
    const inFeatures = positionOf(text, '16 * 7 * 7', 'Linear(');
    const call = positionOf(text, 'fc1(h)');
    await bench.replaceAt(inFeatures.line, inFeatures.column, '16 * 7 * 7'.length, '392');

    const rows = await waitFor('an NN2103 problem', () => bench.problems(), (p) => p.some((row) => row.text.includes('NN2103')), 30_000);
    assert.equal(rows.length, 1, `one mistake gives one problem, got ${JSON.stringify(rows)}`);
    assert.equal(rows[0]!.line, call.line, 'NN2103 is reported where the layer is applied');
    assert.ok((await bench.squiggleCount('error')) >= 1);

    const hover = await bench.hoverAt(call.line, call.column + 1, (t) => t.includes('NN2103') || t.includes('392'));
    assert.match(hover, /392/);
    assert.match(hover, /784/);

    await bench.goto(call.line, call.column + 1);
    await bench.page.keyboard.press('Control+.');
    const fix = bench.page.locator('.action-widget .monaco-list-row, .action-widget .action-list-item', { hasText: '784' }).first();
    await fix.waitFor();
    await fix.click();
    await waitFor('the squiggle to go', () => bench.squiggleCount('error'), (n) => n === 0, 30_000);
    await bench.page.keyboard.press('Control+S');
    const fixed = await waitFor(
      'the fixed file on disk',
      async () => readFileSync(join(run.workspace, 'flatten_mistake.nn'), 'utf8'),
      (t) => !t.includes('Linear(392'),
    );
    assert.match(fixed, /fc1\s*=\s*Linear\(784, 64\)/);
    assert.deepEqual(await bench.problems(), []);
  });

  scenario('3 hover a Linear layer: forward shapes, backward formulas with shapes', async ({ bench, run }) => {
    await bench.openFile(exampleFile);
    const text = readFileSync(join(run.workspace, exampleFile), 'utf8');
    const fc1 = positionOf(text, 'fc1');
    const hover = await bench.hoverAt(fc1.line, fc1.column + 1, (t) => t.includes('Linear'));
    assert.match(hover, /\[B, 784\][\s\S]*→[\s\S]*\[B, 64\]/, 'forward: input and output shapes');
    assert.match(hover, /\[64, 784\]/, 'weight shape');
    assert.match(hover, /backward/i, 'the backward pass is explained');
    assert.match(hover, /dL\/dy : \[B, 64\]/, 'the upstream gradient with its shape');
    assert.match(hover, /dL\/dx[^\n]*: \[B, 784\]/, 'the input gradient with its shape');
    assert.match(hover, /dL\/dW[^\n]*: \[64, 784\]/, 'the weight gradient with its shape');
    assert.match(hover, /dL\/db[^\n]*: \[64\]/, 'the bias gradient with its shape');
  });

  scenario('4 ▶ Train: progress, loss curve, gradient flow, status bar; Cancel keeps a checkpoint', async ({ bench, run }) => {
    writeVariant(run.workspace, 'train_cancel.nn', (t) => withTrainKey(t, 'epochs', '50'));
    await bench.openFile('train_cancel.nn');
    await clickTrainLens(bench);

    const toast = await waitFor('a training progress notification', () => bench.notifications(), (n) => n.some((t) => /train/i.test(t)), 60_000);
    assert.ok(toast.length > 0);
    const frame = await waitFor('the Training view', async () => trainingViewFrame(bench), (f) => f !== null, 60_000);
    const first = await waitFor('drawn charts', () => chartSignature(frame!), (s) => s.lossPoints >= 2 && s.flowBars >= 1, 90_000);
    await waitFor('the charts to update', () => chartSignature(frame!), (s) => s.lossPoints > first.lossPoints && s.flowMarkup !== first.flowMarkup, 90_000);
    const status = await waitFor('the step in the status bar', () => bench.statusBar(), (s) => /step \d+/i.test(s), 30_000);
    assert.match(status, /step \d+/i);
    await bench.screenshot('training');

    await bench.page.locator('.notifications-toasts .notification-toast .monaco-button', { hasText: 'Cancel' }).first().click();
    await waitFor('the progress notification to close', () => bench.notifications(), (n) => !n.some((t) => /Cancel/.test(t)), 60_000);
    const checkpoints = await waitFor(
      'a checkpoint in the workspace',
      async () => listFiles(run.workspace).filter((f) => f.endsWith('.safetensors')),
      (files) => files.length > 0,
      30_000,
    );
    const header = readSafetensorsHeader(join(run.workspace, checkpoints[0]!));
    assert.ok(Object.keys(header).some((name) => name.startsWith('fc1.')), `checkpoint holds fc1: ${Object.keys(header).join(', ')}`);
    const after = (await chartSignature(frame!)).lossPoints;
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal((await chartSignature(frame!)).lossPoints, after, 'no steps after Cancel');
  });

  scenario('5 a model that explodes: NN5004 on the line where NaN/Inf appears', async ({ bench, run }) => {
    const text = writeVariant(run.workspace, 'explodes.nn', (t) =>
      withTrainKey(withTrainKey(t, 'optimizer', 'SGD(lr = 1e12)'), 'epochs', '1'),
    );
    await bench.openFile('explodes.nn');
    await clickTrainLens(bench);
    const rows = await waitFor('an NN5004 problem', () => bench.problems(), (p) => p.some((row) => row.text.includes('NN5004')), 120_000);
    const nan = rows.find((row) => row.text.includes('NN5004'))!;
    const lines = text.split('\n');
    const line = lines[(nan.line ?? 0) - 1] ?? '';
    // The finding belongs to a layer or op of the model (or the optimizer that caused it), never line 1 by default.
    assert.match(line, /fc\d|conv\d|relu|Linear|Conv2d|optimizer|loss|h =|return/, `NN5004 on line ${nan.line}: ${JSON.stringify(line)}`);
  });
});

