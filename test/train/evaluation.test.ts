// What an epoch event says about the model besides its losses (run/evaluate.ts): the train
// accuracy on at most 1000 training samples, the confusion matrix and the worst-classified
// images, and the class names in the start event; the same on the TS and ONNX back ends.

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { train } from '../../engine/src/run/loop.js';
import { isDataError, loadDataset } from '../../engine/src/data/index.js';
import { imageShape, MAX_MATRIX_CLASSES, pixelBytes, sampleClasses, TRAIN_ACCURACY_SAMPLES, trainAccuracyOrder, WORST_SAMPLES } from '../../engine/src/run/evaluate.js';
import type { RunEvent } from '../../engine/src/core/events.js';

const dir = mkdtempSync(join(tmpdir(), 'nn-evaluation-'));

type StartEvent = Extract<RunEvent, { type: 'start' }>;
type EpochEvent = Extract<RunEvent, { type: 'epoch' }>;

async function run(text: string, backend: 'ts' | 'onnx'): Promise<{ start: StartEvent; epochs: EpochEvent[] }> {
  const events: RunEvent[] = [];
  const outcome = await train(text, { baseDir: dir, saveDir: mkdtempSync(join(dir, 'run-')), backend }, (event) => events.push(event));
  assert.ok('end' in outcome, JSON.stringify(outcome));
  const start = events.find((e): e is StartEvent => e.type === 'start')!;
  assert.equal(start.backend, backend, start.note);
  return { start, epochs: events.filter((e): e is EpochEvent => e.type === 'epoch') };
}

const FASHION = `
model M(x: [B, 1, 28, 28]) -> [B, 10] {
  fc = Linear(784, 10)
  return fc(flatten(x, 1))
}
train M {
  data = fashion_mnist(train = 1200, test = 200)
  optimizer = Adam(lr = 0.01)
  epochs = 2
  batch = 64
}
`;

test('trainAccuracyOrder: every sample up to 1000, else 1000 evenly spaced in file order', () => {
  assert.deepEqual(trainAccuracyOrder(4), [0, 1, 2, 3]);
  const spaced = trainAccuracyOrder(6000);
  assert.equal(spaced.length, TRAIN_ACCURACY_SAMPLES);
  assert.deepEqual(spaced.slice(0, 3), [0, 6, 12]);
  assert.equal(spaced.at(-1), 5994);
});

test('a confusion matrix is for one class per sample, up to 100 classes; the worst grid for 1- or 3-channel images', () => {
  assert.equal(sampleClasses({ kind: 'class-ids', shape: [] }, { classes: 10 }), 10);
  assert.equal(sampleClasses({ kind: 'one-hot', classes: 3 }, { classes: 3 }), 3);
  assert.equal(sampleClasses({ kind: 'class-ids', shape: [16] }, { classes: 65 }), null, 'a class per position');
  assert.equal(sampleClasses({ kind: 'values', shape: [1] }, { classes: 2 }), null);
  assert.equal(sampleClasses({ kind: 'class-ids', shape: [] }, { classes: MAX_MATRIX_CLASSES + 1 }), null);
  assert.deepEqual(imageShape([1, 28, 28]), [1, 28, 28]);
  assert.deepEqual(imageShape([3, 32, 32]), [3, 32, 32]);
  assert.equal(imageShape([2, 8, 8]), null);
  assert.equal(imageShape([784]), null);
});

test('pixelBytes stretches a sample over 0-255; a constant one is mid-grey', () => {
  assert.deepEqual([...Buffer.from(pixelBytes([-1, 0, 1]), 'base64')], [0, 128, 255]);
  assert.deepEqual([...Buffer.from(pixelBytes([0.5, 0.5]), 'base64')], [128, 128]);
});

test('a Fashion-MNIST run: class names, train accuracy, confusion matrix and worst samples, the same on both back ends', async () => {
  const data = loadDataset({ kind: 'fashion_mnist', train: 1200, test: 200 }, dir);
  assert.ok(!isDataError(data));
  const testSplit = data.test!;
  const ts = await run(FASHION, 'ts');
  const onnx = await run(FASHION, 'onnx');
  for (const { start, epochs } of [ts, onnx]) {
    assert.deepEqual(start.classNames, ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
    assert.equal(epochs.length, 2);
    for (const epoch of epochs) {
      assert.ok(epoch.trainAccuracy! > 0.5 && epoch.trainAccuracy! <= 1, `train accuracy ${epoch.trainAccuracy}`);
      // Whole multiples of 1/1000: measured on 1000 of the 1200 training samples.
      assert.ok(Math.abs(epoch.trainAccuracy! * 1000 - Math.round(epoch.trainAccuracy! * 1000)) < 1e-9);
      const confusion = epoch.confusion!;
      assert.equal(confusion.length, 10);
      for (const [label, row] of confusion.entries()) {
        const labelled = testSplit.targets.filter((t) => t === label).length;
        assert.equal(row.reduce((a, b) => a + b, 0), labelled, `row ${label} counts the test samples of class ${label}`);
      }
      const diagonal = confusion.reduce((sum, row, k) => sum + row[k], 0);
      assert.equal(diagonal / testSplit.count, epoch.testAccuracy);

      const worst = epoch.worst!;
      assert.equal(worst.length, WORST_SAMPLES);
      for (const [k, sample] of worst.entries()) {
        if (k > 0) assert.ok(sample.loss <= worst[k - 1].loss, 'worst first');
        assert.ok(sample.loss >= epoch.testLoss, 'the worst samples lose more than the mean');
        assert.equal(sample.label, testSplit.targets[sample.index]);
        assert.deepEqual(sample.shape, [1, 28, 28]);
        assert.equal(sample.pixels, pixelBytes(testSplit.inputs.subarray(sample.index * 784, (sample.index + 1) * 784)));
        assert.equal(Buffer.from(sample.pixels, 'base64').length, 784);
        // Cross-entropy is −log p(label): the confidence of the prediction bounds it.
        if (sample.predicted === sample.label) assert.ok(Math.abs(sample.loss + Math.log(sample.confidence)) < 1e-4);
        else assert.ok(sample.loss >= -Math.log(1 - sample.confidence) - 1e-4, `loss ${sample.loss}, confidence ${sample.confidence}`);
        assert.equal(confusion[sample.label][sample.predicted] > 0, true);
      }
    }
  }
  ts.epochs.forEach((epoch, e) => {
    const other = onnx.epochs[e];
    assert.equal(other.trainAccuracy, epoch.trainAccuracy, `epoch ${e}: train accuracy`);
    assert.deepEqual(other.confusion, epoch.confusion, `epoch ${e}: confusion`);
    assert.deepEqual(other.worst!.map((s) => [s.index, s.predicted]), epoch.worst!.map((s) => [s.index, s.predicted]), `epoch ${e}: worst samples`);
    other.worst!.forEach((s, k) => assert.ok(Math.abs(s.loss - epoch.worst![k].loss) < 1e-3 * Math.max(1, s.loss)));
  });
});

test('evaluated on the training data itself (xor), the train accuracy is the evaluation accuracy; no images, no worst grid', async () => {
  const text = `
model M(x: [B, 2]) -> [B, 2] {
  return x |> Linear(2, 8) |> relu |> Linear(8, 2)
}
train M {
  data = xor()
  optimizer = Adam(lr = 0.05)
  epochs = 3
  batch = 4
}
`;
  for (const backend of ['ts', 'onnx'] as const) {
    const { start, epochs } = await run(text, backend);
    assert.deepEqual(start.classNames, ['0', '1']);
    for (const epoch of epochs) {
      assert.equal(epoch.trainAccuracy, epoch.testAccuracy);
      assert.equal(epoch.confusion!.flat().reduce((a, b) => a + b, 0), 4);
      assert.equal(epoch.worst, undefined);
    }
  }
});

test('one-hot rows are classes; labels compared as values have no train accuracy, confusion matrix or class names', async () => {
  const text = `
model M(x: [B, 2]) -> [B, 2] {
  return Linear(2, 2)(x)
}
train M {
  data = spirals(classes = 2, points = 20)
  loss = mse
  epochs = 1
}
`;
  const { start, epochs } = await run(text, 'ts');
  // mse on class labels with a [B, 2] output compares one-hot rows: still a classifier.
  assert.deepEqual(start.classNames, ['0', '1']);
  assert.ok(epochs[0].confusion);
  const values = text.replace(/-> \[B, 2\]/, '-> [B, 1]').replace('Linear(2, 2)', 'Linear(2, 1)');
  const regression = await run(values, 'ts');
  assert.equal(regression.start.classNames, undefined);
  assert.equal(regression.epochs[0].confusion, undefined);
  assert.equal(regression.epochs[0].trainAccuracy, null);
});
