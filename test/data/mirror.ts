// A download mirror for tests: a real HTTP server on 127.0.0.1 serving generated files in
// the official formats (gzipped IDX, CIFAR-10's binary tar.gz) under `/<set folder>/<file>`,
// with HTTP Range support, and faults on request: a connection dropped mid-file, a server
// that ignores Range. Nothing here reaches beyond the loopback address.

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { create } from 'tar';
import type { FileChecksum } from '../../engine/src/data/sources.js';

export class TestMirror {
  readonly files = new Map<string, Buffer>();
  /** Every request: its path and Range header. */
  readonly requests: { path: string; range: string | undefined }[] = [];
  /** Paths whose next response is cut after this many bytes (once). */
  readonly dropOnce = new Map<string, number>();
  ignoreRange = false;
  /** Bytes per second each response is sent at (a slow link, so that progress can be watched); 0: at once. */
  throttle = 0;
  private server: Server | null = null;

  /** Starts the server; returns its base URL. */
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      this.requests.push({ path, range: req.headers.range });
      const body = this.files.get(path);
      if (!body) {
        res.writeHead(404).end('not found');
        return;
      }
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const start = range && !this.ignoreRange ? Number(range[1]) : 0;
      if (start >= body.length && start > 0) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      const headers: Record<string, string | number> = { 'content-length': body.length - start, 'accept-ranges': 'bytes' };
      if (range && !this.ignoreRange) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
      res.writeHead(range && !this.ignoreRange ? 206 : 200, headers);
      const drop = this.dropOnce.get(path);
      if (drop !== undefined) {
        this.dropOnce.delete(path);
        // Ends the connection after the first `drop` bytes, with the whole length announced.
        res.write(body.subarray(start, start + drop), () => res.socket?.end());
        return;
      }
      if (this.throttle > 0) return sendSlowly(res, body.subarray(start), this.throttle);
      res.end(body.subarray(start));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The NN_DATA_CHECKSUMS entries of the served files (keys `<set folder>/<file>`). */
  checksums(): Record<string, FileChecksum> {
    return Object.fromEntries([...this.files].map(([path, body]) => [path.slice(1), { md5: createHash('md5').update(body).digest('hex'), bytes: body.length }]));
  }
}

/** Sends `body` in tenth-of-a-second slices at `rate` bytes per second. */
function sendSlowly(res: ServerResponse, body: Buffer, rate: number): void {
  const slice = Math.max(1, Math.round(rate / 10));
  let at = 0;
  const next = () => {
    if (res.destroyed) return;
    if (at >= body.length) return void res.end();
    res.write(body.subarray(at, at + slice));
    at += slice;
    setTimeout(next, 100);
  };
  next();
}

export function idxBytes(typeCode: number, shape: number[], body: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * shape.length);
  head[2] = typeCode;
  head[3] = shape.length;
  shape.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, body]);
}

/** Deterministic pseudo-random bytes. */
export function bytes(count: number, seed: number): Uint8Array {
  const out = new Uint8Array(count);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** An MNIST-like set (28 × 28 images, labels 0-9) as the four gzipped IDX files, keyed by file name. */
export function mnistFiles(train: number, test: number, seed = 1): { files: Record<string, Buffer>; trainImages: Uint8Array; trainLabels: Uint8Array } {
  const trainImages = bytes(train * 784, seed);
  const trainLabels = Uint8Array.from(bytes(train, seed + 1), (b) => b % 10);
  const testImages = bytes(test * 784, seed + 2);
  const testLabels = Uint8Array.from(bytes(test, seed + 3), (b) => b % 10);
  const files = {
    'train-images-idx3-ubyte.gz': gzipSync(idxBytes(0x08, [train, 28, 28], trainImages)),
    'train-labels-idx1-ubyte.gz': gzipSync(idxBytes(0x08, [train], trainLabels)),
    't10k-images-idx3-ubyte.gz': gzipSync(idxBytes(0x08, [test, 28, 28], testImages)),
    't10k-labels-idx1-ubyte.gz': gzipSync(idxBytes(0x08, [test], testLabels)),
  };
  return { files, trainImages, trainLabels };
}

/** CIFAR-10's binary archive with `perBatch` records in each of the five training batches and `test` in the test batch. */
export async function cifarArchive(perBatch: number, test: number): Promise<{ archive: Buffer; records: Uint8Array[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'nn-cifar-'));
  try {
    const batchDir = join(dir, 'cifar-10-batches-bin');
    mkdirSync(batchDir);
    const records: Uint8Array[] = [];
    const batch = (name: string, count: number, seed: number) => {
      const body = bytes(count * 3073, seed);
      for (let r = 0; r < count; r++) body[r * 3073] %= 10;
      records.push(body);
      writeFileSync(join(batchDir, name), body);
    };
    for (let b = 1; b <= 5; b++) batch(`data_batch_${b}.bin`, perBatch, 10 + b);
    batch('test_batch.bin', test, 20);
    writeFileSync(join(batchDir, 'batches.meta.txt'), 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n');
    writeFileSync(join(batchDir, 'readme.html'), '<p>test archive</p>');
    const file = join(dir, 'cifar-10-binary.tar.gz');
    await create({ gzip: true, file, cwd: dir, portable: true }, ['cifar-10-batches-bin']);
    return { archive: readFileSync(file), records };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A linear classifier of a downloaded image set: `data` is the train block's data line's value. */
export function imageModel(data: string, opts: { image?: string; backend?: string } = {}): string {
  const image = opts.image ?? '[B, 1, 28, 28]';
  const features = image === '[B, 3, 32, 32]' ? 3072 : 784;
  return `model Net(x: ${image}) -> [B, 10] {
  return x |> flatten |> Linear(${features}, 10)
}

train Net {
  data = ${data}
  epochs = 1
  batch = 10
${opts.backend ? `  backend = "${opts.backend}"\n` : ''}}
`;
}
