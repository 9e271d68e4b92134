/** Messages between the page and the solver worker. */
import type { RuntimeInfo, StatsJSON } from 'nestq';
import type { DemoParams } from './model';

export type ToWorker = { type: 'solve'; id: number; params: DemoParams };

/** A solve's result, in plain arrays (what the page plots and exposes on `window.__nestq`). */
export interface DemoResult {
  id: number;
  params: DemoParams;
  times: number[];
  expect: Record<string, number[]>;
  measures: Record<string, number[]>;
  /** Smallest eigenvalue of ρ(t) at each output time. */
  minEigenvalue: number[];
  /** ρ(t_end): dims and interleaved re/im row-major data. */
  finalState: { dims: number[]; data: number[] };
  stats: StatsJSON;
  /** Wall time of `mesolve` in the worker, ms. */
  solveMs: number;
}

export type FromWorker =
  | { type: 'ready'; runtime: RuntimeInfo; initMs: number }
  | { type: 'progress'; id: number; fraction: number }
  | { type: 'result'; result: DemoResult }
  | { type: 'error'; id: number | null; message: string };
