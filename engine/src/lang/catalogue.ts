// The language's built-in names as people read them — signatures, one-line docs, gradients
// and derivatives — derived from their one definition each: ops and layers from the registry,
// `param` and its inits from instances.ts, data sets, optimizers and train keys from the
// train catalogue, keywords from the scanner. Completion, hover, signature help and semantic
// tokens read this, and scripts/generate.mjs writes the grammar's lists and the docs tables from it.

import { Dim, formatShape } from '../shape/dim.js';
import type { Param } from '../ops/def.js';
import { ALL_LAYERS, ALL_OPS, builtinFunction, layerDef } from '../ops/registry.js';
import type { SomeLayerDef, SomeOpDef } from '../ops/def.js';
import { INIT_PARAMS, PARAM_INITS, PARAM_PARAMS } from './instances.js';
import { KEYWORDS } from './scanner.js';
import type { BuiltinKind } from './semantics.js';
import { DATA_SETS, OPTIMIZERS, TRAIN_KEYS, dataSetDef, optimizerDef, trainDefaultText, trainKeyDef, type TrainParam } from './trainCatalogue.js';

export type EntryKind = BuiltinKind | 'trainKey';

/** One parameter as shown: `stride = k`, `padding = 0`, `axis?` (optional, absent by default). */
export interface EntryParam {
  name: string;
  label: string;
  /** The default as written, absent for a required parameter. */
  default?: string;
  doc?: string;
  /** Other accepted keyword spellings (PyTorch's). */
  aliases: readonly string[];
  /** A tensor input (`x`, `logits`). */
  tensor: boolean;
}

export interface CatalogueEntry {
  name: string;
  kind: EntryKind;
  /** `Conv2d(in, out, kernel, stride = 1, padding = 0, dilation = 1, groups = 1, bias = true)`; a train key: `epochs = 1`. */
  signature: string;
  params: readonly EntryParam[];
  /** One sentence. */
  summary: string;
  /** The backward pass in the field's words (ops). */
  gradient?: string;
  /** An elementwise op's local derivative. */
  derivative?: string;
  /** A layer's parameters with their shapes in the constructor's names: `weight [out, in], bias [out]`. */
  weights?: string;
  /** It applies to a tensor (after `|>`): a function of a tensor or a layer constructor. */
  takesTensor: boolean;
}

/** A number as written in `.nn`: `0.001`, `1e-5`. */
function formatNumber(n: number): string {
  return n !== 0 && Math.abs(n) < 1e-3 ? n.toExponential() : String(n);
}

function formatDefault(param: Param): string | undefined {
  const d = param.default;
  if (d === undefined || d === null) return undefined;
  return typeof d === 'object' ? d.sameAs : typeof d === 'number' ? formatNumber(d) : typeof d === 'string' ? `"${d}"` : String(d);
}

function fromParam(param: Param): EntryParam {
  const defaultText = formatDefault(param);
  const optional = param.default === null;
  return {
    name: param.name,
    label: defaultText !== undefined ? `${param.name} = ${defaultText}` : optional ? `${param.name}?` : param.kind === 'tensors' ? `${param.name}...` : param.name,
    ...(defaultText !== undefined ? { default: defaultText } : {}),
    ...(param.doc ? { doc: param.doc } : {}),
    aliases: param.aliases ?? [],
    tensor: param.kind === 'tensor' || param.kind === 'tensors',
  };
}

function fromTrainParam(param: TrainParam): EntryParam {
  const defaultText = trainDefaultText(param, formatNumber);
  const label = param.kind === 'string' && defaultText === undefined ? param.name : defaultText === undefined ? param.name : `${param.name} = ${defaultText}`;
  return { name: param.name, label, ...(defaultText !== undefined ? { default: defaultText } : {}), doc: param.doc, aliases: [], tensor: false };
}

const signatureOf = (name: string, params: readonly EntryParam[]) => `${name}(${params.map((p) => p.label).join(', ')})`;

function opEntry(op: SomeOpDef): CatalogueEntry {
  const params = op.params.map(fromParam);
  return {
    name: op.name,
    kind: op.surface === 'loss' ? 'loss' : 'function',
    signature: signatureOf(op.name, params),
    params,
    summary: op.doc.summary,
    gradient: op.doc.gradient,
    ...(op.doc.derivative ? { derivative: op.doc.derivative } : {}),
    takesTensor: params[0]?.tensor === true,
  };
}

/** A layer's parameters and buffers from its constructor's argument names, as symbolic dims. */
function layerWeights(layer: SomeLayerDef): string | undefined {
  const args: Record<string, unknown> = {};
  for (const p of layer.params) {
    const d = p.default;
    args[p.name] = p.kind === 'size' ? Dim.named(p.name)
      : p.kind === 'pair' ? [Dim.named(`${p.name}_h`), Dim.named(`${p.name}_w`)]
      : typeof d === 'object' && d !== null ? undefined : d;
  }
  const { params, buffers } = layer.weights(args as never);
  const shown = [...params, ...buffers].map((w) => `\`${w.suffix}\` ${formatShape(w.shape)}`);
  return shown.length > 0 ? shown.join(', ') : undefined;
}

function layerEntry(layer: SomeLayerDef): CatalogueEntry {
  const params = layer.params.map(fromParam);
  const weights = layerWeights(layer);
  return {
    name: layer.name,
    kind: 'layer',
    signature: signatureOf(layer.name, params),
    params,
    summary: layer.doc.summary,
    gradient: layer.op.doc.gradient,
    ...(weights ? { weights } : {}),
    takesTensor: true,
  };
}

const PARAM_ENTRY: CatalogueEntry = (() => {
  const params = PARAM_PARAMS.map(fromParam);
  return {
    name: 'param',
    kind: 'param',
    signature: signatureOf('param', params),
    params,
    summary: 'Declares a raw trainable tensor of the given dims (`W = param([O, I])`), for layers written by hand; initialized like PyTorch\'s `kaiming_uniform_` unless `init` says otherwise.',
    takesTensor: false,
  };
})();

function initEntry(name: keyof typeof PARAM_INITS): CatalogueEntry {
  const params = (INIT_PARAMS[name] ?? []).map(fromParam);
  return { name, kind: 'init', signature: params.length > 0 ? signatureOf(name, params) : name, params, summary: PARAM_INITS[name], takesTensor: false };
}

function trainEntry(kind: 'dataset' | 'optimizer', name: string, params: readonly TrainParam[], summary: string): CatalogueEntry {
  const shown = params.map(fromTrainParam);
  return { name, kind, signature: signatureOf(name, shown), params: shown, summary, takesTensor: false };
}

function keyEntry(name: string): CatalogueEntry | undefined {
  const key = trainKeyDef(name);
  if (!key) return undefined;
  return { name, kind: 'trainKey', signature: key.default === undefined ? `${name} = …` : `${name} = ${key.default}`, params: [], summary: key.default === undefined ? `${key.doc} Required.` : `${key.doc} Default \`${key.default}\`.`, takesTensor: false };
}

/** The entry of a built-in name of this kind, if there is one. */
export function catalogueEntry(name: string, kind: EntryKind): CatalogueEntry | undefined {
  switch (kind) {
    case 'function':
    case 'loss': {
      const op = builtinFunction(name);
      return op ? opEntry(op) : undefined;
    }
    case 'layer': {
      const layer = layerDef(name);
      return layer ? layerEntry(layer) : undefined;
    }
    case 'param':
      return name === 'param' ? PARAM_ENTRY : undefined;
    case 'init':
      return Object.prototype.hasOwnProperty.call(PARAM_INITS, name) ? initEntry(name as keyof typeof PARAM_INITS) : undefined;
    case 'dataset': {
      const set = dataSetDef(name);
      return set ? trainEntry('dataset', name, set.params, `${set.doc} Samples ${set.samples}, classes: ${set.classes}.`) : undefined;
    }
    case 'optimizer': {
      const optimizer = optimizerDef(name);
      return optimizer ? trainEntry('optimizer', name, optimizer.params, optimizer.doc) : undefined;
    }
    case 'trainKey':
      return keyEntry(name);
  }
}

/** Every entry of a kind, in the order the definitions list them. */
export function catalogueEntries(kind: EntryKind): CatalogueEntry[] {
  switch (kind) {
    case 'function':
    case 'loss':
      return ALL_OPS.filter((op) => op.surface === kind).map(opEntry);
    case 'layer':
      return ALL_LAYERS.map(layerEntry);
    case 'param':
      return [PARAM_ENTRY];
    case 'init':
      return (Object.keys(PARAM_INITS) as (keyof typeof PARAM_INITS)[]).map(initEntry);
    case 'dataset':
      return Object.values(DATA_SETS).map((set) => catalogueEntry(set.name, 'dataset')!);
    case 'optimizer':
      return Object.values(OPTIMIZERS).map((o) => catalogueEntry(o.name, 'optimizer')!);
    case 'trainKey':
      return TRAIN_KEYS.map((k) => keyEntry(k.name)!);
  }
}

/** The language's keywords. */
export const LANGUAGE_KEYWORDS: readonly string[] = [...KEYWORDS];
