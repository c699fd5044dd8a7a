// A WebAssembly SIMD micro-kernel for float32 GEMM: one 4×8 tile of C from packed panels,
// eight f32x4 accumulators in registers. The module is assembled here from its bytes (no
// build step, no dependency); where WebAssembly SIMD is unavailable, `simdTile` is null
// and GEMM uses its JavaScript micro-kernel.

export const SIMD_MR = 4;
export const SIMD_NR = 8;

/** Byte offsets in the module's memory: packed A, packed B, and the 4×8 result tile. */
const SIMD_LAYOUT = {
  packedA: 0,
  packedABytes: 64 * 1024 * 4, // MC·KC floats at most (64 × 256), with room to spare
  packedB: 256 * 1024,
  packedBBytes: 256 * 2048 * 4, // KC·NC floats (256 × 2048)
  tile: 256 * 1024 + 256 * 2048 * 4,
} as const;
const PAGES = Math.ceil((SIMD_LAYOUT.tile + 128) / 65536);

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
  i32Const: (v: number) => [0x41, ...unsignedLeb(v)], // small positive constants only
  i32Eqz: [0x45],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  v128Load: (offset: number) => [0xfd, 0x00, 4, ...unsignedLeb(offset)],
  v128Load32Splat: (offset: number) => [0xfd, 0x09, 2, ...unsignedLeb(offset)],
  v128Store: (offset: number) => [0xfd, 0x0b, 4, ...unsignedLeb(offset)],
  f32x4Add: [0xfd, 0xe4, 0x01],
  f32x4Mul: [0xfd, 0xe6, 0x01],
};

/**
 * tile(kc, a, b, c): for p < kc, acc[r][0..8] += a[p·4 + r] · b[p·8 .. p·8 + 8]; then the
 * 4×8 accumulators are stored row-major at c. Locals: params 0–3, acc 4–11, b0 12, b1 13, a 14.
 */
function tileModule(): Uint8Array<ArrayBuffer> {
  const [kc, a, b, c] = [0, 1, 2, 3];
  const acc = (i: number) => 4 + i;
  const [b0, b1, av] = [12, 13, 14];
  const code: number[] = [
    ...op.block, ...op.loop,
    ...op.get(kc), ...op.i32Eqz, ...op.brIf(1),
    ...op.get(b), ...op.v128Load(0), ...op.set(b0),
    ...op.get(b), ...op.v128Load(16), ...op.set(b1),
  ];
  for (let r = 0; r < SIMD_MR; r++) {
    code.push(
      ...op.get(a), ...op.v128Load32Splat(4 * r), ...op.tee(av),
      ...op.get(b0), ...op.f32x4Mul, ...op.get(acc(2 * r)), ...op.f32x4Add, ...op.set(acc(2 * r)),
      ...op.get(av), ...op.get(b1), ...op.f32x4Mul, ...op.get(acc(2 * r + 1)), ...op.f32x4Add, ...op.set(acc(2 * r + 1)),
    );
  }
  code.push(
    ...op.get(a), ...op.i32Const(4 * SIMD_MR), ...op.i32Add, ...op.set(a),
    ...op.get(b), ...op.i32Const(4 * SIMD_NR), ...op.i32Add, ...op.set(b),
    ...op.get(kc), ...op.i32Const(1), ...op.i32Sub, ...op.set(kc),
    ...op.br(0), ...op.end, ...op.end,
  );
  for (let i = 0; i < 8; i++) code.push(...op.get(c), ...op.get(acc(i)), ...op.v128Store(16 * i));
  code.push(...op.end);
  const body = [1, 11, 0x7b, ...code]; // one local group: 11 × v128
  const name = (s: string) => [s.length, ...Array.from(s, (ch) => ch.charCodeAt(0))];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 4, 0x7f, 0x7f, 0x7f, 0x7f, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, ...unsignedLeb(PAGES)]),
    ...section(7, [2, ...name('tile'), 0x00, 0, ...name('memory'), 0x02, 0]),
    ...section(10, [1, ...unsignedLeb(body.length), ...body]),
  ]);
}

export interface SimdTile {
  packedA: Float32Array;
  packedB: Float32Array;
  tile: Float32Array;
  /** Computes the tile from the A panel at float index `aAt` and the B panel at `bAt`. */
  run(kc: number, aAt: number, bAt: number): void;
}

function instantiate(): SimdTile | null {
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(tileModule()));
    const memory = instance.exports.memory as WebAssembly.Memory;
    const tile = instance.exports.tile as (kc: number, a: number, b: number, c: number) => void;
    const { packedA, packedABytes, packedB, packedBBytes, tile: tileAt } = SIMD_LAYOUT;
    return {
      packedA: new Float32Array(memory.buffer, packedA, packedABytes / 4),
      packedB: new Float32Array(memory.buffer, packedB, packedBBytes / 4),
      tile: new Float32Array(memory.buffer, tileAt, SIMD_MR * SIMD_NR),
      run: (kc, aAt, bAt) => tile(kc, packedA + 4 * aAt, packedB + 4 * bAt, tileAt),
    };
  } catch {
    return null;
  }
}

export const simdTile: SimdTile | null = instantiate();
