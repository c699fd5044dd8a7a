// The built-in toy data sets. Each is generated from fixed seeds, so it is the same on every
// machine and for every `seed` in the `train` block (the seed varies training, not data).
// The test split is a second, independent draw of the same size. Samples are stored in a
// seeded random order, like a shuffled data file, so the first batches in file order (what
// a probe looks at) hold every class and region.

import type { Dataset, Split } from './dataset.js';
import { Rng } from '../random.js';

const TRAIN_SEED = 1;
const TEST_SEED = 2;
/** Standard deviation of the angle noise of `spirals` (CS231n's value). */
export const SPIRAL_NOISE = 0.2;
/** Standard deviation of the point noise of `moons` (a common choice with scikit-learn). */
export const MOONS_NOISE = 0.1;

/** The split's samples (2 features each) in a random order drawn from `rng`. */
function shuffled(split: Split, rng: Rng): Split {
  const order = rng.permutation(split.count);
  const inputs = new Float32Array(split.inputs.length);
  const targets = new Float32Array(split.count);
  order.forEach((from, to) => {
    inputs[2 * to] = split.inputs[2 * from];
    inputs[2 * to + 1] = split.inputs[2 * from + 1];
    targets[to] = split.targets[from];
  });
  return { count: split.count, inputs, targets };
}

/**
 * CS231n's spirals: `points` samples per class, class j along the arm with angle
 * from 4j to 4(j+1) radians (plus noise) and radius from 0 to 1; 2 features.
 */
export function spirals(classes: number, points: number): Dataset {
  const draw = (seed: number): Split => {
    const rng = new Rng(seed);
    const count = classes * points;
    const inputs = new Float32Array(count * 2);
    const targets = new Float32Array(count);
    for (let c = 0; c < classes; c++) {
      for (let i = 0; i < points; i++) {
        const at = c * points + i;
        const fraction = points === 1 ? 0 : i / (points - 1);
        const radius = fraction;
        const angle = 4 * c + 4 * fraction + rng.normal() * SPIRAL_NOISE;
        inputs[2 * at] = radius * Math.sin(angle);
        inputs[2 * at + 1] = radius * Math.cos(angle);
        targets[at] = c;
      }
    }
    return shuffled({ count, inputs, targets }, rng);
  };
  return {
    description: `spirals(classes = ${classes}, points = ${points})`,
    sampleShape: [2],
    classes,
    labelShape: [],
    train: draw(TRAIN_SEED),
    test: draw(TEST_SEED),
  };
}

/** scikit-learn's two interleaving half circles: `points` samples in all, 2 features, 2 classes. */
export function moons(points: number): Dataset {
  const draw = (seed: number): Split => {
    const rng = new Rng(seed);
    const outer = Math.floor(points / 2);
    const inner = points - outer;
    const inputs = new Float32Array(points * 2);
    const targets = new Float32Array(points);
    for (let i = 0; i < points; i++) {
      const isOuter = i < outer;
      const n = isOuter ? outer : inner;
      const k = isOuter ? i : i - outer;
      const angle = n === 1 ? 0 : (Math.PI * k) / (n - 1);
      const x = isOuter ? Math.cos(angle) : 1 - Math.cos(angle);
      const y = isOuter ? Math.sin(angle) : 0.5 - Math.sin(angle);
      inputs[2 * i] = x + rng.normal() * MOONS_NOISE;
      inputs[2 * i + 1] = y + rng.normal() * MOONS_NOISE;
      targets[i] = isOuter ? 0 : 1;
    }
    return shuffled({ count: points, inputs, targets }, rng);
  };
  return {
    description: `moons(points = ${points})`,
    sampleShape: [2],
    classes: 2,
    labelShape: [],
    train: draw(TRAIN_SEED),
    test: draw(TEST_SEED),
  };
}

/** The XOR truth table: 4 samples, 2 features, 2 classes; the test split is the same table. */
export function xor(): Dataset {
  const table = (): Split => ({
    count: 4,
    inputs: Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]),
    targets: Float32Array.from([0, 1, 1, 0]),
  });
  return { description: 'xor()', sampleShape: [2], classes: 2, labelShape: [], train: table(), test: table() };
}
