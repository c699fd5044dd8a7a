// Plain-number shape helpers for concrete tensors: sizes, strides, broadcasting, axes.

export function shapeSize(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

export function formatDims(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

/** Splits a shape around an axis into (outer, axis length, inner) element counts. */
export function splitAtAxis(shape: readonly number[], axis: number): { outer: number; length: number; inner: number } {
  return {
    outer: shapeSize(shape.slice(0, axis)),
    length: shape[axis],
    inner: shapeSize(shape.slice(axis + 1)),
  };
}
