/**
 * TypeScript types of the model file, version 1 (docs/model-format.md) and of the result file.
 * The same JSON is read by the native `nestq` binary, the npm CLI, this API and the tests.
 *
 * The input types are generated (ts/generated/spec-types.ts, by scripts/build/gen-spec-types.mjs) from
 * the JSON Schemas in schema/, which are generated from the Rust types of crates/nestq-schema;
 * the schemas are normative for field names and types. This module gives them the names the API
 * has always used. The result types below are written by hand.
 * @module
 */
import type {
  Complex,
  CrossTerm,
  HamiltonianTerm,
  InitialState,
  Jump,
  Measure,
  Method,
  ModelFile,
  Modulation,
  RealOrParam,
  Solver,
  Times,
} from './generated/spec-types.js';

export type * from './generated/spec-types.js';

/** A complex number: a real number or `[re, im]`. */
export type ComplexSpec = Complex;
/** A real number or the name of an entry of `parameters`. */
export type ScalarSpec = RealOrParam;
/** `cos(omega·t + phase)` or `exp(−rate·t)` multiplying a coefficient. */
export type ModulationSpec = Modulation;
/** A Hamiltonian term `coef·f(t)·ops` (ops: an operator expression such as `"X0 X1"`). */
export type HamiltonianTermSpec = HamiltonianTerm;
/** A jump `L = √(rate·f(t))·ops` (only `exp` modulation: a rate must stay ≥ 0). */
export type JumpSpec = Jump;
/** A Kossakowski cross term `rate·f(t)·(AρB† − ½{B†A, ρ})` (the NEST paper's "modified Lindblad" term). */
export type CrossSpec = CrossTerm;
/** Initial state: exactly one form. */
export type InitialSpec = InitialState;
/** Output times: evenly spaced (inclusive) or explicit, increasing. */
export type TimesSpec = Times;
/**
 * Integrators (see docs/model-format.md, "Solver"), with the aliases `chebyshev` (= `cheby`) and
 * `stiff` (= `trbdf2`); `mpo` is TEBD on a matrix-product operator for long chains
 * (docs/model-format.md, "MPO solver").
 */
export type MethodName = Method;
/** Solver options (`$.solver`). */
export type SolverSpec = Solver;
/**
 * Measures: `purity`, `trace`, `entropy`, `entropy:i`, `mutual_info:i,j`, `concurrence:i,j`,
 * `negativity:i,j`, `log_negativity:i,j`, `fidelity`.
 */
export type MeasureSpec = Measure;
/** The model file, version 1. */
export type ModelSpec = ModelFile;

/** Run statistics of a result file. */
export interface StatsJSON {
  method: string;
  method_reason: string;
  steps: number;
  rejected_steps: number;
  rhs_evals: number;
  factorizations: number;
  error_estimate: number;
  /** Seconds (null if no clock was available). */
  wall_s: number | null;
  /** Smallest eigenvalue of the normalised Kossakowski matrix (< 0: not completely positive). */
  cp_min_eigenvalue: number;
  warnings: string[];
  /** Method `mpo` only: summed discarded weight of all SVD truncations (relative, Frobenius norm). */
  truncation_error?: number;
  /** Method `mpo` only: summed square roots of the discarded weights, a bound on the accumulated relative Frobenius-norm error of the truncations (compare this one with observable errors). */
  truncation_norm_error?: number;
  /** Method `mpo` only: largest bond dimension reached during the run. */
  max_bond?: number;
  /** Method `mpo` only: step-doubling estimate of the global Trotter error in ‖·‖_F (null with `trotter_check: false`). */
  trotter_error?: number | null;
  /** Method `mpo` only: details of the TEBD run. */
  mpo?: MpoStatsJSON;
}

/** `stats.mpo` of a result of method `mpo` (docs/model-format.md, "MPO solver"). */
export interface MpoStatsJSON {
  /** The Trotter step requested (`solver.dt`, model time unit); the steps taken are ≤ it. */
  dt: number;
  /** Trotter order (2 or 4). */
  order: 2 | 4;
  /** Trotter steps taken. */
  steps: number;
  /** The trace was divided out after every step (`solver.renormalize`). */
  renormalized: boolean;
  /** Largest |Tr ρ − 1| divided out by renormalisation (0 without it). */
  max_renormalization: number;
  /** `final_state` is empty because the dense ρ exceeds the memory budget. */
  final_state_omitted: boolean;
  /**
   * Bond dimensions at each output time: `bond_dims[k][b]` is χ of the bond between sites b and
   * b+1 at `times[k]` (shape times × (N−1); no entries for a single site).
   */
  bond_dims: number[][];
  /** Summed discarded weight up to each output time (one per time; the last is `truncation_error`). */
  cumulative_truncation_error: number[];
}

/**
 * `trajectories` of a result of method `mcsolve` (docs/model-format.md, "Trajectories:
 * mcsolve"; QuTiP 5 `McResult` names).
 */
export interface TrajectoriesJSON {
  /** Trajectories run (fewer than `ntraj` when `target_tol` was met; counts improved sampling's no-jump trajectory). */
  ntraj: number;
  /** The ensemble's seed (given, or drawn from the clock): rerun with it for the same numbers. */
  seed: number;
  /** Labels of the collapse operators (JSON paths of the jumps, or the cross terms whose Kossakowski eigenmodes they are). */
  collapse_ops: string[];
  /** Jump times of each trajectory (QuTiP `col_times`). */
  col_times: number[][];
  /** Which collapse operator jumped, an index into `collapse_ops` (QuTiP `col_which`). */
  col_which: number[][];
  /** Improved sampling: probability of no jump over the whole span (else null). */
  no_jump_probability: number | null;
  /** `target_tol` given: whether it was met (else null). */
  target_tol_reached: boolean | null;
  /** `final_state` is empty because the averaged ρ exceeds the memory budget. */
  final_state_omitted: boolean;
  /** With `keep_runs_results`: every trajectory's expectations (observable → series), else null. */
  runs_expect: Record<string, number[] | [number, number][]>[] | null;
}

/**
 * `trajectories` of a result of method `ssesolve` or `smesolve` (docs/model-format.md,
 * "Diffusive trajectories"; QuTiP 5 `StochasticResult` names).
 */
export interface SdeTrajectoriesJSON {
  /** Trajectories run (fewer than `ntraj` when `target_tol` was met; 1 for `from_experiment`). */
  ntraj: number;
  /** The ensemble's seed (given, or drawn from the clock). */
  seed: number;
  /** Scheme: `euler`, `milstein` or `rouchon`. */
  sde_method: 'euler' | 'milstein' | 'rouchon';
  /** Largest step used (each output interval is divided into equal steps ≤ `solver.dt`), model time unit. */
  dt: number;
  /** Heterodyne detection (two channels per monitored jump). */
  heterodyne: boolean;
  /** The trajectory filtered a given record (`solver.from_experiment`). */
  from_experiment: boolean;
  /** Labels of the measurement channels in record order (heterodyne: the C + C† and −i(C − C†) quadratures of each jump in turn). */
  channels: string[];
  /** Noise factor of each channel's current: 1 (homodyne), √2 (heterodyne). */
  noise_factors: number[];
  /** `target_tol` given: whether it was met (else null). */
  target_tol_reached: boolean | null;
  /** `final_state` is empty because the averaged ρ exceeds the memory budget. */
  final_state_omitted: boolean;
  /** With `keep_runs_results`: every trajectory's expectations (observable → series), else null. */
  runs_expect: Record<string, number[] | [number, number][]>[] | null;
  /**
   * With `store_measurement`: the currents `measurement[k][i][j]` of trajectory k, channel i,
   * output interval j: `f_i·(⟨s_i + s_i†⟩ + ΔW/Δt)`, else null.
   */
  measurement: number[][][] | null;
  /** With `store_measurement`: the Wiener increments `dW[k][i][j]` summed over each output interval, else null. */
  dW: number[][][] | null;
}

/** The result file written by `nestq run` (native and npm alike). */
export interface ResultJSON {
  times: number[];
  /** Real series, or `[re, im]` pairs for observables that are not real by construction. */
  expect: Record<string, number[] | [number, number][]>;
  measures: Record<string, number[]>;
  physicality: { trace_drift: number[]; hermiticity_error: number[]; min_eigenvalue: number[] };
  /** Row-major matrix of `[re, im]` entries. */
  final_state: [number, number][][];
  stats: StatsJSON;
  /** Trajectory methods only: standard error of each observable's ensemble mean at each output time. */
  std_expect?: Record<string, number[]>;
  /** Trajectory methods only: the ensemble (jump records, or measurement records; seed, …). */
  trajectories?: TrajectoriesJSON | SdeTrajectoriesJSON;
}

/** `nestq check`'s report. */
export interface CheckReport {
  dims: number[];
  hilbert_dim: number;
  time_independent: boolean;
  hermiticity_preserving: boolean;
  cp_min_eigenvalue: number;
  completely_positive: boolean;
  method: string;
  method_reason: string;
  warnings: string[];
}
