// The diagnosis benchmark's setups: small .nn programs on synthetic data, each faulty one
// marking the line its finding belongs at with `# expect NNxxxx`, and healthy ones unmarked.

import type { Setup } from './harness.js';

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

function trainBlock(shape: Shape, optimizer: string, epochs: number, batch: number, marks: { optimizer?: string; epochs?: string } = {}): string {
  return `
train M {
  data = ${shape.data}
  optimizer = ${optimizer}${marks.optimizer ? `  # expect ${marks.optimizer}` : ''}
  epochs = ${epochs}${marks.epochs ? `  # expect ${marks.epochs}` : ''}
  batch = ${batch}
}
`;
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
  // Overfitting: a wide network on a few noisy points (NN5008 at the epochs line).
  for (const [i, points] of [20, 25, 30].entries()) {
    for (const width of [128, 256]) {
      const shape = { data: `spirals(classes = 3, points = ${points})`, classes: 3 };
      out.push({ name: `overfit ${points} points width ${width}`, text: mlp(3, 2, width, 'relu') + trainBlock(shape, 'Adam(lr = 0.01)', 60, 8 + 8 * (i % 2), { epochs: 'NN5008' }) });
    }
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
  return out;
}
