// End-to-end scenarios 1-5 and 9 in a real VS Code (code-server + headless Chromium), trusted
// workspace: the extension is installed from its .vsix and used through the screen only.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from './harness/install.js';
import { describeEditor } from './harness/suite.js';
import { listFiles } from './harness/run.js';
import { positionOf, waitFor, type Workbench } from './harness/workbench.js';
import { exampleFile, exampleText, firstLinear, withTrainKey, writeVariant } from './model.js';
import type { Frame } from 'playwright-core';
import { chartSignature, readSafetensorsHeader, trainingViewFrame, viewContent } from './training.js';
import { DATA_ENV } from '../../engine/src/data/sources.js';
import { IMAGE_SETS } from '../../engine/src/data/catalog.js';

const shape = /^:?\s*\[[^\]]*\]$/;

async function clickTrainLens(bench: Workbench): Promise<void> {
  const lens = bench.editor.locator('.codelens-decoration a', { hasText: 'Train' }).first();
  await lens.waitFor({ timeout: 30_000 });
  await lens.click();
}

/** The files the scenarios open, written before code-server starts so its file index has them. */
const variants: Record<string, (text: string) => string> = {
  'flatten_mistake.nn': (t) => t,
  'train_cancel.nn': (t) => withTrainKey(t, 'epochs', '500'), // far more than the scenario waits for
  'explodes.nn': (t) => withTrainKey(withTrainKey(t, 'optimizer', 'SGD(lr = 1e12)'), 'epochs', '1'),
  // A learning rate high enough to kill ReLU units (NN5003) while the model still learns.
  'dead_units.nn': (t) => withTrainKey(withTrainKey(t, 'optimizer', 'Adam(lr = 0.03)'), 'epochs', '2'),
};

function prepareWorkspace(workspace: string): void {
  for (const [name, edit] of Object.entries(variants)) writeVariant(workspace, name, edit);
}

/** Clicks Cancel on the training's progress notification (from the notification center if its toast was hidden). */
async function clickCancel(bench: Workbench): Promise<void> {
  const toastCancel = bench.page.locator('.notifications-toasts .notification-toast .monaco-button', { hasText: 'Cancel' }).first();
  if (await toastCancel.isVisible()) return toastCancel.click();
  await bench.runCommand('Notifications: Show Notifications');
  await bench.page.locator('.notifications-center .notification-list-item-buttons-container .monaco-button', { hasText: 'Cancel' }).first().click();
}

/**
 * Cancels the run and waits for the Training view to say it stopped. The notification is
 * re-rendered at every step, so a click can land on a replaced button: it is retried.
 */
async function cancelTraining(bench: Workbench, frame: Frame): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await clickCancel(bench);
    try {
      await waitFor('the Training view to say the run stopped', () => frame.locator('#status').innerText(), (t) => /cancel|stopped/i.test(t), 20_000);
      return;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

/** The line of the NN5004 that `nn train` reports for the same file, the reference for the editor. */
function cliNanLine(path: string): number | null {
  // Debian's datasets ignored, as the editor's run ignores them (harness/codeServer.ts).
  const env = { ...process.env, [DATA_ENV.systemDir]: '' };
  const result = spawnSync(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'train', path], { cwd: dirname(path), encoding: 'utf8', timeout: 300_000, env });
  const match = /:(\d+):\d+: error NN5004/.exec(`${result.stdout}${result.stderr}`);
  return match ? Number(match[1]) : null;
}

describeEditor('NN Studio in VS Code (trusted workspace)', { runName: 'trusted', trusted: true, prepareWorkspace }, (scenario) => {
  scenario('1 open a model: NN mode, shapes as inlay hints, no diagnostics', async ({ bench }) => {
    await bench.openFile(exampleFile);
    assert.equal(await bench.languageMode(), 'NN');
    const flattened = `[B, ${firstLinear(exampleText()).inFeatures}]`;
    const hints = await waitFor('shape inlay hints', () => bench.inlayHints(), (h) => h.some((hint) => hint.includes(flattened)), 30_000);
    // Shape hints follow bindings (`: [B, 8, 7, 7]`); gradient hints (`∇ 0.02 (at init)`) may sit beside them.
    const shapeHints = hints.filter((hint) => hint.startsWith(':'));
    assert.ok(shapeHints.length >= 4, `shape hints: ${JSON.stringify(hints)}`);
    for (const hint of shapeHints) assert.match(hint, shape, `inlay hint ${JSON.stringify(hint)} is not a shape`);
    assert.equal(await bench.squiggleCount('error'), 0);
    assert.equal(await bench.squiggleCount('warning'), 0);
    assert.deepEqual(await bench.problems(), []);
  });

  scenario('2 the flatten-size mistake: NN2103 at the call, hover, quick fix', async ({ bench, run }) => {
    const text = readFileSync(join(run.workspace, 'flatten_mistake.nn'), 'utf8');
    const fc = firstLinear(text);
    const wrong = String(fc.inFeatures / 2); // as if one pooling were counted twice
    await bench.openFile('flatten_mistake.nn');
    const inFeatures = positionOf(text, fc.inText, `${fc.name}`);
    const call = positionOf(text, `${fc.name}(h)`);
    await bench.replaceAt(inFeatures.line, inFeatures.column, fc.inText.length, wrong);

    const rows = await waitFor('an NN2103 problem', () => bench.problems(), (p) => p.some((row) => row.text.includes('NN2103')), 30_000);
    const errors = rows.filter((row) => /^Error/.test(row.text));
    assert.equal(errors.length, 1, `one mistake gives one error, got ${JSON.stringify(rows)}`);
    assert.equal(errors[0]!.line, call.line, 'NN2103 is reported where the layer is applied');
    assert.ok((await bench.squiggleCount('error')) >= 1);

    const hover = await bench.hoverAt(call.line, call.column + 1, (t) => t.includes('NN2103') || t.includes(wrong));
    assert.match(hover, new RegExp(wrong));
    assert.match(hover, new RegExp(String(fc.inFeatures)));

    await bench.goto(call.line, call.column + 1);
    await bench.page.keyboard.press('Control+.');
    const fix = bench.page.locator('.action-widget .monaco-list-row, .action-widget .action-list-item', { hasText: String(fc.inFeatures) }).first();
    await fix.waitFor();
    await fix.click();
    await waitFor('the squiggle to go', () => bench.squiggleCount('error'), (n) => n === 0, 30_000);
    await bench.page.keyboard.press('Control+S');
    const fixed = await waitFor(
      'the fixed file on disk',
      async () => readFileSync(join(run.workspace, 'flatten_mistake.nn'), 'utf8'),
      (t) => !t.includes(`Linear(${wrong}`),
    );
    assert.equal(firstLinear(fixed).inFeatures, fc.inFeatures);
    assert.deepEqual((await bench.problems()).filter((row) => /^Error/.test(row.text)), []);
  });

  scenario('3 hover a Linear layer: forward shapes, backward formulas with shapes', async ({ bench, run }) => {
    await bench.openFile(exampleFile);
    const text = readFileSync(join(run.workspace, exampleFile), 'utf8');
    const fc = firstLinear(text);
    const [input, output, weight] = [`[B, ${fc.inFeatures}]`, `[B, ${fc.outFeatures}]`, `[${fc.outFeatures}, ${fc.inFeatures}]`].map(
      (s) => s.replace(/[[\]]/g, '\\$&'),
    );
    const at = positionOf(text, fc.name, '\nmodel ');
    const hover = await bench.hoverAt(at.line, at.column + 1, (t) => t.includes('Linear'));
    assert.match(hover, new RegExp(`${input}[\\s\\S]*→[\\s\\S]*${output}`), 'forward: input and output shapes');
    assert.match(hover, new RegExp(weight), 'weight shape');
    assert.match(hover, /backward/i, 'the backward pass is explained');
    assert.match(hover, new RegExp(`dL/dy : ${output}`), 'the upstream gradient with its shape');
    assert.match(hover, /dL\/dW = /, 'the gradient formula, from the op registry');
    assert.match(hover, new RegExp(`dL/dx : ${input}`), 'the input gradient with its shape');
    assert.match(hover, new RegExp(`dL/d${fc.name}\\.weight : ${weight}`), 'the weight gradient with its shape');
    assert.match(hover, new RegExp(`dL/d${fc.name}\\.bias : \\[${fc.outFeatures}\\]`), 'the bias gradient with its shape');
  });

  scenario('4 ▶ Train: progress, loss curve, gradient flow, status bar; Cancel keeps a checkpoint', async ({ bench, run }) => {
    await bench.openFile('train_cancel.nn');
    await clickTrainLens(bench);
    try {
      await waitFor('a training progress notification', () => bench.notifications(), (n) => n.some((t) => /train/i.test(t)), 60_000);
      const frame = (await waitFor('the Training view', async () => trainingViewFrame(bench), (f) => f !== null, 60_000))!;
      const first = await waitFor('drawn charts', () => chartSignature(frame), (s) => s.lossPoints >= 2 && s.flowBars >= 1, 90_000);
      await waitFor('the charts to update', () => chartSignature(frame), (s) => s.lossMarkup !== first.lossMarkup && s.flowMarkup !== first.flowMarkup, 90_000); // past 1,000 steps the curve is averaged down, so compare the drawing
      await waitFor('the step in the status bar', () => bench.statusBar(), (s) => /step \d+/i.test(s), 30_000);
      await bench.screenshot('training');

      await cancelTraining(bench, frame);
      const checkpoints = await waitFor(
        'a checkpoint in the workspace',
        async () => listFiles(run.workspace).filter((f) => f.endsWith('.safetensors')),
        (files) => files.length > 0,
        30_000,
      );
      const header = readSafetensorsHeader(join(run.workspace, checkpoints[0]!));
      assert.ok(Object.keys(header).some((name) => name.startsWith('fc1.')), `checkpoint holds fc1: ${Object.keys(header).join(', ')}`);
      // Events already on their way may still land; after that the curve must stay still.
      await new Promise((r) => setTimeout(r, 2000));
      const settled = (await chartSignature(frame)).lossMarkup;
      await new Promise((r) => setTimeout(r, 4000));
      assert.equal((await chartSignature(frame)).lossMarkup, settled, 'no steps after Cancel');
    } finally {
      await bench.runCommand('NN: Stop Training').catch(() => undefined); // never leave a run eating the CPU
    }
  });

  scenario('5 a model that explodes: NN5004 on the line where NaN/Inf appears', async ({ bench, run }) => {
    const path = join(run.workspace, 'explodes.nn');
    const text = readFileSync(path, 'utf8');
    await bench.openFile('explodes.nn');
    await clickTrainLens(bench);
    const rows = await waitFor('an NN5004 problem', () => bench.problems(), (p) => p.some((row) => row.text.includes('NN5004')), 180_000);
    const nan = rows.find((row) => row.text.includes('NN5004'))!;
    // The same place the engine reports in the terminal: the layer where the first NaN/Inf
    // appeared, or the `loss` key when the loss is the first non-finite value.
    assert.equal(nan.line, cliNanLine(path), `the editor's NN5004 is on the line \`nn train\` reports: ${nan.text}`);
    const modelStart = positionOf(text, 'model ').line;
    const modelEnd = positionOf(text, '\n}', 'model ').line + 1;
    const lossLine = positionOf(text, 'loss', 'train ').line;
    assert.ok(
      (nan.line! > modelStart && nan.line! < modelEnd) || nan.line === lossLine,
      `NN5004 on line ${nan.line}: neither a layer of the model (${modelStart}-${modelEnd}) nor the loss (${lossLine})`,
    );
  });

  scenario('9 the Training view after a run: findings linked to lines, accuracy curves, confusion matrix, worst samples', async ({ bench, run }) => {
    const text = readFileSync(join(run.workspace, 'dead_units.nn'), 'utf8');
    await bench.openFile('dead_units.nn');
    await clickTrainLens(bench);
    const frame = (await waitFor('the Training view', async () => trainingViewFrame(bench), (f) => f !== null, 60_000))!;
    await waitFor('the run to finish', () => frame.locator('#status').innerText(), (t) => /^done/.test(t), 300_000);
    const seen = await waitFor('the view drawn from the last epoch', () => viewContent(frame), (v) => v.epochs.length === 2 && v.worst.length > 0, 30_000);

    // Findings: each names its line, a relu of the model; the loss curve marks where they appeared.
    assert.ok(seen.findings.length >= 1, `findings: ${JSON.stringify(seen.findings)}`);
    const reluLines = text.split('\n').flatMap((line, i) => (/relu\(/.test(line) ? [i + 1] : []));
    const lineOf = (finding: string) => Number(/^NN50\d\d line (\d+)/.exec(finding)?.[1]);
    for (const finding of seen.findings) assert.ok(lineOf(finding) >= 1 && lineOf(finding) <= text.split('\n').length, finding);
    const dead = seen.findings.filter((f) => f.startsWith('NN5003'));
    assert.ok(dead.length >= 1, `an NN5003 finding: ${JSON.stringify(seen.findings)}`);
    for (const finding of dead) assert.ok(reluLines.includes(lineOf(finding)), `${finding}: not on a relu line (${reluLines.join(', ')})`);
    assert.equal(seen.lossMarks, seen.findings.length);
    assert.deepEqual(seen.accuracyCurves.sort(), ['test-accuracy', 'train-accuracy']);
    await bench.screenshotOf(frame.locator('#findings').locator('..'), 'findings-list');
    await bench.screenshotOf(frame.locator('#loss-chart').locator('..'), 'loss-with-finding-marks');

    // Clicking a finding shows its line in the editor.
    const first = lineOf(seen.findings[0]!);
    await bench.goto(1, 1);
    await frame.locator('#findings .finding').first().click();
    await waitFor(`the cursor on line ${first}`, () => bench.cursorLine(), (line) => line === first, 20_000);

    // The confusion matrix: Fashion-MNIST's classes, 10 × 10 counts over the 1,000 test images, an epoch picker.
    const classes = [...IMAGE_SETS.fashion_mnist.classNames];
    assert.ok(seen.confusionVisible);
    assert.deepEqual(seen.classNames, classes);
    assert.equal(seen.confusion.length, 10);
    assert.ok(seen.confusion.every((row) => row.length === 10));
    const total = (m: number[][]) => m.flat().reduce((a, b) => a + b, 0);
    const diagonal = (m: number[][]) => m.reduce((sum, row, k) => sum + row[k]!, 0);
    assert.equal(total(seen.confusion), 1000);
    assert.ok(diagonal(seen.confusion) > 500, `the model learns: ${diagonal(seen.confusion)} of 1000 on the diagonal`);
    assert.deepEqual(seen.epochs, ['epoch 1', 'epoch 2']);
    assert.equal(seen.pickedEpoch, '1');
    await bench.screenshotOf(frame.locator('#confusion-section'), 'confusion-matrix');
    await frame.locator('#confusion-epoch').selectOption('0');
    const earlier = await waitFor('the first epoch\'s matrix', () => viewContent(frame), (v) => v.pickedEpoch === '0', 10_000);
    assert.equal(total(earlier.confusion), 1000);
    assert.notDeepEqual(earlier.confusion, seen.confusion, 'each epoch has its own matrix');

    // The worst-classified test images, drawn: 28 × 28, not blank, captioned with class names.
    assert.ok(seen.worstVisible);
    assert.equal(seen.worst.length, 8);
    for (const sample of seen.worst) {
      assert.deepEqual([sample.width, sample.height], [28, 28]);
      assert.ok(sample.levels > 10, `a drawn image has many grey levels, got ${sample.levels}`);
      const [truth, guess] = sample.caption.split('→').map((part) => part.trim());
      assert.ok(classes.includes(truth!), `caption ${sample.caption}`);
      assert.ok(classes.some((name) => guess!.startsWith(`${name} `)) && /\d+\.\d%$/.test(guess!), `caption ${sample.caption}`);
    }
    await bench.screenshotOf(frame.locator('#worst-section'), 'worst-samples');
  });
});
