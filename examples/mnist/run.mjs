#!/usr/bin/env node
/**
 * Runs the MNIST example network in WebAssembly (`runNetwork` of the built package) and writes
 *
 *   out/mnist/result.json   the result file (same as `nestq network`, native or npm CLI)
 *   out/mnist/raster.svg    spike rasters of the input (784) and hidden layers, digit windows shaded
 *   out/mnist/bridges.svg   bridge currents I_q = α·⟨σx⟩, concurrence and V of bridged neurons
 *   out/mnist/digits.svg    the digits shown (28 × 28 pixels each)
 *
 * and prints a one-line summary. `npm run mnist` runs build-network.mjs first.
 *
 *   node examples/mnist/run.mjs [--net examples/mnist/network.json] [--out-dir out/mnist] [--threads N|0]
 *
 * `--threads` (default: all cores) sizes the threaded build's pool; 0 loads the single-threaded
 * build. Results do not depend on it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PIXELS, SIDE } from './network.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const { values } = parseArgs({
  options: {
    net: { type: 'string', default: join(here, 'network.json') },
    'out-dir': { type: 'string', default: join(root, 'out/mnist') },
    threads: { type: 'string' },
  },
});
if (!existsSync(join(root, 'pkg/dist/index.js'))) {
  console.error('run.mjs: the package is not built (pkg/dist): run `npm run build` first');
  process.exit(1);
}
const { init, runNetwork } = await import('../../pkg/dist/index.js');
const { networkToSVG } = await import('../../pkg/dist/plot.js');
const vega = await import('vega');
const { compile } = await import('vega-lite');

const out = values['out-dir'];
mkdirSync(out, { recursive: true });
const net = JSON.parse(readFileSync(values.net, 'utf8'));
const threads = values.threads === undefined ? 'auto' : Number(values.threads) === 0 ? false : Number(values.threads);
const runtime = await init({ threads, quiet: true });

const t0 = performance.now();
const res = runNetwork(net);
const wallMs = performance.now() - t0;
const json = res.toJSON();
writeFileSync(join(out, 'result.json'), JSON.stringify(json));

// ---- plots
const labels = net._digits.map((d) => `digit ${d.label}`);
const windows = net._schedule.map((w, i) => ({ ...w, label: labels[i] }));
const sizes = Object.fromEntries(net.groups.map((g) => [g.id, g.n]));
writeFileSync(
  join(out, 'raster.svg'),
  await networkToSVG(json, { title: `${net.name}: spike rasters`, panels: ['raster'], raster: 'group', groupSizes: sizes, windows, rasterHeight: 300, width: 760 }),
);
writeFileSync(
  join(out, 'bridges.svg'),
  await networkToSVG(json, {
    title: `${net.name}: ${net.bridges.length} NEST bridges`,
    panels: [{ panel: 'currents', bridges: [0, 1, 2, 3] }, 'concurrence', 'v'],
    alpha: net.bridges.map((b) => b.alpha),
    windows,
    width: 760,
    height: 200,
  }),
);

// The digits: the input rates of each presented frame (pixel × max rate), as the network sees them.
const frames = net.inputs[0].rate_hz;
const frameMs = net.inputs[0].present;
const cells = net._schedule.flatMap((w, d) => {
  const rates = frames[Math.round(w.start / frameMs)];
  return rates.map((r, p) => ({ digit: `${labels[d]} (#${net._digits[d].index})`, col: p % SIDE, row: Math.floor(p / SIDE), rate: r }));
});
if (cells.length !== net._schedule.length * PIXELS) throw new Error('unexpected frames');
const digitSpec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: { text: `${net.name}: input rates (Hz) of the presented digits`, anchor: 'start' },
  data: { values: cells },
  facet: { column: { field: 'digit', type: 'nominal', title: null, sort: null } },
  spec: {
    width: 140,
    height: 140,
    mark: { type: 'rect' },
    encoding: {
      x: { field: 'col', type: 'ordinal', axis: null },
      y: { field: 'row', type: 'ordinal', axis: null },
      color: { field: 'rate', type: 'quantitative', title: 'rate (Hz)', scale: { scheme: 'greys' } },
    },
  },
  config: { background: 'white', view: { stroke: '#ccc' } },
};
const view = new vega.View(vega.parse(compile(digitSpec).spec), { renderer: 'none' });
writeFileSync(join(out, 'digits.svg'), await view.toSVG());
view.finalize();

// ---- summary
const count = (g) => json.spikes.filter((s) => s.neuron.startsWith(`${g}[`)).length;
const s = json.stats;
console.log(
  `[mnist] digits ${net._digits.map((d) => `${d.label}#${d.index}`).join(' ')}: ${s.neurons} neurons, ${s.synapses} synapses, ` +
    `${s.bridges} bridges, ${s.steps} steps; ${s.spikes} spikes (in ${count('in')}, h ${count('h')}); ` +
    `wall ${(wallMs / 1000).toFixed(2)} s (${runtime.threaded ? `threaded, ${runtime.threads} threads` : 'single-threaded'} wasm) -> ${out}/{result.json,raster.svg,bridges.svg,digits.svg}`,
);
