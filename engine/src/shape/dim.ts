// Symbolic tensor dimensions: a normalizer that keeps dims as sums of products of names
// and integers (`2*B + 3`), so `B + B` equals `2*B`, and floor division stays exact when it
// divides and becomes an opaque atom (`(H - 3) // 2`) when it does not.

/** One product `coeff * a1 * a2 * ...` with its atoms sorted (atoms repeat for powers). */
interface Term {
  readonly coeff: number;
  readonly atoms: readonly string[];
}

/** The structure behind an opaque floor-division atom, kept so substitution can redo it. */
const floorDivAtoms = new Map<string, { numerator: Dim; denominator: Dim }>();

/** Shared dims for small integers: the checker makes them constantly, and dims are immutable. */
const SMALL_CONSTANTS: Dim[] = [];
const SMALL_CONSTANT_LIMIT = 1024;

/**
 * Shared dims of one name (`B`, `H`): shapes repeat them constantly, and dims are immutable.
 * Bounded, since the names come from the user's text.
 */
const NAMED = new Map<string, Dim>();
const NAMED_LIMIT = 4096;

/**
 * Formatted dims, made on first use: dims are immutable and shown many times. Kept outside
 * the instances so that structurally equal dims stay deep-equal whether formatted or not.
 */
const formatted = new WeakMap<Dim, string>();

export class Dim {
  /** Terms sorted by their atom key, with no zero coefficients and no repeated keys. */
  private constructor(private readonly terms: readonly Term[]) {}

  static of(value: number): Dim {
    if (!Number.isInteger(value)) throw new RangeError(`a dim must be an integer, got ${value}`);
    const small = value >= -1 && value <= SMALL_CONSTANT_LIMIT;
    if (small && SMALL_CONSTANTS[value + 1] !== undefined) return SMALL_CONSTANTS[value + 1];
    const dim = new Dim(value === 0 ? [] : [{ coeff: value, atoms: [] }]);
    if (small) SMALL_CONSTANTS[value + 1] = dim;
    return dim;
  }

  static named(name: string): Dim {
    let dim = NAMED.get(name);
    if (dim === undefined) {
      if (NAMED.size >= NAMED_LIMIT) NAMED.clear();
      dim = new Dim([{ coeff: 1, atoms: [name] }]);
      NAMED.set(name, dim);
    }
    return dim;
  }

  static from(value: number | string | Dim): Dim {
    if (value instanceof Dim) return value;
    return typeof value === 'number' ? Dim.of(value) : Dim.named(value);
  }

  private static normalize(terms: Term[]): Dim {
    if (terms.length === 1) return terms[0].coeff === 0 ? new Dim([]) : new Dim(terms);
    // Merge terms with the same atoms (arrays, not a Map: dims have a handful of terms).
    const keys: string[] = [];
    const merged: Term[] = [];
    for (const term of terms) {
      const key = term.atoms.length === 0 ? '' : term.atoms.length === 1 ? term.atoms[0] : term.atoms.join('*');
      const at = keys.indexOf(key);
      if (at < 0) {
        keys.push(key);
        merged.push(term);
      } else {
        merged[at] = { coeff: merged[at].coeff + term.coeff, atoms: term.atoms };
      }
    }
    const order: number[] = [];
    for (let k = 0; k < merged.length; k++) if (merged[k].coeff !== 0) order.push(k);
    const before = (i: number, j: number) => merged[j].atoms.length - merged[i].atoms.length || (keys[i] < keys[j] ? -1 : keys[i] > keys[j] ? 1 : 0);
    if (order.length === 2) {
      if (before(order[0], order[1]) > 0) order.reverse();
    } else if (order.length > 2) {
      order.sort(before);
    }
    return new Dim(order.map((k) => merged[k]));
  }


  add(other: Dim | number): Dim {
    const that = Dim.from(other);
    // Fast paths (the checker adds constants all the time): nothing to merge.
    if (that.terms.length === 0) return this;
    if (this.terms.length === 0) return that;
    const a = this.constant();
    const b = that.constant();
    if (a !== null && b !== null && Number.isSafeInteger(a + b)) return Dim.of(a + b);
    // `H - 3` (window arithmetic): only the constant term changes.
    if (b !== null && a === null) return this.addConstant(b);
    if (a !== null && b === null) return that.addConstant(a);
    // `2*B + 3*B` (sums of FLOPs): one term each with the same atoms, only the coefficients add.
    if (this.terms.length === 1 && that.terms.length === 1 && sameAtoms(this.terms[0].atoms, that.terms[0].atoms)) {
      const coeff = this.terms[0].coeff + that.terms[0].coeff;
      return coeff === 0 ? Dim.of(0) : new Dim([{ coeff, atoms: this.terms[0].atoms }]);
    }
    return Dim.normalize([...this.terms, ...that.terms]);
  }

  /**
   * Adds an integer to a dim that has names. Normalized terms keep the constant one last
   * (terms with more atoms sort first), so it is the only term to merge with.
   */
  private addConstant(value: number): Dim {
    // A name spelled '' (a dim whose text is missing) shares the constant's merge key.
    if (this.terms.some((t) => t.atoms.length === 1 && t.atoms[0] === '')) return Dim.normalize([...this.terms, { coeff: value, atoms: [] }]);
    const last = this.terms[this.terms.length - 1];
    if (last.atoms.length > 0) return new Dim([...this.terms, { coeff: value, atoms: [] }]);
    const terms = this.terms.slice(0, -1);
    if (last.coeff + value !== 0) terms.push({ coeff: last.coeff + value, atoms: last.atoms });
    return new Dim(terms);
  }

  sub(other: Dim | number): Dim {
    return this.add(Dim.from(other).scale(-1));
  }

  scale(factor: number): Dim {
    if (factor === 1) return this;
    if (factor === 0) return Dim.of(0);
    const own = this.constant();
    if (own !== null && Number.isSafeInteger(own * factor)) return Dim.of(own * factor);
    // A non-zero factor keeps the terms distinct, non-zero and in order: no need to normalize.
    return new Dim(this.terms.map((t) => ({ coeff: t.coeff * factor, atoms: t.atoms })));
  }

  mul(other: Dim | number): Dim {
    const factor = typeof other === 'number' ? other : other.constant();
    if (factor !== null) return factor === 1 ? this : this.scale(factor);
    const own = this.constant();
    if (own !== null && typeof other !== 'number') return own === 1 ? other : other.scale(own);
    const products: Term[] = [];
    const otherTerms = Dim.from(other).terms;
    for (const a of this.terms) {
      for (const b of otherTerms) products.push({ coeff: a.coeff * b.coeff, atoms: mergeAtoms(a.atoms, b.atoms) });
    }
    return Dim.normalize(products);
  }

  /**
   * Floor division. Exact when every term divides (`(4*B + 8) / 4` is `B + 2`); when both
   * sides are known integers, the integer floor. Otherwise, for a positive integer `n`,
   * whole multiples of `n` leave the numerator first, since `(a + k*n) // n = a // n + k`
   * for every integer `k`: so `(H - 2) // 2 + 1` is `H // 2`. What remains (each name's
   * coefficient in [0, n), the constant in (-n, 0]) becomes an opaque atom: equal
   * numerators give the same atom, however the multiples of `n` were written.
   */
  floorDiv(other: Dim | number): Dim {
    const denominator = Dim.from(other);
    const d = denominator.constant();
    const n = this.constant();
    if (d !== null && d !== 0) {
      // Huge dims (past 2^53) stay symbolic rather than losing exactness.
      if (n !== null && Number.isSafeInteger(Math.floor(n / d))) return Dim.of(Math.floor(n / d));
      // Exact: each coefficient divided by d (not scaled by 1/d, which rounds: 784 * (1/784) is not 1).
      if (this.terms.every((t) => t.coeff % d === 0)) return new Dim(this.terms.map((t) => ({ coeff: t.coeff / d, atoms: t.atoms })));
      if (d > 0) return this.floorDivByPositive(d);
    }
    if (d === null && denominator.terms.length === 1) {
      // By a monomial: (B*T) / T is B, and (H - k) // k is H // k - 1 (the multiples of k come out).
      const divisor = denominator.terms[0];
      const whole: Term[] = [];
      const rest: Term[] = [];
      for (const term of this.terms) {
        const quotient = divideTerm(term, divisor);
        if (quotient) whole.push(quotient);
        else rest.push(term);
      }
      if (whole.length > 0) {
        const quotient = Dim.normalize(whole);
        return rest.length === 0 ? quotient : quotient.add(Dim.floorDivAtom(Dim.normalize(rest), denominator));
      }
    }
    return Dim.floorDivAtom(this, denominator);
  }

  /** `this // d` for an integer d > 0 that does not divide every term: multiples of d taken out first. */
  private floorDivByPositive(d: number): Dim {
    const whole: Term[] = [];
    const rest: Term[] = [];
    for (const t of this.terms) {
      // Names keep a remainder in [0, d); the constant one in (-d, 0], so that `H - 1` stays as written.
      const remainder = t.atoms.length === 0 ? t.coeff - d * Math.ceil(t.coeff / d) : ((t.coeff % d) + d) % d;
      const multiple = (t.coeff - remainder) / d;
      if (!Number.isSafeInteger(multiple)) return Dim.floorDivAtom(this, Dim.of(d));
      if (multiple !== 0) whole.push({ coeff: multiple, atoms: t.atoms });
      if (remainder !== 0) rest.push({ coeff: remainder, atoms: t.atoms });
    }
    const quotient = whole.length === 0 ? Dim.of(0) : Dim.normalize(whole);
    const remainder = rest.length === 0 ? Dim.of(0) : Dim.normalize(rest);
    const constant = remainder.constant();
    // Only a constant in (-d, 0] remains when every name's coefficient is a multiple of d.
    if (constant !== null) return quotient.add(Math.floor(constant / d));
    // A quotient inside: (x // m + r) // d is (x + m*r) // (m*d) for integers m, d > 0 (two pools of 2 are one of 4).
    const inner = rest.findIndex((t) => t.coeff === 1 && t.atoms.length === 1 && (floorDivAtoms.get(t.atoms[0])?.denominator.constant() ?? 0) > 0);
    if (inner >= 0) {
      const { numerator, denominator } = floorDivAtoms.get(rest[inner].atoms[0])!;
      const m = denominator.constant()!;
      const others = rest.filter((_, k) => k !== inner);
      const r = others.length === 0 ? Dim.of(0) : Dim.normalize(others);
      if (Number.isSafeInteger(m * d)) return quotient.add(numerator.add(r.scale(m)).floorDiv(m * d));
    }
    return quotient.add(Dim.floorDivAtom(remainder, Dim.of(d)));
  }

  /** The opaque atom `numerator // denominator`; a lone name is written without parentheses (`H // 2`). */
  private static floorDivAtom(numerator: Dim, denominator: Dim): Dim {
    const top = numerator.singleName() ?? `(${numerator.toString()})`;
    const bare = denominator.isConstant() || denominator.singleName() !== null;
    const atom = `${top} // ${bare ? denominator : `(${denominator})`}`;
    floorDivAtoms.set(atom, { numerator, denominator });
    return Dim.named(atom);
  }


  /** The integer value when the dim has no names, else null. */
  constant(): number | null {
    if (this.terms.length === 0) return 0;
    if (this.terms.length === 1 && this.terms[0].atoms.length === 0) return this.terms[0].coeff;
    return null;
  }

  isConstant(): boolean {
    return this.constant() !== null;
  }

  /** Every term's coefficient is negative (`-1`, `-d`, `-2*T - 1`): below 0 for any positive names. */
  isNegative(): boolean {
    return this.terms.length > 0 && this.terms.every((t) => t.coeff < 0);
  }

  equals(other: Dim | number): boolean {
    if (typeof other === 'number') return this.constant() === other;
    // Normalized terms are canonical (sorted, merged, no zeros), so equal dims have equal terms.
    if (this.terms.length !== other.terms.length) return false;
    return this.terms.every((t, k) => {
      const u = other.terms[k];
      return t.coeff === u.coeff && t.atoms.length === u.atoms.length && t.atoms.every((atom, j) => atom === u.atoms[j]);
    });
  }

  /** The name when the dim is exactly one name (not a floor division), else null. */
  singleName(): string | null {
    if (this.terms.length !== 1) return null;
    const t = this.terms[0];
    return t.coeff === 1 && t.atoms.length === 1 && !floorDivAtoms.has(t.atoms[0]) ? t.atoms[0] : null;
  }

  /** Names this dim mentions (opaque floor-division atoms are searched inside). */
  names(): Set<string> {
    const out = new Set<string>();
    for (const term of this.terms) {
      for (const atom of term.atoms) {
        const division = floorDivAtoms.get(atom);
        if (division) {
          division.numerator.names().forEach((n) => out.add(n));
          division.denominator.names().forEach((n) => out.add(n));
        } else {
          out.add(atom);
        }
      }
    }
    return out;
  }

  /** Replaces names by dims (binding a fn's symbolic dims, or `B` by a batch size). */
  substitute(bindings: ReadonlyMap<string, Dim>): Dim {
    let result = Dim.of(0);
    for (const term of this.terms) {
      let product = Dim.of(term.coeff);
      for (const atom of term.atoms) {
        const division = floorDivAtoms.get(atom);
        const replacement = division
          ? division.numerator.substitute(bindings).floorDiv(division.denominator.substitute(bindings))
          : (bindings.get(atom) ?? Dim.named(atom));
        product = product.mul(replacement);
      }
      result = result.add(product);
    }
    return result;
  }

  /**
   * The dim as an integer expression in another language (`x.shape[0] * 16`): each name
   * written by `atom`, floor divisions with `//`; null when `atom` cannot write a name.
   */
  render(atom: (name: string) => string | null): string | null {
    if (this.terms.length === 0) return '0';
    const parts: string[] = [];
    for (const t of this.terms) {
      const factors: string[] = [];
      for (const name of t.atoms) {
        const division = floorDivAtoms.get(name);
        const written = division ? renderDivision(division.numerator, division.denominator, atom) : atom(name);
        if (written === null) return null;
        factors.push(written);
      }
      const magnitude = Math.abs(t.coeff);
      if (magnitude !== 1 || factors.length === 0) factors.unshift(String(magnitude));
      const body = factors.join(' * ');
      parts.push(parts.length === 0 ? (t.coeff < 0 ? `-${body}` : body) : t.coeff < 0 ? ` - ${body}` : ` + ${body}`);
    }
    return parts.join('');
  }

  toString(): string {
    // Fast paths without the cache: a constant, or a lone name.
    if (this.terms.length === 0) return '0';
    if (this.terms.length === 1) {
      const t = this.terms[0];
      if (t.atoms.length === 0) return String(t.coeff);
      if (t.atoms.length === 1 && t.coeff === 1) return t.atoms[0];
    }
    let text = formatted.get(this);
    if (text === undefined) {
      text = this.format();
      formatted.set(this, text);
    }
    return text;
  }

  private format(): string {
    return this.formatWith(String, '*');
  }

  /**
   * The dim written with each coefficient's magnitude by `coefficient` and factors joined by
   * `times`: `2*B + 3` by default, `23.98 M·B` for counts (lang/quantity.ts).
   */
  formatWith(coefficient: (magnitude: number) => string, times: string): string {
    if (this.terms.length === 0) return '0';
    return this.terms
      .map((t, i) => {
        const magnitude = Math.abs(t.coeff);
        const factors = [...(magnitude !== 1 || t.atoms.length === 0 ? [coefficient(magnitude)] : []), ...t.atoms];
        // A quotient among other factors, or negated first, is parenthesized: `2*(H // 2)`, `-(H // 2)`.
        if (factors.length > 1 || (i === 0 && t.coeff < 0)) {
          for (let k = 0; k < factors.length; k++) if (floorDivAtoms.has(factors[k])) factors[k] = `(${factors[k]})`;
        }
        const body = factors.join(times);
        if (i === 0) return t.coeff < 0 ? `-${body}` : body;
        return t.coeff < 0 ? ` - ${body}` : ` + ${body}`;
      })
      .join('');
  }
}

function renderDivision(numerator: Dim, denominator: Dim, atom: (name: string) => string | null): string | null {
  const n = numerator.render(atom);
  const d = denominator.render(atom);
  return n === null || d === null ? null : `((${n}) // (${d}))`;
}

/** `term / divisor` when the divisor's atoms are among the term's and its coefficient divides, else null. */
function divideTerm(term: Term, divisor: Term): Term | null {
  if (term.coeff % divisor.coeff !== 0) return null;
  const atoms = [...term.atoms];
  for (const atom of divisor.atoms) {
    const at = atoms.indexOf(atom);
    if (at < 0) return null;
    atoms.splice(at, 1);
  }
  return { coeff: term.coeff / divisor.coeff, atoms };
}

function sameAtoms(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** The sorted union (with repeats) of two sorted atom lists: the atoms of a product. */
function mergeAtoms(a: readonly string[], b: readonly string[]): readonly string[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(a[i] <= b[j] ? a[i++] : b[j++]);
  while (i < a.length) out.push(a[i++]);
  while (j < b.length) out.push(b[j++]);
  return out;
}

/** A tensor shape: one dim per axis; `[]` is a scalar. */
export type Shape = readonly Dim[];

export function shapeOf(dims: readonly (number | string | Dim)[]): Shape {
  return dims.map(Dim.from);
}

export function formatShape(shape: Shape): string {
  return `[${shape.map((d) => d.toString()).join(', ')}]`;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d.equals(b[i]));
}

/** The concrete numbers of a shape whose dims are all known, else null. */
export function concreteShape(shape: Shape): number[] | null {
  const out: number[] = new Array(shape.length);
  for (let k = 0; k < shape.length; k++) {
    const n = shape[k].constant();
    if (n === null) return null;
    out[k] = n;
  }
  return out;
}
