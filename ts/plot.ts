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
