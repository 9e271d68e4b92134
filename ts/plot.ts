/**
 * SVG plots of a result with Vega-Lite, rendered headless by Vega (no DOM, no canvas needed).
 * Node-side helper of the CLI (`nestq run --plot FILE.svg`); it pulls in `vega` and
 * `vega-lite`, so it is not re-exported from the package's main module.
 * @module
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
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
  const view = new vega.View(vega.parse(compile(spec).spec as vega.Spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Options of {@link networkToSVG}. */
export type NetworkPlotOptions = PlotOptions;

/**
 * Renders a network result (`nestq network`) as an SVG document: a spike raster (neuron vs t in
 * ms), the recorded membrane potentials V(t) in mV and, if there are bridges, their read-outs
 * Tr(ρ M) per neuron and their concurrence over time.
 * @returns The SVG text (starts with `<svg`).
 */
export async function networkToSVG(result: { toJSON(): Record<string, unknown> } | Record<string, unknown>, options: NetworkPlotOptions = {}): Promise<string> {
  const { width = 640, height = 220 } = options;
  const j = ('toJSON' in result && typeof result.toJSON === 'function' ? result.toJSON() : result) as {
    times: number[];
    v: Record<string, number[]>;
    spikes: { neuron: string; t: number }[];
    bridges: { neurons: [string, string]; expect: Record<string, number[]>; concurrence: number[] }[];
  };
  const lines = (named: [string, number[]][]): Point[] => named.flatMap(([series, vals]) => j.times.map((t, i) => ({ t, series, value: vals[i]! })));
  const vSeries = Object.entries(j.v);
  const panels: object[] = [
    {
      width,
      height,
      title: 'spikes',
      data: { values: j.spikes },
      mark: { type: 'tick' as const, thickness: 1 },
      encoding: {
        x: { field: 't', type: 'quantitative' as const, title: 't (ms)', scale: { domain: [j.times[0] ?? 0, j.times.at(-1) ?? 1], nice: false } },
        y: { field: 'neuron', type: 'nominal' as const, title: 'neuron', sort: null, axis: j.spikes.length > 0 && new Set(j.spikes.map((s) => s.neuron)).size > 40 ? { labels: false, ticks: false } : {} },
      },
    },
  ];
  if (vSeries.length > 0) panels.push({ ...panel(lines(vSeries), vSeries.length, 'V (mV)', 'neuron', width, height), title: 'membrane potential' });
  if (j.bridges.length > 0) {
    const readouts = j.bridges.flatMap((b) => b.neurons.map((id): [string, number[]] => [`${b.neurons.join('–')}: ⟨M⟩ at ${id}`, b.expect[id] ?? []]));
    panels.push({ ...panel(lines(readouts), readouts.length, 'Tr(ρ M)', 'bridge read-out', width, height), title: 'bridge read-outs (I_q = α·Tr(ρ M))' });
    const conc = j.bridges.map((b): [string, number[]] => [b.neurons.join('–'), b.concurrence]);
    panels.push({ ...panel(lines(conc), conc.length, 'concurrence', 'bridge', width, height), title: 'bridge concurrence' });
  }
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: options.title ?? 'nestq network', anchor: 'start' as const },
    vconcat: panels,
    resolve: { scale: { color: 'independent' as const } },
    config: { background: 'white', legend: { labelLimit: 320 } },
  } as TopLevelSpec;
  const view = new vega.View(vega.parse(compile(spec).spec as vega.Spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
