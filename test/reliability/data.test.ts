// Bad data files give NN4005 saying what is wrong, at the `data` key, in `nn check`, in
// `nn train` and in the editor (diagnostics over LSP) — never a crash or a stack trace.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LspClient } from '../server/lspClient.js';
import { assertCleanFailure, idxBytes, nn, npyBytes, tempWorkspace, writeFiles } from './harness.js';

const labels = npyBytes('int64', [6], [0, 1, 2, 0, 1, 2]);
const inputs = npyBytes('float32', [6, 2], [0, 1, 1, 0, 0.5, 0.5, 1, 1, 0, 0, 0.2, 0.8]);

interface BadData {
  name: string;
  files: Record<string, string | Buffer>;
  data: string;
  /** The model's input shape for this data set. */
  input: string;
  /** What the message must say. */
  problem: RegExp;
}

const cases: BadData[] = [
  {
    name: 'truncated .npy',
    files: { 'x.npy': inputs.subarray(0, inputs.length - 10), 'y.npy': labels },
    data: 'npy(x = "x.npy", y = "y.npy")',
    input: '[B, 2]',
    problem: /x\.npy.*truncated/,
  },
  {
    name: 'wrong IDX magic',
    files: {
      'images.idx': idxBytes([6, 2], [0, 255, 255, 0, 9, 9, 255, 255, 0, 0, 5, 200], 0x12340802),
      'labels.idx': idxBytes([6], [0, 1, 2, 0, 1, 2]),
    },
    data: 'idx(images = "images.idx", labels = "labels.idx")',
    input: '[B, 2]',
    problem: /images\.idx.*magic/,
  },
  {
    name: 'CSV with a text cell',
    files: { 'table.csv': 'a,b,label\n0,1,0\n1,abc,1\n0.5,0.5,2\n' },
    data: 'csv("table.csv", label = "label")',
    input: '[B, 2]',
    problem: /table\.csv.*line 3.*abc/,
  },
  {
    name: 'CSV with a ragged row',
    files: { 'table.csv': 'a,b,label\n0,1,0\n1,1\n0.5,0.5,2\n' },
    data: 'csv("table.csv", label = "label")',
    input: '[B, 2]',
    problem: /table\.csv.*line 3.*2 cells.*3/,
  },
  {
    name: 'labels out of range',
    files: { 'x.npy': inputs, 'y.npy': npyBytes('int64', [6], [0, 1, 2, -1, 1, 2]) },
    data: 'npy(x = "x.npy", y = "y.npy")',
    input: '[B, 2]',
    problem: /y\.npy.*-1.*out of range/,
  },
  {
    name: 'empty file',
    files: { 'x.npy': '', 'y.npy': labels },
    data: 'npy(x = "x.npy", y = "y.npy")',
    input: '[B, 2]',
    problem: /x\.npy.*empty/,
  },
];

function modelText(c: BadData): string {
  return [
    `model M(x: ${c.input}) -> [B, 3] {`,
    '  return x |> Linear(2, 16) |> relu |> Linear(16, 3)',
    '}',
    '',
    'train M {',
    `  data   = ${c.data}`,
    '  epochs = 1',
    '  batch  = 2',
    '}',
    '',
  ].join('\n');
}

const dataLine = 5; // 0-based line of `data = ...` in modelText

/** A folder holding the case's files and model, inside `parent` (a workspace) or a fresh one. */
function workspaceFor(c: BadData, parent?: string): string {
  const dir = parent ? join(parent, c.name.replace(/\W+/g, '-')) : tempWorkspace('bad-data');
  mkdirSync(dir, { recursive: true });
  writeFiles(dir, { ...c.files, 'model.nn': modelText(c) });
  return dir;
}

describe('bad data files give NN4005 in the CLI', () => {
  for (const c of cases) {
    it(`${c.name}: nn check and nn train say what is wrong`, () => {
      const dir = workspaceFor(c);
      for (const command of ['check', 'train']) {
        const result = nn([command, 'model.nn'], dir);
        assertCleanFailure(result, `nn ${command} (${c.name})`);
        assert.match(result.output, /NN4005/, `nn ${command} (${c.name}) names NN4005:\n${result.output}`);
        assert.match(result.output, c.problem, `nn ${command} (${c.name}) says what is wrong:\n${result.output}`);
      }
      const check = nn(['check', 'model.nn'], dir);
      assert.match(check.output, new RegExp(`model\\.nn:${dataLine + 1}:\\d+`), `nn check points at the data line:\n${check.output}`);
    });
  }
});

describe('bad data files give NN4005 in the editor', () => {
  let client: LspClient;
  const root = tempWorkspace('bad-data-lsp');
  before(async () => {
    client = await LspClient.start({ workspaceFolder: root });
  });
  after(() => client.stop());

  for (const c of cases) {
    it(`${c.name}: an NN4005 diagnostic on the data line`, async () => {
      const dir = workspaceFor(c, root);
      const uri = await client.open(join(dir, 'model.nn'), modelText(c));
      const { diagnostics } = await client.diagnosticsFor(uri, 1, 30_000);
      const found = diagnostics.find((d) => d.code === 'NN4005');
      assert.ok(found, `no NN4005 among ${JSON.stringify(diagnostics)}`);
      assert.match(found.message, c.problem);
      assert.equal(found.range.start.line, dataLine);
    });
  }
});
