// Back-end choice: a model the ONNX lowering cannot express falls back to the TS engine
// under `backend = "auto"` with the reason, and fails with a message naming the construct
// under `backend = "onnx"`; a trainer takes the TS engine's tensors as batches.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainIR } from '../../engine/src/lang/api.js';
import { chooseBackend, createOnnxTrainer } from '../../engine/src/run/backendChoice.js';
import { Tensor } from '../../engine/src/tensor/tensor.js';
import { IrBuilder, mlpIR } from './irBuilder.js';
import { initialWeights } from './parityHarness.js';

function trainFor(model: string, backend: TrainIR['backend']): TrainIR {
  const range = { start: 0, end: 0 };
  return {
    model, range, data: { kind: 'xor' }, dataRange: range, loss: 'cross_entropy',
    optimizer: { kind: 'SGD', lr: 0.1, momentum: 0, weightDecay: 0 },
    epochs: 1, batch: 4, seed: 0, validate: 'test', backend, save: 'runs', keyRanges: {},
  };
}

function unsupportedModel() {
  const ir = new IrBuilder();
  const x = ir.input('x', ['B', 4]);
  const h = ir.linear('fc', x, 4, 2);
  return ir.model('Odd', ir.foreign('erfinv', [h], ['B', 2]));
}

test('auto falls back to the TS engine and says which construct', () => {
  const choice = chooseBackend(unsupportedModel(), new Map(), trainFor('Odd', 'auto'));
  assert.ok('backend' in choice && choice.backend === 'ts');
  assert.match(choice.reason ?? '', /erfinv/);
});

test('onnx fails with a message naming the construct', () => {
  const choice = chooseBackend(unsupportedModel(), new Map(), trainFor('Odd', 'onnx'));
  assert.ok('error' in choice);
  assert.match(choice.error, /cannot lower the op `erfinv`/);
});

test('a model that lowers is trained on ONNX under auto', () => {
  assert.deepEqual(chooseBackend(mlpIR([4, 8, 2]), new Map(), trainFor('MLP', 'auto')), { backend: 'onnx' });
});

test('the trainer steps on engine tensors, any batch size, and lowers the loss', async () => {
  const model = mlpIR([2, 8, 2]);
  const trainer = await createOnnxTrainer(model, trainFor('MLP', 'onnx'), initialWeights(model, new Map(), 0));
  const x = new Tensor(Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]), [4, 2], 'float32');
  const y = new Tensor(Int32Array.from([0, 1, 1, 0]), [4], 'int64');
  const first = await trainer.step(x, y);
  for (let i = 0; i < 300; i++) await trainer.step(x, y);
  const last = await trainer.step(x, y);
  assert.ok(last.loss < first.loss * 0.5, `loss ${first.loss} -> ${last.loss}`);
  const half = await trainer.step(new Tensor(Float32Array.from([0, 1, 1, 0]), [2, 2], 'float32'), new Tensor(Int32Array.from([1, 1]), [2], 'int64'));
  assert.ok(Number.isFinite(half.loss));
  const logits = await trainer.forward(x);
  assert.deepEqual(logits.shape, [4, 2]);
  await trainer.release();
});

test('dropout on: drops about p of the units in a training step and none in the forward pass', async () => {
  const ir = new IrBuilder();
  const x = ir.input('x', ['B', 64]);
  const h = ir.op('dropout', [ir.linear('fc', x, 64, 64)], ['B', 64], { p: 0.5 });
  const model = ir.model('Drop', h);
  const train = { loss: 'mse' as const, optimizer: { kind: 'SGD' as const, lr: 1, momentum: 0, weightDecay: 0 } };
  const initial = initialWeights(model, new Map(), 0);
  const trainer = await createOnnxTrainer(model, train, initial, { dropout: true });
  // With one sample, a dropped unit's bias gradient and weight row are exactly zero.
  const input = new Tensor(Float32Array.from({ length: 64 }, (_, i) => 1 + Math.sin(i)), [1, 64], 'float32');
  const target = new Tensor(new Float32Array(64), [1, 64], 'float32');
  const step = await trainer.step(input, target);
  const bias = step.params.find((p) => p.name === 'fc.bias');
  const weight = step.params.find((p) => p.name === 'fc.weight');
  assert.ok(bias && bias.zeroFraction > 0.25 && bias.zeroFraction < 0.75, `bias zero fraction ${bias?.zeroFraction}`);
  assert.ok(weight && Math.abs(weight.zeroFraction - bias.zeroFraction) < 1e-6, `weight zero fraction ${weight?.zeroFraction}`);
  const out = await trainer.forward(input);
  assert.ok(out.data.every((v) => v !== 0), 'eval forward applies no dropout');
  await trainer.release();
});
