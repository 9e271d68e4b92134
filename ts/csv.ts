/**
 * Tabular views of a result: the columns shared by the CSV export ({@link resultToCSV}) and the
 * SVG plot (`./plot.js`).
 * @module
 */
import type { MesolveResult } from './solve.js';
import type { ResultJSON } from './spec.js';

/** One time series of a result. */
export interface ResultSeries {
  /** Observable or measure name as in the model file (`Z0`, `concurrence:0,1`). */
  name: string;
  /** `observable` (Re Tr(O ρ(t))), `observable_imag` (Im Tr(O ρ(t))) or `measure`. */
  kind: 'observable' | 'observable_imag' | 'measure';
  /** One value per output time. */
  values: ArrayLike<number>;
}

/** The output times and every series of a result, in column order. */
export interface ResultTable {
  times: ArrayLike<number>;
  /**
   * Observables in the result's key order (a complex one as its real part followed by its
   * imaginary part), then measures in the result's key order.
   */
  series: ResultSeries[];
}

function isResultJSON(r: MesolveResult | ResultJSON): r is ResultJSON {
  return !('expectImag' in r);
}

/**
 * Flattens a {@link MesolveResult} or a result file ({@link ResultJSON}) into series of the
 * output times. Observables that are complex (pairs `[re, im]` in the file, `expectImag` in a
 * `MesolveResult`) give two series.
 */
export function resultTable(result: MesolveResult | ResultJSON): ResultTable {
  const series: ResultSeries[] = [];
  if (isResultJSON(result)) {
    for (const [name, v] of Object.entries(result.expect)) {
      const pairs = v as ReadonlyArray<number | readonly [number, number]>;
      if (pairs.length > 0 && Array.isArray(pairs[0])) {
        const zs = pairs as ReadonlyArray<readonly [number, number]>;
        series.push({ name, kind: 'observable', values: zs.map((z) => z[0]) });
        series.push({ name, kind: 'observable_imag', values: zs.map((z) => z[1]) });
      } else {
        series.push({ name, kind: 'observable', values: v as number[] });
      }
    }
  } else {
    for (const [name, re] of Object.entries(result.expect)) {
      series.push({ name, kind: 'observable', values: re });
      const im = result.expectImag[name];
      if (im) series.push({ name, kind: 'observable_imag', values: im });
    }
  }
  for (const [name, v] of Object.entries(result.measures)) series.push({ name, kind: 'measure', values: v });
  return { times: result.times, series };
}

/** The CSV column name of a series: `name`, or `name.re` / `name.im` for complex observables. */
export function columnName(s: ResultSeries, complex: boolean): string {
  if (s.kind === 'observable_imag') return `${s.name}.im`;
  return complex ? `${s.name}.re` : s.name;
}

/** RFC 4180 field: quoted (with `"` doubled) if it contains a comma, quote or line break. */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The result as CSV (RFC 4180, CRLF line ends): a header `t,<observable>…,<measure>…` and one
 * row per output time. A complex observable `O` gives the two columns `O.re,O.im`; names with
 * commas (`concurrence:0,1`) are quoted. Numbers are written with full precision (the shortest
 * text that reads back to the same double; `NaN`/`Infinity` as such). Time is in the model's
 * unit; observables are Tr(O ρ(t)), entropies in nats.
 */
export function resultToCSV(result: MesolveResult | ResultJSON): string {
  const { times, series } = resultTable(result);
  const complex = new Set(series.filter((s) => s.kind === 'observable_imag').map((s) => s.name));
  const header = ['t', ...series.map((s) => columnName(s, s.kind !== 'measure' && complex.has(s.name)))];
  const lines = [header.map(csvField).join(',')];
  for (let i = 0; i < times.length; i++) {
    const row = [String(times[i])];
    for (const s of series) row.push(String(s.values[i]));
    lines.push(row.join(','));
  }
  return lines.join('\r\n') + '\r\n';
}
