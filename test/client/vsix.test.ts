// Builds the .vsix the way `npm run package` does (from the bundles the test run built) and
// checks what it ships: the bundles, grammar and language configuration, a loadable
// onnxruntime-node for this platform only, the bundled Fashion-MNIST subset with its
// licence, and no sources; and that its server trains the subset in a folder outside the
// repository, on a machine without Debian's package.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { serverExecArgv, type TrainResult } from '../../server/src/protocol.js';
import { LspClient } from '../server/lspClient.js';
import { extractEntry, listZip, type ZipEntry } from './zip.js';

let workDir: string;
let vsix: Buffer;
let entries: ZipEntry[];
let names: string[];

before(() => {
  workDir = mkdtempSync(join(tmpdir(), 'nn-vsix-test-'));
  const out = join(workDir, 'nn-studio.vsix');
  // scripts/test.mjs has just built dist/; --no-build leaves it alone for concurrent tests.
  execFileSync(process.execPath, ['scripts/package.mjs', '--no-build', '--out', out], { stdio: 'pipe', timeout: 180_000 });
  vsix = readFileSync(out);
  entries = listZip(vsix);
  names = entries.map((e) => e.name);
});

after(() => rmSync(workDir, { recursive: true, force: true }));

function read(name: string): Buffer {
  const entry = entries.find((e) => e.name === name);
  assert.ok(entry, `${name} is in the package`);
  return extractEntry(vsix, entry);
}

test('the package holds the bundles, the grammar, the language configuration and the manifest', () => {
  for (const name of [
    'extension/package.json',
    'extension/dist/client.js',
    'extension/dist/server.js',
    'extension/dist/worker.js',
    'extension/dist/kernel-worker.js',
    'extension/dist/webview.js',
    'extension/dist/webview.css',
    'extension/syntaxes/nn.tmLanguage.json',
    'extension/language-configuration.json',
    'extension/readme.md',
    'extension/LICENSE.txt',
    'extension/examples/data/fashion-mnist/LICENSE',
    'extension/examples/data/fashion-mnist/train-images-idx3-ubyte.gz',
    'extension/examples/data/fashion-mnist/train-labels-idx1-ubyte.gz',
    'extension/examples/data/fashion-mnist/t10k-images-idx3-ubyte.gz',
    'extension/examples/data/fashion-mnist/t10k-labels-idx1-ubyte.gz',
  ]) {
    assert.ok(names.includes(name), `${name} is missing`);
  }
  const packaged = JSON.parse(read('extension/package.json').toString('utf8'));
  assert.equal(packaged.main, './dist/client.js');
  JSON.parse(read('extension/syntaxes/nn.tmLanguage.json').toString('utf8'));
  assert.match(read('extension.vsixmanifest').toString('utf8'), new RegExp(`TargetPlatform="${process.platform}-${process.arch}"`));
});

test('nothing from the sources, tests, source maps or the top-level node_modules ships', () => {
  const unwanted = names.filter(
    (name) =>
      /^extension\/(client|server|engine|test|scripts|bench|node_modules)\//.test(name) ||
      (/^extension\/examples\//.test(name) && !/^extension\/examples\/data\/fashion-mnist\//.test(name)) ||
      /\/src\//.test(name) ||
      /\.(ts|map)$/.test(name) ||
      name === 'extension/dist/cli.js',
  );
  assert.deepEqual(unwanted, []);
  const outsideDist = names.filter((n) => n.startsWith('extension/') && !/^extension\/(dist|syntaxes|docs|examples\/data\/fashion-mnist)\//.test(n));
  assert.deepEqual(
    outsideDist.sort(),
    ['extension/LICENSE.txt', 'extension/language-configuration.json', 'extension/package.json', 'extension/readme.md'],
  );
});

test('onnxruntime-node ships with this platform\'s binaries only', () => {
  const binaries = names.filter((n) => n.includes('/onnxruntime-node/bin/'));
  assert.ok(binaries.some((n) => n.endsWith('/onnxruntime_binding.node')));
  for (const binary of binaries) {
    assert.match(binary, new RegExp(`/bin/napi-v\\d+/${process.platform}/${process.arch}/`), binary);
  }
});

/** The package unpacked into a folder of its own (once). */
function unpacked(): string {
  const root = join(workDir, 'unpacked');
  if (existsSync(root)) return root;
  for (const entry of entries.filter((e) => e.name.startsWith('extension/'))) {
    const path = join(root, entry.name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, extractEntry(vsix, entry));
  }
  return root;
}

test('the packaged onnxruntime-node loads on its own, from the extracted package', () => {
  const root = unpacked();
  // Resolved the way dist/server.js resolves it: from extension/dist.
  const probe = join(root, 'extension/dist/probe.js');
  writeFileSync(
    probe,
    "const ort = require('onnxruntime-node');\n" +
      "if (typeof ort.InferenceSession?.create !== 'function') throw new Error('no InferenceSession');\n" +
      "process.stdout.write(require.resolve('onnxruntime-node') + '\\n' + ort.env.versions.node);\n",
  );
  const [resolved, version] = execFileSync(process.execPath, [probe], { cwd: root, encoding: 'utf8', timeout: 60_000 }).split('\n');
  assert.ok(resolved.startsWith(join(root, 'extension/dist/node_modules/onnxruntime-node/')), resolved);
  assert.equal(version, JSON.parse(readFileSync('node_modules/onnxruntime-node/package.json', 'utf8')).version);
});

test('the bundles load nothing from node_modules but vscode and onnxruntime-node', () => {
  const allowed: Record<string, string[]> = {
    'extension/dist/client.js': ['vscode'],
    'extension/dist/server.js': ['onnxruntime-node'],
    'extension/dist/worker.js': ['onnxruntime-node'],
    'extension/dist/kernel-worker.js': [],
  };
  const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  for (const [bundle, externals] of Object.entries(allowed)) {
    const required = [...read(bundle).toString('utf8').matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]);
    const foreign = [...new Set(required)].filter((m) => !builtins.has(m) && !externals.includes(m) && !m.startsWith('.'));
    assert.deepEqual(foreign, [], bundle);
  }
});

test('the webview script loads nothing from the network', () => {
  const script = read('extension/dist/webview.js').toString('utf8');
  const urls = [...script.matchAll(/https?:\/\/[^\s"'`)]+/g)].map((m) => m[0]);
  assert.deepEqual([...new Set(urls)], ['http://www.w3.org/2000/svg']);
  assert.ok(!/\bfetch\(|XMLHttpRequest|WebSocket|importScripts/.test(script));
});

test('the packaged server trains the bundled subset in a folder outside the repository, without Debian\'s package', async () => {
  const root = unpacked();
  const folder = mkdtempSync(join(tmpdir(), 'nn-anywhere-'));
  try {
    const file = join(folder, 'fashion.nn');
    writeFileSync(
      file,
      'model Net(x: [B, 1, 28, 28]) -> [B, 10] {\n  return x |> flatten |> Linear(784, 10)\n}\n\n' +
        'train Net {\n  data = fashion_mnist(train = 600, test = 100)\n  epochs = 1\n  batch = 50\n}\n',
    );
    const env = { ...process.env, NN_DATA_SYSTEM_DIR: '', NN_DATA_CACHE: join(folder, 'cache') };
    await LspClient.using({ command: [...serverExecArgv, join(root, 'extension/dist/server.js'), '--stdio'], workspaceFolder: folder, env }, async (client) => {
      const uri = await client.open(file);
      const published = await client.diagnosticsFor(uri);
      assert.deepEqual(published.diagnostics.map((d) => `${d.code} ${d.message}`), [], 'the subset is found: no NN4005, no download note');
      const result = await client.request<TrainResult>('nn/train', { uri });
      assert.equal(result.reason, 'done', result.message);
      assert.ok(result.testAccuracy !== null && result.testAccuracy > 0.3, `accuracy ${result.testAccuracy}`);
    });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
