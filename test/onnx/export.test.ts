// The forward-only ONNX export: every example loads in onnxruntime-node, has a named input
// with the symbolic batch dim B and an `output`, and computes the TS engine's eval forward;
// `nn export` writes the same model with weights from a .safetensors file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { exportOnnx } from '../../engine/src/export/onnx.js';
import { ModelProto } from '../../engine/src/onnx/schema.js';
import { storedTensor, writeSafetensors } from '../../engine/src/core/safetensors.js';
import { run as runExportCli } from '../../engine/src/cli/export.js';
import { exportCase, relativeError, type ExportCase } from './exportHarness.js';

async function runOnnx(bytes: Uint8Array, c: ExportCase): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(bytes);
  const input = c.input.dtype === 'int64'
    ? new ort.Tensor('int64', BigInt64Array.from(c.input.data, (v) => BigInt(v)), c.input.shape)
    : new ort.Tensor('float32', c.input.data as Float32Array, c.input.shape);
  const out = await session.run({ [session.inputNames[0]]: input });
  await session.release();
  return out.output;
}

const examples = readdirSync('examples').filter((f) => f.endsWith('.nn')).sort();

for (const file of examples) {
  test(`examples/${file}: the exported ONNX model computes the TS forward`, async () => {
    const c = exportCase(file);
    const result = exportOnnx(c.text, undefined, c.weights);
    assert.ok(!('error' in result), 'error' in result ? result.error : '');
    const output = await runOnnx(result.bytes, c);
    assert.deepEqual([...output.dims], c.expected.shape);
    const error = relativeError(output.data as Float32Array, c.expected.data);
    assert.ok(error < 1e-5, `relative error ${error}`);
  });
}

test('the exported model names its input and output and keeps the batch dim symbolic', () => {
  const c = exportCase('fashion_cnn.nn');
  const result = exportOnnx(c.text, undefined, c.weights);
  assert.ok(!('error' in result));
  const model = ModelProto.toObject(ModelProto.decode(result.bytes), { longs: Number }) as {
    graph: { input: { name: string; type: { tensorType: { shape: { dim: { dimValue?: number; dimParam?: string }[] } } } }[]; output: { name: string }[]; initializer: { name: string }[] };
  };
  assert.deepEqual(model.graph.input.map((i) => i.name), ['x']);
  assert.deepEqual(model.graph.input[0].type.tensorType.shape.dim, [{ dimParam: 'B' }, { dimValue: 1 }, { dimValue: 28 }, { dimValue: 28 }]);
  assert.deepEqual(model.graph.output.map((o) => o.name), ['output']);
  const initializers = new Set(model.graph.initializer.map((t) => t.name));
  for (const p of c.model.params) assert.ok(initializers.has(p.name), `${p.name} is an initializer`);
});

test('exportOnnx reports a missing weight by name instead of throwing', () => {
  const c = exportCase('moons.nn');
  const partial = new Map(c.weights);
  partial.delete('fc2.bias');
  const result = exportOnnx(c.text, undefined, partial);
  assert.ok('error' in result && result.error.includes('fc2.bias'));
});

test('nn export -o with --weights writes a model that runs with those weights', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nn-export-'));
  try {
    const c = exportCase('resnet_block.nn');
    const weightsPath = join(dir, 'w.safetensors');
    writeSafetensors(weightsPath, {
      tensors: new Map([...c.model.params, ...c.model.buffers].map((p) => [p.name, storedTensor(p.shape, c.weights.get(p.name) as Float32Array)])),
      metadata: {},
    });
    const out = join(dir, 'model.onnx');
    const code = await runExportCli([join('examples', c.file), '--weights', weightsPath, '-o', out]);
    assert.equal(code, 0);
    const output = await runOnnx(readFileSync(out), c);
    assert.ok(relativeError(output.data as Float32Array, c.expected.data) < 1e-5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
