// Time to 0.90 test accuracy on full Fashion-MNIST (60,000 / 10,000, Debian's
// dataset-fashion-mnist) for examples/fashion_cnn.nn on the ONNX path, with the example's
// optimizer and batch, the test accuracy measured after every epoch.
// Run: npx tsx bench/onnx/fashion.ts [max-epochs]

import { readFileSync } from 'node:fs';
import { checkProgram } from '../../engine/src/lang/program.js';
import { loadDataset } from '../../engine/src/data/index.js';
import { isDataError } from '../../engine/src/data/dataset.js';
import { batchCount, epochOrder, makeBatch, type BatchLayout } from '../../engine/src/train/batches.js';
import { lowerModel } from '../../engine/src/train/lower.js';
import { createOnnxTrainer } from '../../engine/src/onnx/backend.js';

const TARGET = 0.9;
const MAX_EPOCHS = Number(process.argv[2] ?? 10);

async function main(): Promise<void> {
  const check = checkProgram(readFileSync('examples/fashion_cnn.nn', 'utf8'));
  const train = check.trains[0];
  const model = check.irs.get(train.model);
  if (!model) throw new Error('examples/fashion_cnn.nn does not check');
  const data = loadDataset({ kind: 'fashion_mnist', train: 60000, test: 10000 }, 'examples');
  if (isDataError(data)) throw new Error(data.message);
  const lowered = lowerModel(model, check.fnIrs, train.seed, () => 1);
  const initial = new Map([...lowered.params, ...lowered.buffers].map((p) => [p.name, Float32Array.from(p.tensor.values)]));
  const trainer = await createOnnxTrainer(model, train, initial, { fns: check.fnIrs });
  const layout: BatchLayout = { sampleShape: data.sampleShape, labelShape: data.labelShape, classification: true, inputDtype: 'float32' };
  const test = data.test;
  if (!test) throw new Error('no test split');
  const started = Date.now();
  for (let epoch = 0; epoch < MAX_EPOCHS; epoch++) {
    const order = epochOrder(data.train.count, train.seed, epoch, true);
    for (let b = 0; b < batchCount(data.train.count, train.batch); b++) {
      const batch = makeBatch(data.train, order, b * train.batch, train.batch, layout);
      await trainer.step(batch.input, batch.target);
    }
    const testOrder = epochOrder(test.count, 0, 0, false);
    let correct = 0;
    for (let start = 0; start < test.count; start += 1000) {
      const batch = makeBatch(test, testOrder, start, 1000, layout);
      const logits = await trainer.forward(batch.input);
      const classes = logits.shape[1];
      for (let i = 0; i < batch.size; i++) {
        let best = 0;
        for (let c = 1; c < classes; c++) if (logits.data[i * classes + c] > logits.data[i * classes + best]) best = c;
        if (best === batch.target.data[i]) correct++;
      }
    }
    const accuracy = correct / test.count;
    const seconds = (Date.now() - started) / 1000;
    console.log(`epoch ${epoch + 1}: test accuracy ${accuracy.toFixed(4)} after ${seconds.toFixed(1)} s`);
    if (accuracy >= TARGET) {
      console.log(`reached ${TARGET} test accuracy in ${seconds.toFixed(1)} s (${epoch + 1} epochs, ONNX path, 1 thread)`);
      break;
    }
  }
  await trainer.release();
}

void main();
