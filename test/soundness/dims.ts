// The generator's own dims, independent of engine/src/shape: an expression tree over
// integers and names that it writes into `.nn` text and evaluates with floor division.
// The checker's normal forms are never consulted; dims are compared by value at a binding
// of every name (the oracle in Csmith's sense).

export type D =
  | { k: 'n'; n: number }
  | { k: 'v'; name: string }
  | { k: 'op'; op: '+' | '-' | '*' | '/'; a: D; b: D };

export const num = (n: number): D => ({ k: 'n', n });
export const name = (n: string): D => ({ k: 'v', name: n });

/** The constant value of a dim without names, else null. */
export function constantOf(d: D): number | null {
  if (d.k === 'n') return d.n;
  if (d.k === 'v') return null;
  const a = constantOf(d.a);
  const b = constantOf(d.b);
  return a === null || b === null ? null : apply(d.op, a, b);
}

function apply(op: '+' | '-' | '*' | '/', a: number, b: number): number {
  if (op === '+') return a + b;
  if (op === '-') return a - b;
  if (op === '*') return a * b;
  return Math.floor(a / b);
}

/** `a op b`, folded to a number when both sides are numbers. */
export function op(o: '+' | '-' | '*' | '/', a: D, b: D): D {
  const x = constantOf(a);
  const y = constantOf(b);
  if (x !== null && y !== null) return num(apply(o, x, y));
  if (o === '+' && y === 0) return a;
  if (o === '-' && y === 0) return a;
  if (o === '*' && y === 1) return a;
  if (o === '*' && x === 1) return b;
  if (o === '/' && y === 1) return a;
  return { k: 'op', op: o, a, b };
}

export const add = (a: D, b: D | number): D => op('+', a, typeof b === 'number' ? num(b) : b);
export const sub = (a: D, b: D | number): D => op('-', a, typeof b === 'number' ? num(b) : b);
export const mul = (a: D, b: D | number): D => op('*', a, typeof b === 'number' ? num(b) : b);
export const div = (a: D, b: D | number): D => op('/', a, typeof b === 'number' ? num(b) : b);

/** The value of a dim when each name takes its value in `env` (floor division, as the language). */
export function evalDim(d: D, env: ReadonlyMap<string, number>): number {
  if (d.k === 'n') return d.n;
  if (d.k === 'v') {
    const v = env.get(d.name);
    if (v === undefined) throw new Error(`no value for the dim name ${d.name}`);
    return v;
  }
  return apply(d.op, evalDim(d.a, env), evalDim(d.b, env));
}

const PRECEDENCE = { '+': 1, '-': 1, '*': 2, '/': 2 } as const;

/** The dim as `.nn` source text, parenthesized only where precedence needs it. */
export function dimText(d: D): string {
  if (d.k === 'n') return d.n < 0 ? `(${d.n})` : String(d.n);
  if (d.k === 'v') return d.name;
  const p = PRECEDENCE[d.op];
  const left = d.a.k === 'op' && PRECEDENCE[d.a.op] < p ? `(${dimText(d.a)})` : dimText(d.a);
  const right = d.b.k === 'op' && PRECEDENCE[d.b.op] <= p ? `(${dimText(d.b)})` : dimText(d.b);
  return `${left} ${d.op} ${right}`;
}

export function shapeText(shape: readonly D[]): string {
  return `[${shape.map(dimText).join(', ')}]`;
}

export function evalShape(shape: readonly D[], env: ReadonlyMap<string, number>): number[] {
  return shape.map((d) => evalDim(d, env));
}

/** Names a dim mentions. */
export function namesOf(d: D, out = new Set<string>()): Set<string> {
  if (d.k === 'v') out.add(d.name);
  else if (d.k === 'op') {
    namesOf(d.a, out);
    namesOf(d.b, out);
  }
  return out;
}

export function isConstant(d: D): boolean {
  return constantOf(d) !== null;
}

export function product(dims: readonly D[]): D {
  return dims.reduce((acc, d) => mul(acc, d), num(1));
}
