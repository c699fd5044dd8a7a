// The one catalogue of diagnostic codes (LANGUAGE.md §10): severity, title and message
// template (or, for a code that covers several cases, one template per case); every
// reporter passes a code (typed: a key of DIAGNOSTICS) and arguments, never a message of its own.

import type { Diagnostic, Fix, RelatedInfo, Severity, TextRange } from './api.js';

export interface DiagnosticEntry {
  readonly severity: Severity;
  readonly title: string;
  readonly template: string;
  /** Cases of the code with a template each, reported as `NN2003/kind`. */
  readonly variants?: Readonly<Record<string, string>>;
}

export const DIAGNOSTICS = {
  NN1001: { severity: 'error', title: 'syntax error', template: 'expected {0}, found {1}' },
  NN1002: { severity: 'error', title: 'unterminated string or bracket', template: '{0} is never closed' },
  NN2001: { severity: 'error', title: 'undefined name', template: 'undefined name `{0}`' },
  NN2002: { severity: 'error', title: 'name defined twice', template: '`{0}` is already defined at line {1}' },
  NN2003: {
    severity: 'error',
    title: 'wrong arguments',
    template: 'wrong arguments to `{0}`',
    variants: {
      tooMany: '`{0}` takes at most {1} argument(s), got {2}',
      missing: '`{0}` is missing {1}',
      unknownKeyword: '`{0}` has no argument named `{1}` (it takes {2})',
      twice: '`{0}`: `{1}` is given twice',
      kind: '`{0}`: `{1}` must be {2}, got {3}',
      constant: 'constant `{0}` must be a number expression, got {1}',
    },
  },
  NN2004: { severity: 'error', title: 'model uses itself', template: 'model `{0}` uses itself ({1})' },
  NN2005: {
    severity: 'error',
    title: 'argument shape does not fit the signature',
    template: '`{0}` expects `{1}` of shape {2}, but `{3}` has shape {4}',
  },
  NN2006: { severity: 'error', title: 'missing return', template: '`{0}` has no `return`' },
  NN2007: { severity: 'error', title: 'argument out of range', template: '`{0}`: `{1}` must be {2}, got {3}' },
  NN2008: { severity: 'error', title: 'dim too large', template: '{0} is too large for a dim (at most 2^31)' },
  NN2009: { severity: 'error', title: 'layer in a fn', template: 'a fn has no layers or parameters: declare `{0}` in a model and pass its output in' },
  NN2010: { severity: 'error', title: 'param outside a declaration', template: '`param` declares a parameter in a binding only: `W = param([dims])`' },
  NN2012: { severity: 'error', title: 'constructor used as a function', template: '`{0}` is a layer constructor: call it with its arguments first, e.g. `{0}(...)`' },
  NN2013: { severity: 'error', title: 'not callable', template: '{0} cannot be called; a function, a layer or a block can (a tensor takes part in an expression: `x @ W`)' },
  NN2014: { severity: 'error', title: 'return of a non-tensor', template: 'a model or fn returns one tensor; `{0}` is {1}' },
  NN2015: { severity: 'error', title: 'unknown init', template: 'unknown init `{0}`; use kaiming_uniform, xavier_uniform, zeros, ones or normal(std)' },
  NN2016: { severity: 'error', title: 'not a dim', template: '`{0}` is not a dim: a dim is an integer, a name, or `+ - * /` of those' },
  NN2017: {
    severity: 'error',
    title: 'block arguments do not fit its body',
    template: "`{0}`'s body does not check with these arguments: {1}",
  },
  NN2018: { severity: 'error', title: 'several inferred dims', template: 'at most one dim of a reshape may be -1' },
  NN2101: {
    severity: 'error',
    title: 'shapes cannot be broadcast',
    template: 'shapes {0} and {1} cannot be broadcast together ({2} vs {3})',
  },
  NN2102: {
    severity: 'error',
    title: 'matrix product inner dimensions differ',
    template: '`@` inner dimensions differ: {0} @ {1} ({2} vs {3})',
  },
  NN2103: {
    severity: 'error',
    title: 'Linear input features differ',
    template: 'Linear expects input features {0}, but `{1}` has shape {2}{3}',
  },
  NN2104: {
    severity: 'error',
    title: 'channels differ',
    template: '{0} expects {1} input channels, but `{2}` has shape {3}{4}',
  },
  NN2105: {
    severity: 'error',
    title: 'window larger than the input',
    template: '{0} window {1} does not fit the (padded) input of size {2}: output size would be {3}',
  },
  NN2106: {
    severity: 'error',
    title: 'reshape changes the element count',
    template: 'reshape changes the element count: {0} has {1} elements, {2} has {3}',
  },
  NN2107: {
    severity: 'error',
    title: 'concat inputs differ outside the axis',
    template: 'concat inputs differ outside axis {0}: {1} vs {2}',
  },
  NN2108: { severity: 'error', title: 'wrong rank', template: '{0} expects {1}, but `{2}` has shape {3}' },
  NN2109: { severity: 'error', title: 'axis out of range', template: 'axis {0} is out of range for shape {1}' },
  NN2110: {
    severity: 'error',
    title: 'returned shape differs from the declared output',
    template: 'returned shape {0} differs from the declared output shape {1}',
  },
  NN2111: { severity: 'error', title: 'size mismatch', template: '{0} expects {1}, but `{2}` has shape {3}' },
  NN2112: {
    severity: 'error',
    title: 'pool padding over half the window',
    template: '{0} padding {1} is more than half the window {2}: a window could hold only padding',
  },
  NN2130: { severity: 'error', title: 'heads do not divide the model dim', template: 'MultiheadAttention: {0} heads do not divide the model dim {1} (each head gets d / heads features)' },
  NN2131: { severity: 'error', title: 'attention operands do not fit', template: '`{0}` has shape {1} but `{2}` has shape {3}: {4}' },
  NN2132: {
    severity: 'error',
    title: 'attention mask of the wrong shape',
    template: 'the attention mask `{0}` has shape {1}, which does not broadcast to the scores {2} ([..., queries, keys])',
  },
  NN2140: { severity: 'error', title: 'mask where a float tensor is needed', template: '`{0}` is a mask (the result of a comparison) and `{1}` needs a float tensor: multiply the mask by 1.0 first, or use it in arithmetic with a float tensor' },
  NN2141: { severity: 'error', title: 'two ellipses in a subscript', template: 'a subscript has at most one `...`' },
  NN2142: { severity: 'error', title: 'too many indices', template: 'the subscript indexes {0} axes, but {1} has {2}' },
  NN2143: { severity: 'error', title: 'index out of range', template: 'index {0} is out of range for axis {1} of size {2}' },
  NN2144: { severity: 'error', title: 'empty slice', template: 'the slice of axis {0} of {1} takes no entry' },
  NN2145: { severity: 'error', title: 'pieces of a symbolic size', template: '`{0}` into pieces of {1}: the size {2} of {3} is not known to be a multiple' },
  NN2146: { severity: 'error', title: 'split sizes do not add up', template: 'the sizes {0} add up to {1}, but axis {2} of {3} has {4}' },
  NN2147: { severity: 'error', title: 'wrong number of names bound', template: '{0} names are bound, but `{1}` gives {2}' },
  NN2150: { severity: 'error', title: 'squeeze of an axis not of size 1', template: 'axis {0} of {1} has size {2}{3}: `squeeze` removes only an axis of size 1' },
  NN2151: { severity: 'error', title: 'not a permutation of the axes', template: '{0} is not an order of the {1} axes of {2}: `permute` lists every axis once' },
  NN2152: { severity: 'error', title: 'stacked tensors of different shapes', template: '`stack` needs tensors of one shape: tensor 1 is {0}, tensor {1} is {2}' },
  NN2153: { severity: 'error', title: 'fewer sizes or counts than axes', template: '`{0}` with {1}: {2} given for the {3} axes of {4}, which needs one per axis at least' },
  NN2154: { severity: 'error', title: 'expand of an axis not of size 1', template: 'axis {0} of {1} has size {2} and cannot expand to {3}: only an axis of size 1 expands' },
  NN2160: { severity: 'error', title: 'float tensor where a mask is needed', template: '`{0}` is not a mask: `{1}` takes a mask (the result of a comparison, such as `x > 0`) as its `{2}`' },
  NN2161: { severity: 'error', title: 'int64 tensor where a float tensor is needed', template: '`{0}` holds int64 values (ids or indices) and `{1}` needs a float tensor: `one_hot` makes class ids a float tensor' },
  NN2162: { severity: 'error', title: 'one_hot of a float tensor', template: '`one_hot` takes int class ids, but `{0}` is a float tensor of shape {1}' },
  NN2170: {
    severity: 'error',
    title: 'malformed einsum equation',
    template: 'the einsum equation "{0}" is malformed',
    variants: {
      twoEllipses: 'the einsum equation "{0}" is malformed: the term `{1}` has two `...`',
      strayDot: 'the einsum equation "{0}" is malformed: a `.` outside `...`',
      notLetter: 'the einsum equation "{0}" is malformed: `{1}` is not a letter (terms are letters a-z, A-Z, with one `...` at most)',
      twoArrows: 'the einsum equation "{0}" is malformed: `->` appears more than once',
      outputRepeats: 'the einsum equation "{0}" is malformed: the output repeats `{1}`',
      outputEllipsis: 'the einsum equation "{0}" is malformed: the output has `...` but no input term has',
      keepEllipsis: 'the einsum equation "{0}" is malformed: an input term has `...`, so the output must keep it',
    },
  },
  NN2171: { severity: 'error', title: 'wrong number of einsum operands', template: 'the einsum equation "{0}" has {1} input term(s), but {2} operand(s) are given' },
  NN2172: { severity: 'error', title: 'einsum term does not fit its operand', template: 'the einsum term `{0}` names {1} axes, but `{2}` has shape {3}' },
  NN2173: { severity: 'error', title: 'einsum letter of two sizes', template: 'the einsum letter `{0}` is {1} in `{2}` but {3} in `{4}`' },
  NN2174: { severity: 'error', title: 'einsum output letter not in the inputs', template: 'the output letter `{0}` of the einsum equation "{1}" is in no input term' },
  NN2175: { severity: 'error', title: 'einsum letter repeated in a term', template: 'the einsum term `{0}` repeats `{1}`: diagonals and traces (`ii->i`) are not supported' },
  NN2180: { severity: 'error', title: 'imported file not readable', template: 'cannot import "{0}": {1}' },
  NN2181: { severity: 'error', title: 'import cycle', template: 'import cycle: {0}' },
  NN2182: { severity: 'error', title: 'imported name defined twice', template: '`{0}` from "{1}" is already defined {2}' },
  NN2183: { severity: 'error', title: 'errors in an imported file', template: '"{0}" has {1} error(s); the first, at line {2}: {3}' },
  NN2190: { severity: 'error', title: 'checkpoint of an op with a side effect', template: '`{0}` is checkpointed, and its `{1}` {2} when the backward pass recomputes it: apply it outside the checkpoint' },
  NN3001: {
    severity: 'error',
    title: 'wrong number of gradients',
    template: '`grad` of `{0}` returns {1} gradient(s), but `{0}` has {2} input(s)',
  },
  NN3002: {
    severity: 'error',
    title: 'gradient shape differs from its input',
    template: 'gradient for `{0}` has shape {1} but `{0}` has shape {2}{3}',
  },
  NN3101: { severity: 'warning', title: 'no gradient reaches a parameter', template: '{0} `{1}` receives no gradient: {2}' },
  NN3102: {
    severity: 'warning',
    title: 'softmax before cross_entropy',
    template: '`{0}` output is fed to cross_entropy, which expects logits and applies log_softmax itself',
  },
  NN3103: {
    severity: 'info',
    title: 'linear layers without a non-linearity',
    template: '`{0}` follows `{1}` with no non-linearity between them: together they are one linear map',
  },
  NN3104: {
    severity: 'warning',
    title: 'saturating activation chain',
    template: 'chain of {0} saturating activations: the worst-case gradient factor {1} is below 1e-3',
  },
  NN4001: { severity: 'error', title: 'unknown model', template: '`train` names an unknown model `{0}`' },
  NN4002: {
    severity: 'error',
    title: 'bad train entry',
    template: 'bad `train` entry `{0}`',
    variants: {
      // Keys.
      unknownKey: 'bad `train` entry `{0}`: unknown key; the keys are {1}',
      twice: 'bad `train` entry `{0}`: given twice',
      missingData: 'bad `train` entry `{0}`: missing: every `train` needs a data set',
      hyperParameters: 'bad `train` entry `{0}`: `{1}` has hyper-parameters; train a model that uses it as a block',
      // A key's value.
      expected: 'bad `train` entry `{0}`: expected {1}',
      integer: 'bad `train` entry `{0}`: expected an integer of at least {1}',
      positive: 'bad `train` entry `{0}`: expected a positive number',
      fraction: 'bad `train` entry `{0}`: expected a fraction between 0 and 1, or `test`',
      folder: 'bad `train` entry `{0}`: expected a folder path as a string',
      layerList: 'bad `train` entry `{0}`: expected a list of layer names: `{0} = [fc1, conv1]`',
      unknownLayer: 'bad `train` entry `{0}`: `{1}` is not a layer with parameters of the model; its layers are {2}',
      unknownInstance: 'bad `train` entry `{0}`: `{1}` is not a layer or block instance the model applies; its layers are {2}',
      allFrozen: 'bad `train` entry `{0}`: every parameter is frozen: nothing would train',
      sideEffect: "bad `train` entry `{0}`: `{1}`'s `{2}` {3} when the backward pass recomputes it",
      // The arguments of a data set, loss, optimizer or schedule call (`{1}` names the call).
      unknownArgument: 'bad `train` entry `{0}`: `{1}` has no argument `{2}`',
      tooManyArguments: 'bad `train` entry `{0}`: too many arguments to `{1}`',
      pytorchBetas: "bad `train` entry `{0}`: `{1}` takes PyTorch's `betas = (b1, b2)`, not `{2}`",
      needs: 'bad `train` entry `{0}`: `{1}` needs `{2}`',
      needsString: 'bad `train` entry `{0}`: `{1}` needs `{2}` as a string',
      // An argument's value (`{1}` names the argument).
      argumentInteger: 'bad `train` entry `{0}`: `{1}` must be an integer ≥ {2}',
      argumentBelow: 'bad `train` entry `{0}`: `{1}` must be a number in [0, {2})',
      argumentBounds: 'bad `train` entry `{0}`: `{1}` must be a number {2}',
      argumentNonNegative: 'bad `train` entry `{0}`: `{1}` must be a non-negative number',
      argumentAboveZero: 'bad `train` entry `{0}`: `{1}` must be above 0',
      argumentFlag: 'bad `train` entry `{0}`: `{1}` must be `true` or `false`',
      tuple: 'bad `train` entry `{0}`: `{1}` must be a tuple of {2} numbers, as `{1} = ({3})`',
      tupleItem: 'bad `train` entry `{0}`: each of `{1}` must be a number in [0, {2})',
      classWeights: 'bad `train` entry `{0}`: `weight` must be a list of non-negative numbers, one per class, as `weight = [1.0, 2.0]`',
      classWeightCount: 'bad `train` entry `{0}`: `weight` has {1} class weights, but `{2}` scores {3} classes',
      // Values that do not fit together.
      nesterov: 'bad `train` entry `{0}`: Nesterov momentum needs a `momentum` above 0',
      etaMin: "bad `train` entry `{0}`: `eta_min` ({1}) is above the optimizer's `lr` ({2}): the rate would rise",
      oneCycleWarmup: 'bad `train` entry `{0}`: `one_cycle` warms up by itself over `pct_start` of the steps; drop `warmup` or set `pct_start`',
      // What a run finds before it starts (engine/src/run/).
      tooManyParameters: 'bad `train` entry `{0}`: `{1}` has {2} parameters ({3} as float32), over the limit of {4}',
      activationsTooLarge: 'bad `train` entry `{0}`: one step of `{1}` at batch {2} needs {3} of activations, over the limit of {4}; use a smaller batch',
      onnxUnsupported: 'bad `train` entry `{0}`: the ONNX backend cannot train `{1}`: it cannot lower {2}; use backend = "ts" or "auto"',
      onnxStart: 'bad `train` entry `{0}`: onnxruntime could not start: {1}',
      notTextData: 'bad `train` entry `{0}`: `nn generate` samples from a model trained on `text(...)` data; this `train` block names another data set',
      notCharacterModel: 'bad `train` entry `{0}`: `nn generate` needs a model from int[B, T] character ids (T a number) to logits [B, T, vocabulary]',
      // `nn generate`'s prompt against the block's text: no entry of the block is wrong, so no entry is named.
      promptCharacters: 'the prompt has characters the text never uses: {0}',
      emptyPrompt: 'the prompt is empty: give at least one character',
    },
  },
  NN4003: {
    severity: 'error',
    title: 'data sample shape differs from the model input',
    template: 'data set `{0}` gives samples of shape {1}, but `{2}` expects {3}',
  },
  NN4004: {
    severity: 'error',
    title: 'class count differs from the model output',
    template: 'data set `{0}` has {1} classes, but `{2}` outputs {3} scores',
  },
  NN4005: { severity: 'error', title: 'data file missing or unreadable', template: 'cannot read data file "{0}": {1}' },
  NN4006: { severity: 'error', title: 'path leaves the workspace', template: 'path "{0}" leaves the workspace folder' },
  NN4007: {
    severity: 'error',
    title: 'loss does not fit the model output',
    template: 'loss `{0}` does not fit the model output {1}',
    variants: {
      noBatch: 'loss `{0}` does not fit the model output {1}: the output has no batch dim',
      classScores: 'loss `{0}` does not fit the model output {1}: {0} takes class scores of shape {2} for labels {3}',
      regressionTargets: 'loss `{0}` does not fit the model output {1}: the data set has regression targets, not class labels',
      unknownDims: 'loss `{0}` does not fit the model output {1}: a {0} target needs the output\'s dims after the batch to be known numbers',
      classesAsValues: 'loss `{0}` does not fit the model output {1}: the data set has {2} classes: compare them one-hot with an output [B, {2}], or as values with an output [B] or [B, 1]',
      targetShape: 'loss `{0}` does not fit the model output {1}: the targets have shape {2}',
    },
  },
  NN4008: {
    severity: 'info',
    title: 'data set will be downloaded',
    template: '{0} is not on this machine yet: the first run downloads {1} from {2} into {3}',
  },
  NN4009: {
    severity: 'error',
    title: 'token ids outside what reads them',
    template: 'data set `{0}` has token ids from {1} to {2}, but `{3}` has {4} {5} (ids 0 to {6})',
  },
  NN5001: { severity: 'warning', title: 'vanishing gradient', template: 'vanishing gradient at `{0}`: {1}' },
  NN5002: { severity: 'warning', title: 'exploding gradient', template: 'exploding gradient at `{0}`: {1}' },
  NN5003: { severity: 'warning', title: 'dead ReLU units', template: 'dead ReLU units at `{0}`: {1}' },
  NN5004: { severity: 'error', title: 'NaN or Inf', template: 'NaN or Inf at `{0}`: {1}' },
  NN5005: { severity: 'warning', title: 'saturated activations', template: 'saturated units at `{0}`: {1}' },
  NN5006: { severity: 'warning', title: 'loss not decreasing', template: 'the loss is not decreasing: {1}' },
  NN5007: { severity: 'warning', title: 'loss oscillating or diverging', template: 'the loss is {1}' },
  NN5008: { severity: 'warning', title: 'overfitting', template: 'overfitting: {1}' },
  NN5009: { severity: 'warning', title: 'inputs far from unit scale', template: 'the input `{0}` is far from unit scale: {1}' },
  NN5010: {
    severity: 'warning',
    title: 'weights barely changing or changing too much',
    template: 'the weights of `{0}` {1}',
  },
  NN9001: {
    severity: 'error',
    title: 'internal checker error',
    template: '`{0}` could not be analysed: {1} (a bug in NN Studio; the rest of the file is checked)',
  },
} as const satisfies Record<string, DiagnosticEntry>;

export type DiagnosticCode = keyof typeof DIAGNOSTICS;

/** The cases of a code (`NN2003/kind`, ...). */
export type VariantsOf<C> = C extends DiagnosticCode ? ((typeof DIAGNOSTICS)[C] extends { variants: infer V } ? `${C}/${keyof V & string}` : never) : never;

/** A message of the catalogue: a code, or a code's case (`NN2003/kind`). */
export type MessageId = DiagnosticCode | VariantsOf<DiagnosticCode>;

export type DiagnosticArg = string | number;

const catalogue: Readonly<Record<string, DiagnosticEntry>> = DIAGNOSTICS;

/** The catalogue entry of a code (a string from outside, e.g. a fixture), if there is one. */
export function diagnosticEntry(code: string): DiagnosticEntry | undefined {
  return catalogue[code];
}

/** The code of a message (`NN2003/kind` is NN2003); null for a string that names none. */
export function codeOf(id: string): DiagnosticCode | null {
  const code = id.includes('/') ? id.slice(0, id.indexOf('/')) : id;
  return code in catalogue ? (code as DiagnosticCode) : null;
}

/** Fills a catalogue template's `{0}`, `{1}`... placeholders. */
export function formatMessage(id: MessageId, args: readonly DiagnosticArg[]): string {
  const code = codeOf(id);
  if (code === null) throw new Error(`unknown diagnostic code ${id}`);
  const entry = catalogue[code];
  const variant = id.includes('/') ? entry.variants?.[id.slice(id.indexOf('/') + 1)] : undefined;
  const template = variant ?? entry.template;
  return template.replace(/\{(\d+)\}/g, (_, index: string) => String(args[Number(index)] ?? ''));
}

/** A diagnostic from a catalogue message, its arguments, and optional related information and fixes. */
export function makeDiagnostic(
  id: MessageId,
  range: TextRange,
  args: readonly DiagnosticArg[],
  extras: { related?: RelatedInfo[]; fixes?: Fix[] } = {},
): Diagnostic {
  const code = codeOf(id) as DiagnosticCode;
  return {
    code,
    severity: catalogue[code].severity,
    message: formatMessage(id, args),
    range,
    related: extras.related ?? [],
    fixes: extras.fixes ?? [],
  };
}
