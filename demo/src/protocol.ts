/** Messages between the page and the solver worker. */
import type { RuntimeInfo, StatsJSON } from 'nestq';
import type { DemoParams } from './model';
import type { ChainParams } from './chain-model';

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

/** What every demo worker posts while it starts the engine (see `startEngine`). */
export type InitMessage = { type: 'ready'; runtime: RuntimeInfo; initMs: number } | { type: 'error'; id: number | null; message: string };

/** A running solve's fraction done (0…1), posted at most every 50 ms (see `progressReporter`). */
export type ProgressMessage = { type: 'progress'; id: number; fraction: number };

export type FromWorker = InitMessage | ProgressMessage | { type: 'result'; result: DemoResult };

// ---------------------------------------------------------------- the chain view's MPO worker

/** Solve the chain of `params` with method `mpo`. */
export type ToChainWorker = { type: 'run'; id: number; params: ChainParams };

/** A chain solve's result, in plain arrays (what the chain view plots and exposes). */
export interface ChainResult {
  id: number;
  params: ChainParams;
  /** Output times. */
  times: number[];
  /** ⟨σz_i⟩(t): `z[i][k]` for site i at `times[k]`. */
  z: number[][];
  /** `stats.mpo.bond_dims`: `bondDims[k][b]`, bond b (sites b, b+1) at `times[k]`. */
  bondDims: number[][];
  /** `stats.mpo.cumulative_truncation_error`: summed discarded weight up to each output time. */
  cumulativeTruncationError: number[];
  /** |Tr ρ − 1| at each output time. */
  traceDrift: number[];
  stats: StatsJSON;
  /** Wall time of `mesolve` in the worker, ms. */
  solveMs: number;
}

export type FromChainWorker = InitMessage | ProgressMessage | { type: 'chain'; result: ChainResult };

// ---------------------------------------------------------------- the MNIST view's network worker

/** Run a network file, posting spikes every `chunkMs` of simulated time. */
export type ToNetworkWorker = { type: 'run'; id: number; spec: import('nestq').NetworkSpec & { record: NonNullable<import('nestq').NetworkSpec['record']> }; chunkMs: number };

export type FromNetworkWorker =
  | InitMessage
  /** The spikes in [previous t, t) ms (time order). */
  | { type: 'spikes'; id: number; t: number; spikes: { neuron: string; t: number }[] }
  | {
      type: 'done';
      id: number;
      /** Every spike of the full run. */
      spikes: { neuron: string; t: number }[];
      stats: Record<string, unknown>;
      times: number[];
      /** Concurrence of each bridge at `times`. */
      concurrence: number[][];
      /** Prefix runs made (the last is the full network). */
      chunks: number;
      /** Wall time of all runs in the worker (ms). */
      computeMs: number;
      /** The engine's wall time of the full run alone (ms). */
      fullRunMs: number;
      /** Every prefix run's spikes were the first spikes of the next run. */
      prefixOk: boolean;
    };
