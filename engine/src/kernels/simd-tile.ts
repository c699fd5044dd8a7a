// A WebAssembly SIMD micro-kernel for float32 GEMM: a row of 4×8 tiles of C from packed
// panels, eight f32x4 accumulators in registers. The module is assembled here from its
// bytes (no build step, no dependency); where WebAssembly SIMD is unavailable, `simdTiles`
// is null and GEMM uses its JavaScript micro-kernel.

export const SIMD_MR = 4;
export const SIMD_NR = 8;
const MAX_KC = 256;
const MAX_MC = 64;
const MAX_NC = 2048;

/** Byte offsets in the module's memory: packed A, packed B, and the 4-row result strip. */
const LAYOUT = {
  packedA: 0,
  packedB: MAX_MC * MAX_KC * 4,
  strip: MAX_MC * MAX_KC * 4 + MAX_KC * MAX_NC * 4,
} as const;
const STRIP_FLOATS = SIMD_MR * MAX_NC;
const PAGES = Math.ceil((LAYOUT.strip + STRIP_FLOATS * 4) / 65536);

function unsignedLeb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

function section(id: number, body: number[]): number[] {
  return [id, ...unsignedLeb(body.length), ...body];
}

const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, depth],
  brIf: (depth: number) => [0x0d, depth],
  get: (i: number) => [0x20, i],
  set: (i: number) => [0x21, i],
  tee: (i: number) => [0x22, i],
  i32Const: (v: number) => [0x41, ...signedLeb(v)],
  i32Eqz: [0x45],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  v128Load: (offset: number) => [0xfd, 0x00, 4, ...unsignedLeb(offset)],
  v128Load32Splat: (offset: number) => [0xfd, 0x09, 2, ...unsignedLeb(offset)],
  v128Store: (offset: number) => [0xfd, 0x0b, 4, ...unsignedLeb(offset)],
  v128Zero: [0xfd, 0x0c, ...new Array<number>(16).fill(0)],
  f32x4Add: [0xfd, 0xe4, 0x01],
  f32x4Mul: [0xfd, 0xe6, 0x01],
};

function signedLeb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/**
 * tiles(kc, a, b, c, count, ldc): for each of `count` consecutive B panels (kc × 8 each),
 * acc[r][0..8] = Σ_p a[p·4 + r] · b[p·8 .. p·8 + 8], stored as rows r of the strip at c
 * (row stride ldc bytes), each tile 32 bytes right of the previous one.
 * Locals: params 0–5, p 6, aAt 7, acc 8–15, b0 16, b1 17, a 18.
 */
function tileModule(): Uint8Array<ArrayBuffer> {
  const [kc, a, b, c, count, ldc, p, aAt] = [0, 1, 2, 3, 4, 5, 6, 7];
  const acc = (i: number) => 8 + i;
  const [b0, b1, av] = [16, 17, 18];
  const code: number[] = [...op.block, ...op.loop, ...op.get(count), ...op.i32Eqz, ...op.brIf(1)];
  for (let i = 0; i < 8; i++) code.push(...op.v128Zero, ...op.set(acc(i)));
  code.push(
    ...op.get(kc), ...op.set(p), ...op.get(a), ...op.set(aAt),
    ...op.block, ...op.loop,
    ...op.get(p), ...op.i32Eqz, ...op.brIf(1),
    ...op.get(b), ...op.v128Load(0), ...op.set(b0),
    ...op.get(b), ...op.v128Load(16), ...op.set(b1),
  );
  for (let r = 0; r < SIMD_MR; r++) {
    code.push(
      ...op.get(aAt), ...op.v128Load32Splat(4 * r), ...op.tee(av),
      ...op.get(b0), ...op.f32x4Mul, ...op.get(acc(2 * r)), ...op.f32x4Add, ...op.set(acc(2 * r)),
      ...op.get(av), ...op.get(b1), ...op.f32x4Mul, ...op.get(acc(2 * r + 1)), ...op.f32x4Add, ...op.set(acc(2 * r + 1)),
    );
  }
  code.push(
    ...op.get(aAt), ...op.i32Const(4 * SIMD_MR), ...op.i32Add, ...op.set(aAt),
    ...op.get(b), ...op.i32Const(4 * SIMD_NR), ...op.i32Add, ...op.set(b),
    ...op.get(p), ...op.i32Const(1), ...op.i32Sub, ...op.set(p),
    ...op.br(0), ...op.end, ...op.end,
  );
  for (let r = 0; r < SIMD_MR; r++) {
    const rowAddress = [...op.get(c), ...op.get(ldc), ...op.i32Const(r), ...op.i32Mul, ...op.i32Add];
    code.push(...rowAddress, ...op.get(acc(2 * r)), ...op.v128Store(0));
    code.push(...rowAddress, ...op.get(acc(2 * r + 1)), ...op.v128Store(16));
  }
  code.push(
    ...op.get(c), ...op.i32Const(4 * SIMD_NR), ...op.i32Add, ...op.set(c),
    ...op.get(count), ...op.i32Const(1), ...op.i32Sub, ...op.set(count),
    ...op.br(0), ...op.end, ...op.end, ...op.end,
  );
  const body = [2, 2, 0x7f, 11, 0x7b, ...code]; // locals: 2 × i32, 11 × v128
  const name = (text: string) => [text.length, ...Array.from(text, (ch) => ch.charCodeAt(0))];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 6, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, ...unsignedLeb(PAGES)]),
    ...section(7, [2, ...name('tiles'), 0x00, 0, ...name('memory'), 0x02, 0]),
    ...section(10, [1, ...unsignedLeb(body.length), ...body]),
  ]);
}

export interface SimdTiles {
  packedA: Float32Array;
  packedB: Float32Array;
  /** The result: SIMD_MR rows of `count · SIMD_NR` floats, row stride `count · SIMD_NR`. */
  strip: Float32Array;
  /** Computes `count` tiles from the A panel at float index `aAt` and B panels from `bAt` on. */
  run(kc: number, aAt: number, bAt: number, count: number): void;
}

function instantiate(): SimdTiles | null {
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(tileModule()));
    const memory = instance.exports.memory as WebAssembly.Memory;
    const tiles = instance.exports.tiles as (kc: number, a: number, b: number, c: number, count: number, ldc: number) => void;
    return {
      packedA: new Float32Array(memory.buffer, LAYOUT.packedA, MAX_MC * MAX_KC),
      packedB: new Float32Array(memory.buffer, LAYOUT.packedB, MAX_KC * MAX_NC),
      strip: new Float32Array(memory.buffer, LAYOUT.strip, STRIP_FLOATS),
      run: (kc, aAt, bAt, count) =>
        tiles(kc, LAYOUT.packedA + 4 * aAt, LAYOUT.packedB + 4 * bAt, LAYOUT.strip, count, count * SIMD_NR * 4),
    };
  } catch {
    return null;
  }
}

export const simdTiles: SimdTiles | null = instantiate();
