// Binding a signature's symbolic dims to actual shapes: the one matcher the checker (a `fn`
// or block call), the TS back end (a run's batch size) and the ONNX lowering (an inlined
// `fn`) all use. A pattern's dims are dim expressions or variadic groups `*S`.

import { Dim, formatShape, shapesEqual, type Shape } from './dim.js';

/** A dim of a signature: a dim expression, or a variadic group `*S` of any number of dims. */
export type PatternDim = Dim | { readonly variadic: string };

/** The name a variadic group takes as a dim where a shape must be a plain list of dims (`*S`). */
export function variadicDim(group: string): Dim {
  return Dim.named(`*${group}`);
}

/**
 * The number of elements a variadic group spans (`|S|`, the product of its dims): what a
 * group counts for in dim arithmetic (`flatten`, a reshape's -1), where its place in a list
 * of dims (`*S`) would stand for a varying number of dims.
 */
export function groupSize(group: string): Dim {
  return Dim.named(`|${group}|`);
}

/** A dim that stands for a variadic group in a list of dims, by the group's name; else null. */
export function groupOf(d: Dim): string | null {
  const name = d.singleName();
  return name !== null && name.startsWith('*') ? name.slice(1) : null;
}

/** A shape whose dims may stand for variadic groups (`*S`, from variadicDim) as a pattern. */
export function patternOf(shape: Shape): PatternDim[] {
  return shape.map((d) => {
    const group = groupOf(d);
    return group !== null ? { variadic: group } : d;
  });
}

/** A pattern as a plain shape, variadic groups as their `*S` dims. */
export function patternShape(pattern: readonly PatternDim[]): Shape {
  return pattern.map((d) => (d instanceof Dim ? d : variadicDim(d.variadic)));
}

/** What a pattern's names and groups are bound to, from the shapes matched so far. */
export class DimBinding {
  private readonly dims = new Map<string, Dim>();
  private readonly groups = new Map<string, Shape>();

  /** The value bound to a dim name, if any. */
  get(name: string): Dim | undefined {
    return this.dims.get(name);
  }

  entries(): IterableIterator<[string, Dim]> {
    return this.dims.entries();
  }

  /** Binds a name (used where the caller knows its value, e.g. a hyper-parameter). */
  set(name: string, value: Dim): void {
    this.dims.set(name, value);
  }

  /**
   * Matches `actual` against `pattern`: free single names bind at their first occurrence,
   * a variadic group takes the dims between the fixed ones. False when the shapes do not
   * fit (a dim differs, the rank is wrong, a group or name is bound to something else).
   */
  match(pattern: readonly PatternDim[], actual: Shape): boolean {
    const at = pattern.findIndex((d) => !(d instanceof Dim));
    const pairs: [Dim, Dim][] = [];
    if (at < 0) {
      if (pattern.length !== actual.length) return false;
      pattern.forEach((d, k) => pairs.push([d as Dim, actual[k]]));
    } else {
      const after = pattern.length - at - 1;
      if (actual.length < pattern.length - 1) return false;
      const group = actual.slice(at, actual.length - after);
      const name = (pattern[at] as { variadic: string }).variadic;
      const previous = this.groups.get(name);
      if (previous && !shapesEqual(previous, group)) return false;
      this.groups.set(name, group);
      this.dims.set(groupSize(name).singleName()!, group.reduce((total, d) => total.mul(d), Dim.of(1)));
      pattern.slice(0, at).forEach((d, k) => pairs.push([d as Dim, actual[k]]));
      pattern.slice(at + 1).forEach((d, k) => pairs.push([d as Dim, actual[actual.length - after + k]]));
    }
    for (const [p, a] of pairs) {
      const name = p.singleName();
      if (name !== null && !this.dims.has(name)) this.dims.set(name, a);
    }
    return pairs.every(([p, a]) => p.substitute(this.dims).equals(a));
  }

  /** A pattern with its bound names substituted and its groups expanded. */
  resolve(pattern: readonly PatternDim[]): Shape {
    const out: Dim[] = [];
    for (const d of pattern) {
      if (d instanceof Dim) out.push(this.dims.size > 0 ? d.substitute(this.dims) : d);
      else out.push(...(this.groups.get(d.variadic) ?? [variadicDim(d.variadic)]));
    }
    return out;
  }

  /** A plain shape (variadic groups as `*S` dims) resolved: see `resolve`. */
  resolveShape(shape: Shape): Shape {
    return this.resolve(patternOf(shape));
  }

  /** A pattern as the message shows it: `[B, 3]`, or `[*S, 3]` while `S` is unbound. */
  format(pattern: readonly PatternDim[]): string {
    return formatShape(this.resolve(pattern));
  }
}

/** A pattern with each variadic group `*S` written out as `rank` dims `S_1 ... S_rank`. */
export function expandGroups(pattern: readonly PatternDim[], rank: number): PatternDim[] {
  return pattern.flatMap((d) => (d instanceof Dim ? [d] : Array.from({ length: rank }, (_, k) => Dim.named(`${d.variadic}_${k + 1}`))));
}
