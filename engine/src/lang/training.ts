// The `train` block checks (LANGUAGE.md §9): keys and values, the data set against the
// model's input and output, the loss against the output, and data paths that stay inside
// the workspace. File headers come from the caller's reader: no I/O here.

import { IMAGE_SETS, formatBytes, isImageSetName } from '../data/catalog.js';
import { Dim, formatShape, type Shape } from '../shape/dim.js';
import type { DataHeader, DataHeaderReader, DataSpec, Diagnostic, Graph, OptimizerSpec, TextRange, TrainIR, ValueId } from './api.js';
import { opDef } from '../ops/registry.js';
import { boundsText, fitsBounds } from '../ops/def.js';
import { arithmetic, isHalfTyped, type Symbols } from './binder.js';
import { makeDiagnostic, type DiagnosticArg, type VariantsOf } from './diagnostics.js';
import { didYouMean } from './fixes.js';
import type { Signature } from './shapes.js';
import { DimBinding } from '../shape/binding.js';
import { targetForm } from './targets.js';
import type { Expr, TrainItem } from './syntax.js';
import { checkControls } from './trainControls.js';
import { BACKENDS, DATA_SETS, DEFAULT_LOSS, DEFAULT_OPTIMIZER, OPTIMIZERS, TRAIN_KEYS, TRAIN_LOSSES, dataSetDef, lossParams, lossTakesWeight, numericDefault, optimizerDef, type TrainLoss, type TrainParam, type TupleParam } from './trainCatalogue.js';

const KEYS = TRAIN_KEYS.map((k) => k.name);
const DATA_SET_NAMES = Object.keys(DATA_SETS);

/** The name a data set or optimizer value calls (`Adam(lr = 0.01)`) or names (`xor`). */
function calleeOf(expr: Expr): { name: string; range: TextRange } | null {
  if (expr.kind === 'call' && expr.callee.kind === 'name') return { name: expr.callee.name, range: expr.callee.range };
  return expr.kind === 'name' ? { name: expr.name, range: expr.range } : null;
}

/** `a, b or c`. */
function either(names: readonly string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

export interface TrainCheck {
  diagnostics: Diagnostic[];
  train: TrainIR | null;
}

type TrainValue = { kind: 'number'; value: number } | { kind: 'string'; value: string } | { kind: 'name'; value: string } | { kind: 'bool'; value: boolean } | { kind: 'other' };

/** The items of a list or tuple value (`[1, 2]`, `(0.9, 0.98)`), or null for anything else. */
function itemsOf(expr: Expr): readonly Expr[] | null {
  const inner = expr.kind === 'paren' ? expr.inner : expr;
  return inner.kind === 'list' || inner.kind === 'tuple' ? inner.items : null;
}

/** Whether a value is a finite number in [0, below). */
function inRange(v: TrainValue, below = Infinity): v is { kind: 'number'; value: number } {
  return v.kind === 'number' && v.value >= 0 && Number.isFinite(v.value) && v.value < below;
}

/** A path that is absolute or climbs above the workspace folder with `..`. */
export function leavesWorkspace(path: string): boolean {
  if (path.startsWith('/') || path.startsWith('\\') || /^[A-Za-z]:/.test(path)) return true;
  let depth = 0;
  for (const part of path.split(/[\\/]+/)) {
    if (part === '..') depth--;
    else if (part !== '.' && part !== '') depth++;
    if (depth < 0) return true;
  }
  return false;
}

/** The caller's header reader, with an exception turned into an error value. */
function readHeader(reader: DataHeaderReader, spec: DataSpec): ReturnType<DataHeaderReader> {
  try {
    return reader(spec);
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

export function checkTrain(
  item: TrainItem,
  symbols: Symbols,
  signature: Signature | null,
  options: { readDataHeader?: DataHeaderReader; allowPathsOutsideWorkspace?: boolean; saveFolderOutside?: (path: string) => string | null },
  /** The model's checked graph (for the layers that read the data directly), when it has one. */
  graph: Graph | null = null,
): TrainCheck {
  const { readDataHeader } = options;
  const leavesAllowedFolder = (path: string) => !options.allowPathsOutsideWorkspace && leavesWorkspace(path);
  const diagnostics: Diagnostic[] = [];
  /** NN4002: a case of the code, its arguments (the entry's key first) and, for a misspelt name, its did-you-mean. */
  const bad = (id: VariantsOf<'NN4002'>, range: TextRange, args: readonly DiagnosticArg[], fix: ReturnType<typeof didYouMean> = {}) => diagnostics.push(makeDiagnostic(id, range, args, fix));
  const modelName = item.model.name;
  if (!symbols.models.has(modelName)) diagnostics.push(makeDiagnostic('NN4001', item.model.range, [modelName]));

  const entries = new Map<string, Expr>();
  const keyRanges: Record<string, TextRange> = {};
  for (const entry of item.entries) {
    const key = entry.key.name;
    if (!KEYS.includes(key)) {
      bad('NN4002/unknownKey', entry.key.range, [key, KEYS.join(', ')], didYouMean(entry.key.range, key, KEYS));
      continue;
    }
    const given = entries.get(key);
    if (given !== undefined) {
      // A half-typed entry is its syntax error only: it is not given twice with a complete one, which counts.
      if (isHalfTyped(entry.value)) continue;
      if (!isHalfTyped(given)) {
        bad('NN4002/twice', entry.key.range, [key]);
        continue;
      }
    }
    entries.set(key, entry.value);
    keyRanges[key] = entry.value.range;
  }

  const valueOf = (expr: Expr): TrainValue => {
    switch (expr.kind) {
      case 'number':
        return { kind: 'number', value: expr.value };
      case 'string':
        return { kind: 'string', value: expr.value };
      case 'bool':
        return { kind: 'bool', value: expr.value };
      case 'paren':
        return valueOf(expr.inner);
      case 'unary': {
        const v = valueOf(expr.operand);
        return v.kind === 'number' ? { kind: 'number', value: -v.value } : { kind: 'other' };
      }
      case 'binary': {
        const a = valueOf(expr.left);
        const b = valueOf(expr.right);
        const v = a.kind === 'number' && b.kind === 'number' ? arithmetic(expr.op, a.value, b.value) : null;
        return v === null ? { kind: 'other' } : { kind: 'number', value: v };
      }
      case 'name': {
        const constant = symbols.constValues.get(expr.name);
        if (constant !== undefined && constant !== null) return { kind: 'number', value: constant };
        return { kind: 'name', value: expr.name };
      }
      default:
        return { kind: 'other' };
    }
  };

  const integer = (key: string, fallback: number, min: number): number => {
    const expr = entries.get(key);
    if (expr === undefined) return fallback;
    const v = valueOf(expr);
    if (v.kind === 'number' && Number.isInteger(v.value) && v.value >= min) return v.value;
    bad('NN4002/integer', expr.range, [key, min]);
    return fallback;
  };

  /** A call's arguments by name (positional ones take the parameter order). */
  const callArgs = (expr: Expr, key: string, signature: readonly TrainParam[]): { args: Map<string, { value: TrainValue; expr: Expr }> } | null => {
    const call = expr.kind === 'call' ? expr : null;
    const name = calleeOf(expr)!.name;
    const params = signature.map((p) => p.name);
    const args = new Map<string, { value: TrainValue; expr: Expr }>();
    let position = 0;
    for (const arg of call?.args ?? []) {
      const argName = arg.name?.name ?? params[position++];
      if (argName === undefined || !params.includes(argName)) {
        if (arg.name === null) bad('NN4002/tooManyArguments', arg.range, [key, name]);
        else {
          const pytorchBetas = /^beta[12]$/.test(arg.name.name) && params.includes('betas');
          bad(pytorchBetas ? 'NN4002/pytorchBetas' : 'NN4002/unknownArgument', arg.range, [key, name, arg.name.name], didYouMean(arg.name.range, arg.name.name, params));
        }
        return null;
      }
      args.set(argName, { value: valueOf(arg.value), expr: arg.value });
    }
    return { args };
  };

  /** A loss's class weights (`weight = [1.0, 2.0, 0.5]`): a list of non-negative numbers, else reported. */
  const weightsOf = (expr: Expr): { values: number[]; range: TextRange } | null => {
    const items = itemsOf(expr) ?? [];
    const values = items.flatMap((item) => {
      const v = valueOf(item);
      return inRange(v) ? [v.value] : [];
    });
    if (values.length === 0 || values.length !== items.length) {
      bad('NN4002/classWeights', expr.range, ['loss']);
      return null;
    }
    return { values, range: expr.range };
  };

  /** A tuple argument's numbers (`betas = (0.9, 0.98)`; a list too, as PyTorch takes one), each in [0, below), as many as its default has; else reported. */
  const tupleOf = (expr: Expr, key: string, p: TupleParam): number[] | null => {
    const arity = p.default.length;
    const items = itemsOf(expr);
    if (!items || items.length !== arity) {
      bad('NN4002/tuple', expr.range, [key, p.name, arity, p.default.join(', ')]);
      return null;
    }
    const numbers: number[] = [];
    for (const item of items) {
      const v = valueOf(item);
      if (inRange(v, p.below)) numbers.push(v.value);
      else {
        bad('NN4002/tupleItem', item.range, [key, p.name, p.below]);
        return null;
      }
    }
    return numbers;
  };

  // -- data ------------------------------------------------------------------------------
  let data: DataSpec | null = null;
  let header: DataHeader | null = null;
  const dataExpr = entries.get('data');
  if (dataExpr === undefined) {
    bad('NN4002/missingData', item.model.range, ['data']);
  } else {
    const callee = calleeOf(dataExpr);
    const set = callee ? dataSetDef(callee.name) : undefined;
    const parsed = set ? callArgs(dataExpr, 'data', set.params) : null;
    if (!set) {
      bad('NN4002/expected', dataExpr.range, ['data', either(DATA_SET_NAMES.map((n) => `${n}(...)`))], callee ? didYouMean(callee.range, callee.name, DATA_SET_NAMES) : {});
    } else if (parsed && !set.files) {
      const values: Record<string, number> = {};
      let ok = true;
      for (const p of set.params) {
        const arg = parsed.args.get(p.name);
        if (arg === undefined) values[p.name] = p.default!;
        else if (arg.value.kind === 'number' && Number.isInteger(arg.value.value) && arg.value.value >= (p.min ?? 1)) values[p.name] = arg.value.value;
        else {
          bad('NN4002/argumentInteger', arg.expr.range, ['data', p.name, p.min ?? 1]);
          ok = false;
        }
      }
      if (ok) {
        header = set.header!(values);
        const name = set.name;
        const spec: DataSpec = isImageSetName(name) ? { kind: name, train: values.train, test: values.test } : name === 'spirals' ? { kind: 'spirals', classes: values.classes, points: values.points } : name === 'moons' ? { kind: 'moons', points: values.points } : { kind: 'xor' };
        data = spec;
        if (isImageSetName(name) && readDataHeader) {
          // Where the images come from: NN4005 when they cannot be had, a note when the run downloads them.
          const read = readHeader(readDataHeader, spec);
          if ('error' in read) {
            diagnostics.push(makeDiagnostic('NN4005', dataExpr.range, [`${name}(train = ${values.train}, test = ${values.test})`, read.problem ?? read.error]));
            data = null;
            header = null;
          } else if (read.download) {
            diagnostics.push(makeDiagnostic('NN4008', dataExpr.range, [IMAGE_SETS[name].title, formatBytes(read.download.bytes), read.download.from, read.download.into]));
          }
        }
      }
    } else if (parsed) {
      const name = set.name;
      const strings: Record<string, string> = {};
      const counts: Record<string, number> = {};
      let ok = true;
      for (const p of set.params) {
        const arg = parsed.args.get(p.name);
        if (p.kind === 'count' || p.kind === 'number') {
          const integer = p.kind === 'count';
          const fits = (v: number) => (integer ? Number.isInteger(v) && v >= (p.min ?? 1) : v >= 0 && v < (p.below ?? Infinity));
          if (arg === undefined) counts[p.name] = p.default!;
          else if (arg.value.kind === 'number' && fits(arg.value.value)) counts[p.name] = arg.value.value;
          else {
            if (integer) bad('NN4002/argumentInteger', arg.expr.range, ['data', p.name, p.min ?? 1]);
            else bad('NN4002/argumentBelow', arg.expr.range, ['data', p.name, p.below!]);
            ok = false;
          }
          continue;
        }
        if (arg === undefined || arg.value.kind !== 'string') {
          bad('NN4002/needsString', arg?.expr.range ?? dataExpr.range, ['data', name, p.name]);
          ok = false;
          continue;
        }
        strings[p.name] = arg.value.value;
        const isPath = !(name === 'csv' && p.name === 'label');
        if (isPath && leavesAllowedFolder(arg.value.value)) {
          diagnostics.push(makeDiagnostic('NN4006', arg.expr.range, [arg.value.value]));
          ok = false;
        }
      }
      if (ok) {
        data = name === 'csv' ? { kind: 'csv', path: strings.path, label: strings.label }
          : name === 'idx' ? { kind: 'idx', images: strings.images, labels: strings.labels }
          : name === 'text' ? { kind: 'text', path: strings.path, block: counts.block, stride: counts.stride, test: counts.test }
          : { kind: 'npy', x: strings.x, y: strings.y };
        if (readDataHeader) {
          const read = readHeader(readDataHeader, data);
          if ('error' in read && read.code === 'NN4006') {
            diagnostics.push(makeDiagnostic('NN4006', dataExpr.range, [read.path ?? read.error]));
            data = null;
          } else if ('error' in read) {
            diagnostics.push(makeDiagnostic('NN4005', dataExpr.range, [Object.values(strings).filter((_, k) => !(name === 'csv' && k === 1)).join('", "'), read.problem ?? read.error]));
            data = null;
          } else header = read;
        }
      }
    }
  }

  // -- loss and optimizer ----------------------------------------------------------------
  let loss: TrainLoss = DEFAULT_LOSS;
  const lossArgs: Record<string, number> = {};
  let lossWeight: { values: number[]; range: TextRange } | null = null;
  const lossExpr = entries.get('loss');
  if (lossExpr) {
    // A loss by name, or called with its number arguments and class weights: `cross_entropy(weight = [1, 2], label_smoothing = 0.1)`.
    const callee = calleeOf(lossExpr);
    if (callee && (TRAIN_LOSSES as readonly string[]).includes(callee.name)) {
      loss = callee.name as TrainLoss;
      const params = lossParams(loss);
      const names = [...params.map((p) => p.name), ...(lossTakesWeight(loss) ? ['weight'] : [])];
      const parsed = lossExpr.kind === 'call' ? callArgs(lossExpr, 'loss', names.map((name) => ({ name, kind: 'number', doc: '' }))) : null;
      const weightArg = parsed?.args.get('weight');
      if (weightArg) lossWeight = weightsOf(weightArg.expr);
      for (const p of params) {
        const arg = parsed?.args.get(p.name);
        if (arg === undefined) continue;
        if (arg.value.kind === 'number' && fitsBounds(p, arg.value.value)) lossArgs[p.name] = arg.value.value;
        else bad('NN4002/argumentBounds', arg.expr.range, ['loss', p.name, boundsText(p)]);
      }
    } else {
      const v = valueOf(lossExpr);
      bad('NN4002/expected', lossExpr.range, ['loss', either(TRAIN_LOSSES)], callee ? didYouMean(callee.range, callee.name, TRAIN_LOSSES) : v.kind === 'name' ? didYouMean(lossExpr.range, v.value, TRAIN_LOSSES) : {});
    }
  }

  let optimizer: OptimizerSpec = DEFAULT_OPTIMIZER;
  let lrRange: TextRange | undefined;
  const optimizerExpr = entries.get('optimizer');
  if (optimizerExpr) {
    const callee = calleeOf(optimizerExpr);
    const def = callee ? optimizerDef(callee.name) : undefined;
    if (!def) {
      const names = Object.keys(OPTIMIZERS);
      bad('NN4002/expected', optimizerExpr.range, ['optimizer', either(names.map((n) => `${n}(...)`))], callee ? didYouMean(callee.range, callee.name, names) : {});
    } else {
      const name = def.name;
      const parsed = callArgs(optimizerExpr, 'optimizer', def.params);
      if (parsed) {
        const values: Record<string, number> = {};
        const tuples: Record<string, readonly number[]> = {};
        let ok = true;
        for (const p of def.params) {
          const arg = parsed.args.get(p.name);
          if (arg === undefined) {
            if (p.default === undefined) {
              bad('NN4002/needs', optimizerExpr.range, ['optimizer', name, p.name]);
              ok = false;
            } else if (p.kind !== 'tuple') values[p.name] = p.default;
            else tuples[p.name] = p.default;
          } else if (p.kind === 'flag') {
            if (arg.value.kind === 'bool') values[p.name] = arg.value.value ? 1 : 0;
            else {
              bad('NN4002/argumentFlag', arg.expr.range, ['optimizer', p.name]);
              ok = false;
            }
          } else if (p.kind === 'tuple') {
            const items = tupleOf(arg.expr, 'optimizer', p);
            if (items) tuples[p.name] = items;
            else ok = false;
          } else if (inRange(arg.value, p.below)) values[p.name] = arg.value.value;
          else {
            if (p.below === undefined) bad('NN4002/argumentNonNegative', arg.expr.range, ['optimizer', p.name]);
            else bad('NN4002/argumentBelow', arg.expr.range, ['optimizer', p.name, p.below]);
            ok = false;
          }
        }
        if (ok && !(values.lr > 0)) {
          bad('NN4002/argumentAboveZero', parsed.args.get('lr')?.expr.range ?? optimizerExpr.range, ['optimizer', 'lr']);
          ok = false;
        }
        if (ok && values.nesterov === 1 && values.momentum === 0) {
          bad('NN4002/nesterov', parsed.args.get('nesterov')!.expr.range, ['optimizer']);
          ok = false;
        }
        if (ok) {
          lrRange = parsed.args.get('lr')?.expr.range;
          optimizer =
            name === 'SGD'
              ? { kind: 'SGD', lr: values.lr, momentum: values.momentum, weightDecay: values.weight_decay, ...(values.nesterov === 1 ? { nesterov: true } : {}) }
              : name === 'RMSprop'
                ? { kind: 'RMSprop', lr: values.lr, alpha: values.alpha, eps: values.eps, weightDecay: values.weight_decay, momentum: values.momentum }
                : { kind: name, lr: values.lr, beta1: tuples.betas[0], beta2: tuples.betas[1], eps: values.eps, weightDecay: values.weight_decay };
        }
      }
    }
  }

  const controls = checkControls(
    {
      entries,
      number: (expr) => {
        const v = valueOf(expr);
        return v.kind === 'number' ? v.value : null;
      },
      word: (expr) => {
        const v = valueOf(expr);
        return v.kind === 'string' || v.kind === 'name' ? v.value : null;
      },
      callArgs: (expr, key, params) => {
        const parsed = callArgs(expr, key, params);
        return parsed ? new Map([...parsed.args].map(([name, arg]) => [name, arg.expr])) : null;
      },
      callee: calleeOf,
      bad,
      params: graph ? graph.params.map((p) => p.param) : null,
      graph: graph ?? null,
    },
    optimizer.lr,
  );

  const epochs = integer('epochs', numericDefault('epochs'), 1);
  const batch = integer('batch', numericDefault('batch'), 1);
  const seed = integer('seed', numericDefault('seed'), 0);

  let validate: number | 'test' = 'test';
  const validateExpr = entries.get('validate');
  if (validateExpr) {
    const v = valueOf(validateExpr);
    if (v.kind === 'number' && v.value > 0 && v.value < 1) validate = v.value;
    else if ((v.kind === 'name' || v.kind === 'string') && v.value === 'test') validate = 'test';
    else bad('NN4002/fraction', validateExpr.range, ['validate']);
  }

  let backend: TrainIR['backend'] = 'auto';
  const backendExpr = entries.get('backend');
  if (backendExpr) {
    const v = valueOf(backendExpr);
    if ((v.kind === 'string' || v.kind === 'name') && (BACKENDS as readonly string[]).includes(v.value)) backend = v.value as TrainIR['backend'];
    else bad('NN4002/expected', backendExpr.range, ['backend', either(BACKENDS.map((b) => `"${b}"`))]);
  }

  let save = `runs/${modelName}`;
  const saveExpr = entries.get('save');
  if (saveExpr) {
    const v = valueOf(saveExpr);
    if (v.kind !== 'string') bad('NN4002/folder', saveExpr.range, ['save']);
    else if (leavesAllowedFolder(v.value)) diagnostics.push(makeDiagnostic('NN4006', saveExpr.range, [v.value]));
    else {
      // A folder inside by its text may still lead out through a symlink; runs never write there.
      const real = options.saveFolderOutside?.(v.value) ?? null;
      if (real !== null) diagnostics.push(makeDiagnostic('NN4006', saveExpr.range, [`${v.value}" (a link to "${real}`]));
      else save = v.value;
    }
  }

  // -- the data set and the loss against the model -----------------------------------------
  if (signature && header && dataExpr) checkAgainstModel(modelName, signature, header, data, loss, lossWeight, dataExpr, lossExpr ?? item.model, diagnostics);
  if (graph && header?.inputIds && dataExpr) diagnostics.push(...checkTokenIds(graph, header.inputIds, data?.kind ?? 'data', dataExpr.range));

  const hasErrors = diagnostics.some((d) => d.severity === 'error');
  const train: TrainIR | null =
    data && !hasErrors && symbols.models.has(modelName)
      ? { model: modelName, range: item.range, data, dataRange: dataExpr!.range, loss, lossArgs, ...(lossWeight ? { lossWeight: lossWeight.values } : {}), optimizer, controls, epochs, batch, seed, validate, backend, save, keyRanges, ...(lrRange ? { lrRange } : {}) }
      : null;
  return { diagnostics, train };
}

function checkAgainstModel(
  modelName: string,
  signature: Signature,
  header: DataHeader,
  data: DataSpec | null,
  loss: TrainLoss,
  lossWeight: { values: readonly number[]; range: TextRange } | null,
  dataExpr: Expr,
  lossAnchor: { range: TextRange },
  diagnostics: Diagnostic[],
): void {
  const dataName = data?.kind ?? 'data';
  const input = signature.inputs[0];
  const sample: Shape = header.sampleShape.map((n) => Dim.of(n));
  const binding = new DimBinding();
  if (signature.inputs.length === 1 && input.pattern === null) return; // its dims are wrong, and reported
  if (signature.inputs.length !== 1 || input.pattern!.length === 0 || !binding.match(input.pattern!.slice(1), sample)) {
    const expected = input?.pattern ? `${new DimBinding().format(input.pattern.slice(1))} per sample` : 'one input';
    diagnostics.push(makeDiagnostic('NN4003', dataExpr.range, [dataName, formatShape(sample), modelName, expected]));
  }
  if (signature.output === null) return;
  const output = binding.resolve(signature.output);
  if (output.length === 0) {
    diagnostics.push(makeDiagnostic('NN4007/noBatch', lossAnchor.range, [loss, formatShape(output)]));
    return;
  }
  const form = targetForm(loss, output.slice(1), header);
  if ('problem' in form) {
    diagnostics.push(makeDiagnostic(form.problem.id, lossAnchor.range, [loss, formatShape(output), ...form.problem.args]));
    return;
  }
  const scores = output[output.length - 1]?.constant();
  if (form.kind === 'class-ids' && header.classes !== null && scores !== null && scores !== undefined && scores !== header.classes) {
    diagnostics.push(makeDiagnostic('NN4004', dataExpr.range, [dataName, header.classes, modelName, scores]));
  }
  if (lossWeight && form.kind === 'class-ids' && scores !== null && scores !== undefined && lossWeight.values.length !== scores) {
    diagnostics.push(makeDiagnostic('NN4002/classWeightCount', lossWeight.range, ['loss', lossWeight.values.length, modelName, scores]));
  }
}

/**
 * NN4009: an op that reads the data's ids (directly or through reshapes) as indices — an
 * `Embedding`'s rows, a class loss's labels — has room for every id in the data; the run
 * would refuse the first id outside it.
 */
function checkTokenIds(graph: Graph, ids: { min: number; max: number }, dataName: string, dataRange: TextRange): Diagnostic[] {
  const producer = new Map<ValueId, Graph['nodes'][number]>();
  for (const node of graph.nodes) for (const out of node.outputs) producer.set(out, node);
  const readsData = (id: ValueId, seen = new Set<ValueId>()): boolean => {
    if (id === graph.inputs[0]) return true;
    const node = producer.get(id);
    // An op that keeps its input's element type passes int ids through (a reshape, a transpose).
    if (!node || node.op === 'call_fn' || node.op === 'unknown' || !opDef(node.op)?.keepsDtype || seen.has(id)) return false;
    seen.add(id);
    return node.inputs.some((input) => readsData(input, seen));
  };
  const out: Diagnostic[] = [];
  for (const node of graph.nodes) {
    const reads = node.op === 'call_fn' || node.op === 'unknown' ? undefined : opDef(node.op)?.ids;
    if (reads === undefined || !readsData(node.inputs[reads.input])) continue;
    const count = reads.count(node.inputs.map((v) => graph.values[v].shape), node.attrs as never)?.constant();
    if (count === null || count === undefined || (ids.min >= 0 && ids.max < count)) continue;
    // An Embedding is named by its layer; any other op by its name, at its call.
    const weight = graph.params.find((p) => node.inputs.includes(p.value))?.param;
    const reader = node.op === 'embedding' && weight ? { name: weight.layer, range: weight.range, what: 'is declared' } : { name: node.op, range: graph.values[node.outputs[0]].range, what: 'reads them' };
    out.push(
      makeDiagnostic('NN4009', dataRange, [dataName, ids.min, ids.max, reader.name, count, reads.noun, count - 1], {
        related: [{ range: reader.range, message: `\`${reader.name}\` ${reader.what} with ${count} ${reads.noun} here` }],
      }),
    );
  }
  return out;
}
