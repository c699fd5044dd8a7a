// Activation checkpointing: the same gradients as without it, and a smaller retained tape.

import test from 'node:test';
import assert from 'node:assert/strict';
import * as E from '../../engine/src/index.js';
import { assertClose, assertGradcheck, inputs64 } from './helpers.js';

function model(seed: number) {
  const rng = new E.Rng(seed);
  const layers = [new E.Linear(16, 64, { rng }), new E.Linear(64, 64, { rng }), new E.Linear(64, 64, { rng }), new E.Linear(64, 4, { rng })];
  const block = (h: E.Tensor) => E.tanh(layers[2].forward(E.relu(layers[1].forward(E.gelu(layers[0].forward(h))))));
  return { layers, block, head: layers[3] };
}

test('checkpoint gives the same gradients and keeps a smaller tape', () => {
  const x = E.randn([32, 16], { rng: new E.Rng(9) }).requireGrad();
  const labels = E.randint([32], 4, { rng: new E.Rng(10) });

  const plain = model(1);
  const plainOut = plain.head.forward(plain.block(x));
  const plainLoss = E.crossEntropy(plainOut, labels);
  const plainBytes = E.tapeBytes(plainLoss);
  plainLoss.backward();
  const plainGrads = [...plain.layers.flatMap((l) => l.parameters()), x].map((p) => p.grad!.toArray());
  x.grad = null;

  const checkpointed = model(1);
  const hidden = E.checkpoint(checkpointed.block, x);
  const loss = E.crossEntropy(checkpointed.head.forward(hidden), labels);
  const checkpointedBytes = E.tapeBytes(loss);
  loss.backward();
  const grads = [...checkpointed.layers.flatMap((l) => l.parameters()), x].map((p) => p.grad!.toArray());

  assert.equal(loss.item(), plainLoss.item());
  grads.forEach((g, i) => assertClose(g, plainGrads[i], 1e-6, `gradient ${i}`));
  // The block's five intermediate [32, 64] activations are not retained.
  assert.ok(checkpointedBytes < plainBytes / 2, `tape bytes ${checkpointedBytes} vs ${plainBytes}`);
});

test('checkpoint passes gradcheck, including parameters read through a closure', () => {
  const [x, w] = inputs64(3, [3, 4], [4, 4]);
  const weight = new E.Tensor(w.data, w.shape, 'float64', true);
  assertGradcheck((input) => E.checkpoint((h) => E.sum(E.tanh(E.matmul(h, weight)), { axis: 1 }), input), [x]);
  const y = E.checkpoint((h) => E.sum(E.tanh(E.matmul(h, weight))), x);
  y.backward();
  assert.deepEqual(weight.grad?.shape, [4, 4]);
});
