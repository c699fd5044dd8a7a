// What the generator must cover, read from the language catalogue (every built-in function,
// layer and loss, every optimizer, data set and init), plus the constructs of issue #15's
// list; and the constructs a set of cases covers, from the features the generator records.

import { catalogueEntries } from '../../engine/src/lang/catalogue.js';

/** Structural constructs of the list, as the generator's feature names. */
export const STRUCTURES = [
  'const', 'pipe', 'param', 'residual', 'keepdims', 'reduce-all', 'shared-layer', 'block', 'block:hyper', 'block:hyper-kernel', 'block:hyper-stride', 'block:hyper-padding', 'block:hyper-pool', 'block:hyper-rate',
  'fn:fixed', 'fn:variadic', 'fn:grad-fixed', 'fn:grad-variadic', 'conv:stride', 'conv:padding', 'symbolic-dims', 'validate', 'tuple-binding', 'mask',
  'task:classification', 'task:regression', 'task:one-hot', 'backend:ts', 'backend:onnx', 'backend:auto',
] as const;

/** The built-ins, layers, losses, optimizers, data sets and inits of the language catalogue (docs/language.md's tables are generated from it). */
export function documentedConstructs(): string[] {
  const kinds = ['function', 'loss', 'layer', 'param', 'init', 'dataset', 'optimizer'] as const;
  return [...new Set(kinds.flatMap((kind) => catalogueEntries(kind).map((e) => e.name)))];
}

const DATA_NAMES: Record<string, string> = { fashion: 'fashion_mnist' };

/** The documented constructs and structures that generated cases with these features cover. */
export function coveredConstructs(features: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const f of features) {
    out.add(f);
    const [kind, what] = f.split(':');
    if (what === undefined) continue;
    if (kind === 'data') out.add(DATA_NAMES[what] ?? what.split('-')[0]);
    else if (kind === 'init') out.add(what === 'default' ? 'kaiming_uniform' : what);
    else if (kind === 'op' || kind === 'layer' || kind === 'loss' || kind === 'optimizer') out.add(what);
  }
  return out;
}
