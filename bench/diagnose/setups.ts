// The diagnosis benchmark's setups: small .nn programs on synthetic data, each faulty one
// marking the line its finding belongs at with `# expect NNxxxx`, and healthy ones unmarked.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Setup } from './harness.js';

/** The bundled examples on real data among the healthy setups (the overhead bench times them apart). */
export const BUNDLED_EXAMPLES = ['fashion_cnn.nn', 'fashion_mlp.nn'];

interface Shape {
  data: string;
  classes: number;
}

const DATA: Shape[] = [
  { data: 'moons(points = 200)', classes: 2 },
  { data: 'spirals(classes = 3, points = 100)', classes: 3 },
  { data: 'spirals(classes = 2, points = 150)', classes: 2 },
];

/** An MLP of `depth` hidden layers of `width` with activation `act`. */
function mlp(classes: number, depth: number, width: number, act: string): string {
  const layers = [`Linear(2, ${width})`, ...Array.from({ length: depth - 1 }, () => `Linear(${width}, ${width})`)];
  return `model M(x: [B, 2]) -> [B, ${classes}] {
  return x |> ${layers.map((l) => `${l} |> ${act}`).join(' |> ')} |> Linear(${width}, ${classes})
}
`;
}

function trainBlock(shape: Shape, optimizer: string, epochs: number, batch: number, marks: { data?: string; optimizer?: string; epochs?: string } = {}): string {
  return `
train M {
  data = ${shape.data}${marks.data ? `  # expect ${marks.data}` : ''}
  optimizer = ${optimizer}${marks.optimizer ? `  # expect ${marks.optimizer}` : ''}
  epochs = ${epochs}${marks.epochs ? `  # expect ${marks.epochs}` : ''}
  batch = ${batch}
}
`;
}

/**
 * A CSV of `rows` samples of `features` columns and a class label 0/1, the two classes apart
 * by `separation` standard deviations of `scale`, around `offset` (a fixed pseudo-random sequence).
 */
function csvData(rows: number, features: number, scale: number, offset: number, separation = 2): string {
  let state = 20261204;
  const random = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const lines = [[...Array.from({ length: features }, (_, j) => `f${j}`), 'label'].join(',')];
  for (let i = 0; i < rows; i++) {
    const label = i % 2;
    const values = Array.from({ length: features }, () => offset + scale * ((label - 0.5) * separation + (random() - 0.5) * 2));
    lines.push([...values.map((v) => Number(v.toPrecision(5))), label].join(','));
  }
  return lines.join('\n') + '\n';
}

/** A CSV of `rows` points in [-1, 1]², labelled by the sign of x·y (XOR), a share `flip` of the labels flipped at random. */
function noisyXorCsv(rows: number, flip: number, seed: number): string {
  let state = seed;
  const random = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const lines = ['f0,f1,label'];
  for (let i = 0; i < rows; i++) {
    const x = random() * 2 - 1;
    const y = random() * 2 - 1;
    const label = (x * y > 0 ? 1 : 0) ^ (random() < flip ? 1 : 0);
    lines.push(`${x.toFixed(3)},${y.toFixed(3)},${label}`);
  }
  return lines.join('\n') + '\n';
}

/** An MLP over `features` CSV columns. */
function csvMlp(features: number, depth: number, width: number): string {
  const layers = [`Linear(${features}, ${width})`, ...Array.from({ length: depth - 1 }, () => `Linear(${width}, ${width})`)];
  return `model M(x: [B, ${features}]) -> [B, 2] {
  return x |> ${layers.map((l) => `${l} |> relu`).join(' |> ')} |> Linear(${width}, 2)
}
`;
}

/** A model of named layers, one per line (`fc1` on line 2), so a per-layer finding has its own line. */
function namedMlp(classes: number, width: number, act: string, mark?: string): string {
  return `model M(x: [B, 2]) -> [B, ${classes}] {
  fc1 = Linear(2, ${width})${mark ? `  # expect ${mark}` : ''}
  fc2 = Linear(${width}, ${width})
  fc3 = Linear(${width}, ${classes})
  return fc3(${act}(fc2(${act}(fc1(x)))))
}
`;
}

/**
 * A stack of `depth` named layers of `width`, each through `act` on its own line, for the
 * gradient-flow findings at a layer or an activation (`mark`, for a faulty one, goes on the first
 * layer's line with `at: 'layer'`, on the second activation's with `at: 'activation'`).
 */
function deepMlp(classes: number, depth: number, width: number, act: string, mark?: { code: string; at: 'layer' | 'activation' }): string {
  const layers = Array.from({ length: depth }, (_, i) => `  fc${i + 1} = Linear(${i === 0 ? 2 : width}, ${width})${mark?.at === 'layer' && i === 0 ? `  # expect ${mark.code}` : ''}`);
  const body = Array.from({ length: depth }, (_, i) => `  h${i + 1} = ${act}(fc${i + 1}(${i === 0 ? 'x' : `h${i}`}))${mark?.at === 'activation' && i === 1 ? `  # expect ${mark.code}` : ''}`);
  return [`model M(x: [B, 2]) -> [B, ${classes}] {`, ...layers, `  out = Linear(${width}, ${classes})`, ...body, `  return out(h${depth})`, '}', ''].join('\n');
}

export function faultySetups(): Setup[] {
  const out: Setup[] = [];
  // Learning rate far too low (NN5006 at the optimizer line).
  for (const [i, lr] of ['1e-7', '1e-6', '1e-5'].entries()) {
    for (const [j, shape] of DATA.entries()) {
      const opt = (i + j) % 2 === 0 ? `SGD(lr = ${lr})` : `Adam(lr = ${lr})`;
      out.push({ name: `low-lr ${opt} ${shape.data}`, text: mlp(shape.classes, 1 + (j % 2), 32, 'relu') + trainBlock(shape, opt, 10, 32, { optimizer: 'NN5006' }) });
    }
  }
  // Learning rate far too high (NN5007 at the optimizer line).
  for (const [i, opt] of ['SGD(lr = 5)', 'SGD(lr = 20)', 'Adam(lr = 0.5)', 'Adam(lr = 2)', 'SGD(lr = 3, momentum = 0.9)'].entries()) {
    for (const [j, shape] of DATA.slice(0, 2).entries()) {
      out.push({ name: `high-lr ${opt} ${shape.data}`, text: mlp(shape.classes, 1 + ((i + j) % 2), 32, i % 2 === 0 ? 'relu' : 'tanh') + trainBlock(shape, opt, 10, 16 * (1 + j), { optimizer: 'NN5007' }) });
    }
  }
  // Overfitting: a wide network memorizing labels of which a share is flipped at random, judged on
  // a held-out share of the same file (NN5008 at the epochs line). (Spirals do not do: their test
  // split is drawn like the training one without label noise, so the test loss follows the train loss.)
  for (const [i, [rows, flip]] of ([[80, 0.3], [80, 0.4], [100, 0.3], [60, 0.3], [120, 0.35], [80, 0.25]] as const).entries()) {
    const width = i % 2 === 0 ? 256 : 128;
    const text = mlp(2, 2, width, 'relu') + trainBlock({ data: 'csv("data/noisy.csv", label = "label")', classes: 2 }, 'Adam(lr = 0.01)', 60, 8, { epochs: 'NN5008' }).replace('  optimizer', '  validate = 0.4\n  optimizer');
    out.push({ name: `overfit ${rows} rows ${Math.round(flip * 100)}% flipped width ${width}`, text, files: { 'data/noisy.csv': noisyXorCsv(rows, flip, 11 + i) } });
  }
  // NaN from sqrt or log of a value that goes negative (NN5004 at the op).
  for (const op of ['sqrt', 'log']) {
    for (const shape of DATA) {
      out.push({
        name: `nan ${op} ${shape.data}`,
        text: `model M(x: [B, 2]) -> [B, ${shape.classes}] {
  h = ${op}(Linear(2, 16)(x))  # expect NN5004
  return Linear(16, ${shape.classes})(h)
}
` + trainBlock(shape, 'Adam(lr = 0.01)', 3, 32),
      });
    }
  }
  // Saturated tanh from huge initial weights (NN5005 at the activation).
  for (const std of [10, 30]) {
    for (const shape of DATA.slice(0, 2)) {
      out.push({
        name: `saturated tanh std ${std} ${shape.data}`,
        text: `model M(x: [B, 2]) -> [B, ${shape.classes}] {
  W = param([2, 64], init = normal(${std}))
  fc = Linear(64, ${shape.classes})
  return fc(tanh(x @ W))  # expect NN5005
}
` + trainBlock(shape, 'Adam(lr = 0.001)', 10, 32),
      });
    }
  }
  // Exploding gradients from a huge SGD step with momentum (NN5002 at a layer).
  for (const lr of [50, 200]) {
    out.push({
      name: `exploding SGD lr ${lr}`,
      text: `model M(x: [B, 2]) -> [B, 2] {
  fc1 = Linear(2, 64)  # expect NN5002
  fc2 = Linear(64, 64)
  fc3 = Linear(64, 2)
  return fc3(relu(fc2(relu(fc1(x)))))
}
` + trainBlock(DATA[0], `SGD(lr = ${lr}, momentum = 0.9)`, 5, 32),
    });
  }
  // Inputs far from unit scale: raw pixel values, prices in the thousands, tiny readings (NN5009 at the data line).
  const unscaled: { name: string; scale: number; offset: number; features: number }[] = [
    { name: 'raw pixels', scale: 40, offset: 128, features: 4 },
    { name: 'raw pixels 8 columns', scale: 50, offset: 100, features: 8 },
    { name: 'prices', scale: 1000, offset: 0, features: 3 },
    { name: 'prices with an offset', scale: 300, offset: 5000, features: 6 },
    { name: 'tiny readings', scale: 0.002, offset: 0, features: 4 },
    { name: 'offset only', scale: 1, offset: 50, features: 2 },
  ];
  for (const [i, u] of unscaled.entries()) {
    const shape = { data: 'csv("data/train.csv", label = "label")', classes: 2 };
    out.push({
      name: `unscaled ${u.name}`,
      text: csvMlp(u.features, 1 + (i % 2), 16 + 16 * (i % 2)) + trainBlock(shape, i % 3 === 2 ? 'SGD(lr = 0.01)' : 'Adam(lr = 0.001)', 3, 16 * (1 + (i % 2)), { data: 'NN5009' }),
      files: { 'data/train.csv': csvData(128, u.features, u.scale, u.offset) },
    });
  }
  // Weights that barely change: a learning rate far too low for the layers (NN5010 at the first layer).
  for (const [i, opt] of ['SGD(lr = 1e-6)', 'SGD(lr = 1e-7)', 'Adam(lr = 1e-7)', 'SGD(lr = 3e-7, momentum = 0.5)'].entries()) {
    const shape = DATA[i % DATA.length];
    out.push({ name: `frozen in place ${opt} ${shape.data}`, text: namedMlp(shape.classes, 32, i % 2 === 0 ? 'relu' : 'tanh', 'NN5010') + trainBlock(shape, opt, 15, 32) });
  }
  // Weights that change too much per step: weight decay times lr above 1 flips and shrinks them every step (NN5010 at the first layer).
  for (const [i, opt] of ['SGD(lr = 1, weight_decay = 1.5)', 'SGD(lr = 0.5, weight_decay = 4)', 'SGD(lr = 2, weight_decay = 1)'].entries()) {
    const shape = DATA[i % DATA.length];
    out.push({ name: `collapsing weights ${opt} ${shape.data}`, text: namedMlp(shape.classes, 32, 'tanh', 'NN5010') + trainBlock(shape, opt, 15, 32) });
  }
  // Vanishing gradients through deep sigmoid stacks (NN5001 at the first layer).
  for (const [i, [depth, width, opt]] of ([[8, 16, 'SGD(lr = 0.01)'], [10, 16, 'Adam(lr = 0.001)'], [6, 32, 'SGD(lr = 0.1)'], [12, 24, 'SGD(lr = 0.05, momentum = 0.9)']] as const).entries()) {
    const shape = DATA[i % DATA.length];
    out.push({ name: `vanishing ${depth} sigmoids ${opt} ${shape.data}`, text: deepMlp(shape.classes, depth, width, 'sigmoid', { code: 'NN5001', at: 'layer' }) + trainBlock(shape, opt, 5, 32) });
  }
  // Dead ReLUs after steps too large for them (NN5003 at the second relu, the one that dies).
  for (const [i, opt] of ['SGD(lr = 20)', 'SGD(lr = 10)', 'Adam(lr = 1)', 'SGD(lr = 8, momentum = 0.5)'].entries()) {
    const shape = DATA[i % 2 === 0 ? 0 : 2];
    out.push({ name: `dead relu ${opt} ${shape.data}`, text: deepMlp(shape.classes, 2, 32 + 32 * (i % 2), 'relu', { code: 'NN5003', at: 'activation' }) + trainBlock(shape, opt, 10, 32) });
  }
  return out;
}

export function healthySetups(): Setup[] {
  const out: Setup[] = [];
  const optimizers = ['Adam(lr = 0.01)', 'Adam(lr = 0.003)', 'SGD(lr = 0.1, momentum = 0.9)', 'AdamW(lr = 0.005)'];
  for (const [i, opt] of optimizers.entries()) {
    for (const [j, shape] of DATA.entries()) {
      out.push({ name: `healthy ${opt} ${shape.data}`, text: mlp(shape.classes, 1 + ((i + j) % 3), 32 + 16 * (j % 2), i === 3 ? 'tanh' : 'relu') + trainBlock(shape, opt, 10, 16 * (1 + (i % 2))) });
    }
  }
  for (const [i, batch] of [8, 64].entries()) {
    for (const shape of DATA.slice(0, 2)) {
      out.push({ name: `healthy batch ${batch} ${shape.data}`, text: mlp(shape.classes, 2, 64, i === 0 ? 'leaky_relu' : 'gelu') + trainBlock(shape, 'Adam(lr = 0.005)', 8, batch) });
    }
  }
  for (const shape of DATA) {
    out.push({ name: `healthy long SGD ${shape.data}`, text: mlp(shape.classes, 2, 32, 'relu') + trainBlock(shape, 'SGD(lr = 0.05, momentum = 0.9)', 25, 32) });
  }
  out.push({ name: 'healthy xor', text: mlp(2, 1, 8, 'tanh') + trainBlock({ data: 'xor', classes: 2 }, 'Adam(lr = 0.05)', 200, 4) });
  // Standardized CSV features (no NN5009), a frozen layer with a zero-initialized bias and a
  // decay to zero (no NN5010).
  for (const features of [4, 8]) {
    out.push({
      name: `healthy standardized csv ${features} columns`,
      text: csvMlp(features, 2, 32) + trainBlock({ data: 'csv("data/train.csv", label = "label")', classes: 2 }, 'Adam(lr = 0.003)', 5, 16),
      files: { 'data/train.csv': csvData(128, features, 1, 0) },
    });
  }
  out.push({
    name: 'healthy frozen first layer, zero bias',
    text: `model M(x: [B, 2]) -> [B, 2] {
  fc1 = Linear(2, 32)
  b = param([32], init = zeros)
  fc2 = Linear(32, 2)
  return fc2(relu(fc1(x) + b))
}

train M {
  data = moons(points = 200)
  optimizer = Adam(lr = 0.01)
  freeze = [fc1]
  epochs = 10
}
`,
  });
  // Deep stacks that train well: no vanishing gradient, no dead units.
  for (const [i, act] of ['relu', 'tanh', 'leaky_relu'].entries()) {
    const shape = DATA[i];
    out.push({ name: `healthy deep ${act} ${shape.data}`, text: deepMlp(shape.classes, 6, 32, act) + trainBlock(shape, 'Adam(lr = 0.003)', 8, 32) });
  }
  out.push({ name: 'healthy cosine decay to zero', text: namedMlp(3, 32, 'relu') + trainBlock(DATA[1], 'SGD(lr = 0.1, momentum = 0.9)', 15, 32).replace('  batch = 32', '  batch = 32\n  schedule = cosine(eta_min = 0)') });
  // The bundled Fashion-MNIST examples, `npm start`'s first: what a new user trains first is quiet.
  for (const file of BUNDLED_EXAMPLES) out.push({ name: `examples/${file}`, text: readFileSync(join(dirname(__filename), '../../examples', file), 'utf8') });
  return out;
}
