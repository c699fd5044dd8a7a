// End-to-end scenario 6: in an untrusted workspace (restricted mode) the extension still checks
// the file; the ▶ Train lens is shown disabled with the reason, the Train command is refused
// with a message that says why, and nothing is written.
import assert from 'node:assert/strict';
import { describeEditor } from './harness/suite.js';
import { listFiles } from './harness/run.js';
import { waitFor } from './harness/workbench.js';
import { exampleFile, trainCommandTitle } from './model.js';

describeEditor('NN Studio in VS Code (untrusted workspace)', { runName: 'untrusted', trusted: false }, (scenario) => {
  scenario('6 untrusted workspace: ▶ Train is shown disabled, and refused with a clear message', async ({ bench, run }) => {
    await bench.openFile(exampleFile);
    await waitFor('the Restricted Mode indicator (the workspace is untrusted)', () => bench.statusBar(), (s) => /Restricted Mode/.test(s), 60_000);
    assert.equal(await bench.languageMode(), 'NN');
    await waitFor('shape inlay hints (checking works untrusted)', () => bench.inlayHints(), (h) => h.length > 0, 30_000);

    // The lens says why it cannot run, and is not a link.
    const disabled = bench.editor.locator('.codelens-decoration', { hasText: 'not trusted' }).first();
    await disabled.waitFor({ timeout: 30_000 });
    assert.match(await disabled.innerText(), /▶ Train \(disabled: the workspace is not trusted\)/);
    assert.equal(await bench.editor.locator('.codelens-decoration a', { hasText: 'Train' }).count(), 0, 'the disabled lens is not clickable');
    await bench.runCommand(trainCommandTitle());
    const toasts = await waitFor('a refusal naming workspace trust', () => bench.notifications(), (n) => n.some((t) => /trust/i.test(t)), 30_000);
    assert.ok(toasts.some((t) => /trust/i.test(t)));
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual(listFiles(run.workspace).filter((f) => f.startsWith('runs/') || f.endsWith('.safetensors')), [], 'nothing was trained');
    assert.ok(!(await bench.notifications()).some((t) => /step \d+/i.test(t)), 'no training progress');
  });
});
