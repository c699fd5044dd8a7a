// The op registry: every op and layer of the language, each defined once in its file under
// engine/src/ops/ and collected here from those files' exports. The checker binds calls against these signatures and applies these shape
// rules; the TS engine, the ONNX lowering and the PyTorch exporter run their parts; the
// editor's catalogue, the grammar's built-in list and the docs tables are generated from it.

import type { LayerDef, OpDef, SomeLayerDef, SomeOpDef } from './def.js';
import * as unary from './unary.js';
import * as arithmetic from './arithmetic.js';
import * as matmul from './matmul.js';
import * as conv2d from './conv2d.js';
import * as layout from './layout.js';
import * as reduce from './reduce.js';
import * as softmax from './softmax.js';
import * as pool from './pool.js';
import * as normalization from './normalization.js';
import * as embedding from './embedding.js';
import * as dropout from './dropout.js';
import * as losses from './losses.js';
import * as narrow from './narrow.js';
import * as attention from './attention.js';
import * as norms from './norms.js';
import * as identity from './identity.js';
import * as conv1d from './conv1d.js';
import * as recurrent from './recurrent.js';
import * as resample from './resample.js';
import * as convTranspose2d from './convTranspose2d.js';
import * as compare from './compare.js';
import * as subscript from './subscript.js';
import * as split from './split.js';
import * as axes from './axes.js';
import * as stack from './stack.js';
import * as tile from './tile.js';
import * as einsum from './einsum.js';
import * as masks from './masks.js';
import * as moments from './moments.js';
import * as indices from './indices.js';
import * as cumsum from './cumsum.js';

/**
 * The op files. Each file's exported OpDefs and LayerDefs are the registry's: a new op in a
 * file is registered by being defined there, and a new file by one line here.
 */
const FAMILIES = [unary, arithmetic, matmul, conv2d, layout, reduce, softmax, pool, normalization, embedding, dropout, losses, narrow, attention, norms, identity, conv1d, recurrent, resample, convTranspose2d, compare, subscript, split, masks, moments, indices, cumsum, einsum, axes, stack, tile] as const;

type Family = (typeof FAMILIES)[number];
type Exported<M> = M[keyof M];
type OpDefsOf<M> = Extract<Exported<M>, { readonly name: string; readonly onnx: unknown; readonly surface: unknown }>;
type LayerDefsOf<M> = Extract<Exported<M>, { readonly name: string; readonly weights: unknown }>;
type AllOpDefs = Family extends infer M ? (M extends unknown ? OpDefsOf<M> : never) : never;
type AllLayerDefs = Family extends infer M ? (M extends unknown ? LayerDefsOf<M> : never) : never;

const isOpDef = (value: unknown): value is SomeOpDef => typeof value === 'object' && value !== null && 'onnx' in value && 'surface' in value && 'shape' in value;
const isLayerDef = (value: unknown): value is SomeLayerDef => typeof value === 'object' && value !== null && 'weights' in value && 'op' in value;

function collect<D extends { name: string }>(pick: (value: unknown) => value is D): Record<string, D> {
  const table: Record<string, D> = {};
  for (const family of FAMILIES) {
    for (const value of Object.values(family)) {
      if (!pick(value)) continue;
      if (table[value.name] !== undefined) throw new Error(`two definitions of \`${value.name}\``);
      table[value.name] = value;
    }
  }
  return table;
}

/** Every op, keyed by its name (the IR's `op`). */
export const OPS = collect(isOpDef) as unknown as { readonly [D in AllOpDefs as D['name']]: D };

export type OpName = keyof typeof OPS;

/** The typed attributes of op `N`. */
export type AttrsOfOp<N extends OpName> = (typeof OPS)[N] extends OpDef<infer A> ? A : never;

/** Every built-in layer constructor, keyed by its name. */
export const LAYERS = collect(isLayerDef) as unknown as { readonly [D in AllLayerDefs as D['name']]: D & LayerDef<never, unknown> };

export type LayerName = keyof typeof LAYERS;

// Lookups by a name from the source text go through Maps: such a name is a fresh string,
// and a Map hashes it once where a property lookup would first intern it.
const opsByName = new Map<string, SomeOpDef>(Object.entries(OPS));
const layersByName = new Map<string, SomeLayerDef>(Object.entries(LAYERS));

/** The op of this name, if there is one. */
export function opDef(name: string): SomeOpDef | undefined {
  return opsByName.get(name);
}

/** A built-in function or loss callable in a body (`relu(h)`), if `name` is one. */
export function builtinFunction(name: string): SomeOpDef | undefined {
  const def = opsByName.get(name);
  return def && (def.surface === 'function' || def.surface === 'loss') ? def : undefined;
}

/** The built-in layer constructor of this name, if there is one. */
export function layerDef(name: string): SomeLayerDef | undefined {
  return layersByName.get(name);
}

/** Every op, in the registry's order. */
export const ALL_OPS: readonly SomeOpDef[] = [...opsByName.values()];
export const ALL_LAYERS: readonly SomeLayerDef[] = [...layersByName.values()];
