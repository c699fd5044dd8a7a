// A real editor other than VS Code: headless Neovim (Debian's `neovim`) runs `nn lsp`, opens a
// model, runs the ▶ Train code lens as a user would, and sees the run's `$/progress` and the
// message it ends with. The lens names a command the server executes (workspace/executeCommand).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');
const nvim = spawnSync('nvim', ['--version'], { encoding: 'utf8' });
const missing = nvim.status !== 0 ? 'nvim is not installed' : false;

test('Neovim: the ▶ Train code lens trains through `nn lsp`, with progress and a message at the end', { skip: missing, timeout: 180_000 }, () => {
  const workspace = mkdtempSync(join(tmpdir(), 'nn-nvim-'));
  try {
    const file = join(workspace, 'tiny_train.nn');
    copyFileSync(join(root, 'test', 'server', 'fixtures', 'tiny_train.nn'), file);
    const out = join(workspace, 'report.json');
    const home = join(workspace, 'home');
    const run = spawnSync(
      'nvim',
      ['--headless', '--clean', '-n', '--cmd', `let g:nn_cli = '${join(root, 'dist', 'cli.js')}' | let g:nn_file = '${file}' | let g:nn_out = '${out}'`, '-S', join(__dirname, 'codelens.lua')],
      { encoding: 'utf8', timeout: 170_000, env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data'), XDG_STATE_HOME: join(home, 'state'), XDG_CACHE_HOME: join(home, 'cache') } },
    );
    assert.equal(run.status, 0, `nvim exited with ${run.status}: ${run.stderr}`);
    const report = JSON.parse(readFileSync(out, 'utf8')) as {
      progress: { kind: string; title?: string; percentage?: number; message?: string }[];
      messages: { type: number; message: string }[];
      lenses: string[];
      errors: string[];
    };
    assert.deepEqual(report.errors, []);
    assert.deepEqual(report.lenses.sort(), ['∇ Probe gradients', '▶ Train']);
    const begin = report.progress.find((p) => p.kind === 'begin');
    assert.equal(begin?.title, 'Training Small');
    assert.ok(report.progress.some((p) => p.kind === 'report' && p.percentage === 100), JSON.stringify(report.progress.slice(-3)));
    assert.equal(report.progress[report.progress.length - 1].kind, 'end');
    assert.equal(report.messages.length, 1);
    assert.equal(report.messages[0].type, 3, 'an information message');
    assert.match(report.messages[0].message, /^Trained Small: \d+ steps/);
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
});
