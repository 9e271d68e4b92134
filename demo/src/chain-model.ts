/**
 * The chain view's model: the first N sites of the 32-qubit benchmark chain
 * (bench/mpo_chain32.json — fields 1.0·Z_i + 0.5·X_i, coupling 0.5·X_i X_{i+1}, decay SM_i at rate
 * 0.1 and dephasing Z_i at rate 0.05, initial |0101…⟩), solved with method `mpo` at a chosen χ
 * and end time, with ⟨σz_i⟩ of every site observed every 0.1 time units.
 */
import type { ModelSpec } from 'nestq';
import template from '../../bench/mpo_chain32.json';

/** What the chain view's controls set. */
export interface ChainParams {
  /** Number of qubits N (2 … 32). */
  sites: number;
  /** `solver.chi_max`: largest bond dimension. */
  chiMax: number;
  /** End time (model units; ħ = 1, rates and fields in the same inverse unit). */
  tEnd: number;
}

/** The template's largest chain. */
export const MAX_SITES = template.dims.length;
/** Spacing of the output times. */
export const OUTPUT_DT = 0.1;
/** What the view shows first: 16 qubits at χ 32 to t = 4 (a few seconds in the threaded build). */
export const CHAIN_DEFAULTS: ChainParams = { sites: 16, chiMax: 32, tEnd: 4 };

/** The sites an operator expression acts on (`"X15 X16"` → [15, 16]). */
const sitesOf = (ops: string): number[] => [...ops.matchAll(/\d+/g)].map((m) => Number(m[0]));

/** The benchmark chain cut to `p.sites` qubits (terms on later sites dropped), `chi_max = p.chiMax`. */
export function chainModel(p: ChainParams): ModelSpec {
  if (!Number.isInteger(p.sites) || p.sites < 2 || p.sites > MAX_SITES) throw new RangeError(`sites must be an integer in 2…${MAX_SITES}, got ${p.sites}`);
  const t = template as ModelSpec & { initial: { basis: number[] } };
  const keep = <T extends { ops: string }>(terms: T[] | undefined) => (terms ?? []).filter((x) => sitesOf(x.ops).every((s) => s < p.sites));
  return {
    version: 1,
    name: `dissipative chain of ${p.sites} qubits (first sites of ${t.name})`,
    dims: t.dims.slice(0, p.sites),
    hamiltonian: keep(t.hamiltonian),
    jumps: keep(t.jumps),
    initial: { basis: t.initial.basis.slice(0, p.sites) },
    times: { start: 0, stop: p.tEnd, count: Math.round(p.tEnd / OUTPUT_DT) + 1 },
    observables: Object.fromEntries(Array.from({ length: p.sites }, (_, i) => [`Z${i}`, `Z${i}`])),
    solver: { ...t.solver, chi_max: p.chiMax },
  };
}
