// The `nn` CLI as users run it (`node dist/cli.js`, built by scripts/test.mjs): check's text
// and JSON output and exit codes, summary's table, help and unknown commands.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

function nn(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const dir = 'test/fixtures/conformance';

test('nn check prints file:line:col, the source line and a caret underline; exit 1 on error', () => {
  const { status, stdout } = nn('check', `${dir}/err_linear_features.nn`);
  assert.equal(status, 1);
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`${dir}/err_linear_features.nn:12:12: error NN2103: Linear expects input features 4608`));
  assert.ok(at >= 0, stdout);
  assert.equal(lines[at + 2], '12 |   h = relu(fc1(h))            #! NN2103');
  assert.equal(lines[at + 3], '   |            ^^^^^^');
  assert.match(stdout, /note: .*:5:18: `fc1` is declared with in_features 4608 here/);
});

test('nn check exits 0 on clean files and on warnings only', () => {
  assert.equal(nn('check', `${dir}/ok_cnn.nn`, `${dir}/ok_block.nn`).status, 0);
  const warned = nn('check', `${dir}/warn_unused_layer.nn`);
  assert.equal(warned.status, 0);
  assert.match(warned.stdout, /warning NN3101/);
});

test('nn check --format json prints one array with 1-based positions, related information and fixes', () => {
  const { status, stdout } = nn('check', '--format', 'json', `${dir}/err_conv_channels.nn`, `${dir}/ok_mlp.nn`);
  assert.equal(status, 1);
  const items = JSON.parse(stdout) as Record<string, unknown>[];
  assert.equal(items.length, 1);
  const [d] = items;
  assert.deepEqual(
    { file: d.file, line: d.line, column: d.column, endLine: d.endLine, endColumn: d.endColumn, severity: d.severity, code: d.code },
    { file: `${dir}/err_conv_channels.nn`, line: 7, column: 12, endLine: 7, endColumn: 17, severity: 'error', code: 'NN2104' },
  );
  assert.deepEqual(Object.keys(d).sort(), ['code', 'column', 'endColumn', 'endLine', 'file', 'fixes', 'line', 'message', 'related', 'severity']);
  const fixes = d.fixes as { edits: { line: number; column: number; newText: string }[] }[];
  assert.deepEqual(fixes[0].edits[0], { line: 4, column: 15, endLine: 4, endColumn: 17, newText: '16' });
});

test('nn check on a missing file says so and exits 2', () => {
  const { status, stderr } = nn('check', 'no/such/file.nn');
  assert.equal(status, 2);
  assert.match(stderr, /cannot read no\/such\/file\.nn/);
});

test('nn summary prints a layer table with gradient shapes and totals', () => {
  const { status, stdout } = nn('summary', `${dir}/ok_cnn.nn`);
  assert.equal(status, 0);
  assert.match(stdout, /Net\(x: \[B, 1, 28, 28\]\) -> \[B, 10\]/);
  assert.match(stdout, /├─Linear \(fc1\): 1-\d+\s+\[B, 128\]\s+\[B, 128\]\s+1,179,776/);
  assert.match(stdout, /Total params: 1,199,882/);
  const unused = nn('summary', `${dir}/warn_unused_layer.nn`, '--model', 'M');
  assert.match(unused.stdout, /├─Linear \(fc2\): 1-4\s+--\s+--\s+72/);
  assert.match(unused.stdout, /Non-trainable params: 72 \(no gradient reaches them\)/);
  assert.equal(nn('summary', `${dir}/ok_cnn.nn`, '--model', 'Nope').status, 2);
});

test('nn --help lists the commands; an unknown command exits 2', () => {
  const help = nn('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /check\s+check \.nn files/);
  const unknown = nn('frobnicate');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command `frobnicate`/);
});

test('nn check, summary and export read the files a file imports', () => {
  const cases = 'test/fixtures/cases';
  assert.equal(nn('check', `${cases}/ok_nn2180_import.nn`).status, 0);
  const broken = nn('check', `${cases}/err_nn2183_errors_in_import.nn`);
  assert.equal(broken.status, 1);
  assert.match(broken.stdout, /err_nn2183_errors_in_import\.nn:2:8: error NN2183: "imports\/broken\.nn" has 2 error\(s\); the first, at line 3: /);
  assert.match(nn('summary', `${cases}/ok_nn2180_import.nn`).stdout, /Mlp \(body\)/);
  const out = join(mkdtempSync(join(tmpdir(), 'nn-export-')), 'Net.py');
  const exported = nn('export', `${cases}/ok_nn2180_import.nn`, '--format', 'pytorch', '--output', out);
  assert.equal(exported.status, 0, exported.stderr);
  assert.match(readFileSync(out, 'utf8'), /class Net\(nn\.Module\)/);
});
