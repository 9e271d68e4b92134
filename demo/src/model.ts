/**
 * The demo's model: the NEST paper's two-qubit bridge (`nestBridgeModel`) with the output
 * times, observables and measures of its worked example (examples/nest_bridge.json).
 */
import { nestBridgeModel, type ModelSpec } from 'nestq';

export type Coupling = 'hamiltonian' | 'paper' | 'cp';
export type InitialKey = 'zero' | 'plus0' | 'plusplus';

/** What the sliders and selects set. */
export interface DemoParams {
  /** Qubit frequency ω (both qubits), H ∋ ω σz. */
  omega: number;
  /** Coupling strength γ. */
  gamma: number;
  /** Decoherence rate κ (σ− decay of each qubit). */
  kappa: number;
  coupling: Coupling;
  initial: InitialKey;
}

/** The paper's worked example: ω = 1, γ = 0.1, κ = 0.05, ρ(0) = |00⟩⟨00|, Hamiltonian coupling. */
export const DEFAULT_PARAMS: DemoParams = { omega: 1, gamma: 0.1, kappa: 0.05, coupling: 'hamiltonian', initial: 'zero' };

const s = Math.SQRT1_2;
export const INITIAL_STATES: Record<InitialKey, { label: string; spec: ModelSpec['initial'] }> = {
  zero: { label: '|00⟩ (the paper)', spec: { basis: [0, 0] } },
  plus0: { label: '|+⟩|0⟩', spec: { product: [[s, s], [1, 0]] } },
  plusplus: { label: '|+⟩|+⟩', spec: { product: [[s, s], [s, s]] } },
};

export const COUPLINGS: Record<Coupling, string> = {
  hamiltonian: 'Hamiltonian: γ σx⊗σx',
  paper: 'paper: modified Lindblad (not CP!)',
  cp: 'CP completion: γ D[σx⁽⁰⁾ + σx⁽¹⁾]',
};

/** Output times, as in examples/nest_bridge.json. */
export const TIMES = { start: 0, stop: 20, count: 201 };

export function demoModel(p: DemoParams): ModelSpec {
  const base = nestBridgeModel({
    numQubits: 2,
    omega: p.omega,
    couplingStrength: p.gamma,
    decoherenceRate: p.kappa,
    coupling: p.coupling,
    initial: INITIAL_STATES[p.initial].spec,
    // Diagnostics of ρ(t) (smallest eigenvalue …): they show the paper mode leaving the state space.
    solver: { physicality: true },
  });
  return {
    ...base,
    name: `NEST bridge (${p.coupling})`,
    times: TIMES,
    observables: { X0: 'X0', X1: 'X1', Z0: 'Z0', Z1: 'Z1', X0X1: 'X0 X1' },
    measures: ['concurrence:0,1', 'purity'],
  };
}
