// The Training view's confusion matrix and worst-sample pictures: the SVG heat map's cells,
// shades and labels, and the pixels and captions of the samples drawn on canvases.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { confusionSvg, rowShare } from '../../client/src/webview/confusion.js';
import { sampleCaption, sampleImage } from '../../client/src/webview/samples.js';
import type { WorstSample } from '../../engine/src/core/events.js';
import { pixelBytes } from '../../engine/src/run/evaluate.js';

test('a cell is shaded by its share of its row: the recall on the diagonal, the confusions off it', () => {
  assert.equal(rowShare([3, 1, 0], 3), 0.75);
  assert.equal(rowShare([0, 0], 0), 0);
  const svg = confusionSvg([[3, 1], [0, 4]], ['T-shirt/top', 'A<B']);
  const cells = [...svg.matchAll(/<g class="cell (right|wrong)" data-label="(\d)" data-predicted="(\d)"><title>([^<]*)<\/title>.*?fill-opacity="([\d.]+)".*?>(\d+)<\/text><\/g>/g)];
  assert.deepEqual(
    cells.map((c) => [c[1], c[2], c[3], c[5], c[6]]),
    [['right', '0', '0', '0.750', '3'], ['wrong', '0', '1', '0.250', '1'], ['wrong', '1', '0', '0.000', '0'], ['right', '1', '1', '1.000', '4']],
  );
  assert.equal(cells[1][4], 'true T-shirt/top, predicted A&#60;B: 1 (25.0% of T-shirt/top)');
  // Each name labels a row and a column, escaped.
  assert.equal(svg.match(/class="class-name"[^>]*>T-shirt\/top</g)?.length, 2);
  assert.equal(svg.match(/class="class-name"[^>]*>A&#60;B</g)?.length, 2);
  assert.ok(!/style=/.test(svg), 'inline styles would break the webview CSP');
  // Names missing: the ids label the axes.
  assert.match(confusionSvg([[1]], []), /class="class-name"[^>]*>0</);
});

function sample(shape: [number, number, number], values: number[]): WorstSample {
  return { index: 4, label: 4, predicted: 6, confidence: 0.873, loss: 2.5, shape, pixels: pixelBytes(values) };
}

test('a grey sample fills R, G and B from its one plane; a colour one interleaves its three planes', () => {
  const grey = sampleImage(sample([1, 1, 2], [0, 1]));
  assert.deepEqual([grey.width, grey.height], [2, 1]);
  assert.deepEqual([...grey.rgba], [0, 0, 0, 255, 255, 255, 255, 255]);
  // Planes R = [1, 0], G = [0, 0], B = [0, 1] for two pixels.
  const colour = sampleImage(sample([3, 1, 2], [1, 0, 0, 0, 0, 1]));
  assert.deepEqual([...colour.rgba], [255, 0, 0, 255, 0, 0, 255, 255]);
  assert.throws(() => sampleImage(sample([1, 2, 2], [0, 1])), /1×2×2 sample has 2 pixel bytes/);
});

test('a caption says the true class, the prediction and its confidence', () => {
  const names = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
  const caption = sampleCaption(sample([1, 1, 1], [0]), names);
  assert.deepEqual(caption, { truth: 'Coat', guess: '→ Shirt 87.3%', tooltip: 'sample 4: true Coat, predicted Shirt (87.3%), loss 2.5000' });
  assert.equal(sampleCaption(sample([1, 1, 1], [0]), null).truth, '4');
});
