// The PyTorch export: for every example, the generated module loads the .safetensors
// weights with its own loader and reproduces the TS engine's eval forward, run with
// Debian's python3-torch (skipped, saying why, where torch cannot be imported).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportPytorch } from '../../engine/src/export/pytorch.js';
import { storedTensor, writeSafetensors } from '../../engine/src/core/safetensors.js';
import { exportCase, relativeError } from './exportHarness.js';

const PYTHON = '/usr/bin/python3';
const torchCheck = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
const torchMissing = torchCheck.status !== 0 ? 'python3-torch not installed' : null;

/** Loads each exported module, loads its weights, runs its input and writes the output. */
const DRIVER = `
import importlib.util, json, sys, numpy
import torch
jobs = json.load(open(sys.argv[1]))
for job in jobs:
    spec = importlib.util.spec_from_file_location(job["module"], job["py"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.load_model(job["weights"])
    model.eval()
    raw = open(job["input"], "rb").read()
    dtype = torch.int64 if job["dtype"] == "int64" else torch.float32
    x = torch.frombuffer(bytearray(raw), dtype=dtype).reshape(job["shape"])
    with torch.no_grad():
        y = model(x)
    open(job["output"], "wb").write(y.contiguous().numpy().astype("float32").tobytes())
`;

/** The export fixtures: models that need more of the exporter than the examples do. */
const FIXTURES = 'test/fixtures/export';

test('exported PyTorch modules reproduce the TS forward for every example and export fixture', { skip: torchMissing ?? false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'nn-pytorch-'));
  try {
    const nnFiles = (folder: string) => readdirSync(folder).filter((f) => f.endsWith('.nn')).sort();
    const files = [...nnFiles('examples'), ...nnFiles(FIXTURES).map((f) => `${FIXTURES}/${f}`)];
    const cases = files.map((file) => exportCase(file));
    const jobs = cases.map((c, i) => {
      const base = join(dir, `m${i}`);
      writeFileSync(`${base}.py`, exportPytorch(c.model, c.check.fnIrs, c.file));
      writeSafetensors(`${base}.safetensors`, {
        tensors: new Map([...c.model.params, ...c.model.buffers].map((p) => [p.name, storedTensor(p.shape, c.weights.get(p.name) as Float32Array)])),
        metadata: {},
      });
      const input = c.input.dtype === 'int64' ? BigInt64Array.from(c.input.data, (v) => BigInt(v)) : (c.input.data as Float32Array);
      writeFileSync(`${base}.in`, new Uint8Array(input.buffer, input.byteOffset, input.byteLength));
      return { module: `m${i}`, py: `${base}.py`, weights: `${base}.safetensors`, input: `${base}.in`, dtype: c.input.dtype, shape: c.input.shape, output: `${base}.out` };
    });
    writeFileSync(join(dir, 'jobs.json'), JSON.stringify(jobs));
    writeFileSync(join(dir, 'driver.py'), DRIVER);
    const result = spawnSync(PYTHON, [join(dir, 'driver.py'), join(dir, 'jobs.json')], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    cases.forEach((c, i) => {
      const bytes = readFileSync(jobs[i].output);
      const output = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      assert.equal(output.length, c.expected.data.length, c.file);
      const error = relativeError(output, c.expected.data);
      assert.ok(error < 1e-5, `${c.file}: relative error ${error}`);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the PyTorch module declares the state_dict names of the .nn model', () => {
  const c = exportCase('resnet_block.nn');
  const source = exportPytorch(c.model, c.check.fnIrs, c.file);
  assert.match(source, /self\.res1 = nn\.Module\(\)/);
  assert.match(source, /self\.res1\.conv1 = nn\.Conv2d\(8, 8, 3, stride=1, padding=1, dilation=1, groups=1\)/);
  assert.match(source, /self\.res1\.bn1 = nn\.BatchNorm2d\(8/);
  assert.match(source, /self\.head = nn\.Linear\(392, 10\)/);
  const custom = exportCase('custom_grad.nn');
  assert.match(exportPytorch(custom.model, custom.check.fnIrs, custom.file), /class SoftsignFunction\(torch\.autograd\.Function\)/);
});
