/**
 * The browser demo (demo/) in headless Chromium: the page is served by Vite with COOP/COEP,
 * its module Worker loads the threaded SIMD build (`init({threads: 2})`), and what it plots
 * must equal the Node facade's results for the same models to 1e-10.
 *
 * Needs /usr/bin/chromium (`bash scripts/build/ensure-chromium.sh`) and the built package
 * (pkg/dist, pkg/wasm/{st,mt}). Run: `npx vitest run test/browser.test.ts --pool=forks`.
 * Leaves screenshots in out/demo.png, out/demo-paper.png, out/demo-mnist.png (the MNIST view) and
 * out/demo-chain.png (the long-chain MPO view).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNetwork, type Digit } from '../examples/mnist/network.mjs';
import { init, mesolve, nestBridgeModel, runNetwork, type MesolveResult, type ModelSpec } from '../pkg/dist/index.js';
import type { ResultJSON } from '../pkg/dist/spec.js';
import type { MnistState } from '../demo/src/mnist.js';
import type { ChainState } from '../demo/src/chain.js';
import { chainModel } from '../demo/src/chain-model.js';
import { compareWithQutip, fixtureNames, fixtureTolerance, fromResultJSON, loadFixture } from './helpers.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = '/usr/bin/chromium';
const TOL = 1e-10;

/** The parts of the page's `window.__nestq` the test reads (see demo/src/main.ts). */
interface PageResult {
  params: { omega: number; gamma: number; kappa: number; coupling: string; initial: string };
  times: number[];
  expect: Record<string, number[]>;
  measures: Record<string, number[]>;
  finalState: { dims: number[]; data: number[] };
  stats: { method: string; warnings: string[]; cp_min_eigenvalue: number };
}
interface PageState {
  ready: boolean;
  busy: boolean;
  runs: number;
  crossOriginIsolated: boolean;
  runtime?: { threaded: boolean; threads: number; simd: boolean; platform: string; fallbackReason?: string };
  result?: PageResult;
  error?: string;
  mnist?: MnistState;
  chain?: ChainState;
}

const example = JSON.parse(readFileSync(resolve(repo, 'examples/nest_bridge.json'), 'utf8')) as ModelSpec;
const OBSERVABLES = ['X0', 'X1', 'Z0', 'Z1', 'X0X1'];

/** Asserts |a − b| ≤ TOL·max(1, |b|) elementwise (relative for the paper mode's growing values). */
function expectClose(what: string, a: ArrayLike<number> | undefined, b: ArrayLike<number> | undefined): void {
  expect(a, `${what} (browser)`).toBeDefined();
  expect(b, `${what} (node)`).toBeDefined();
  expect(a!.length, `${what}: length`).toBe(b!.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < b!.length; i++) {
    const err = Math.abs(a![i]! - b![i]!) / Math.max(1, Math.abs(b![i]!));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  expect(worst, `${what}: worst (relative) difference at index ${at}`).toBeLessThanOrEqual(TOL);
}

function expectMatches(page: PageResult, node: MesolveResult): void {
  expectClose('times', page.times, node.times);
  for (const k of OBSERVABLES) expectClose(`⟨${k}⟩`, page.expect[k], node.expect[k]);
  expectClose('concurrence', page.measures['concurrence:0,1'], node.measures['concurrence:0,1']);
  expect(page.finalState.dims).toEqual(node.finalState.dims);
  expectClose('final state', page.finalState.data, node.finalState.data);
}

/** The demo's model (demo/src/model.ts), built here independently from the facade. */
function bridgeSpec(o: Parameters<typeof nestBridgeModel>[0]): ModelSpec {
  return {
    ...nestBridgeModel({ numQubits: 2, ...o }),
    times: example.times,
    observables: { X0: 'X0', X1: 'X1', Z0: 'Z0', Z1: 'Z1', X0X1: 'X0 X1' },
    measures: ['concurrence:0,1'],
  };
}

/** Waits until the MNIST or chain view has a finished run on screen; fails on the view's error. */
async function waitForViewRun(page: Page, view: 'mnist' | 'chain'): Promise<void> {
  await page.waitForFunction(
    (v) => {
      const s = (window as unknown as { __nestq: PageState }).__nestq[v];
      if (s?.error) throw new Error(`the ${v} view reported: ${s.error}`);
      return s?.result !== undefined && !s.running;
    },
    view,
    { timeout: 120_000, polling: 100 },
  );
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createNetServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

const readState = (page: Page) => page.evaluate(() => (window as unknown as { __nestq: PageState }).__nestq);

/** Waits until the page shows a finished result whose parameters satisfy `want`. */
async function waitForResult(page: Page, want: Partial<PageResult['params']>): Promise<PageResult> {
  await page.waitForFunction(
    (w) => {
      const s = (window as unknown as { __nestq?: PageState }).__nestq;
      if (!s?.ready || s.busy || !s.result) return false;
      if (s.error) throw new Error(`the page reported: ${s.error}`);
      return Object.entries(w).every(([k, v]) => (s.result!.params as unknown as Record<string, unknown>)[k] === v);
    },
    want,
    { timeout: 60_000, polling: 100 },
  );
  return (await readState(page)).result!;
}

describe('browser demo (headless Chromium, threaded wasm in a Worker)', () => {
  let server: ViteDevServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let url: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`bash scripts/build/ensure-chromium.sh\``);
    await init({ threads: false, quiet: true });
    mkdirSync(resolve(repo, 'out'), { recursive: true });
    const port = await freePort();
    server = await createServer({
      configFile: resolve(repo, 'demo/vite.config.ts'),
      logLevel: 'warn',
      // Loopback only; no file watching or HMR (other work in the checkout must not reload the page).
      server: { host: '127.0.0.1', port, strictPort: true, hmr: false, watch: null },
    });
    await server.listen();
    url = `http://127.0.0.1:${port}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1440, height: 960 } });
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`console.error: ${m.text()}`);
    });
    await page.goto(url);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  }, 60_000);

  it('serves a cross-origin isolated page whose worker runs the threaded SIMD build', async () => {
    await page.waitForFunction(() => (window as unknown as { __nestq?: PageState }).__nestq?.ready === true, null, { timeout: 120_000, polling: 200 });
    const s = await readState(page);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(s.crossOriginIsolated).toBe(true);
    expect(s.error).toBeUndefined();
    expect(s.runtime).toMatchObject({ threaded: true, simd: true, platform: 'browser' });
    expect(s.runtime!.threads).toBeGreaterThanOrEqual(2);
    expect(s.runtime!.fallbackReason).toBeUndefined();
    // …and says so on the page.
    await expect(page.locator('#runtime').innerText()).resolves.toMatch(/threaded ✓ \(2 threads\)[\s\S]*SIMD ✓[\s\S]*cross-origin isolated ✓/);
  }, 180_000);

  it("plots the paper's worked example exactly as Node computes examples/nest_bridge.json", async () => {
    const r = await waitForResult(page, { omega: 1, gamma: 0.1, kappa: 0.05, coupling: 'hamiltonian', initial: 'zero' });
    expectMatches(r, mesolve(example));
    expect(r.stats.warnings).toEqual([]);
    expect(await page.locator('#cp-warning').isVisible()).toBe(false);
  }, 120_000);

  it('re-solves when the γ slider moves, matching Node with the same γ', async () => {
    const before = (await readState(page)).result!;
    const runs = (await readState(page)).runs;
    await page.locator('#gamma').fill('0.35');
    const r = await waitForResult(page, { gamma: 0.35 });
    expect((await readState(page)).runs).toBeGreaterThan(runs);
    await expect(page.locator('#gamma-value').innerText()).resolves.toBe('0.35');
    const change = Math.max(...r.expect.Z0!.map((v, i) => Math.abs(v - before.expect.Z0![i]!)));
    expect(change, 'moving γ from 0.1 to 0.35 changes ⟨σz⟩').toBeGreaterThan(1e-2);
    expectMatches(r, mesolve(example, { parameters: { gamma12: 0.35 } }));
  }, 120_000);

  it('starts from |+⟩|0⟩ when chosen (⟨σx⟩ oscillates), matching Node', async () => {
    await page.locator('#initial').selectOption('plus0');
    const r = await waitForResult(page, { gamma: 0.35, initial: 'plus0' });
    const s = Math.SQRT1_2;
    expectMatches(r, mesolve(bridgeSpec({ couplingStrength: 0.35, initial: { product: [[s, s], [1, 0]] } })));
    expect(Math.max(...r.expect.X0!.map(Math.abs))).toBeGreaterThan(0.5);
    await page.screenshot({ path: resolve(repo, 'out/demo.png'), fullPage: true });
  }, 120_000);

  it("shows the paper coupling's non-CP warning and its (unphysical) numbers match Node", async () => {
    await page.locator('#initial').selectOption('zero');
    await page.locator('#gamma').fill('0.1');
    await page.locator('#coupling').selectOption('paper');
    const r = await waitForResult(page, { gamma: 0.1, initial: 'zero', coupling: 'paper' });
    expect(await page.locator('#cp-warning').isVisible()).toBe(true);
    await expect(page.locator('#cp-warning').innerText()).resolves.toMatch(/Not completely positive/);
    expect(r.stats.cp_min_eigenvalue).toBeLessThan(0);
    expect(r.stats.warnings.join('\n')).toMatch(/not completely positive/);
    expectMatches(r, mesolve(bridgeSpec({ couplingStrength: 0.1, coupling: 'paper' })));
    await page.screenshot({ path: resolve(repo, 'out/demo-paper.png'), fullPage: true });
  }, 120_000);

  it('solves every golden fixture in the page itself (single-threaded build) within tolerance of QuTiP', async () => {
    const names = fixtureNames();
    const specs = names.map((n) => loadFixture(n).spec);
    const entry = `/@fs${resolve(repo, 'pkg/dist/index.js')}`;
    // A string, not a function: vitest would rewrite a function's import() for Node.
    const out = (await page.evaluate(`(async () => {
      const nq = await import(${JSON.stringify(entry)});
      const info = await nq.init({ threads: false, quiet: true });
      const specs = ${JSON.stringify(specs)};
      return { info, results: specs.map((s) => nq.mesolve(s).toJSON()) };
    })()`)) as { info: Record<string, unknown>; results: unknown[] };
    expect(out.info).toMatchObject({ threaded: false, simd: true, platform: 'browser' });
    names.forEach((n, i) => {
      const { reference } = loadFixture(n);
      const c = compareWithQutip(fromResultJSON(out.results[i] as ResultJSON), reference, fixtureTolerance(reference));
      expect(c.failures, n).toEqual([]);
      expect(c.compared, n).toBeGreaterThan(reference.times.length);
    });
  }, 180_000);

  it('MNIST view: streams the raster of a real digit, and its spikes equal Node\'s for the same network', async () => {
    const digits = (JSON.parse(readFileSync(resolve(repo, 'demo/src/mnist-digits.json'), 'utf8')) as { digits: Digit[] }).digits;
    await page.locator('#tab-mnist').click();
    expect(await page.locator('#view-mnist').isVisible()).toBe(true);
    expect(await page.locator('#view-bridge').isVisible()).toBe(false);
    // spikes appear on the canvas before the run ends (streamed in 25 ms chunks)
    await page.waitForFunction(() => ((window as unknown as { __nestq: PageState }).__nestq.mnist?.liveSpikes ?? 0) > 0, null, { timeout: 120_000, polling: 20 });
    const live = (await readState(page)).mnist!;
    await waitForViewRun(page, 'mnist');
    const m = (await readState(page)).mnist!;
    const r = m.result!;
    expect(m.digit).toEqual({ label: digits[0]!.label, index: digits[0]!.index });
    expect(live.liveT).toBeLessThanOrEqual(150);
    expect(r.prefixOk).toBe(true);
    expect(r.chunks).toBe(6);
    expect(m.liveSpikes).toBe(r.spikeCount);
    expect(r.inputSpikes).toBeGreaterThan(100);
    expect(r.hiddenSpikes).toBeGreaterThan(10);
    // the same network in Node (single-threaded build): the very same spikes
    const node = runNetwork(buildNetwork([digits[0]!]));
    expect(r.spikeCount).toBe(node.spikes.length);
    expect(r.spikes).toEqual(node.spikes);
    expect(r.stats.synapses).toBe(node.stats.synapses);
    // the raster canvas has dark (input) and red (hidden) dots
    const painted = await page.evaluate(() => {
      const c = document.getElementById('mnist-raster') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let dark = 0;
      let red = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i]! < 90 && d[i + 1]! < 90 && d[i + 2]! < 90) dark++;
        if (d[i]! > 180 && d[i + 1]! < 120 && d[i + 2]! < 100) red++;
      }
      return { dark, red };
    });
    expect(painted.dark).toBeGreaterThan(100);
    expect(painted.red).toBeGreaterThan(10);
    await expect(page.locator('#mnist-status').innerText()).resolves.toMatch(new RegExp(`^${r.spikeCount} spikes`));
    await page.screenshot({ path: resolve(repo, 'out/demo-mnist.png'), fullPage: true });
    // another digit: a new run with different spikes; back to the bridge view afterwards
    await page.locator('#mnist-digit').selectOption('3');
    await page.waitForFunction(() => {
      const m = (window as unknown as { __nestq: PageState }).__nestq.mnist;
      return m?.digit?.label === 3 && m.result !== undefined && !m.running;
    }, null, { timeout: 120_000, polling: 100 });
    const r3 = (await readState(page)).mnist!.result!;
    expect(r3.spikes).toEqual(runNetwork(buildNetwork([digits[3]!])).spikes);
    await page.locator('#tab-bridge').click();
    expect(await page.locator('#view-bridge').isVisible()).toBe(true);
  }, 240_000);

  it('chain view: a 12-qubit MPO chain in the threaded worker, with progress; ⟨σz_i⟩ and bond dimensions equal Node\'s', async () => {
    // the view's model is the benchmark chain: all 32 sites give bench/mpo_chain32.json's model
    // (only the output times are denser, every 0.1 instead of 0.2, for the heat maps)
    const bench = JSON.parse(readFileSync(resolve(repo, 'bench/mpo_chain32.json'), 'utf8')) as ModelSpec;
    const full = chainModel({ sites: 32, chiMax: 64, tEnd: 4 });
    for (const k of ['dims', 'hamiltonian', 'jumps', 'initial', 'solver'] as const) expect(full[k], k).toEqual(bench[k]);
    expect(full.times).toEqual({ start: 0, stop: 4, count: 41 });

    await page.locator('#tab-chain').click();
    expect(await page.locator('#view-chain').isVisible()).toBe(true);
    await page.waitForFunction(() => (window as unknown as { __nestq: PageState }).__nestq.chain?.ready === true, null, { timeout: 120_000, polling: 100 });
    const params = { sites: 12, chiMax: 16, tEnd: 2 };
    await page.locator('#chain-sites').fill(String(params.sites));
    await page.locator('#chain-chi').selectOption(String(params.chiMax));
    await page.locator('#chain-t').selectOption(String(params.tEnd));
    await page.locator('#chain-run').click();
    await waitForViewRun(page, 'chain');
    const c = (await readState(page)).chain!;
    const r = c.result!;
    expect(r.params).toEqual(params);
    // solved by the threaded build, with progress messages on the way
    expect(c.runtime).toMatchObject({ threaded: true, simd: true, platform: 'browser' });
    expect(c.runtime!.threads).toBeGreaterThanOrEqual(2);
    expect(c.progress.messages).toBeGreaterThan(0);
    expect(r.stats.method).toBe('mpo');

    // the same model in Node (single-threaded build, no progress callback)
    const node = mesolve(chainModel(params));
    expectClose('times', r.times, node.times);
    expect(r.z).toHaveLength(params.sites);
    r.z.forEach((z, i) => expectClose(`⟨σz_${i}⟩`, z, node.expect[`Z${i}`]));
    expect(r.bondDims).toEqual(node.stats.mpo!.bond_dims);
    expect(r.bondDims).toHaveLength(node.times.length);
    expect(r.bondDims.every((b) => b.length === params.sites - 1)).toBe(true);
    expectClose('cumulative truncation error', r.cumulativeTruncationError, node.stats.mpo!.cumulative_truncation_error);
    expectClose('truncation error', [r.stats.truncation_error!], [node.stats.truncation_error!]);
    expect(r.stats.max_bond).toBe(node.stats.max_bond);
    expect(r.stats.max_bond).toBe(params.chiMax);
    // a progress callback does not change the Trotter schedule: the same gate count
    expect(r.stats.rhs_evals).toBe(node.stats.rhs_evals);
    // ⟨σz⟩ moves (the Néel state relaxes) and the bonds grow from the product state's 1
    expect(Math.max(...r.z.map((z) => Math.abs(z.at(-1)! - z[0]!)))).toBeGreaterThan(0.1);
    expect(r.bondDims[0]).toEqual(Array(params.sites - 1).fill(1));

    // both heat maps and the summary are drawn (coloured pixels on their canvases)
    const coloured = await page.evaluate(() =>
      ['chain-z', 'chain-bonds', 'chain-summary'].map((id) => {
        const cv = document.querySelector(`#${id} canvas`) as HTMLCanvasElement | null;
        if (!cv) return 0;
        const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (Math.max(d[i]!, d[i + 1]!, d[i + 2]!) - Math.min(d[i]!, d[i + 1]!, d[i + 2]!) > 40) n++;
        return n;
      }),
    );
    expect(coloured[0], '⟨σz⟩ heat map').toBeGreaterThan(5000);
    expect(coloured[1], 'bond heat map').toBeGreaterThan(5000);
    expect(coloured[2], 'summary').toBeGreaterThan(200);
    await expect(page.locator('#chain-status').innerText()).resolves.toMatch(new RegExp(`^12 qubits, χ_max 16: largest bond 16, truncation error .*threaded, 2 threads`));
    await page.screenshot({ path: resolve(repo, 'out/demo-chain.png'), fullPage: true });
  }, 240_000);

  it('logged no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
