// The numerically stable softmax / log-softmax kernel along one axis of a flat array.

/** Writes log-softmax (or softmax when `asProbabilities`) of each slice along the axis. */
export function softmaxKernel(src: ArrayLike<number>, dst: Float32Array | Float64Array, outer: number, length: number, inner: number, asProbabilities: boolean): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * length * inner + i;
      let top = -Infinity;
      for (let l = 0; l < length; l++) top = Math.max(top, src[base + l * inner]);
      let total = 0;
      for (let l = 0; l < length; l++) total += Math.exp(src[base + l * inner] - top);
      if (asProbabilities) {
        for (let l = 0; l < length; l++) dst[base + l * inner] = Math.exp(src[base + l * inner] - top) / total;
      } else {
        const logTotal = Math.log(total) + top;
        for (let l = 0; l < length; l++) dst[base + l * inner] = src[base + l * inner] - logTotal;
      }
    }
  }
}

