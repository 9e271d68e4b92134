/**
 * `mesolve`, `steadystate` and batched solves (QuTiP's names), synchronous in the calling
 * thread. Results are plain objects of typed arrays copied out of WebAssembly memory: nothing in
 * them needs freeing. (A batch's results are views into one buffer per batch, see
 * {@link mesolveBatch}.)
 * @module
 */
import { NestqError, type NestqErrorCode } from './errors.js';
import { Model, withModel } from './model.js';
import { call, toNestqError, type RawModule } from './raw.js';
import type { ModelSpec, ResultJSON, SdeTrajectoriesJSON, StatsJSON, TrajectoriesJSON } from './spec.js';
import type { DensityMatrixData } from './state.js';

type RawResult = RawModule['RawResult']['prototype'];

/** Options of {@link mesolve}. */
export interface MesolveOptions {
  /**
   * Called with the fraction done (0…1) after output times and integrator steps. Return
   * `false` to abort (the solve then throws `NestqError{code: "aborted"}`).
   */
  onProgress?: (fraction: number) => boolean | void;
  /**
   * Aborts the solve when signalled. A synchronous solve blocks its thread, so the signal is
   * seen only if it is triggered from `onProgress` or before the call; to abort from elsewhere
   * use {@link mesolveAsync}, which runs in a worker.
   */
  signal?: AbortSignal;
  /** Values overriding some of the model's `parameters`. */
  parameters?: Record<string, number>;
}

/** Result of {@link mesolve}; the same content as the result file ({@link ResultJSON}). */
export interface MesolveResult {
  /** Output times. */
  times: Float64Array;
  /** Re Tr(O ρ(t)) for every observable. */
  expect: Record<string, Float64Array>;
  /** Im Tr(O ρ(t)) for the observables that are not real by construction. */
  expectImag: Record<string, Float64Array>;
  /** Measures over time (`concurrence:0,1`, …). */
  measures: Record<string, Float64Array>;
  /** |Tr ρ − 1|, max|ρ − ρ†| and the smallest eigenvalue of ρ at each output time. */
  physicality: { traceDrift: Float64Array; hermiticityError: Float64Array; minEigenvalue: Float64Array };
  /**
   * ρ at the last output time. Method `mpo` leaves `data` empty when the dense ρ exceeds the
   * memory budget (`stats.mpo.final_state_omitted`; `dims` are still the model's).
   */
  finalState: DensityMatrixData;
  /** Method, steps, warnings (e.g. the complete-positivity warning of the NEST cross term). */
  stats: StatsJSON;
  /**
   * Trajectory methods (`mcsolve`, `ssesolve`, `smesolve`) only: the standard error of each
   * observable's ensemble mean at each output time (for a complex observable, of its real and
   * imaginary parts together).
   */
  stdExpect?: Record<string, Float64Array>;
  /**
   * Trajectory methods only: the ensemble — jump records ({@link TrajectoriesJSON}, `mcsolve`)
   * or measurement records ({@link SdeTrajectoriesJSON}, `ssesolve`/`smesolve`), seed, size.
   */
  trajectories?: TrajectoriesJSON | SdeTrajectoriesJSON;
  /** The result file, identical in shape to the native `nestq run` output. */
  toJSON(): ResultJSON;
}

/** Parses the `{std_expect, trajectories}` JSON of a result of a trajectory method. */
function trajectoryFields(se: Record<string, number[]> | undefined, traj: TrajectoriesJSON | SdeTrajectoriesJSON | undefined): Pick<MesolveResult, 'stdExpect' | 'trajectories'> {
  if (!se || !traj) return {};
  const stdExpect: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(se)) stdExpect[k] = Float64Array.from(v);
  return { stdExpect, trajectories: traj };
}

function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new NestqError('aborted', `aborted by the caller: ${String(signal.reason ?? 'AbortSignal')}`);
}

function progressFn(opts: MesolveOptions): ((f: number) => boolean) | undefined {
  const { onProgress, signal } = opts;
  if (!onProgress && !signal) return undefined;
  return (f: number) => {
    if (signal?.aborted) return false;
    const r = onProgress?.(f);
    return r !== false && !signal?.aborted;
  };
}

/** Copies a raw result out and frees it. */
export function readResult(r: RawResult): MesolveResult {
  try {
    const names = r.expectNames();
    const expect: Record<string, Float64Array> = {};
    const expectImag: Record<string, Float64Array> = {};
    names.forEach((n, i) => {
      expect[n] = r.expectRe(i);
      if (!r.expectIsReal(i)) expectImag[n] = r.expectIm(i);
    });
    const measures: Record<string, Float64Array> = {};
    r.measureNames().forEach((n, i) => (measures[n] = r.measure(i)));
    const fs = r.finalState();
    let finalState: DensityMatrixData;
    try {
      finalState = { dims: Array.from(fs.dims()), data: fs.data() };
    } finally {
      fs.free();
    }
    const tj = r.trajectoriesJson();
    const mc: { std_expect?: Record<string, number[]>; trajectories?: TrajectoriesJSON | SdeTrajectoriesJSON } = tj === undefined ? {} : JSON.parse(tj);
    const res: MesolveResult = {
      times: r.times(),
      expect,
      expectImag,
      measures,
      physicality: { traceDrift: r.traceDrift(), hermiticityError: r.hermiticityError(), minEigenvalue: r.minEigenvalue() },
      finalState,
      stats: JSON.parse(r.statsJson()) as StatsJSON,
      ...trajectoryFields(mc.std_expect, mc.trajectories),
      toJSON: () => resultToJSON(res),
    };
    return res;
  } catch (e) {
    throw toNestqError(e);
  } finally {
    r.free();
  }
}

/** The result file of a {@link MesolveResult}. */
export function resultToJSON(r: MesolveResult): ResultJSON {
  const expect: ResultJSON['expect'] = {};
  for (const [k, re] of Object.entries(r.expect)) {
    const im = r.expectImag[k];
    expect[k] = im ? Array.from(re, (x, i): [number, number] => [x, im[i]!]) : Array.from(re);
  }
  const measures: ResultJSON['measures'] = {};
  for (const [k, v] of Object.entries(r.measures)) measures[k] = Array.from(v);
  const d = r.finalState.data;
  // from the data, not from dims: an omitted MPO final state has the model's dims but no entries
  const n = Math.round(Math.sqrt(d.length / 2));
  const final_state = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j): [number, number] => [d[2 * (i * n + j)]!, d[2 * (i * n + j) + 1]!]));
  const out: ResultJSON = {
    times: Array.from(r.times),
    expect,
    measures,
    physicality: {
      trace_drift: Array.from(r.physicality.traceDrift),
      hermiticity_error: Array.from(r.physicality.hermiticityError),
      min_eigenvalue: Array.from(r.physicality.minEigenvalue),
    },
    final_state,
    stats: r.stats,
  };
  if (r.stdExpect && r.trajectories) {
    const se: Record<string, number[]> = {};
    for (const [k, v] of Object.entries(r.stdExpect)) se[k] = Array.from(v);
    out.std_expect = se;
    out.trajectories = r.trajectories;
  }
  return out;
}

/**
 * Integrates the model's master equation (QuTiP `mesolve`) and evaluates its observables,
 * measures and physicality diagnostics at the output times. Synchronous.
 * @throws NestqError `invalid_model` (with path), `memory_budget`, `numerical`, `aborted`.
 */
export function mesolve(model: Model | ModelSpec | string, options: MesolveOptions = {}): MesolveResult {
  checkSignal(options.signal);
  return withModel(model, (m) => {
    const raw = Model.rawOf(m);
    const p = progressFn(options);
    const params = options.parameters;
    const r = params
      ? call(() => raw.mesolveWith(Object.keys(params), Float64Array.from(Object.values(params)), p))
      : call(() => raw.mesolve(p));
    return readResult(r);
  });
}

/** Options of {@link mcsolve}: the model's `solver` keys of method `mcsolve`, and those of {@link mesolve}. */
export interface McsolveOptions extends MesolveOptions {
  /** Number of trajectories (≥ 1; default the model's `solver.ntraj`, else 500). */
  ntraj?: number;
  /** Seed of the ensemble (a non-negative integer; default the model's, else drawn from the clock and reported). */
  seed?: number;
  /** Stop once every standard error is ≤ `atol` (a number) or `atol + rtol·|mean|` (`[atol, rtol]`). */
  targetTol?: number | [number, number];
  /** Compute the no-jump trajectory once and weight it (Abdelhafez et al. 2019). */
  improvedSampling?: boolean;
  /** Return every trajectory's expectations in `trajectories.runs_expect`. */
  keepRunsResults?: boolean;
}

/** Result of {@link mcsolve}: a {@link MesolveResult} whose `stdExpect` and `trajectories` (jump records) are set. */
export type McsolveResult = MesolveResult & { stdExpect: Record<string, Float64Array>; trajectories: TrajectoriesJSON };

/**
 * Quantum-jump (Monte Carlo wave-function) trajectories of the model (QuTiP 5 `mcsolve`): the
 * ensemble means of its observables with their standard errors, the jump records, and the
 * averaged final state. Runs the model with `solver.method` set to `"mcsolve"` and the given
 * options merged into its `solver` (the model's tolerances, `timeout` and `memory_budget_mb`
 * apply). Trajectories run on the threads of the threaded build; results depend only on the
 * seed, not on the thread count. Synchronous.
 * @throws NestqError `invalid_model` (path e.g. `$.solver.ntraj`; a generator that is not
 *   completely positive, at its cross term), `numerical`, `timeout`, `aborted`.
 */
export function mcsolve(model: ModelSpec | string, options: McsolveOptions = {}): McsolveResult {
  const spec = (typeof model === 'string' ? JSON.parse(model) : structuredClone(model)) as ModelSpec & { solver?: Record<string, unknown> };
  const solver: Record<string, unknown> = { ...(spec.solver ?? {}), method: 'mcsolve' };
  const keys: [keyof McsolveOptions, string][] = [
    ['ntraj', 'ntraj'],
    ['seed', 'seed'],
    ['targetTol', 'target_tol'],
    ['improvedSampling', 'improved_sampling'],
    ['keepRunsResults', 'keep_runs_results'],
  ];
  for (const [k, key] of keys) if (options[k] !== undefined) solver[key] = options[k];
  // the density-matrix options that mcsolve refuses are dropped, the rest kept
  for (const k of ['dt', 'krylov_dim', 'renormalize', 'physicality', 'chi_max', 'chi_min', 'cutoff', 'order', 'trotter_check']) delete solver[k];
  // method mcsolve always yields std_expect and trajectories (RawResult.trajectoriesJson)
  return mesolve({ ...spec, solver } as ModelSpec, options) as McsolveResult;
}

/** A monitored jump of {@link smesolve}: an index into the model's `jumps`, or the index with a detection efficiency 0 ≤ η ≤ 1. */
export type ScOp = number | { jump: number; efficiency?: number };

/** Options of {@link smesolve} and {@link ssesolve}: the model's `solver` keys of those methods, and those of {@link mesolve}. */
export interface SdeOptions extends MesolveOptions {
  /** Number of trajectories (≥ 1; default the model's `solver.ntraj`, else 500). */
  ntraj?: number;
  /** Seed of the ensemble (a non-negative integer; default the model's, else drawn from the clock and reported). */
  seed?: number;
  /** Stop once every standard error is ≤ `atol` (a number) or `atol + rtol·|mean|` (`[atol, rtol]`). */
  targetTol?: number | [number, number];
  /** Return every trajectory's expectations in `trajectories.runs_expect`. */
  keepRunsResults?: boolean;
  /** Step (model time unit; default the model's `solver.dt`, else 0.001). */
  dt?: number;
  /** `smesolve` only: the monitored jumps (default every collapse operator at efficiency 1). */
  scOps?: ScOp[];
  /** Heterodyne detection (two channels per monitored jump; QuTiP 5's convention). */
  heterodyne?: boolean;
  /** Scheme: `rouchon` (default; keeps ρ a density matrix), `milstein` or `euler`. */
  sdeMethod?: 'euler' | 'milstein' | 'rouchon';
  /** Return the currents and Wiener increments per output interval; `true` = `'end'`. */
  storeMeasurement?: boolean | 'start' | 'middle' | 'end';
}

/** Result of {@link smesolve}/{@link ssesolve}: a {@link MesolveResult} with `stdExpect`, `trajectories` and, with `storeMeasurement`, the records as typed arrays. */
export type SdeResult = MesolveResult & {
  stdExpect: Record<string, Float64Array>;
  trajectories: SdeTrajectoriesJSON;
  /** With `storeMeasurement`: `measurement[k][i]`, the currents of trajectory k, channel i, one per output interval; else null. */
  measurement: Float64Array[][] | null;
  /** With `storeMeasurement`: `dW[k][i]`, the Wiener increments summed over each output interval; else null. */
  dW: Float64Array[][] | null;
};

function sdeRun(method: 'smesolve' | 'ssesolve', model: ModelSpec | string, options: SdeOptions, fromExperiment?: Record<string, number[][]>): SdeResult {
  const spec = (typeof model === 'string' ? JSON.parse(model) : structuredClone(model)) as ModelSpec & { solver?: Record<string, unknown> };
  const solver: Record<string, unknown> = { ...(spec.solver ?? {}), method };
  const keys: [keyof SdeOptions, string][] = [
    ['ntraj', 'ntraj'],
    ['seed', 'seed'],
    ['targetTol', 'target_tol'],
    ['keepRunsResults', 'keep_runs_results'],
    ['dt', 'dt'],
    ['scOps', 'sc_ops'],
    ['heterodyne', 'heterodyne'],
    ['sdeMethod', 'sde_method'],
    ['storeMeasurement', 'store_measurement'],
  ];
  for (const [k, key] of keys) if (options[k] !== undefined) solver[key] = options[k];
  // the density-matrix and jump-trajectory options these methods refuse are dropped, the rest kept
  for (const k of ['krylov_dim', 'renormalize', 'chi_max', 'chi_min', 'cutoff', 'order', 'trotter_check', 'improved_sampling', 'norm_tol']) delete solver[k];
  if (method === 'ssesolve') delete solver['sc_ops'];
  if (fromExperiment) {
    solver['from_experiment'] = fromExperiment;
    delete solver['ntraj'];
    delete solver['dt'];
  }
  const r = mesolve({ ...spec, solver } as ModelSpec, options) as MesolveResult & { stdExpect: Record<string, Float64Array>; trajectories: SdeTrajectoriesJSON };
  const typed = (x: number[][][] | null): Float64Array[][] | null => (x ? x.map((traj) => traj.map((ch) => Float64Array.from(ch))) : null);
  return Object.assign(r, { measurement: typed(r.trajectories.measurement), dW: typed(r.trajectories.dW) });
}

/**
 * Diffusive trajectories of the stochastic master equation (QuTiP 5 `smesolve`): continuous
 * homodyne (or heterodyne) detection of the model's jumps `scOps` at their efficiencies; the
 * ensemble means of the observables with their standard errors, the measurement records on
 * request, the averaged final state, and the physicality of the conditional states. Runs the
 * model with `solver.method` `"smesolve"` and the options merged into its `solver`
 * (docs/model-format.md, "Diffusive trajectories"). Results depend only on the seed, not on the
 * thread count. Synchronous.
 * @throws NestqError `invalid_model` (path e.g. `$.solver.sc_ops[0].efficiency`; a generator
 *   that is not completely positive, at its cross term), `numerical` (a step too large for
 *   Euler/Milstein), `timeout`, `aborted`.
 */
export function smesolve(model: ModelSpec | string, options: SdeOptions = {}): SdeResult {
  return sdeRun('smesolve', model, options);
}

/**
 * Diffusive pure-state trajectories of the stochastic Schrödinger equation (QuTiP 5 `ssesolve`):
 * every collapse operator monitored with efficiency 1 (so `scOps` is not an option), a pure
 * initial state. Otherwise as {@link smesolve}.
 * @throws NestqError as {@link smesolve}; `invalid_model` at `$.initial` for a mixed state.
 */
export function ssesolve(model: ModelSpec | string, options: Omit<SdeOptions, 'scOps'> = {}): SdeResult {
  return sdeRun('ssesolve', model, options);
}

/**
 * Filters one measured record (QuTiP 5 `run_from_experiment`): the conditional state of the
 * stochastic master equation (`method` `"smesolve"`, default) or Schrödinger equation driven by
 * the given Wiener increments, or by the measured currents when `measurement` is true (a current
 * `f·(⟨s + s†⟩ + ΔW/Δt)` with the expectation at the interval's start). `record[i]` holds channel
 * i's values, one per output interval; the model's output times must be evenly spaced (one step
 * per interval).
 * @throws NestqError `invalid_model` at `$.solver.from_experiment…` for a record of the wrong shape,
 *   at `$.times` for an uneven grid.
 */
export function runFromExperiment(
  model: ModelSpec | string,
  record: ArrayLike<number>[],
  options: Omit<SdeOptions, 'ntraj' | 'dt' | 'targetTol'> & { measurement?: boolean; method?: 'smesolve' | 'ssesolve' } = {},
): SdeResult {
  const rec = record.map((ch) => Array.from(ch));
  return sdeRun(options.method ?? 'smesolve', model, options, options.measurement ? { measurement: rec } : { dW: rec });
}

/** Steady state of a time-independent model (sparse LU, QuTiP's direct method). */
export interface SteadyStateResult {
  /** ρ_ss. */
  rho: DensityMatrixData;
  /** ‖𝓛 ρ_ss‖ (Frobenius). */
  residual: number;
  /** Tr(O ρ_ss) as [re, im] for each observable of the model. */
  expect: Record<string, [number, number]>;
}

/** Steady state ρ_ss with 𝓛ρ_ss = 0, Tr ρ_ss = 1 (QuTiP `steadystate`). */
export function steadystate(model: Model | ModelSpec | string): SteadyStateResult {
  return withModel(model, (m) => {
    const raw = Model.rawOf(m);
    const j = JSON.parse(call(() => raw.steadystate())) as { rho: [number, number][][]; residual: number; expect: Record<string, [number, number]> };
    const n = j.rho.length;
    const data = new Float64Array(2 * n * n);
    j.rho.forEach((row, i) => row.forEach((z, k) => data.set(z, 2 * (i * n + k))));
    return { rho: { dims: m.dims, data }, residual: j.residual, expect: j.expect };
  });
}

/** One entry of a batch: a result or the error of that entry. */
export type BatchEntry = { ok: true; result: MesolveResult } | { ok: false; error: NestqError };

type RawBatch = RawModule['RawBatch']['prototype'];

/** One element of `RawBatch.bulkLayout()` (schema in its docstring, crates/nestq-wasm/src/lib.rs). */
type BulkEntry =
  | {
      ok: true;
      offset: number;
      dims: number[];
      expect: string[];
      real: boolean[];
      measures: string[];
      lengths: number[];
      stats: StatsJSON;
      std_expect?: Record<string, number[]>;
      trajectories?: TrajectoriesJSON;
    }
  | { ok: false; code: NestqErrorCode; message: string; path?: string };

/** A result of a bulk read: `data.subarray` views, series after series in the layout's order. */
function bulkResult(e: Extract<BulkEntry, { ok: true }>, data: Float64Array): MesolveResult {
  let at = e.offset;
  let k = 0;
  const next = (): Float64Array => {
    const end = at + e.lengths[k++]!;
    const v = data.subarray(at, end);
    at = end;
    return v;
  };
  const times = next();
  const expect: Record<string, Float64Array> = {};
  const expectImag: Record<string, Float64Array> = {};
  e.expect.forEach((n, i) => {
    expect[n] = next();
    if (!e.real[i]) expectImag[n] = next();
  });
  const measures: Record<string, Float64Array> = {};
  for (const n of e.measures) measures[n] = next();
  const physicality = { traceDrift: next(), hermiticityError: next(), minEigenvalue: next() };
  const finalState: DensityMatrixData = { dims: e.dims, data: next() };
  if (k !== e.lengths.length || at > data.length) {
    throw new Error(`nestq: bulk layout and data disagree (${k} of ${e.lengths.length} series, ${at} of ${data.length} numbers)`);
  }
  const res: MesolveResult = {
    times,
    expect,
    expectImag,
    measures,
    physicality,
    finalState,
    stats: e.stats,
    ...trajectoryFields(e.std_expect, e.trajectories),
    toJSON: () => resultToJSON(res),
  };
  return res;
}

/**
 * Converts a raw batch into entries and frees it, with a constant number of boundary calls:
 * `bulkLayout` (one JSON text, parsed once) and `bulkData` (one `Float64Array` of every series
 * of every entry; the results are views into it). Entry errors become `NestqError`s with the
 * code, message and path that `RawBatch.take` would throw; a panic throws.
 * @internal also used by bench/wasm_bench.mjs on the raw threaded module
 */
export function readBatch(b: RawBatch): BatchEntry[] {
  try {
    const layout = JSON.parse(b.bulkLayout()) as BulkEntry[];
    const data = b.bulkData();
    return layout.map((e): BatchEntry => (e.ok ? { ok: true, result: bulkResult(e, data) } : { ok: false, error: new NestqError(e.code, e.message, e.path) }));
  } catch (e) {
    throw toNestqError(e);
  } finally {
    b.free();
  }
}

/**
 * Solves many models in parallel (rayon; on worker threads in the threaded build) and returns
 * one {@link BatchEntry} per model, in input order: `{ok: true, result}` with the same content
 * as {@link mesolve} of that model, or `{ok: false, error}` for a model whose
 * solve failed (`NestqError` `numerical`, `memory_budget`, … with the same code, message and
 * path as `mesolve` would throw).
 *
 * The results' typed arrays are read out of WebAssembly in one piece: they are `subarray` views
 * into one `ArrayBuffer` shared by every result of the call (nothing to free; each view covers
 * only its own series). So keeping any one result alive keeps the whole batch's numbers alive,
 * and transferring or detaching `result.times.buffer` (e.g. in a `postMessage` transfer list)
 * empties every result of the batch: `slice()` an array to hold or transfer it on its own.
 * @throws NestqError for the whole call: `parse` / `invalid_model` for a model that does not
 *   parse (path `models[i].…`), `panic` if the engine panicked.
 */
export function mesolveBatch(models: readonly (ModelSpec | string)[]): BatchEntry[] {
  const texts = models.map((m) => (typeof m === 'string' ? m : JSON.stringify(m)));
  return readBatch(call((m) => m.mesolveBatch(texts)));
}

/**
 * Solves one model for many parameter sets in parallel: `sets[k]` overrides some of the
 * model's `parameters` (every set must name the same parameters). Returns one
 * {@link BatchEntry} per set, in order: the result of {@link mesolve} with
 * `{parameters: sets[k]}`, or the error that call would throw (e.g.
 * `invalid_model` with path `$.jumps[0].rate` for a negative rate, `invalid_argument` with path
 * `parameters.<name>` for a name the model does not define). Results are views into one buffer
 * per call, as in {@link mesolveBatch}. An empty `sets` returns `[]`.
 * @throws NestqError for the whole call: `invalid_argument` (path `sets[k]`) when a set names
 *   other parameters than the first, or (path `parameters.<name>`) for a non-finite value;
 *   `invalid_model` for a model that does not parse; `panic` if the engine panicked.
 */
export function mesolveSweep(model: Model | ModelSpec | string, sets: readonly Record<string, number>[]): BatchEntry[] {
  const first = sets[0];
  if (!first) return [];
  const names = Object.keys(first);
  const values = new Float64Array(sets.length * names.length);
  sets.forEach((s, k) => {
    const keys = Object.keys(s);
    if (keys.length !== names.length || names.some((n) => !(n in s))) {
      throw new NestqError('invalid_argument', `every set must name the same parameters (${names.join(', ')})`, `sets[${k}]`);
    }
    names.forEach((n, i) => (values[k * names.length + i] = s[n]!));
  });
  return withModel(model, (m) => readBatch(call(() => Model.rawOf(m).sweep(names, values))));
}
