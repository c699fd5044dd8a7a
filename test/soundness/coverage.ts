// What the generator must cover, read from docs/language.md (every built-in function, layer
// and loss of §6, every optimizer, data set and init), plus the constructs of issue #15's
// list; and the constructs a set of cases covers, from the features the generator records.

/** Structural constructs of the list, as the generator's feature names. */
export const STRUCTURES = [
  'const', 'pipe', 'param', 'residual', 'keepdims', 'reduce-all', 'shared-layer', 'block', 'block:hyper', 'block:hyper-kernel', 'block:hyper-stride', 'block:hyper-padding', 'block:hyper-pool', 'block:hyper-rate',
  'fn:fixed', 'fn:variadic', 'fn:grad-fixed', 'fn:grad-variadic', 'conv:stride', 'conv:padding', 'symbolic-dims', 'validate',
  'task:classification', 'task:regression', 'task:one-hot', 'backend:ts', 'backend:onnx', 'backend:auto',
] as const;

const names = (text: string): string[] => [...text.matchAll(/`([A-Za-z_]\w*)[(`]/g)].map((m) => m[1]);

/** The built-ins, optimizers, data sets and inits docs/language.md documents. */
export function documentedConstructs(markdown: string): string[] {
  const section = (from: string, to: string) => markdown.slice(markdown.indexOf(from), markdown.indexOf(to, markdown.indexOf(from)));
  const firstCells = (text: string) => text.split('\n').filter((l) => l.startsWith('| `')).flatMap((l) => names(l.split('|')[1]));
  const builtins = firstCells(section('## 6. Built-ins', '## 7.'));
  const optimizerRow = markdown.split('\n').find((l) => l.startsWith('| `optimizer` |')) ?? '';
  const optimizers = [...optimizerRow.split('|')[2].matchAll(/`(\w+)\(/g)].map((m) => m[1]);
  const data = firstCells(section('### Data sets', '\n\n`'));
  const initsAt = markdown.indexOf('Inits:');
  const inits = names(markdown.slice(initsAt, markdown.indexOf('.\n', initsAt)));
  return [...new Set([...builtins, ...optimizers, ...data, ...inits])];
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
