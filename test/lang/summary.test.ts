// `nn summary` reads like torchinfo's: rows by type and depth-index, a pipe's stages once,
// counts formatted (`25.15 K·B`, `7.37 M`), and parameter counts and mult-adds that PyTorch
// agrees with (the exported module's parameters, torchinfo's count over forward hooks).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { exportPytorch } from '../../engine/src/export/pytorch.js';
import { checkProgram } from '../../engine/src/lang/program.js';
import { atBatch, formatQuantity } from '../../engine/src/lang/quantity.js';
import { summarizeModel } from '../../engine/src/lang/summary.js';
import { Dim } from '../../engine/src/shape/dim.js';

function nn(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const PYTHON = '/usr/bin/python3';
const torchMissing = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0 ? 'python3-torch not installed' : false;

test('counts are formatted with SI prefixes, symbolic in the batch dim or at a batch size', () => {
  const perSample = Dim.named('B').scale(374_764);
  assert.equal(formatQuantity(perSample), '374.76 K·B');
  assert.equal(formatQuantity(atBatch(perSample, 'B', 64)), '23.98 M');
  assert.equal(formatQuantity(Dim.of(1_530_000_000)), '1.53 G');
  assert.equal(formatQuantity(Dim.named('B').scale(650).add(12)), '650·B + 12');
  assert.equal(formatQuantity(640), '640');
});

test('nn summary of fashion_cnn: torchinfo rows, totals and sizes at the train block\'s batch', () => {
  const { status, stdout } = nn('summary', 'examples/fashion_cnn.nn');
  assert.equal(status, 0, stdout);
  assert.match(stdout, /├─Conv2d \(conv1\): 1-1\s+\[B, 4, 28, 28\]\s+\[B, 4, 28, 28\]\s+40\s+31\.36 K·B/);
  assert.match(stdout, /├─ReLU: 1-2\s+\[B, 4, 28, 28\]/);
  assert.match(stdout, /├─MaxPool2d: 1-3\s+\[B, 4, 14, 14\]/);
  assert.match(stdout, /├─Linear \(fc2\): 1-10\s+\[B, 10\]\s+\[B, 10\]\s+650\s+650·B/);
  assert.match(stdout, /Total params: 26,138\nTrainable params: 26,138\nNon-trainable params: 0\nBuffers: 0/);
  assert.match(stdout, /Total mult-adds: 3\.69 M at B = 32 \(115\.18 K·B\)/);
  // 32 images of 28·28 float32; every row's output and its gradient (2·4 bytes per element).
  assert.match(stdout, /Input size \(MB\): 0\.10\n/);
  const check = checkProgram(readFileSync('examples/fashion_cnn.nn', 'utf8'));
  const summary = summarizeModel(check, 'FashionCnn')!;
  const elements = summary.rows.reduce((sum, r) => sum + (r.output ? r.output.reduce((a, d) => a * (d.constant() ?? 32), 1) : 0), 0);
  assert.match(stdout, new RegExp(`Forward/backward pass size \\(MB\\): ${((elements * 8) / 1e6).toFixed(2)}\\n`));
  const at64 = nn('summary', 'examples/fashion_cnn.nn', '--batch', '64');
  assert.match(at64.stdout, /Total mult-adds: 7\.37 M at B = 64/);
  assert.equal(nn('summary', 'examples/fashion_cnn.nn', '--batch', 'x').status, 2);
});

test('a pipe\'s stages are one row each, and a block\'s layers nest under it', () => {
  const source = `model P(x: [B, 8]) -> [B, 2] {\n  fc1 = Linear(8, 16)\n  fc2 = Linear(16, 2)\n  return x |> fc1 |> relu |> fc2\n}\n`;
  const summary = summarizeModel(checkProgram(source), 'P')!;
  assert.deepEqual(summary.rows.map((r) => `${r.type}:${r.depth}-${r.index}`), ['Linear:1-1', 'ReLU:1-2', 'Linear:1-3']);
  const resnet = summarizeModel(checkProgram(readFileSync('examples/resnet_block.nn', 'utf8')), 'ResNetTiny')!;
  const labels = resnet.rows.map((r) => `${'  '.repeat(r.depth - 1)}${r.type}${r.name ? `(${r.name})` : ''}`);
  assert.deepEqual(labels.slice(3, 11), ['Residual(res1)', '  Conv2d(res1.conv1)', '  BatchNorm2d(res1.bn1)', '  ReLU', '  Conv2d(res1.conv2)', '  BatchNorm2d(res1.bn2)', '  Add', '  ReLU']);
  assert.equal(resnet.buffers, 4 * 2 * 8);
});

/** The exported module's parameters and buffers, and torchinfo's mult-adds from forward hooks. */
const TORCHINFO = `
import importlib.util, json, sys
from math import prod
import torch
spec = importlib.util.spec_from_file_location("m", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
model = module.load_model()
batch = int(sys.argv[2])
layers = {}
def hook(name):
    def record(mod, inputs, output):
        params = sum(p.numel() for p in mod.parameters(recurse=False))
        size = list(output.shape)
        # torchinfo's LayerInfo.calculate_macs: a ConvNd's parameters once per output position, others once per batch row
        macs = params * prod(size[:1] + size[2:]) if "Conv" in type(mod).__name__ else params * size[0]
        layers[name] = {"params": params, "macs": macs, "shape": size}
    return record
for name, mod in model.named_modules():
    if name and not list(mod.children()):
        mod.register_forward_hook(hook(name))
shape = [batch] + [int(d) for d in sys.argv[3].split(",")]
model(torch.zeros(shape))
print(json.dumps({
    "params": sum(p.numel() for p in model.parameters()),
    "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
    "buffers": sum(b.numel() for name, b in model.named_buffers() if not name.endswith("num_batches_tracked")),
    "layers": layers,
}))
`;

test('parameter counts and mult-adds agree with PyTorch (torchinfo\'s counting) at B = 64', { skip: torchMissing }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'nn-summary-'));
  try {
    writeFileSync(join(dir, 'torchinfo.py'), TORCHINFO);
    for (const file of ['fashion_cnn.nn', 'resnet_block.nn', 'fashion_mlp.nn']) {
      const check = checkProgram(readFileSync(join('examples', file), 'utf8'));
      const model = check.trains[0].model;
      const ir = check.irs.get(model)!;
      writeFileSync(join(dir, 'model.py'), exportPytorch(ir, check.fnIrs, file));
      const sample = ir.graph.values[ir.graph.inputs[0]].shape.slice(1).map((d) => d.constant()).join(',');
      const run = spawnSync(PYTHON, [join(dir, 'torchinfo.py'), join(dir, 'model.py'), '64', sample], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const torch = JSON.parse(run.stdout) as { params: number; trainable: number; buffers: number; layers: Record<string, { params: number; macs: number; shape: number[] }> };
      const summary = summarizeModel(check, model)!;
      assert.equal(summary.params, torch.params, file);
      assert.equal(summary.params - summary.untrainedParams, torch.trainable, file);
      assert.equal(summary.buffers, torch.buffers, file);
      let compared = 0;
      for (const row of summary.rows.filter((r) => r.kind === 'layer')) {
        const theirs = torch.layers[row.name!];
        assert.ok(theirs, `${file}: PyTorch has no module ${row.name}`);
        assert.equal(row.params, theirs.params, `${file} ${row.name}`);
        assert.deepEqual(row.output!.map((d) => atBatch(d, 'B', 64).constant()), theirs.shape, `${file} ${row.name}`);
        // torchinfo counts a BatchNorm's parameters once per batch row, not per element: compared where its count is a layer's real one.
        if (row.type === 'Conv2d' || row.type === 'Linear') {
          assert.equal(atBatch(row.multAdds!, 'B', 64).constant(), theirs.macs, `${file} ${row.name}`);
          compared++;
        }
      }
      assert.ok(compared >= 2, file);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a layer the train block freezes is marked in its row and its parameters count as non-trainable', () => {
  const text = `model M(x: [B, 2]) -> [B, 2] {
  fc1 = Linear(2, 8)
  fc2 = Linear(8, 2)
  return x |> fc1 |> relu |> fc2
}

train M {
  data   = moons(points = 100)
  freeze = [fc1]
}
`;
  const summary = summarizeModel(checkProgram(text), 'M');
  assert.ok(summary);
  assert.deepEqual(summary.rows.filter((r) => r.kind === 'layer').map((r) => [r.name, r.frozen ?? false]), [['fc1', true], ['fc2', false]]);
  assert.equal(summary.frozenParams, 24);
  assert.equal(summary.untrainedParams, 24);
  const plain = summarizeModel(checkProgram(text.replace('freeze = [fc1]', '')), 'M');
  assert.equal(plain?.frozenParams, 0);
});

test('a model with hyper-parameters says where its rows are, not that it has errors', () => {
  const { status, stdout } = nn('summary', 'examples/resnet_block.nn');
  assert.equal(status, 0, stdout);
  assert.match(stdout, /^Residual\[c\]\(x: \[B, c, H, W\]\) -> \[B, c, H, W\]\n\(no table of its own: c is known only where a model uses it as a block; its rows are in the table of ResNetTiny\)\n/);
  assert.doesNotMatch(stdout, /has errors/);
  assert.match(stdout, /├─Residual \(res1\): 1-4/);
});

test('a layer or param applied again is counted once, shown `(recursive)` as torchinfo does; a param no op reads keeps its own row', () => {
  const source = `model M(x: [B, T, 16]) -> [B, T, 16] {\n  W = param([16, 16])\n  V = param([16, 16])\n  fc = Linear(16, 16)\n  h = fc(fc(x))\n  return h @ W + h @ W + x\n}\n`;
  const summary = summarizeModel(checkProgram(source), 'M')!;
  assert.deepEqual(
    summary.rows.map((r) => `${r.type}${r.name ? `(${r.name})` : ''}:${r.params ?? '--'}${r.recursive ? ' recursive' : ''}`),
    ['Linear(fc):272', 'Linear(fc):272 recursive', 'MatMul:256', 'MatMul:256 recursive', 'Add:--', 'Add:--', 'param(V):256'],
  );
  assert.equal(summary.params, 272 + 256 + 256);
  const dir = mkdtempSync(join(tmpdir(), 'nn-summary-'));
  try {
    writeFileSync(join(dir, 'm.nn'), source);
    const { stdout } = nn('summary', join(dir, 'm.nn'));
    assert.match(stdout, /├─Linear \(fc\): 1-2\s+\[B, T, 16\]\s+\[B, T, 16\]\s+\(recursive\)\s+272·B·T\n/);
    assert.equal(stdout.match(/param \(W\)/g), null, 'W is counted in the MatMul rows that read it');
    // At B = 8 the sizes still depend on T: in bytes, symbolic, not labelled MB.
    const at8 = nn('summary', join(dir, 'm.nn'), '--batch', '8').stdout;
    assert.match(at8, /\nInput size \(bytes\): 512·T\n/);
    assert.match(at8, /\nParams size \(MB\): 0\.00\n/);
    assert.match(at8, /\nEstimated Total Size \(bytes\): [\d.]+ K·T \+ [\d.]+ K\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
