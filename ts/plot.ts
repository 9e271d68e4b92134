/**
 * SVG plots of a result with Vega-Lite, rendered headless by Vega (no DOM, no canvas needed).
 * Node-side helper of the CLI (`nestq run --plot FILE.svg`), not re-exported from the package's
 * main module. `vega` and `vega-lite` are optional peer dependencies of nestq (a library or
 * browser user does not install a plotting stack): they are imported on the first plot, and a
 * {@link PlotDependencyError} says how to install them when they are missing.
 * @module
 */
import type * as Vega from 'vega';
import type * as VegaLite from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { resultTable, type ResultSeries } from './csv.js';
import type { MesolveResult } from './solve.js';
import type { ResultJSON } from './spec.js';

/** Options of {@link resultToSVG}. */
export interface PlotOptions {
  /** Title above the plot (the CLI uses the model's `name`, else the model file's name). */
  title?: string;
  /** Width of each panel's plotting area in px (default 640). */
  width?: number;
  /** Height of each panel's plotting area in px (default 260). */
  height?: number;
}

interface Point {
  t: number;
  series: string;
  value: number;
}

/** Long-format rows (one per series and output time) for Vega-Lite. */
function points(times: ArrayLike<number>, series: readonly ResultSeries[], label: (s: ResultSeries) => string): Point[] {
  return series.flatMap((s) => Array.from(times, (t, i) => ({ t, series: label(s), value: s.values[i]! })));
}

/** One line-chart panel: `value` over `t`, one coloured line per series, in data order. */
function panel(values: Point[], lines: number, yTitle: string, legendTitle: string, width: number, height: number) {
  return {
    width,
    height,
    data: { values },
    mark: { type: 'line' as const, clip: true },
    encoding: {
      x: { field: 't', type: 'quantitative' as const, title: 't', scale: { nice: false } },
      y: { field: 'value', type: 'quantitative' as const, title: yTitle, scale: { zero: false } },
      color: { field: 'series', type: 'nominal' as const, title: legendTitle, sort: null, scale: { scheme: lines > 10 ? 'tableau20' : 'tableau10' } },
    },
  };
}

/**
 * Renders a result as an SVG document: a panel with the observables ⟨O⟩(t) = Tr(O ρ(t)) over
 * the output times and, if the model has measures, a second panel with the measures (entropies
 * in nats), each with a legend. A complex observable is plotted by its real part and labelled
 * `O (real part)`. Non-finite values are left out of the lines. Time is in the model's unit.
 * @returns The SVG text (starts with `<svg`).
 */
export async function resultToSVG(result: MesolveResult | ResultJSON, options: PlotOptions = {}): Promise<string> {
  const { width = 640, height = 260 } = options;
  const { times, series } = resultTable(result);
  const complex = new Set(series.filter((s) => s.kind === 'observable_imag').map((s) => s.name));
  const observables = series.filter((s) => s.kind === 'observable');
  const measures = series.filter((s) => s.kind === 'measure');
  const panels = [
    panel(
      points(times, observables, (s) => (complex.has(s.name) ? `${s.name} (real part)` : s.name)),
      observables.length,
      '⟨O⟩',
      'observable',
      width,
      height,
    ),
  ];
  if (measures.length > 0) panels.push(panel(points(times, measures, (s) => s.name), measures.length, 'measure', 'measure', width, height));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: options.title ?? 'nestq result', anchor: 'start' },
    vconcat: panels,
    resolve: { scale: { color: 'independent' } },
    config: { background: 'white', legend: { labelLimit: 320 } },
  };
  return specToSVG(spec);
}

/** A time window to shade in the time panels of {@link networkToSVG} (e.g. a stimulus presentation). */
export interface TimeWindow {
  /** Start and end (ms). */
  start: number;
  end: number;
  /** Text at the top of the window in the raster (e.g. the digit shown). */
  label?: string;
}

/** A panel of {@link networkToSVG}. */
export type NetworkPanel = 'raster' | 'v' | 'readouts' | 'currents' | 'concurrence' | 'gamma';
/** A panel with choices: `bridges` lists the bridges (indices in the result) a bridge panel shows. */
export interface NetworkPanelOptions {
  panel: NetworkPanel;
  bridges?: number[];
}

/** Options of {@link networkToSVG}. */
export interface NetworkPlotOptions extends PlotOptions {
  /**
   * Panels, top to bottom (panels without data are skipped). Default: `raster`, `v`, and with
   * bridges `readouts` (or `currents` if {@link alpha} is given) and `concurrence`.
   * `readouts`: Tr(ρ M) per bridged neuron; `currents`: I_q = α·Tr(ρ M) in nA (needs `alpha`);
   * `gamma`: γ(t) of every bridge.
   */
  panels?: (NetworkPanel | NetworkPanelOptions)[];
  /**
   * Raster layout. `neuron`: one row per neuron id; `group`: one raster per neuron group (ids
   * `g[m]`), member index m on the y axis. `auto` (default): `group` when more than 40 neurons
   * spiked and every id is a group member, else `neuron`.
   */
  raster?: 'auto' | 'neuron' | 'group';
  /** Group sizes for `group` rasters (y axis 0…n−1); default: the largest member index that spiked. */
  groupSizes?: Record<string, number>;
  /** Time windows shaded in the raster and the time panels (e.g. stimulus presentations). */
  windows?: TimeWindow[];
  /** Read-out amplitudes [α_i, α_k] (nA) of each bridge, in result order, for the `currents` panel. */
  alpha?: [number, number][];
  /** Height of each raster panel in px (default: `height`). */
  rasterHeight?: number;
}

const MEMBER = /^(.*)\[(\d+)\]$/;

/**
 * Renders a network result (`nestq network`) as an SVG document: a spike raster (neuron vs t in
 * ms; per group for large networks), the recorded membrane potentials V(t) in mV and, if there are
 * bridges, their read-outs Tr(ρ M) per neuron (or currents α·Tr(ρ M)) and their concurrence over
 * time. {@link NetworkPlotOptions} choose the panels and shade stimulus windows.
 * @returns The SVG text (starts with `<svg`).
 */
export async function networkToSVG(result: { toJSON(): Record<string, unknown> } | Record<string, unknown>, options: NetworkPlotOptions = {}): Promise<string> {
  const { width = 640, height = 220, windows = [], alpha } = options;
  const j = ('toJSON' in result && typeof result.toJSON === 'function' ? result.toJSON() : result) as {
    times: number[];
    v: Record<string, number[]>;
    spikes: { neuron: string; t: number }[];
    bridges: { neurons: [string, string]; expect: Record<string, number[]>; concurrence: number[]; gamma?: number[] }[];
  };
  const lines = (named: [string, number[]][]): Point[] => named.flatMap(([series, vals]) => j.times.map((t, i) => ({ t, series, value: vals[i]! })));
  const tDomain = [j.times[0] ?? 0, j.times.at(-1) ?? 1];
  const xTime = { field: 't', type: 'quantitative' as const, title: 't (ms)', scale: { domain: tDomain, nice: false } };
  /** Shaded windows under a panel's marks (as a layer), labelled in rasters. */
  const windowLayers = (labels: boolean): object[] =>
    windows.length === 0
      ? []
      : [
          {
            data: { values: windows },
            mark: { type: 'rect' as const, color: '#f2b134', opacity: 0.14 },
            encoding: { x: { field: 'start', type: 'quantitative' as const, scale: { domain: tDomain, nice: false }, title: 't (ms)' }, x2: { field: 'end' } },
          },
          ...(labels && windows.some((w) => w.label !== undefined)
            ? [
                {
                  data: { values: windows.filter((w) => w.label !== undefined) },
                  mark: { type: 'text' as const, align: 'center' as const, baseline: 'top' as const, dy: 2, fontSize: 12, fontWeight: 'bold' as const, color: '#8a5a00' },
                  encoding: { x: { field: 'mid', type: 'quantitative' as const }, y: { value: 0 }, text: { field: 'label' } },
                  transform: [{ calculate: '(datum.start + datum.end) / 2', as: 'mid' }],
                },
              ]
            : []),
        ];
  /** A panel, layered over the windows when there are some. */
  const withWindows = (p: { width: number; height: number; title: string } & Record<string, unknown>, labels = false): object => {
    if (windows.length === 0) return p;
    const { width: w, height: h, title, ...marks } = p;
    return { width: w, height: h, title, layer: [...windowLayers(labels), marks] };
  };
  /** A line panel; no legend beyond 20 series (colours repeat). */
  const linePanel = (named: [string, number[]][], yTitle: string, legendTitle: string, title: string): object => {
    const p = panel(lines(named), named.length, yTitle, legendTitle, width, height);
    const x = { ...p.encoding.x, title: 't (ms)', scale: { domain: tDomain, nice: false } };
    const encoding = { ...p.encoding, x, ...(named.length > 20 ? { color: { ...p.encoding.color, legend: null } } : {}) };
    return withWindows({ ...p, encoding, title: named.length > 20 ? `${title} (${named.length} series)` : title });
  };

  const ids = new Set(j.spikes.map((s) => s.neuron));
  const allMembers = ids.size > 0 && [...ids].every((id) => MEMBER.test(id));
  const rasterMode = options.raster === undefined || options.raster === 'auto' ? (ids.size > 40 && allMembers ? 'group' : 'neuron') : options.raster;
  const rasters: object[] = [];
  if (rasterMode === 'group') {
    const groups = new Map<string, { t: number; m: number }[]>();
    for (const s of j.spikes) {
      const g = MEMBER.exec(s.neuron);
      const key = g ? g[1]! : s.neuron;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key)!.push({ t: s.t, m: g ? Number(g[2]) : 0 });
    }
    for (const [g, rows] of groups) {
      const n = options.groupSizes?.[g] ?? Math.max(...rows.map((r) => r.m)) + 1;
      rasters.push(
        withWindows(
          {
            width,
            height: options.rasterHeight ?? height,
            title: `spikes: ${g} (${n} neurons, ${rows.length} spikes)`,
            data: { values: rows },
            mark: { type: 'square' as const, size: 2, opacity: 0.8, color: '#1d2330' },
            encoding: { x: xTime, y: { field: 'm', type: 'quantitative' as const, title: `${g}[m]`, scale: { domain: [0, Math.max(1, n - 1)], nice: false, reverse: true } } },
          },
          true,
        ),
      );
    }
  } else {
    rasters.push(
      withWindows(
        {
          width,
          height: options.rasterHeight ?? height,
          title: 'spikes',
          data: { values: j.spikes },
          mark: { type: 'tick' as const, thickness: 1 },
          encoding: {
            x: xTime,
            y: { field: 'neuron', type: 'nominal' as const, title: 'neuron', sort: null, axis: ids.size > 40 ? { labels: false, ticks: false } : {} },
          },
        },
        true,
      ),
    );
  }

  const vSeries = Object.entries(j.v);
  const defaults: NetworkPanel[] = ['raster', 'v', alpha ? 'currents' : 'readouts', 'concurrence'];
  const panels: object[] = [];
  for (const entry of options.panels ?? defaults) {
    const { panel: which, bridges: chosen } = typeof entry === 'string' ? { panel: entry, bridges: undefined } : entry;
    const shown = chosen ? chosen.map((k) => j.bridges[k]!) : j.bridges;
    if (chosen?.some((k) => j.bridges[k] === undefined)) throw new Error(`networkToSVG: bridges ${JSON.stringify(chosen)} out of range (${j.bridges.length} bridges)`);
    const of = chosen ? ` (${chosen.length} of ${j.bridges.length} bridges)` : '';
    if (which === 'raster') panels.push(...rasters);
    else if (which === 'v' && vSeries.length > 0) panels.push(linePanel(vSeries, 'V (mV)', 'neuron', 'membrane potential'));
    else if (which === 'readouts' && shown.length > 0) {
      const readouts = shown.flatMap((b) => b.neurons.map((id): [string, number[]] => [`${b.neurons.join('–')}: ⟨M⟩ at ${id}`, b.expect[id] ?? []]));
      panels.push(linePanel(readouts, 'Tr(ρ M)', 'bridge read-out', `bridge read-outs (I_q = α·Tr(ρ M))${of}`));
    } else if (which === 'currents' && shown.length > 0) {
      if (!alpha || alpha.length !== j.bridges.length) throw new Error(`networkToSVG: the currents panel needs alpha for each of the ${j.bridges.length} bridges`);
      const currents = (chosen ?? j.bridges.map((_, k) => k)).flatMap((k) =>
        j.bridges[k]!.neurons.map((id, q): [string, number[]] => [`${j.bridges[k]!.neurons.join('–')}: I_q at ${id}`, (j.bridges[k]!.expect[id] ?? []).map((x) => alpha[k]![q]! * x)]),
      );
      panels.push(linePanel(currents, 'I_q (nA)', 'bridge current', `bridge currents I_q = α·Tr(ρ M)${of}`));
    } else if (which === 'concurrence' && shown.length > 0) {
      panels.push(linePanel(shown.map((b): [string, number[]] => [b.neurons.join('–'), b.concurrence]), 'concurrence', 'bridge', `bridge concurrence${of}`));
    } else if (which === 'gamma' && shown.length > 0) {
      panels.push(linePanel(shown.map((b): [string, number[]] => [b.neurons.join('–'), b.gamma ?? []]), 'γ (rad/ms)', 'bridge', `bridge coupling γ = γ₀ e^(−β|V_i − V_k|)${of}`));
    }
  }
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: options.title ?? 'nestq network', anchor: 'start' as const },
    vconcat: panels,
    resolve: { scale: { color: 'independent' as const } },
    config: { background: 'white', legend: { labelLimit: 320 } },
  } as TopLevelSpec;
  return specToSVG(spec);
}

/** One training run for {@link trainingCurvesToSVG}: its label (runs sharing a label are aggregated) and history. */
export interface TrainingRun {
  label: string;
  history: { epoch: number; train_loss: number; test_loss: number; train_acc: number; test_acc: number }[];
}

/**
 * Loss and accuracy curves over epochs as an SVG document: test loss (cross-entropy, nats),
 * training loss and test accuracy. Runs with the same label are drawn as their mean with a ±1
 * standard-deviation band (vega-lite `errorband`, extent `stdev`), so one call plots a seed
 * sweep; a single run is a plain line. Epoch 0 (before training) has no training loss.
 * @returns The SVG text.
 */
export async function trainingCurvesToSVG(runs: TrainingRun[], options: PlotOptions = {}): Promise<string> {
  const { width = 300, height = 220 } = options;
  const rows = runs.flatMap((r, run) =>
    r.history.flatMap((h) => [
      { run, label: r.label, epoch: h.epoch, metric: 'test loss', value: h.test_loss },
      { run, label: r.label, epoch: h.epoch, metric: 'training loss', value: h.train_loss },
      { run, label: r.label, epoch: h.epoch, metric: 'test accuracy', value: h.test_acc },
    ]),
  ).filter((d) => Number.isFinite(d.value));
  const metricPanel = (metric: string) => ({
    width,
    height,
    title: metric,
    transform: [{ filter: { field: 'metric', equal: metric } }],
    layer: [
      { mark: { type: 'errorband' as const, extent: 'stdev' as const, opacity: 0.2 }, encoding: { y: { field: 'value', type: 'quantitative' as const, title: metric, scale: { zero: false } } } },
      { mark: { type: 'line' as const, point: true }, encoding: { y: { field: 'value', type: 'quantitative' as const, aggregate: 'mean' as const, title: metric } } },
    ],
    encoding: {
      x: { field: 'epoch', type: 'quantitative' as const, title: 'epoch' },
      color: { field: 'label', type: 'nominal' as const, title: 'model', sort: null },
    },
  });
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: options.title ?? 'nestq training', anchor: 'start' },
    data: { values: rows },
    hconcat: ['test loss', 'training loss', 'test accuracy'].map(metricPanel),
    config: { background: 'white', legend: { labelLimit: 320 } },
  } as TopLevelSpec;
  return specToSVG(spec);
}

/** `vega` or `vega-lite` is not installed: plotting needs them (optional peer dependencies). */
export class PlotDependencyError extends Error {
  constructor(readonly missing: string) {
    super(`plotting needs the optional packages vega and vega-lite (${missing} is not installed): npm install vega@^6 vega-lite@^6`);
    this.name = 'PlotDependencyError';
  }
}

/** The loaded optional peers. */
export interface PlotRenderer {
  vega: typeof Vega;
  vegaLite: typeof VegaLite;
}

let renderer: Promise<PlotRenderer> | undefined;

/** Whether a failed import means "the package is not installed" (not an error inside it). */
function notInstalled(e: unknown, pkg: string): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' && err?.code !== 'MODULE_NOT_FOUND') return false;
  return typeof err.message === 'string' && (err.message.includes(`'${pkg}'`) || err.message.includes(`"${pkg}"`));
}

async function importPeer<T>(pkg: 'vega' | 'vega-lite', load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    throw notInstalled(e, pkg) ? new PlotDependencyError(pkg) : e;
  }
}

/**
 * Imports `vega` and `vega-lite` once (every plot function calls it; the CLI calls it before a
 * run with `--plot`, so a missing package fails before the solve, not after).
 * @throws {@link PlotDependencyError} if either is not installed.
 */
export function loadPlotRenderer(): Promise<PlotRenderer> {
  renderer ??= (async () => {
    const [vega, vegaLite] = await Promise.all([importPeer('vega', () => import('vega')), importPeer('vega-lite', () => import('vega-lite'))]);
    return { vega, vegaLite };
  })().catch((e: unknown) => {
    renderer = undefined; // a later call may find them (installed meanwhile)
    throw e;
  });
  return renderer;
}

/** Renders a vega-lite specification to SVG text (headless vega view, no canvas). */
export async function specToSVG(spec: TopLevelSpec): Promise<string> {
  const { vega, vegaLite } = await loadPlotRenderer();
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec as Vega.Spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
