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
/** Integrators (see docs/model-format.md, "Solver"). */
export type MethodName = 'auto' | 'rk4' | 'dopri5' | 'expm' | 'krylov' | 'trbdf2' | 'stiff';
/** Solver options. */
export interface SolverSpec {
  method?: MethodName;
  rtol?: number;
  atol?: number;
  dt?: number;
  max_steps?: number;
  renormalize?: boolean;
  physicality?: boolean;
  memory_budget_mb?: number;
  krylov_dim?: number;
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
