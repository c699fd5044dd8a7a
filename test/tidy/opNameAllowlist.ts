// The places outside engine/src/ops/ where an op's or layer's name may be a string literal
// (opNames.test.ts), each with why: a lint about that op, a kernel keyed by the op, or the same
// word meaning something else. "pending:" marks a special case in a file being edited elsewhere.

export interface AllowedOpName {
  /** The file, from the repository root. */
  file: string;
  /** The op or layer name written as a literal there. */
  name: string;
  reason: string;
}

const LR_SCHEDULE = 'the `linear` learning-rate schedule (LinearLR), not the op';
const DROPOUT_STREAM = 'the name of the run\'s dropout random stream, not the op';
const SUBSCRIPT_SYNTAX = 'the syntax node kind of `x[...]`, not the op';
const ELEMENTWISE_CODE = 'an elementwise kernel code keyed by op name (the binary kernels\' table)';
const SOFTMAX_BEFORE_CROSS_ENTROPY = 'NN3102, the lint about a softmax before cross_entropy';

export const OP_NAME_ALLOWLIST: readonly AllowedOpName[] = [
  { file: 'engine/src/backend-onnx/session.ts', name: 'dropout', reason: DROPOUT_STREAM },
  { file: 'engine/src/core/batches.ts', name: 'dropout', reason: DROPOUT_STREAM },
  { file: 'engine/src/data/download.ts', name: 'identity', reason: 'HTTP\'s `accept-encoding: identity`, not the op' },
  { file: 'engine/src/export/pytorchTraining.ts', name: 'linear', reason: LR_SCHEDULE },
  { file: 'engine/src/kernels/elementwise.ts', name: 'relu', reason: 'the relu kernel\'s worker task name (kernels/tasks.ts)' },
  ...['add', 'sub', 'mul', 'div', 'lt', 'gt', 'le', 'ge', 'eq', 'ne'].map((name) => ({ file: 'engine/src/kernels/elementwise.ts', name, reason: ELEMENTWISE_CODE })),
  { file: 'engine/src/kernels/tasks.ts', name: 'relu', reason: 'the worker\'s task table, keyed by kernel' },
  { file: 'engine/src/lang/api.ts', name: 'linear', reason: LR_SCHEDULE },
  { file: 'engine/src/lang/binder.ts', name: 'subscript', reason: SUBSCRIPT_SYNTAX },
  { file: 'engine/src/lang/gradients.ts', name: 'softmax', reason: SOFTMAX_BEFORE_CROSS_ENTROPY },
  { file: 'engine/src/lang/gradients.ts', name: 'log_softmax', reason: SOFTMAX_BEFORE_CROSS_ENTROPY },
  { file: 'engine/src/lang/gradients.ts', name: 'cross_entropy', reason: SOFTMAX_BEFORE_CROSS_ENTROPY },
  { file: 'engine/src/lang/instances.ts', name: 'std', reason: 'the `normal(std)` init\'s parameter, not the op' },
  { file: 'engine/src/lang/parser.ts', name: 'subscript', reason: SUBSCRIPT_SYNTAX },
  { file: 'engine/src/lang/program.ts', name: 'cross_entropy', reason: 'pending: NN3102 asks whether the train block\'s loss is cross_entropy (a lint about the op, likely to stay)' },
  { file: 'engine/src/lang/semantics.ts', name: 'subscript', reason: SUBSCRIPT_SYNTAX },
  { file: 'engine/src/lang/shapes.ts', name: 'subscript', reason: SUBSCRIPT_SYNTAX },
  { file: 'engine/src/lang/syntax.ts', name: 'subscript', reason: SUBSCRIPT_SYNTAX },
  { file: 'engine/src/lang/trainCatalogue.ts', name: 'linear', reason: LR_SCHEDULE },
  { file: 'engine/src/lang/trainCatalogue.ts', name: 'cross_entropy', reason: 'the train block\'s default loss (DEFAULT_LOSS), a train-block fact' },
  { file: 'engine/src/lang/trainControls.ts', name: 'linear', reason: `pending: ${LR_SCHEDULE}` },
  { file: 'engine/src/lang/training.ts', name: 'embedding', reason: 'pending: NN4009 names the ids\' reader by its layer when the op is embedding (could ask whether a layer\'s weight is an input)' },
  { file: 'engine/src/onnx/builder.ts', name: 'Identity', reason: 'ONNX\'s Identity operator, not the layer' },
  { file: 'engine/src/optim/schedule.ts', name: 'linear', reason: LR_SCHEDULE },
  { file: 'engine/src/run/backends.ts', name: 'dropout', reason: `pending: ${DROPOUT_STREAM}` },
  { file: 'engine/src/run/probe.ts', name: 'dropout', reason: `pending: ${DROPOUT_STREAM}` },
  { file: 'server/src/ide/hover.ts', name: 'subscript', reason: 'the notation kind of `x[...]` (OperatorNotation), which picks its hover' },
  { file: 'client/src/webview/main.ts', name: 'where', reason: 'a CSS class name, not the op' },
];
