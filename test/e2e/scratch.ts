import { join } from 'node:path';
import { startCodeServer } from './harness/codeServer.js';
import { findInstall } from './harness/install.js';
import { prepareRun, artifactsRoot } from './harness/run.js';
import { Workbench } from './harness/workbench.js';
import { writeVariant, withTrainKey } from './model.js';
(async () => {
  const a = findInstall(); if (!a.ok) throw new Error(a.reason);
  const run = prepareRun('scratch');
  writeVariant(run.workspace, 'train_cancel.nn', (t) => withTrainKey(t, 'epochs', '50'));
  const server = await startCodeServer(a.install, { root: run.root, workspace: run.workspace, vsix: join(artifactsRoot, 'nn-studio.vsix'), trusted: true });
  const b = await Workbench.open(a.install, join(run.root, 'browser'), server.url, run.artifacts);
  try {
    await b.openFile('train_cancel.nn');
    const lens = b.editor.locator('.codelens-decoration a', { hasText: 'Train' }).first();
    await lens.waitFor({ timeout: 60000 }); await lens.click();
    for (let i = 0; i < 8; i++) { await new Promise(r => setTimeout(r, 5000)); console.log(i * 5, JSON.stringify(await b.notifications()), (await b.statusBar()).slice(0, 120)); }
    await b.runCommand('Notifications: Show Notifications');
    await new Promise(r => setTimeout(r, 1000));
    const html = await b.page.locator('.notifications-center').innerHTML().catch(e => String(e));
    console.log(html.replace(/<svg.*?<\/svg>/g, '').slice(0, 3000));
    await b.screenshot('center');
  } finally { await b.close(); await server.stop(); }
})();
