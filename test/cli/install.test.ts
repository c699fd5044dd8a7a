// The CLI as users install it: `npm pack` of this package, `npm install -g` of the tarball
// into a fresh prefix in a temporary folder (from npm's cache where it can), then the
// installed `nn`, run outside the clone with Debian's data package hidden: --version,
// check, train on the bundled Fashion-MNIST subset, and `nn lsp` answering over stdio.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LspClient, repoRoot } from '../server/lspClient.js';

let temp: string;
let prefix: string;
let work: string;
let nn: string;
const version: string = require('../../package.json').version;
/** The installed CLI's environment: no Debian data package, an empty cache, nothing from the clone. */
let env: NodeJS.ProcessEnv;

before(() => {
  temp = mkdtempSync(join(tmpdir(), 'nn-install-'));
  prefix = join(temp, 'prefix');
  work = join(temp, 'work');
  mkdirSync(work);
  // scripts/test.mjs has just built dist/; --ignore-scripts packs it as it is.
  const npmEnv = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_update_notifier: 'false' };
  execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', temp], { cwd: repoRoot, env: npmEnv, stdio: 'pipe', timeout: 120_000 });
  const tarball = readdirSync(temp).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack wrote a tarball');
  execFileSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(temp, tarball)], { cwd: work, env: npmEnv, stdio: 'pipe', timeout: 300_000 });
  nn = join(prefix, 'bin', 'nn');
  env = { ...process.env, NN_DATA_SYSTEM_DIR: '', NN_DATA_CACHE: join(temp, 'cache'), NODE_PATH: '' };
});

after(() => rmSync(temp, { recursive: true, force: true }));

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(nn, args, { cwd: work, env, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const MODEL = `model Net(x: [B, 1, 28, 28]) -> [B, 10] {
  return x |> flatten |> relu |> Linear(784, 10)
}

train Net {
  data = fashion_mnist(train = 600, test = 100)
  epochs = 1
  batch = 50
}
`;

test('the installed package holds the CLI, the server, the workers (runs and kernel threads) and the bundled subset, and no sources', () => {
  assert.ok(existsSync(nn), 'npm linked bin/nn');
  const installed = join(prefix, 'lib', 'node_modules', 'nn-studio');
  for (const file of ['dist/cli.js', 'dist/server.js', 'dist/worker.js', 'dist/kernel-worker.js', 'examples/data/fashion-mnist/LICENSE', 'examples/data/fashion-mnist/train-images-idx3-ubyte.gz']) {
    assert.ok(existsSync(join(installed, file)), `${file} is installed`);
  }
  for (const folder of ['engine', 'server', 'client', 'test', 'scripts', 'bench']) assert.ok(!existsSync(join(installed, folder)), `${folder}/ is not installed`);
  const dependencies = readdirSync(join(installed, 'node_modules')).filter((d) => !d.startsWith('.'));
  assert.ok(dependencies.includes('onnxruntime-node'));
  assert.ok(!dependencies.some((d) => d.startsWith('vscode-') || d === 'protobufjs' || d === 'typescript'), `only what the bundles load: ${dependencies.join(', ')}`);
});

test('nn --version names the package version', () => {
  const result = run(['--version']);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, `nn ${version}\n`);
});

test('nn check and nn train run from the installed prefix, outside the clone', () => {
  writeFileSync(join(work, 'net.nn'), MODEL);
  const check = run(['check', 'net.nn']);
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /1 file\(s\) checked: 0 error\(s\), 0 warning\(s\)/);
  const train = run(['train', 'net.nn']);
  assert.equal(train.status, 0, train.stdout + train.stderr);
  assert.match(train.stdout, /^training Net \(7850 parameters, 12 steps per epoch, backend onnx( on \d+ threads?)?\)/);
  assert.match(train.stdout, /training finished after 12 steps/);
  assert.ok(existsSync(join(work, 'runs', 'Net', 'checkpoint.safetensors')));
  const broken = run(['check', 'missing.nn']);
  assert.equal(broken.status, 2);
  assert.doesNotMatch(broken.stderr, /\n\s+at /, 'no stack trace');
});

test('nn lsp answers initialize over stdio and checks a document', async () => {
  const file = join(work, 'lsp.nn');
  writeFileSync(file, MODEL.replace('Linear(784, 10)', 'Linear(780, 10)'));
  await LspClient.using({ command: [nn, 'lsp'], workspaceFolder: work, env }, async (client) => {
    assert.deepEqual(client.serverInfo, { name: 'nn-studio', version });
    const uri = await client.open(file);
    const published = await client.diagnosticsFor(uri, undefined, 20_000);
    assert.deepEqual(published.diagnostics.map((d) => d.code), ['NN2103']);
  });
});
