// The generated model file of the checker benchmark: repeated units of fns with grad blocks,
// residual blocks, CNNs, MLPs with pipes and train blocks.

const TARGET_LINES = 5000;

function unit(i: number): string[] {
  return [
    `const width${i} = ${16 + (i % 4) * 16}`,
    '',
    `fn scale${i}(x: [B, N], s: [N]) -> [B, N] {`,
    '  return x * s',
    '} grad(g) {',
    '  return g * s, sum(g * x, 0)',
    '}',
    '',
    `model Block${i}[c](x: [B, c, H, W]) -> [B, c, H, W] {`,
    '  conv1 = Conv2d(c, c, 3, padding = 1)',
    '  conv2 = Conv2d(c, c, 3, padding = 1)',
    '  return relu(x + conv2(relu(conv1(x))))',
    '}',
    '',
    `model Cnn${i}(x: [B, 1, 28, 28]) -> [B, 10] {`,
    '  stem = Conv2d(1, 16, 3, padding = 1)',
    `  res = Block${i}(16)`,
    '  fc1 = Linear(16 * 14 * 14, 128)',
    '  fc2 = Linear(128, 10)',
    '  s = param([128], init = ones)',
    '  h = relu(stem(x))',
    '  h = res(h)',
    '  h = max_pool2d(h, 2)',
    '  h = flatten(h, 1)',
    `  h = scale${i}(relu(fc1(h)), s)`,
    '  h = dropout(h, 0.25)',
    '  return fc2(h)',
    '}',
    '',
    `model Mlp${i}(x: [B, 2]) -> [B, 3] {`,
    `  return x |> Linear(2, width${i}) |> relu`,
    `           |> Linear(width${i}, width${i}) |> tanh`,
    `           |> Linear(width${i}, 3)`,
    '}',
    '',
    `train Mlp${i} {`,
    '  data      = spirals(classes = 3, points = 300)',
    '  optimizer = SGD(lr = 0.1, momentum = 0.9)',
    '  epochs    = 20',
    '}',
    '',
  ];
}

/** About `lines` lines of independent, clean items (whole items only). */
export function generate(lines = TARGET_LINES): string {
  const out: string[] = ['# Generated for the checker benchmark.'];
  for (let i = 0; out.length < lines; i++) out.push(...unit(i));
  return out.join('\n') + '\n';
}

