/**
 * The "Long chain (MPO)" view: a dissipative chain of up to 32 qubits (the benchmark chain
 * bench/mpo_chain32.json, cut to N sites) solved with method `mpo` (TEBD on a matrix-product
 * operator) in the threaded build in a Worker, with progress; drawn as heat maps of ⟨σz_i⟩ and
 * of the bond dimension of every bond over time, and the largest bond with the accumulated
 * truncation error. State on `window.__nestq.chain` for test/browser.test.ts.
 */
import type { RuntimeInfo } from 'nestq';
import type { TopLevelSpec } from 'vega-lite';
import { CHAIN_DEFAULTS, MAX_SITES, type ChainParams } from './chain-model';
import type { ChainResult, FromChainWorker, ToChainWorker } from './protocol';
import { render } from './vega';

/** What the view exposes on `window.__nestq.chain`. */
export interface ChainState {
  /** The chain worker loaded nestq. */
  ready: boolean;
  /** A solve is running. */
  running: boolean;
  /** Results shown. */
  runs: number;
  runtime?: RuntimeInfo;
  /** The parameters the controls show. */
  params: ChainParams;
  /** Progress messages received during the current (or last) solve, and the last fraction. */
  progress: { messages: number; fraction: number };
  /** The result on screen (plotted), with the parameters it was solved with. */
  result?: ChainResult;
  error?: string;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const WIDTH = 560;
const CHI_CHOICES = [8, 16, 32, 64];
const T_CHOICES = [1, 2, 4];
const config = { view: { stroke: '#dfe3ea' }, axis: { gridColor: '#eef0f4', labelFontSize: 11, titleFontSize: 12 } };

/** One heat-map cell: row `row` (a site or a bond) over the time span [t0, t1] around an output time. */
interface Cell {
  t: number;
  t0: number;
  t1: number;
  row: number;
  v: number;
}

/** Cells of `values[row][k]`, each output time k covering the half-way points to its neighbours. */
function cells(times: number[], values: number[][]): Cell[] {
  const last = times.length - 1;
  const mid = (k: number) => 0.5 * (times[k]! + times[k + 1]!);
  return values.flatMap((series, row) => series.map((v, k) => ({ t: times[k]!, t0: k === 0 ? times[0]! : mid(k - 1), t1: k === last ? times[last]! : mid(k), row, v })));
}

/** A rows × time heat map (row 0 at the top). */
function heatSpec(data: Cell[], rows: number, tEnd: number, rowTitle: string, valueTitle: string, scale: Record<string, unknown>, format: string): TopLevelSpec {
  return {
    $schema: SCHEMA,
    width: WIDTH,
    height: Math.max(150, 9 * rows),
    data: { values: data },
    mark: { type: 'rect' },
    encoding: {
      x: { field: 't0', type: 'quantitative', title: 't', scale: { domain: [0, tEnd], nice: false } },
      x2: { field: 't1' },
      y: { field: 'row', type: 'ordinal', title: rowTitle, axis: { labelExpr: 'datum.value % 4 === 0 ? datum.label : ""', ticks: false } },
      color: { field: 'v', type: 'quantitative', title: valueTitle, scale, legend: { gradientLength: Math.max(120, 9 * rows - 20) } },
      tooltip: [
        { field: 'row', title: rowTitle },
        { field: 't', format: '.2f' },
        { field: 'v', format, title: valueTitle },
      ],
    },
    config: { ...config, view: { stroke: null } },
  };
}

/** The largest bond dimension (left axis) and the accumulated truncation error (right axis, log) over t. */
function summarySpec(r: ChainResult): TopLevelSpec {
  const rows = r.times.map((t, k) => ({ t, maxBond: Math.max(1, ...r.bondDims[k]!), trunc: r.cumulativeTruncationError[k]! }));
  return {
    $schema: SCHEMA,
    width: WIDTH,
    height: 170,
    data: { values: rows },
    encoding: { x: { field: 't', type: 'quantitative', title: 't', scale: { domain: [0, r.params.tEnd], nice: false } } },
    layer: [
      {
        mark: { type: 'line', interpolate: 'step-after', color: '#2f6fdb', strokeWidth: 2 },
        encoding: {
          y: { field: 'maxBond', type: 'quantitative', title: 'largest bond χ', scale: { domain: [0, r.params.chiMax] }, axis: { titleColor: '#2f6fdb' } },
          tooltip: [{ field: 't', format: '.2f' }, { field: 'maxBond', title: 'largest χ' }],
        },
      },
      {
        transform: [{ filter: 'datum.trunc > 0' }],
        mark: { type: 'line', color: '#e4572e', strokeWidth: 2, point: { color: '#e4572e', size: 14 } },
        encoding: {
          y: { field: 'trunc', type: 'quantitative', title: 'Σ discarded weight', scale: { type: 'log' }, axis: { orient: 'right', titleColor: '#e4572e', format: '.0e' } },
          tooltip: [{ field: 't', format: '.2f' }, { field: 'trunc', format: '.3e', title: 'Σ discarded weight' }],
        },
      },
    ],
    resolve: { scale: { y: 'independent' } },
    config,
  };
}

export function setupChainView(expose: (s: ChainState) => void): void {
  const state: ChainState = { ready: false, running: false, runs: 0, params: { ...CHAIN_DEFAULTS }, progress: { messages: 0, fraction: 0 } };
  expose(state);
  const sites = $<HTMLInputElement>('chain-sites');
  const chi = $<HTMLSelectElement>('chain-chi');
  const tEnd = $<HTMLSelectElement>('chain-t');
  const runButton = $<HTMLButtonElement>('chain-run');
  const bar = $<HTMLProgressElement>('chain-progress');
  const status = $('chain-status');
  sites.max = String(MAX_SITES);
  for (const c of CHI_CHOICES) chi.add(new Option(String(c), String(c)));
  for (const t of T_CHOICES) tEnd.add(new Option(`t = ${t}`, String(t)));

  const showControls = (p: ChainParams) => {
    sites.value = String(p.sites);
    $<HTMLOutputElement>('chain-sites-value').value = String(p.sites);
    chi.value = String(p.chiMax);
    tEnd.value = String(p.tEnd);
  };
  const readControls = (): ChainParams => ({ sites: Number(sites.value), chiMax: Number(chi.value), tEnd: Number(tEnd.value) });
  const onChange = () => {
    state.params = readControls();
    showControls(state.params);
  };
  sites.addEventListener('input', onChange);
  chi.addEventListener('change', onChange);
  tEnd.addEventListener('change', onChange);
  showControls(state.params);

  const worker = new Worker(new URL('./chain-worker.ts', import.meta.url), { type: 'module', name: 'nestq-chain' });
  let seq = 0;

  function run(): void {
    if (!state.ready || state.running) return;
    state.running = true;
    state.progress = { messages: 0, fraction: 0 };
    runButton.disabled = true;
    bar.value = 0;
    status.className = 'status';
    status.textContent = `solving ${state.params.sites} qubits at χ ≤ ${state.params.chiMax} to t = ${state.params.tEnd}…`;
    const msg: ToChainWorker = { type: 'run', id: ++seq, params: { ...state.params } };
    worker.postMessage(msg);
  }

  async function show(r: ChainResult): Promise<void> {
    const n = r.params.sites;
    await Promise.all([
      render('chain-z', heatSpec(cells(r.times, r.z), n, r.params.tEnd, 'site i', '⟨σz⟩', { scheme: 'redblue', domain: [-1, 1] }, '.4f')),
      render('chain-bonds', heatSpec(cells(r.times, r.bondDims[0]!.map((_, b) => r.bondDims.map((d) => d[b]!))), n - 1, r.params.tEnd, 'bond (i, i+1)', 'χ', { scheme: 'viridis', domain: [1, r.params.chiMax] }, 'd')),
      render('chain-summary', summarySpec(r)),
    ]);
    const s = r.stats;
    const rt = state.runtime;
    status.className = 'status';
    status.textContent =
      `${n} qubits, χ_max ${r.params.chiMax}: largest bond ${s.max_bond}, truncation error ${s.truncation_error!.toExponential(2)}, ` +
      `Trotter estimate ${s.trotter_error == null ? '—' : s.trotter_error.toExponential(2)}, |Tr ρ(t_end) − 1| = ${r.traceDrift.at(-1)!.toExponential(2)} · ` +
      `${s.steps} Trotter steps of dt ≤ ${s.mpo!.dt}, ${s.rhs_evals} gate applications · solved in ${(r.solveMs / 1000).toFixed(2)} s` +
      (rt ? ` (${rt.threaded ? `threaded, ${rt.threads} threads` : 'single-threaded'})` : '');
    state.result = r;
    state.runs += 1;
    state.error = undefined;
  }

  worker.onmessage = async (ev: MessageEvent<FromChainWorker>) => {
    const m = ev.data;
    if (m.type === 'ready') {
      state.runtime = m.runtime;
      state.ready = true;
      runButton.disabled = false;
      $('chain-runtime').textContent = `${m.runtime.threaded ? `threaded (${m.runtime.threads} threads)` : 'single-threaded'} WebAssembly, loaded in ${m.initMs.toFixed(0)} ms`;
      status.textContent = 'Choose N, χ_max and t, then Run.';
    } else if (m.type === 'error') {
      state.error = m.message;
      state.running = false;
      runButton.disabled = !state.ready;
      status.className = 'status error';
      status.textContent = m.message;
    } else if (m.type === 'progress') {
      state.progress = { messages: state.progress.messages + 1, fraction: m.fraction };
      bar.value = m.fraction;
      status.textContent = `solving ${state.params.sites} qubits… ${(100 * m.fraction).toFixed(0)} %`;
    } else if (m.type === 'chain') {
      bar.value = 1;
      await show(m.result);
      state.running = false;
      runButton.disabled = false;
    }
  };
  worker.onerror = (e) => {
    state.error = `chain worker error: ${e.message}`;
    status.className = 'status error';
    status.textContent = state.error;
  };
  runButton.addEventListener('click', run);
}
