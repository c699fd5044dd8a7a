// The engine's public API: tensors, ops, autograd, layers, optimizers, gradcheck.
// See docs/engine.md for an example.

export { Tensor, tensor, zeros, ones, full, cast, type DType, type FloatArray, type TensorData, type NestedArray } from './tensor/tensor.js';
export { randn, rand, randint } from './tensor/random-tensors.js';
export { shapeSize, formatDims } from './tensor/shape.js';
export { backward, noGrad, enableGrad, isGradEnabled, tapeBytes, type TapeNode, type BackwardRule } from './autograd/tape.js';
export { checkpoint } from './autograd/checkpoint.js';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './gradcheck.js';
export { Rng, manualSeed, defaultRng } from './random.js';
export { ShapeError } from './ops/shape-rule.js';

export { add, sub, mul, div, neg, pow } from './ops/arithmetic.js';
export { relu, leakyRelu, sigmoid, tanh, gelu, silu, softplus, exp, log, sqrt, abs } from './ops/unary.js';
export { sum, mean, max, type ReduceOptions } from './ops/reduce.js';
export { softmax, logSoftmax } from './ops/softmax.js';
export { transpose, reshape, flatten, concat, detach } from './ops/layout.js';
export { matmul, linear } from './ops/matmul.js';
export { conv2d, type Conv2dOptions } from './ops/conv2d.js';
export { maxPool2d, avgPool2d } from './ops/pool.js';
export { batchNorm, layerNorm, type BatchNormOptions } from './ops/normalization.js';
export { embedding } from './ops/embedding.js';
export { dropout, type DropoutOptions } from './ops/dropout.js';
export { crossEntropy, mse, bceWithLogits } from './ops/losses.js';

export { Module } from './nn/module.js';
export { Linear, Conv2d, BatchNorm1d, BatchNorm2d, LayerNorm, Embedding, Dropout, Sequential } from './nn/layers.js';
export { initTensor, kaimingUniformBound } from './nn/init.js';

export { Optimizer } from './optim/optimizer.js';
export { SGD, type SgdOptions } from './optim/sgd.js';
export { Adam, AdamW, type AdamOptions } from './optim/adam.js';
export { RMSprop, type RmspropOptions } from './optim/rmsprop.js';
export { optimizerFromSpec } from './optim/from-spec.js';

export { setKernelThreads, kernelThreads, kernelThreadsStarted } from './kernels/pool.js';
