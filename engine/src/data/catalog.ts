// The built-in image data sets, as torchvision knows them: the files their authors publish,
// with the sizes and MD5 sums torchvision checks (torchvision/datasets/mnist.py; CIFAR-10's
// binary version from https://www.cs.toronto.edu/~kriz/cifar.html, which torchvision's
// cifar.py also links), sample shape, classes and split sizes.

import type { FileChecksum } from './sources.js';

export type ImageSetName = 'fashion_mnist' | 'mnist' | 'cifar10';

export interface RemoteFile extends FileChecksum {
  name: string;
}

export interface ImageSet {
  /** The name in a `train` block. */
  name: ImageSetName;
  /** What people call it, for messages. */
  title: string;
  /** The folder in the cache, on a mirror and in Debian's /usr/share/datasets. */
  folder: string;
  /** The official base URL of the files. */
  url: string;
  /** The files a download fetches (all of them, like torchvision's `download=True`). */
  files: RemoteFile[];
  format: 'idx' | 'cifar-binary';
  sampleShape: number[];
  classes: number;
  /** The class of each label id, as torchvision's `classes` lists them. */
  classNames: readonly string[];
  full: { train: number; test: number };
  /** The defaults of `train` and `test` in a `train` block. */
  defaults: { train: number; test: number };
}

/** The four gzipped IDX files of an MNIST-like set. */
function idxFiles(sizes: [number, number, number, number], sums: [string, string, string, string]): RemoteFile[] {
  const names = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];
  return names.map((name, i) => ({ name, bytes: sizes[i], md5: sums[i] }));
}

export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte.gz',
  trainLabels: 'train-labels-idx1-ubyte.gz',
  testImages: 't10k-images-idx3-ubyte.gz',
  testLabels: 't10k-labels-idx1-ubyte.gz',
} as const;

/** The archive of CIFAR-10's binary version, and the folder it unpacks to. */
export const CIFAR_ARCHIVE = 'cifar-10-binary.tar.gz';
export const CIFAR_BATCH_DIR = 'cifar-10-batches-bin';
/** A batch file's record: a label byte and 3072 pixel bytes (1024 red, 1024 green, 1024 blue, each row-major 32 × 32); the official files hold 10000 each. */
export const CIFAR_RECORD_BYTES = 1 + 3 * 32 * 32;
export const CIFAR_TRAIN_BATCHES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const CIFAR_TEST_BATCH = 'test_batch.bin';

// The classes of each set in label order: torchvision's FashionMNIST.classes, the digits
// (MNIST.classes spells them `0 - zero`), CIFAR-10's batches.meta.txt.
const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

export const IMAGE_SETS: Readonly<Record<ImageSetName, ImageSet>> = {
  fashion_mnist: {
    name: 'fashion_mnist',
    title: 'Fashion-MNIST',
    folder: 'fashion-mnist',
    url: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
    files: idxFiles(
      [26421880, 29515, 4422102, 5148],
      ['8d4fb7e6c68d591d4c3dfef9ec88bf0d', '25c81989df183df01b3e8a0aad5dffbe', 'bef4ecab320f06d8554ea6380940ec79', 'bb300cfdad3c16e7a12a480ee83cd310'],
    ),
    format: 'idx',
    sampleShape: [1, 28, 28],
    classes: FASHION_MNIST_CLASSES.length,
    classNames: FASHION_MNIST_CLASSES,
    full: { train: 60000, test: 10000 },
    // The bundled subset's size: the default trains without a download.
    defaults: { train: 6000, test: 1000 },
  },
  mnist: {
    name: 'mnist',
    title: 'MNIST',
    folder: 'mnist',
    // torchvision's mirror of yann.lecun.com/exdb/mnist, which is often unreachable.
    url: 'https://ossci-datasets.s3.amazonaws.com/mnist/',
    files: idxFiles(
      [9912422, 28881, 1648877, 4542],
      ['f68b3c2dcbeaaa9fbdd348bbdeb94873', 'd53e105ee54ea40749a09fcbcd1e9432', '9fb629c4189551a2d022fa330f9573f3', 'ec29112dd5afa0611ce80d1b7f02629c'],
    ),
    format: 'idx',
    sampleShape: [1, 28, 28],
    classes: MNIST_CLASSES.length,
    classNames: MNIST_CLASSES,
    full: { train: 60000, test: 10000 },
    defaults: { train: 60000, test: 10000 },
  },
  cifar10: {
    name: 'cifar10',
    title: 'CIFAR-10',
    folder: 'cifar-10',
    url: 'https://www.cs.toronto.edu/~kriz/',
    files: [{ name: CIFAR_ARCHIVE, bytes: 170052171, md5: 'c32a1d4ab5d03f1284b67883e8d87530' }],
    format: 'cifar-binary',
    sampleShape: [3, 32, 32],
    classes: CIFAR10_CLASSES.length,
    classNames: CIFAR10_CLASSES,
    full: { train: 50000, test: 10000 },
    defaults: { train: 50000, test: 10000 },
  },
};

export function isImageSetName(name: string): name is ImageSetName {
  return Object.prototype.hasOwnProperty.call(IMAGE_SETS, name);
}

/** A size for people: `26.4 MB`, `170 MB`, `5.1 kB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value >= 100 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}
