// End-to-end scenario 7: a built-in data set that is not on the machine. The Problems panel
// shows the checker's NN4008 note (what will be downloaded, from where, into which folder);
// ▶ Train downloads it from a mirror on 127.0.0.1 (NN_DATA_MIRROR, into NN_DATA_CACHE) over
// a slow link, the progress notification names the files as they arrive,
// the run trains on what was downloaded, and the note is gone afterwards. Debian's data
// packages are hidden from code-server, as on a machine without them.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { describeEditor } from './harness/suite.js';
import { listFiles } from './harness/run.js';
import { waitFor } from './harness/workbench.js';
import { TestMirror, imageModel, mnistFiles } from '../data/mirror.js';
import { trainingViewFrame } from './training.js';

const mirror = new TestMirror();
for (const [name, body] of Object.entries(mnistFiles(240, 60).files)) mirror.files.set(`/mnist/${name}`, body);
mirror.throttle = 40_000; // about five seconds for the four files
let base = '';
// Root hooks run before the suite's own, which calls prepareWorkspace and starts code-server.
before(async () => {
  base = await mirror.start();
});
after(() => mirror.close());

function prepareWorkspace(workspace: string): void {
  writeFileSync(join(workspace, 'digits.nn'), imageModel('mnist(train = 240, test = 60)'));
  const checksums = join(workspace, 'checksums.json');
  writeFileSync(checksums, JSON.stringify(mirror.checksums()));
  // code-server inherits this process's environment (nn.dataMirror and nn.dataCache are
  // machine settings, which a workspace cannot set): the mirror, its own checksums, no Debian data.
  process.env.NN_DATA_MIRROR = base;
  process.env.NN_DATA_CACHE = join(workspace, 'cache');
  process.env.NN_DATA_CHECKSUMS = checksums;
  process.env.NN_DATA_SYSTEM_DIR = '';
}

describeEditor('NN Studio in VS Code (a data set to download)', { runName: 'download', trusted: true, prepareWorkspace }, (scenario) => {
  scenario('7 a data set not on the machine: the NN4008 note, ▶ Train downloads it with progress, then trains', async ({ bench, run }) => {
    await bench.openFile('digits.nn');
    const lens = bench.editor.locator('.codelens-decoration a', { hasText: 'Train' }).first();
    await lens.waitFor({ timeout: 60_000 });
    const rows = await waitFor('the NN4008 note', () => bench.problems(), (p) => p.some((row) => row.text.includes('NN4008')), 60_000);
    const note = rows.find((row) => row.text.includes('NN4008'))!;
    assert.match(note.text, /MNIST is not on this machine yet: the first run downloads [\d.]+ kB from http:\/\/127\.0\.0\.1:\d+/);
    assert.equal(note.line, 6, `the note is at the data line: ${note.text}`);

    await lens.click();
    const toast = await waitFor('a download in the progress notification', () => bench.notifications(), (n) => n.some((t) => /downloading MNIST \S+\.gz/.test(t)), 60_000);
    assert.ok(toast.some((t) => /train/i.test(t)), `the notification is the run's: ${toast.join(' | ')}`);
    await bench.screenshot('downloading');
    await waitFor('a later file of the download', () => bench.notifications(), (n) => n.some((t) => /downloading MNIST t10k-/.test(t)), 60_000);

    const frame = (await waitFor('the Training view', async () => trainingViewFrame(bench), (f) => f !== null, 60_000))!;
    await waitFor('the run to finish', () => frame.locator('#status').innerText(), (t) => /^done at step/.test(t), 120_000);
    const cached = listFiles(run.workspace).filter((f) => f.startsWith(join('cache', 'mnist')));
    assert.deepEqual(cached.map((f) => f.split('/').at(-1)).sort(), ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz']);
    await waitFor('the note to be gone', () => bench.problems(), (p) => !p.some((row) => row.text.includes('NN4008')), 30_000);
    assert.ok(mirror.requests.length >= 4, 'every file came from the mirror');
    await bench.screenshot('downloaded');
  });
});
