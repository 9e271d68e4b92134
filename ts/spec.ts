/**
 * TypeScript types of the model file, version 1 (docs/model-format.md) and of the result file.
 * The same JSON is read by the native `nestq` binary, the npm CLI, this API and the tests.
 * @module
 */

/** A complex number: a real number or `[re, im]`. */
export type ComplexSpec = number | [number, number];
/** A number or the name of an entry of `parameters`. */
export type ScalarSpec = number | string;
/** `cos(omega·t + phase)` or `exp(−rate·t)` multiplying a coefficient. */
export type ModulationSpec = { cos: { omega: ScalarSpec; phase?: ScalarSpec } } | { exp: { rate: ScalarSpec } };

/** A Hamiltonian term `coef·f(t)·ops` (ops: an operator expression such as `"X0 X1"`). */
export interface HamiltonianTermSpec {
  coef: ComplexSpec | string;
  ops: string;
  modulation?: ModulationSpec;
}
/** A jump `L = √(rate·f(t))·ops`. */
export interface JumpSpec {
  rate: ScalarSpec;
  ops: string;
  modulation?: ModulationSpec;
}
/** A Kossakowski cross term `rate·f(t)·(AρB† − ½{B†A, ρ})` (the NEST paper's "modified Lindblad" term). */
export interface CrossSpec {
  rate: ScalarSpec;
  a: string;
  b: string;
  modulation?: ModulationSpec;
}
/** Initial state: exactly one form. */
export type InitialSpec =
  | { basis: number[] }
  | { product: ComplexSpec[][] }
  | { ket: ComplexSpec[] }
  | { dm: ComplexSpec[][] };
/** Output times: evenly spaced (inclusive) or explicit, increasing. */
export type TimesSpec = { start: number; stop: number; count: number } | number[];
/**
 * Integrators (see docs/model-format.md, "Solver"); `mpo` is TEBD on a matrix-product operator
 * for long chains (docs/model-format.md, "MPO solver").
 */
export type MethodName = 'auto' | 'rk4' | 'dopri5' | 'expm' | 'krylov' | 'cheby' | 'trbdf2' | 'stiff' | 'mpo';
/**
 * Solver options (`$.solver`). Times are in the model's time unit (the inverse of the unit of
 * the Hamiltonian coefficients and rates, ħ = 1). The MPO keys (`chi_max`, `chi_min`, `cutoff`,
 * `order`, `trotter_check`) are refused with any method other than `"mpo"`.
 */
export interface SolverSpec {
  /** Default `"auto"` (`expm` for small time-independent models, else `dopri5`). */
  method?: MethodName;
  /** Relative tolerance of the adaptive methods (default 1e-6, QuTiP's). */
  rtol?: number;
  /** Absolute tolerance of the adaptive methods (default 1e-8, QuTiP's). */
  atol?: number;
  /** Wall-clock limit of one solve, seconds (> 0); reaching it throws `NestqError{code: "timeout"}` naming the time reached. */
  timeout?: number;
  /**
   * Fixed step (model time unit): required by `rk4` and by `mpo` (there the Trotter step; each
   * output interval is divided into ⌈Δt/dt⌉ equal steps, so the steps taken are ≤ dt).
   */
  dt?: number;
  /** Largest number of steps in total (default 10⁷). */
  max_steps?: number;
  /** Divide ρ by its trace after every step (default false: it hides integration error). */
  renormalize?: boolean;
  /** Compute trace drift, Hermiticity error and min eigenvalue per output (default true; `mpo`: trace drift only). */
  physicality?: boolean;
  /** Largest dense object in MiB (default 2048); larger ones are refused before allocation. */
  memory_budget_mb?: number;
  /** Arnoldi subspace dimension of `krylov` (default 16). */
  krylov_dim?: number;
  /** `mpo` only: largest bond dimension χ kept after every SVD (integer ≥ 1, default 64). */
  chi_max?: number;
  /** `mpo` only: smallest bond dimension kept when that many singular values exist (integer, 1 ≤ chi_min ≤ chi_max, default 1). */
  chi_min?: number;
  /**
   * `mpo` only: largest discarded weight per SVD, Σ_discarded s² / Σ s² of the singular values
   * s of the vectorised ρ (relative, Frobenius/Hilbert–Schmidt norm; ≥ 0, default 1e-10).
   * TeNPy's convention (`trunc_cut`): the smallest χ whose discarded weight is ≤ cutoff is kept,
   * then clamped to [chi_min, chi_max]. Not a bound on the error of an observable O, which can
   * be up to ‖O‖_F times larger (use ≤ 1e-12 for 1e-4 agreement with dense evolution).
   */
  cutoff?: number;
  /** `mpo` only: Trotter order, 2 (Strang, default) or 4 (Suzuki's composition of five Strang steps). */
  order?: 2 | 4;
  /** `mpo` only: estimate the Trotter error by step doubling at up to 4 checkpoints (default true; `stats.trotter_error`). */
  trotter_check?: boolean;
}
/**
 * Measures: `purity`, `trace`, `entropy`, `entropy:i`, `mutual_info:i,j`, `concurrence:i,j`,
 * `negativity:i,j`, `log_negativity:i,j`, `fidelity`.
 */
export type MeasureSpec = string;

/** The model file, version 1. */
export interface ModelSpec {
  version?: 1;
  name?: string;
  description?: string;
  /** Local dimension of each site; site 0 is the leftmost tensor factor. */
  dims: number[];
  operators?: Record<string, ComplexSpec[][]>;
  parameters?: Record<string, number>;
  hamiltonian?: HamiltonianTermSpec[];
  jumps?: JumpSpec[];
  cross?: CrossSpec[];
  cp_completion?: boolean;
  initial: InitialSpec;
  times: TimesSpec;
  observables?: Record<string, string>;
  measures?: MeasureSpec[];
  solver?: SolverSpec;
}

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
