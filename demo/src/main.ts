/**
 * The demo page: sliders → solver worker → vega plots. Exposes its state on `window.__nestq`
 * for test/browser.test.ts.
 */
import type { RuntimeInfo } from 'nestq';
import type { TopLevelSpec } from 'vega-lite';
import { COUPLINGS, DEFAULT_PARAMS, INITIAL_STATES, type Coupling, type DemoParams, type InitialKey } from './model';
import { setupMnistView, type MnistState } from './mnist';
import { setupChainView, type ChainState } from './chain';
import { render } from './vega';
import type { DemoResult, FromWorker, ToWorker } from './protocol';

/** What the page exposes for tests and curious people (`window.__nestq` in the console). */
export interface DemoState {
  /** The worker loaded nestq and the first result is on screen. */
  ready: boolean;
  /** A solve is running or queued. */
  busy: boolean;
  /** Number of results shown. */
  runs: number;
  crossOriginIsolated: boolean;
  runtime?: RuntimeInfo;
  /** The parameters the controls currently show. */
  params: DemoParams;
  /** The result on screen (its `params` are the ones it was solved with). */
  result?: DemoResult;
  error?: string;
  /** The "Network / MNIST" view (set once the view was first opened). */
  mnist?: MnistState;
  /** The "Long chain (MPO)" view (set once the view was first opened). */
  chain?: ChainState;
}

declare global {
  interface Window {
    __nestq: DemoState;
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const state: DemoState = { ready: false, busy: false, runs: 0, crossOriginIsolated: globalThis.crossOriginIsolated === true, params: { ...DEFAULT_PARAMS } };
window.__nestq = state;

// ---------------------------------------------------------------- controls

const sliders = [
  { key: 'omega', digits: 2 },
  { key: 'gamma', digits: 2 },
  { key: 'kappa', digits: 3 },
] as const;

const couplingSel = $<HTMLSelectElement>('coupling');
for (const [value, label] of Object.entries(COUPLINGS)) couplingSel.add(new Option(label, value));
const initialSel = $<HTMLSelectElement>('initial');
for (const [value, { label }] of Object.entries(INITIAL_STATES)) initialSel.add(new Option(label, value));

function showControls(p: DemoParams): void {
  for (const { key, digits } of sliders) {
    $<HTMLInputElement>(key).value = String(p[key]);
    $<HTMLOutputElement>(`${key}-value`).value = p[key].toFixed(digits);
  }
  couplingSel.value = p.coupling;
  initialSel.value = p.initial;
  $('cp-warning').hidden = p.coupling !== 'paper';
  $('parity-note').hidden = p.initial !== 'zero';
}

function readControls(): DemoParams {
  const num = (id: string) => Number.parseFloat($<HTMLInputElement>(id).value);
  return {
    omega: num('omega'),
    gamma: num('gamma'),
    kappa: num('kappa'),
    coupling: couplingSel.value as Coupling,
    initial: initialSel.value as InitialKey,
  };
}

function onChange(): void {
  state.params = readControls();
  showControls(state.params);
  request(state.params);
}
for (const { key } of sliders) $(key).addEventListener('input', onChange);
couplingSel.addEventListener('change', onChange);
initialSel.addEventListener('change', onChange);
$('reset').addEventListener('click', () => {
  showControls(DEFAULT_PARAMS);
  onChange();
});
showControls(state.params);

// ---------------------------------------------------------------- views

/**
 * The views (tab `#tab-NAME`, element `#view-NAME`, URL hash `#NAME`); the MNIST and chain
 * views start their own worker when first opened.
 */
const viewSetup = {
  bridge: () => {},
  mnist: () => setupMnistView((s) => (state.mnist = s)),
  chain: () => setupChainView((s) => (state.chain = s)),
};
type ViewName = keyof typeof viewSetup;
const started = new Set<ViewName>(['bridge']);
function showView(which: ViewName): void {
  for (const v of Object.keys(viewSetup) as ViewName[]) {
    $(`view-${v}`).hidden = v !== which;
    $(`tab-${v}`).classList.toggle('active', v === which);
  }
  if (!started.has(which)) {
    started.add(which);
    viewSetup[which]();
  }
}
for (const v of Object.keys(viewSetup) as ViewName[]) $(`tab-${v}`).addEventListener('click', () => showView(v));
const hashView = location.hash.slice(1);
if (hashView in viewSetup) showView(hashView as ViewName);

// ---------------------------------------------------------------- worker

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'nestq-solver' });
let workerReady = false;
let seq = 0;
let inFlight: number | null = null;
let pending: DemoParams | null = null;

/** Solves the latest parameters; slider moves during a solve coalesce into one more solve. */
function request(p: DemoParams): void {
  pending = p;
  state.busy = true;
  pump();
}

function pump(): void {
  if (!workerReady || inFlight !== null || pending === null) return;
  inFlight = ++seq;
  const msg: ToWorker = { type: 'solve', id: inFlight, params: pending };
  pending = null;
  worker.postMessage(msg);
}

worker.onmessage = async (ev: MessageEvent<FromWorker>) => {
  const m = ev.data;
  switch (m.type) {
    case 'ready':
      state.runtime = m.runtime;
      showRuntime(m.runtime, m.initMs);
      workerReady = true;
      request(state.params);
      break;
    case 'progress':
      $('status').textContent = `solving… ${(100 * m.fraction).toFixed(0)} %`;
      break;
    case 'result':
      inFlight = null;
      pump();
      if (inFlight === null) await show(m.result);
      break;
    case 'error':
      inFlight = null;
      showError(m.message);
      pump();
      break;
  }
};
worker.onerror = (e) => showError(`worker error: ${e.message}`);

function showError(message: string): void {
  state.error = message;
  state.busy = pending !== null || inFlight !== null;
  const el = $('status');
  el.className = 'status error';
  el.textContent = message;
}

function badge(text: string, cls: 'ok' | 'bad' | '' = '', title = ''): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
  return `<span class="badge ${cls}" title="${esc(title)}">${esc(text)}</span>`;
}

function showRuntime(r: RuntimeInfo, initMs: number): void {
  $('runtime').innerHTML = [
    badge(r.threaded ? `threaded ✓ (${r.threads} threads)` : 'single-threaded', r.threaded ? 'ok' : 'bad', r.fallbackReason ?? 'wasm-bindgen-rayon pool in Web Workers'),
    badge(r.simd ? 'SIMD ✓' : 'no SIMD', r.simd ? 'ok' : 'bad', 'WebAssembly simd128'),
    badge(state.crossOriginIsolated ? 'cross-origin isolated ✓' : 'not cross-origin isolated', state.crossOriginIsolated ? 'ok' : 'bad', 'COOP: same-origin, COEP: require-corp'),
    badge(`nestq ${r.version}`, '', `loaded in ${initMs.toFixed(0)} ms`),
  ].join('') + (r.fallbackReason ? `<div class="note">fallback: ${r.fallbackReason}</div>` : '');
}

// ---------------------------------------------------------------- plots

const WIDTH = 400;
const HEIGHT = 210;
const qubitColors = { domain: ['qubit 0', 'qubit 1'], range: ['#2f6fdb', '#e4572e'] };

/** A line chart of series over t; a fixed y domain unless the data leave it (paper mode). */
function lineSpec(rows: { t: number; v: number; s: string }[], yTitle: string, domain: [number, number] | 'auto', colors: { domain: string[]; range: string[] }): TopLevelSpec {
  let yScale: Record<string, unknown>;
  if (domain === 'auto') {
    // Small values (the concurrence of the paper's example peaks at 0.03): zoom in, from 0.
    const top = Math.max(...rows.map((r) => r.v));
    const lo = Math.min(0, ...rows.map((r) => r.v));
    yScale = top < 1e-9 && lo > -1e-9 ? { domain: [0, 1] } : lo < 0 ? { zero: true, nice: true } : { domain: [0, top * 1.08], nice: true };
  } else {
    const inside = rows.every((r) => r.v >= domain[0] - 1e-9 && r.v <= domain[1] + 1e-9);
    yScale = inside ? { domain, nice: false } : { zero: false };
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    mark: { type: 'line', strokeWidth: 2, interpolate: 'monotone' },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 't (τ)', scale: { domain: [0, 20], nice: false } },
      y: { field: 'v', type: 'quantitative', title: yTitle, scale: yScale },
      color: { field: 's', type: 'nominal', title: null, scale: colors, legend: { orient: 'top-right', fillColor: 'rgba(255,255,255,0.85)', symbolStrokeWidth: 2 } },
      // Qubit 1 dashed: with equal frequencies the two qubits' curves coincide.
      strokeDash: { field: 's', type: 'nominal', title: null, scale: { domain: colors.domain, range: [[1, 0], [6, 3]] } },
      tooltip: [
        { field: 's', title: 'series' },
        { field: 't', format: '.2f' },
        { field: 'v', format: '.6f', title: yTitle },
      ],
    },
    config: { view: { stroke: '#dfe3ea' }, axis: { gridColor: '#eef0f4', labelFontSize: 11, titleFontSize: 12 } },
  };
}

function seriesRows(r: DemoResult, keys: [string, string][]): { t: number; v: number; s: string }[] {
  return keys.flatMap(([label, key]) => {
    const v = r.expect[key] ?? r.measures[key] ?? [];
    return r.times.map((t, i) => ({ t, v: v[i]!, s: label }));
  });
}

function rhoSpec(r: DemoResult): TopLevelSpec {
  const { dims, data } = r.finalState;
  const n = dims.reduce((a, b) => a * b, 1);
  const basis = [...Array(n).keys()].map((k) => `|${k.toString(2).padStart(dims.length, '0')}⟩`);
  const cells = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const re = data[2 * (i * n + j)]!;
      const im = data[2 * (i * n + j) + 1]!;
      // Labels: |ρij| off the diagonal, the (signed) population ρii on it — negative in the paper mode.
      cells.push({ row: basis[i], col: basis[j], abs: Math.hypot(re, im), re, im, label: i === j ? re : Math.hypot(re, im) });
    }
  }
  const maxAbs = Math.max(...cells.map((c) => c.abs));
  const top = Math.max(1, maxAbs);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: HEIGHT + 20,
    height: HEIGHT + 20,
    data: { values: cells },
    encoding: {
      x: { field: 'col', type: 'ordinal', sort: basis, title: 'j', axis: { orient: 'top', labelAngle: 0, labelFontSize: 13 } },
      y: { field: 'row', type: 'ordinal', sort: basis, title: 'i', axis: { labelFontSize: 13 } },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: '#ffffff', strokeWidth: 1.5 },
        encoding: {
          color: { field: 'abs', type: 'quantitative', title: '|ρij|', scale: { scheme: 'blues', domain: [0, top] }, legend: { gradientLength: HEIGHT } },
          tooltip: [
            { field: 'row', title: 'i' },
            { field: 'col', title: 'j' },
            { field: 're', format: '.6f', title: 'Re ρij' },
            { field: 'im', format: '.6f', title: 'Im ρij' },
            { field: 'abs', format: '.6f', title: '|ρij|' },
          ],
        },
      },
      {
        mark: { type: 'text', fontSize: 12.5 },
        encoding: {
          text: { field: 'label', type: 'quantitative', format: top > 1 ? '.3~g' : '.3f' },
          color: { condition: { test: `datum.abs > ${0.55 * top}`, value: '#ffffff' }, value: '#1d2330' },
        },
      },
    ],
    config: { view: { stroke: null }, axis: { domain: false, ticks: false, titleFontSize: 12 } },
  };
}

async function show(r: DemoResult): Promise<void> {
  await Promise.all([
    render('plot-x', lineSpec(seriesRows(r, [['qubit 0', 'X0'], ['qubit 1', 'X1']]), '⟨σx⟩', [-1, 1], qubitColors)),
    render('plot-z', lineSpec(seriesRows(r, [['qubit 0', 'Z0'], ['qubit 1', 'Z1']]), '⟨σz⟩', [-1, 1], qubitColors)),
    render('plot-c', lineSpec(seriesRows(r, [['concurrence', 'concurrence:0,1']]), 'C(ρ)', 'auto', { domain: ['concurrence'], range: ['#7b3fb8'] })),
    render('plot-rho', rhoSpec(r)),
  ]);
  const minEig = Math.min(...r.minEigenvalue);
  const xx = r.expect.X0X1 ?? [];
  const xxMax = Math.max(...xx.map(Math.abs));
  const el = $('status');
  el.className = 'status';
  el.textContent =
    `${r.stats.method}: ${r.stats.steps} steps, solved in ${r.solveMs.toFixed(1)} ms in the worker · ` +
    (minEig >= -1e-9
      ? `ρ(t) stays a density matrix ✓ · max |⟨σxσx⟩| = ${xxMax.toPrecision(3)}`
      : `ρ(t) is NOT a density matrix: min eigenvalue ${minEig.toPrecision(3)}, max |⟨σxσx⟩| = ${xxMax.toPrecision(3)}`);
  $('cp-detail').textContent = r.params.coupling === 'paper'
    ? `engine: min eigenvalue of the normalised Kossakowski matrix ${r.stats.cp_min_eigenvalue.toPrecision(3)}; of ρ(t) ${minEig.toPrecision(3)}`
    : '';
  state.result = r;
  state.runs += 1;
  state.error = undefined;
  state.busy = pending !== null || inFlight !== null;
  state.ready = true;
}
