// MNIST and CIFAR-10 for generated cases: small sets in the official formats, written once
// into the data cache the run uses (NN_DATA_CACHE, set by scripts/test.mjs and bench/soundness),
// so the checker finds them cached and a run loads them as it would downloaded ones.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IMAGE_SETS } from '../../engine/src/data/catalog.js';
import { bytes, mnistFiles } from '../data/mirror.js';

/** The images of each fixture set. */
export const IMAGE_CACHE_COUNTS = { mnist: { train: 40, test: 8 }, cifar10: { train: 40, test: 8 } } as const;

/** Writes the fixture sets into `cacheDir` unless they are there. */
export function writeImageCache(cacheDir: string): void {
  const mnist = join(cacheDir, IMAGE_SETS.mnist.folder);
  if (!existsSync(join(mnist, 'DONE'))) {
    mkdirSync(mnist, { recursive: true });
    for (const [name, data] of Object.entries(mnistFiles(IMAGE_CACHE_COUNTS.mnist.train, IMAGE_CACHE_COUNTS.mnist.test, 7).files)) writeFileSync(join(mnist, name), data);
    writeFileSync(join(mnist, 'DONE'), '');
  }
  const cifar = join(cacheDir, IMAGE_SETS.cifar10.folder, 'cifar-10-batches-bin');
  if (!existsSync(join(cifar, 'DONE'))) {
    mkdirSync(cifar, { recursive: true });
    const batch = (name: string, count: number, seed: number) => {
      const body = bytes(count * 3073, seed);
      for (let r = 0; r < count; r++) body[r * 3073] %= 10;
      writeFileSync(join(cifar, name), body);
    };
    const perBatch = IMAGE_CACHE_COUNTS.cifar10.train / 5;
    for (let b = 1; b <= 5; b++) batch(`data_batch_${b}.bin`, perBatch, 10 + b);
    batch('test_batch.bin', IMAGE_CACHE_COUNTS.cifar10.test, 20);
    writeFileSync(join(cifar, 'DONE'), '');
  }
}
