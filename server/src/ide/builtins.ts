// The editor's catalogue of built-in names: signatures, one-line docs and, for functions,
// the local derivative that the backward pass multiplies the upstream gradient `g` by.

export type BuiltinKind = 'layer' | 'function' | 'loss' | 'dataset' | 'optimizer' | 'init' | 'trainKey';

export interface BuiltinParam {
  name: string;
  default?: string;
  doc?: string;
}

export interface Builtin {
  name: string;
  kind: BuiltinKind;
  params: BuiltinParam[];
  doc: string;
  /** Backward pass in the field's words: `dL/dx = g ⊙ 1[z>0]` (functions and losses). */
  backward?: string;
  /** The activation's local derivative, for hovers and saturation explanations. */
  localDerivative?: string;
}

const p = (name: string, defaultValue?: string, doc?: string): BuiltinParam => ({
  name,
  ...(defaultValue !== undefined ? { default: defaultValue } : {}),
  ...(doc !== undefined ? { doc } : {}),
});
const x = p('x');

export const BUILTINS: readonly Builtin[] = [
  // Layers (parameters initialized like PyTorch's defaults).
  { name: 'Linear', kind: 'layer', params: [p('in', undefined, 'input features (the input\'s last dim)'), p('out', undefined, 'output features'), p('bias', 'true')], doc: 'Affine map `y = x · Wᵀ + b` over the last axis; `weight: [out, in]`, `bias: [out]`.' },
  { name: 'Conv2d', kind: 'layer', params: [p('in', undefined, 'input channels'), p('out', undefined, 'output channels'), p('kernel', undefined, 'square kernel size'), p('stride', '1'), p('padding', '0')], doc: '2-D convolution over `[B, C, H, W]`; `weight: [out, in, k, k]`, `bias: [out]`. Output size `(H + 2·padding − k) / stride + 1`.' },
  { name: 'BatchNorm2d', kind: 'layer', params: [p('c', undefined, 'channels')], doc: 'Batch normalization over `[B, C, H, W]` per channel; `weight`, `bias: [C]`, running statistics as buffers.' },
  { name: 'BatchNorm1d', kind: 'layer', params: [p('f', undefined, 'features')], doc: 'Batch normalization over `[B, F]` per feature.' },
  { name: 'LayerNorm', kind: 'layer', params: [p('f', undefined, 'normalized features (last dim)')], doc: 'Layer normalization over the last axis; `weight`, `bias: [F]`.' },
  { name: 'Embedding', kind: 'layer', params: [p('n', undefined, 'vocabulary size'), p('d', undefined, 'embedding size')], doc: 'Looks up rows of `weight: [n, d]` for `int` token ids: `[B, T]` → `[B, T, d]`.' },

  // Functions.
  { name: 'relu', kind: 'function', params: [x], doc: 'Rectified linear unit `max(z, 0)`.', localDerivative: '1[z>0]', backward: 'dL/dz = g ⊙ 1[z>0]' },
  { name: 'leaky_relu', kind: 'function', params: [x, p('slope', '0.01')], doc: '`z` for `z > 0`, else `slope · z`.', localDerivative: '1[z>0] + slope · 1[z≤0]', backward: 'dL/dz = g ⊙ (1[z>0] + slope · 1[z≤0])' },
  { name: 'sigmoid', kind: 'function', params: [x], doc: 'Logistic function `σ(z) = 1 / (1 + e^−z)`; saturates for large `|z|`.', localDerivative: 'σ(z)(1−σ(z)) ≤ 0.25', backward: 'dL/dz = g ⊙ σ(z)(1−σ(z))' },
  { name: 'tanh', kind: 'function', params: [x], doc: 'Hyperbolic tangent; saturates for large `|z|`.', localDerivative: '1 − tanh²(z) ≤ 1', backward: 'dL/dz = g ⊙ (1 − tanh²(z))' },
  { name: 'gelu', kind: 'function', params: [x], doc: 'Gaussian error linear unit `z · Φ(z)`.', localDerivative: 'Φ(z) + z·φ(z)', backward: 'dL/dz = g ⊙ (Φ(z) + z·φ(z))' },
  { name: 'silu', kind: 'function', params: [x], doc: 'Sigmoid linear unit (swish) `z · σ(z)`.', localDerivative: 'σ(z)(1 + z(1−σ(z)))', backward: 'dL/dz = g ⊙ σ(z)(1 + z(1−σ(z)))' },
  { name: 'softplus', kind: 'function', params: [x], doc: '`log(1 + e^z)`, a smooth ReLU.', localDerivative: 'σ(z)', backward: 'dL/dz = g ⊙ σ(z)' },
  { name: 'exp', kind: 'function', params: [x], doc: 'Elementwise `e^z`.', localDerivative: 'exp(z)', backward: 'dL/dz = g ⊙ exp(z)' },
  { name: 'log', kind: 'function', params: [x], doc: 'Elementwise natural logarithm.', localDerivative: '1/z', backward: 'dL/dz = g / z' },
  { name: 'sqrt', kind: 'function', params: [x], doc: 'Elementwise square root.', localDerivative: '1/(2√z)', backward: 'dL/dz = g / (2√z)' },
  { name: 'abs', kind: 'function', params: [x], doc: 'Elementwise absolute value.', localDerivative: 'sign(z)', backward: 'dL/dz = g ⊙ sign(z)' },
  { name: 'softmax', kind: 'function', params: [x, p('axis', '-1')], doc: 'Normalized exponentials along `axis`. Feed logits, not softmax, to `cross_entropy`.', backward: 'dL/dz = s ⊙ (g − Σ(g ⊙ s)), s = softmax(z)' },
  { name: 'log_softmax', kind: 'function', params: [x, p('axis', '-1')], doc: 'Log of softmax along `axis`, computed stably.', backward: 'dL/dz = g − softmax(z) · Σ g' },
  { name: 'sum', kind: 'function', params: [x, p('axis'), p('keepdims', 'false')], doc: 'Sum over `axis`.', backward: 'dL/dx = g broadcast back over the summed axis' },
  { name: 'mean', kind: 'function', params: [x, p('axis'), p('keepdims', 'false')], doc: 'Mean over `axis`.', backward: 'dL/dx = g / n broadcast back over the averaged axis' },
  { name: 'max', kind: 'function', params: [x, p('axis'), p('keepdims', 'false')], doc: 'Maximum over `axis`; the gradient goes to the arg-max only.', backward: 'dL/dx = g at the arg-max, 0 elsewhere' },
  { name: 'transpose', kind: 'function', params: [x, p('a'), p('b')], doc: 'Swaps axes `a` and `b`.', backward: 'dL/dx = transpose(g, a, b)' },
  { name: 'reshape', kind: 'function', params: [x, p('shape', undefined, '[dims], one of them may be -1')], doc: 'Same elements, new shape; the element count must not change.', backward: 'dL/dx = reshape(g, shape of x)' },
  { name: 'flatten', kind: 'function', params: [x, p('start', '1')], doc: 'Merges the axes from `start` on into one.', backward: 'dL/dx = reshape(g, shape of x)' },
  { name: 'concat', kind: 'function', params: [p('xs...'), p('axis')], doc: 'Joins tensors along `axis`; other dims must agree.', backward: 'dL/dxᵢ = the slice of g that xᵢ filled' },
  { name: 'max_pool2d', kind: 'function', params: [x, p('k'), p('stride', 'k')], doc: 'Max over each `k × k` window of `[B, C, H, W]`.', backward: 'dL/dx = g routed to the arg-max of each window, 0 elsewhere' },
  { name: 'avg_pool2d', kind: 'function', params: [x, p('k'), p('stride', 'k')], doc: 'Mean over each `k × k` window of `[B, C, H, W]`.', backward: 'dL/dx = g / k² spread over each window' },
  { name: 'dropout', kind: 'function', params: [x, p('p')], doc: 'Zeroes each element with probability `p` while training and scales the rest by `1/(1−p)`.', backward: 'dL/dx = g ⊙ mask / (1−p)' },
  { name: 'detach', kind: 'function', params: [x], doc: 'The same values, with the gradient stopped: nothing upstream learns through it.', backward: 'dL/dx = 0 (no gradient flows)' },
  { name: 'param', kind: 'function', params: [p('shape', undefined, '[dims]'), p('init', 'kaiming_uniform')], doc: 'Declares a raw trainable tensor (for custom layers written with `fn`).' },

  // Losses.
  { name: 'cross_entropy', kind: 'loss', params: [p('logits'), p('labels')], doc: 'Fused log-softmax + negative log-likelihood over `[B, C]` logits and `int` labels `[B]`.', backward: 'dL/dlogits = (softmax(logits) − onehot(labels)) / B' },
  { name: 'mse', kind: 'loss', params: [p('pred'), p('target')], doc: 'Mean squared error.', backward: 'dL/dpred = 2(pred − target) / N' },
  { name: 'bce_with_logits', kind: 'loss', params: [p('logits'), p('target')], doc: 'Binary cross-entropy on logits, computed stably.', backward: 'dL/dlogits = (σ(logits) − target) / N' },

  // Data sets, optimizers, inits.
  { name: 'fashion_mnist', kind: 'dataset', params: [p('train', '60000'), p('test', '10000')], doc: 'Fashion-MNIST images `[1, 28, 28]`, 10 classes.' },
  { name: 'mnist', kind: 'dataset', params: [p('train', '60000'), p('test', '10000')], doc: 'MNIST digits `[1, 28, 28]`, 10 classes; downloaded into the data cache on first use.' },
  { name: 'cifar10', kind: 'dataset', params: [p('train', '50000'), p('test', '10000')], doc: 'CIFAR-10 images `[3, 32, 32]`, 10 classes; downloaded into the data cache on first use.' },
  { name: 'spirals', kind: 'dataset', params: [p('classes', '3'), p('points', '100')], doc: 'Interleaved 2-D spirals: samples `[2]`, `classes` classes.' },
  { name: 'moons', kind: 'dataset', params: [p('points', '100')], doc: 'Two interleaved half-moons: samples `[2]`, 2 classes.' },
  { name: 'xor', kind: 'dataset', params: [], doc: 'The four XOR points: samples `[2]`, 2 classes.' },
  { name: 'csv', kind: 'dataset', params: [p('path'), p('label')], doc: 'A CSV file with a header; `label` names the label column.' },
  { name: 'idx', kind: 'dataset', params: [p('images'), p('labels')], doc: 'IDX files (the MNIST format).' },
  { name: 'npy', kind: 'dataset', params: [p('x'), p('y')], doc: 'NumPy `.npy` arrays of samples and labels.' },
  { name: 'SGD', kind: 'optimizer', params: [p('lr'), p('momentum', '0'), p('weight_decay', '0')], doc: 'Stochastic gradient descent with optional momentum.' },
  { name: 'Adam', kind: 'optimizer', params: [p('lr', '0.001'), p('beta1', '0.9'), p('beta2', '0.999'), p('eps', '1e-8'), p('weight_decay', '0')], doc: 'Adam (L2 weight decay added to the gradient).' },
  { name: 'AdamW', kind: 'optimizer', params: [p('lr', '0.001'), p('beta1', '0.9'), p('beta2', '0.999'), p('eps', '1e-8'), p('weight_decay', '0.01')], doc: 'Adam with decoupled weight decay.' },
  { name: 'kaiming_uniform', kind: 'init', params: [], doc: 'PyTorch\'s default weight init (`a = √5`).' },
  { name: 'xavier_uniform', kind: 'init', params: [], doc: 'Glorot uniform init.' },
  { name: 'zeros', kind: 'init', params: [], doc: 'All zeros.' },
  { name: 'ones', kind: 'init', params: [], doc: 'All ones.' },
  { name: 'normal', kind: 'init', params: [p('std')], doc: 'Normal init with standard deviation `std`.' },

  // Keys of a `train` block.
  { name: 'data', kind: 'trainKey', params: [], doc: 'The data set: `fashion_mnist(...)`, `spirals(...)`, `moons(...)`, `xor()`, `csv(...)`, `idx(...)`, `npy(...)`.' },
  { name: 'loss', kind: 'trainKey', params: [], doc: '`cross_entropy` (default), `mse` or `bce_with_logits`.' },
  { name: 'optimizer', kind: 'trainKey', params: [], doc: '`SGD(...)`, `Adam(...)` (default `Adam(lr = 0.001)`) or `AdamW(...)`.' },
  { name: 'epochs', kind: 'trainKey', params: [], doc: 'Passes over the training data (default 1).' },
  { name: 'batch', kind: 'trainKey', params: [], doc: 'Batch size (default 32).' },
  { name: 'seed', kind: 'trainKey', params: [], doc: 'Random seed for init, shuffling and dropout (default 0).' },
  { name: 'validate', kind: 'trainKey', params: [], doc: 'Fraction of the training data held out, or the data set\'s test split (default).' },
  { name: 'backend', kind: 'trainKey', params: [], doc: '`"auto"`, `"ts"` (the TypeScript engine) or `"onnx"` (onnxruntime-node).' },
  { name: 'save', kind: 'trainKey', params: [], doc: 'Output folder for checkpoints, the exported `.onnx` and the run log (default `runs/<model>`).' },
];

const byName = new Map(BUILTINS.filter((b) => b.kind !== 'trainKey').map((b) => [b.name, b]));

/** The built-in named `name` (train keys excluded), if any. */
export function builtin(name: string): Builtin | undefined {
  return byName.get(name);
}

export function trainKey(name: string): Builtin | undefined {
  return BUILTINS.find((b) => b.kind === 'trainKey' && b.name === name);
}

/** `Conv2d(in, out, kernel, stride = 1, padding = 0)`. */
export function signatureOf(b: Builtin): string {
  return `${b.name}(${b.params.map(formatParam).join(', ')})`;
}

export function formatParam(param: BuiltinParam): string {
  return param.default !== undefined ? `${param.name} = ${param.default}` : param.name;
}

export const KEYWORDS = ['const', 'model', 'fn', 'grad', 'train', 'return', 'true', 'false'] as const;
