// End-to-end scenario 8: a long run of the bundled example overfits. After ▶ Train, the
// Problems panel holds NN5008 at the `epochs` line (what the numbers were, from which epoch,
// where the best weights are kept), the same place and numbers `nn train` reports in a
// terminal for the same file, and its quick fix sets `epochs` to the best epoch.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './harness/install.js';
import { describeEditor } from './harness/suite.js';
import { positionOf, waitFor } from './harness/workbench.js';
import { withTrainKey, writeVariant } from './model.js';

/** The bundled example trained 20 epochs instead of 6: its test loss turns up after epoch 7. */
const LONG_EPOCHS = '20';
let text = '';

function prepareWorkspace(workspace: string): void {
  text = writeVariant(workspace, 'overfits.nn', (t) => withTrainKey(t, 'epochs', LONG_EPOCHS));
}

/** The NN5008 line and best epoch `nn train` reports for the same file. */
function cliOverfitting(path: string): { line: number; epoch: number } | null {
  const result = spawnSync(process.execPath, [join(repoRoot, 'dist', 'cli.js'), 'train', path, '--json'], { cwd: join(path, '..'), encoding: 'utf8', timeout: 300_000, maxBuffer: 256 * 1024 * 1024 });
  for (const line of result.stdout.split('\n')) {
    if (!line.includes('"NN5008"')) continue;
    const finding = JSON.parse(line).finding as { range: { start: number }; message: string };
    const epoch = /the weights of epoch (\d+) /.exec(finding.message);
    const findingLine = text.slice(0, finding.range.start).split('\n').length;
    return epoch ? { line: findingLine, epoch: Number(epoch[1]) } : null;
  }
  return null;
}

describeEditor('NN Studio in VS Code (a run that overfits)', { runName: 'findings', trusted: true, prepareWorkspace }, (scenario) => {
  scenario('8 overfitting: NN5008 in the Problems panel at `epochs`, as in the terminal, with its quick fix', async ({ bench, run }) => {
    const path = join(run.workspace, 'overfits.nn');
    await bench.openFile('overfits.nn');
    const lens = bench.editor.locator('.codelens-decoration a', { hasText: 'Train' }).first();
    await lens.waitFor({ timeout: 60_000 });
    await lens.click();
    const rows = await waitFor('an NN5008 problem', () => bench.problems(), (p) => p.some((row) => row.text.includes('NN5008')), 180_000);
    const problem = rows.find((row) => row.text.includes('NN5008'))!;
    const epochsLine = positionOf(text, 'epochs', '\ntrain ').line;
    assert.equal(problem.line, epochsLine, `NN5008 at the epochs line: ${problem.text}`);
    assert.match(problem.text, /overfitting: the mean test loss rose from [\d.]+ over epochs \d+–\d+/);
    const cli = cliOverfitting(path);
    assert.ok(cli, 'nn train reports NN5008 for the same file');
    assert.equal(cli.line, problem.line, 'the terminal names the same line');
    assert.ok(problem.text.includes(`the weights of epoch ${cli.epoch} `), `the same best epoch as the terminal (${cli.epoch}): ${problem.text}`);
    await bench.screenshot('overfitting');

    // The quick fix: epochs = the best epoch.
    await bench.goto(epochsLine, positionOf(text, `= ${LONG_EPOCHS}`, '\ntrain ').column + 2);
    await bench.page.keyboard.press('Control+.');
    const fix = bench.page.locator('.action-widget .monaco-list-row, .action-widget .action-list-item', { hasText: `Change epochs to ${cli.epoch}` }).first();
    await fix.waitFor({ timeout: 30_000 });
    await fix.click();
    await bench.page.keyboard.press('Control+S');
    await waitFor('the fix in the file', async () => readFileSync(path, 'utf8'), (t) => new RegExp(`epochs\\s*= ${cli.epoch}\\n`).test(t), 30_000);
  });
});
