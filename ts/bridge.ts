/**
 * `NESTBridge`: the NEST paper's quantum bridge between neurons (its Listing 1 /
 * Section III), a small density matrix carried forward in time.
 *
 * For `numQubits` = N (one qubit per bridged neuron):
 *   H = Σᵢ ωᵢ σz⁽ⁱ⁾ + γ Σ_{i<k} σx⁽ⁱ⁾σx⁽ᵏ⁾   (`coupling: "hamiltonian"`),
 *   L_i = √κᵢ σ−⁽ⁱ⁾ (decoherence rate κ),
 * or, instead of the σxσx Hamiltonian term, the paper's "modified Lindblad" cross term
 *   γ (σx⁽ⁱ⁾ρσx⁽ᵏ⁾ − ½{σx⁽ᵏ⁾σx⁽ⁱ⁾, ρ}) + (i↔k)   (`coupling: "paper"`; NOT completely positive:
 *   its Kossakowski matrix has eigenvalue −γ, and ⟨σxσx⟩ can leave [−1, 1]; reported in
 *   {@link NESTBridge.warnings}),
 * or its completion γ D[σx⁽ⁱ⁾ + σx⁽ᵏ⁾] (`coupling: "cp"`, completely positive).
 * The quantum input to neuron i is I_q = α Tr(ρ M⁽ⁱ⁾) (M = σx by default): the paper's
 * `compute_quantum_input`. The coupling may be changed between steps, e.g. the paper's adaptive
 * γ(t) = γ₀ e^(−β|V_i − V_k|) via {@link NESTBridge.adaptCoupling}.
 * @module
 */
import { NestqError } from './errors.js';
import { Owned } from './memory.js';
import { Model } from './model.js';
import { Operator } from './operators.js';
import { call, type RawModule } from './raw.js';
import type { InitialSpec, ModelSpec, SolverSpec, StatsJSON } from './spec.js';
import { DensityMatrix } from './state.js';

type RawEvolver = RawModule['RawEvolver']['prototype'];

/** Options of {@link NESTBridge}; units are the caller's (rates and ω in 1/time, ħ = 1). */
export interface NESTBridgeOptions {
  /** Number of qubits (one per bridged neuron), ≥ 2. Default 2. */
  numQubits?: number;
  /** Coupling strength γ (the paper's γ_ik, equal for all pairs). Default 0.1. */
  couplingStrength?: number;
  /** Decoherence rate κ of the σ− decay on each qubit (≥ 0; number or one per qubit). Default 0.05. */
  decoherenceRate?: number | number[];
  /** Qubit frequencies ω (number or one per qubit). Default 1. */
  omega?: number | number[];
  /** Measurement operator M: `"X"` (default, the paper's σx), `"Y"` or `"Z"`. */
  measurementOperator?: 'X' | 'Y' | 'Z';
  /** Read-out gain α of I_q = α Tr(ρ M) (number or one per qubit). Default 1. */
  alpha?: number | number[];
  /** How γ couples the qubits (see the module docs). Default `"hamiltonian"`. */
  coupling?: 'hamiltonian' | 'paper' | 'cp';
  /** Initial state in model-file form. Default `{basis: [0, …, 0]}` (the paper's |00⟩). */
  initial?: InitialSpec;
  /** Solver options for each step (default: the model file's defaults, `auto`). */
  solver?: SolverSpec;
}

function perQubit(v: number | number[], n: number, field: string, nonNegative: boolean): number[] {
  const arr = typeof v === 'number' ? new Array<number>(n).fill(v) : v;
  if (!Array.isArray(arr) || arr.length !== n) throw new NestqError('invalid_argument', `needs one value per qubit (${n})`, field);
  arr.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new NestqError('invalid_argument', `must be a finite number, got ${String(x)}`, `${field}[${i}]`);
    if (nonNegative && x < 0) throw new NestqError('invalid_argument', `must be ≥ 0, got ${x}`, `${field}[${i}]`);
  });
  return arr;
}

/** The model file a {@link NESTBridge} evolves (exported so CLIs and tests can run it too). */
export function nestBridgeModel(o: NESTBridgeOptions = {}): ModelSpec {
  const n = o.numQubits ?? 2;
  if (!Number.isInteger(n) || n < 2 || n > 10) throw new NestqError('invalid_argument', `must be an integer in [2, 10], got ${n}`, 'numQubits');
  const gamma = o.couplingStrength ?? 0.1;
  if (!Number.isFinite(gamma)) throw new NestqError('invalid_argument', `must be finite, got ${gamma}`, 'couplingStrength');
  const kappa = perQubit(o.decoherenceRate ?? 0.05, n, 'decoherenceRate', true);
  const omega = perQubit(o.omega ?? 1, n, 'omega', false);
  const coupling = o.coupling ?? 'hamiltonian';
  if (!['hamiltonian', 'paper', 'cp'].includes(coupling)) throw new NestqError('invalid_argument', `must be hamiltonian, paper or cp, got ${String(coupling)}`, 'coupling');
  if ((coupling === 'paper' || coupling === 'cp') && gamma < 0) throw new NestqError('invalid_argument', `a dissipative coupling rate must be ≥ 0, got ${gamma}`, 'couplingStrength');
  const sites = [...Array(n).keys()];
  const pairs = sites.flatMap((i) => sites.filter((k) => k > i).map((k) => [i, k] as const));
  const spec: ModelSpec = {
    dims: new Array<number>(n).fill(2),
    parameters: { gamma },
    hamiltonian: sites.map((i) => ({ coef: omega[i]!, ops: `Z${i}` })),
    jumps: sites.map((i) => ({ rate: kappa[i]!, ops: `SM${i}` })),
    initial: o.initial ?? { basis: new Array<number>(n).fill(0) },
    times: [0],
    solver: { physicality: false, ...o.solver },
  };
  if (coupling === 'hamiltonian') spec.hamiltonian!.push(...pairs.map(([i, k]) => ({ coef: 'gamma', ops: `X${i} X${k}` })));
  else spec.cross = pairs.flatMap(([i, k]) => [
    { rate: 'gamma', a: `X${i}`, b: `X${k}` },
    { rate: 'gamma', a: `X${k}`, b: `X${i}` },
  ]);
  if (coupling === 'cp') spec.cp_completion = true;
  return spec;
}

/** A NEST bridge (see the module docs). Free it (or `using`) when done. */
export class NESTBridge extends Owned<RawEvolver> {
  /** Number of qubits. */
  readonly numQubits: number;
  /** Read-out gains α. */
  readonly alpha: number[];
  /** The measurement operator's name. */
  readonly measurementOperator: 'X' | 'Y' | 'Z';
  /** The coupling mode. */
  readonly coupling: 'hamiltonian' | 'paper' | 'cp';
  /** Complete-positivity warnings of the generator (non-empty for `coupling: "paper"`). */
  readonly warnings: string[];
  /** Smallest eigenvalue of the normalised Kossakowski matrix (< 0 for `"paper"`: −γ when κ = 0, e.g. −0.089 for γ = 0.1, κ = 0.05). */
  readonly cpMinEigenvalue: number;
  readonly #measure: Operator[];

  constructor(options: NESTBridgeOptions = {}) {
    const spec = nestBridgeModel(options);
    const n = spec.dims.length;
    const m = options.measurementOperator ?? 'X';
    if (!['X', 'Y', 'Z'].includes(m)) throw new NestqError('invalid_argument', `must be X, Y or Z, got ${String(m)}`, 'measurementOperator');
    const alpha = perQubit(options.alpha ?? 1, n, 'alpha', false);
    const model = new Model(spec);
    let raw: RawEvolver;
    let report;
    try {
      report = model.check();
      raw = call((w) => new w.RawEvolver(Model.rawOf(model)));
    } finally {
      model.free();
    }
    super(raw);
    this.numQubits = n;
    this.alpha = alpha;
    this.measurementOperator = m;
    this.coupling = options.coupling ?? 'hamiltonian';
    this.warnings = report.warnings;
    this.cpMinEigenvalue = report.cp_min_eigenvalue;
    this.#measure = [...Array(n).keys()].map((i) => Operator.parse(spec.dims, `${m}${i}`));
  }

  /** Current time. */
  get time(): number {
    return call(() => this.raw.time());
  }

  /** Current coupling strength γ. */
  get couplingStrength(): number {
    return call(() => this.raw.parameter('gamma'));
  }

  /** Sets γ from the next step on (`"paper"`/`"cp"` need γ ≥ 0). */
  setCouplingStrength(gamma: number): void {
    call(() => this.raw.setParameter('gamma', gamma));
  }

  /**
   * The paper's adaptive coupling γ = γ₀ e^(−β|V_i − V_k|) from two membrane potentials (mV),
   * applied from the next step on; returns γ.
   */
  adaptCoupling(vi: number, vk: number, gamma0: number, beta: number): number {
    const g = gamma0 * Math.exp(-beta * Math.abs(vi - vk));
    this.setCouplingStrength(g);
    return g;
  }

  /** Advances the state by `dt` (> 0) with the engine's integrators. */
  evolve(dt: number): void {
    call(() => this.raw.evolve(dt));
  }

  /** Tr(ρ M⁽ⁱ⁾) of the measurement operator on qubit i. */
  measure(qubit = 0): number {
    const op = this.#measure[qubit];
    if (!op) throw new NestqError('invalid_argument', `qubit ${qubit} out of range (0…${this.numQubits - 1})`, 'qubit');
    const v = call(() => this.raw.expect(Operator.rawOf(op)));
    return v[0]!;
  }

  /** I_q = α_i Tr(ρ M⁽ⁱ⁾): the current the bridge feeds neuron i (the paper's compute_quantum_input). */
  computeQuantumInput(qubit = 0): number {
    return this.alpha[qubit]! * this.measure(qubit);
  }

  /** Copy of the current state. */
  state(): DensityMatrix {
    return new DensityMatrix(call(() => this.raw.state()));
  }

  /** Concurrence of qubits a and b of the current state. */
  concurrence(a = 0, b = 1): number {
    const s = this.state();
    try {
      return s.concurrence(a, b);
    } finally {
      s.free();
    }
  }

  /** Frees the evolver and the measurement operators. */
  override free(): void {
    if (this.freed) return;
    for (const op of this.#measure) op.free();
    super.free();
  }
}

export type { StatsJSON };
