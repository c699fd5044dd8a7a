// The generator's source of decisions: a list of numbers drawn by fast-check, read in
// order. Option 0 of every decision is the simplest, and a list that runs out reads as
// zeros, so shrinking the list (shorter, smaller numbers) shrinks the program.

import fc from 'fast-check';

export class Choices {
  private at = 0;

  constructor(private readonly values: readonly number[]) {}

  /** An integer in [0, n); 0 once the list runs out. */
  int(n: number): number {
    const v = this.at < this.values.length ? this.values[this.at] : 0;
    this.at++;
    // Mixed, since fast-check favours small and repeated numbers; 0 stays 0.
    const mixed = v === 0 ? 0 : (Math.imul(v ^ (v >>> 9), 0x9e3779b1) >>> 0) ^ (v >>> 3);
    return n <= 1 ? 0 : (mixed >>> 0) % n;
  }

  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** True with probability 1/n; false once the list runs out. */
  oneIn(n: number): boolean {
    return this.int(n) === n - 1;
  }
}

/** The arbitrary every case is made from. */
export const choiceList = fc.array(fc.nat({ max: 0xfffff }), { minLength: 0, maxLength: 400, size: 'max' });
