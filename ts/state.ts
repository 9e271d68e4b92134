/**
 * Density matrices and the measures of QuTiP and of the NEST / entanglement papers.
 *
 * Conventions: `data` is interleaved re/im in row-major order (`data[2*(i*n+j)]` = Re ρ_ij);
 * sites are numbered from 0, site 0 the leftmost tensor factor; entropies in nats (natural log),
 * log-negativity in base 2; negativity transposes the second site listed.
 * @module
 */
import { NestqError } from './errors.js';
import { Owned } from './memory.js';
import { Operator } from './operators.js';
import { call, type RawModule } from './raw.js';

type RawDM = RawModule['RawDensityMatrix']['prototype'];

/** A plain copy of a density matrix (no wasm memory): what results carry. */
export interface DensityMatrixData {
  /** Site dimensions. */
  dims: number[];
  /** Interleaved re/im, row-major, length 2·n² with n = Π dims. */
  data: Float64Array;
}

/** A density matrix in wasm memory. Free it (or `using`) when done. */
export class DensityMatrix extends Owned<RawDM> {
  /** @internal */
  constructor(raw: RawDM) {
    super(raw);
  }

  /** @internal */
  static rawOf(dm: DensityMatrix): RawDM {
    return dm.raw;
  }

  /**
   * From a plain copy. Validated (Hermitian to 1e-10, unit trace, positive semidefinite) unless
   * `validate` is false; errors name `data`.
   */
  static fromData(d: DensityMatrixData, validate = true): DensityMatrix {
    return new DensityMatrix(call((m) => m.RawDensityMatrix.fromData(Uint32Array.from(d.dims), d.data, validate)));
  }

  /** |ψ⟩⟨ψ| from amplitudes (real numbers or `[re, im]`), normalised. */
  static fromKet(dims: readonly number[], ket: readonly (number | [number, number])[]): DensityMatrix {
    const v = new Float64Array(2 * ket.length);
    ket.forEach((z, i) => v.set(typeof z === 'number' ? [z, 0] : z, 2 * i));
    return new DensityMatrix(call((m) => m.RawDensityMatrix.fromKet(Uint32Array.from(dims), v)));
  }

  /** The product basis state |i0 i1 …⟩⟨i0 i1 …| (QuTiP `basis` + `ket2dm`). */
  static basis(dims: readonly number[], indices: readonly number[]): DensityMatrix {
    if (indices.length !== dims.length) {
      throw new NestqError('invalid_argument', `${indices.length} indices for ${dims.length} sites`, 'indices');
    }
    let idx = 0;
    indices.forEach((i, s) => {
      if (!Number.isInteger(i) || i < 0 || i >= dims[s]!) {
        throw new NestqError('invalid_argument', `index ${i} out of range for site ${s} of dimension ${dims[s]}`, `indices[${s}]`);
      }
      idx = idx * dims[s]! + i;
    });
    const n = dims.reduce((a, b) => a * b, 1);
    const ket = new Array<number>(n).fill(0);
    ket[idx] = 1;
    return DensityMatrix.fromKet(dims, ket);
  }

  /**
   * A Bell state on two qubits: `phi+` = (|00⟩+|11⟩)/√2 (default), `phi-`, `psi+` =
   * (|01⟩+|10⟩)/√2, `psi-`.
   */
  static bell(which: 'phi+' | 'phi-' | 'psi+' | 'psi-' = 'phi+'): DensityMatrix {
    const s = Math.SQRT1_2;
    const kets: Record<string, number[]> = { 'phi+': [s, 0, 0, s], 'phi-': [s, 0, 0, -s], 'psi+': [0, s, s, 0], 'psi-': [0, s, -s, 0] };
    const k = kets[which];
    if (!k) throw new NestqError('invalid_argument', `must be phi+, phi-, psi+ or psi-, got ${String(which)}`, 'which');
    return DensityMatrix.fromKet([2, 2], k);
  }

  /** Site dimensions. */
  get dims(): number[] {
    return Array.from(call(() => this.raw.dims()));
  }

  /** Hilbert-space dimension n = Π dims. */
  get dim(): number {
    return this.dims.reduce((a, b) => a * b, 1);
  }

  /** Interleaved re/im row-major copy. */
  data(): Float64Array {
    return call(() => this.raw.data());
  }

  /** Plain copy ({@link DensityMatrixData}). */
  toData(): DensityMatrixData {
    return { dims: this.dims, data: this.data() };
  }

  /** Tr ρ as [re, im]. */
  trace(): [number, number] {
    const t = call(() => this.raw.trace());
    return [t[0]!, t[1]!];
  }

  /** Tr(O ρ) as [re, im]; O an {@link Operator} or an expression such as `"X0 X1"`. */
  expectComplex(op: Operator | string): [number, number] {
    const o = typeof op === 'string' ? Operator.parse(this.dims, op) : op;
    try {
      const v = call(() => this.raw.expect(Operator.rawOf(o)));
      return [v[0]!, v[1]!];
    } finally {
      if (typeof op === 'string') o.free();
    }
  }

  /** Re Tr(O ρ) (real for Hermitian O). */
  expect(op: Operator | string): number {
    return this.expectComplex(op)[0];
  }

  /** Tr ρ². */
  purity(): number {
    return call(() => this.raw.purity());
  }

  /** −Tr ρ ln ρ (nats; QuTiP `entropy_vn` with base e). */
  entropyVN(): number {
    return call(() => this.raw.entropyVN());
  }

  /** Eigenvalues of (ρ+ρ†)/2, ascending. */
  eigenvalues(): Float64Array {
    return call(() => this.raw.eigenvalues());
  }

  /** Reduced state on sites `keep`, in that order (QuTiP `ptrace`). */
  ptrace(keep: readonly number[]): DensityMatrix {
    return new DensityMatrix(call(() => this.raw.ptrace(Uint32Array.from(keep))));
  }

  /** ρ ⊗ σ. */
  tensor(other: DensityMatrix): DensityMatrix {
    return new DensityMatrix(call(() => this.raw.tensor(other.raw)));
  }

  /** S(a) + S(b) − S(ab) in nats. */
  mutualInformation(a = 0, b = 1): number {
    return call(() => this.raw.mutualInformation(a, b));
  }

  /** Wootters concurrence of qubits a and b (reduced state). */
  concurrence(a = 0, b = 1): number {
    return call(() => this.raw.concurrence(a, b));
  }

  /** (‖ρ^{T_b}‖₁ − 1)/2 of sites a, b. */
  negativity(a = 0, b = 1): number {
    return call(() => this.raw.negativity(a, b));
  }

  /** log₂‖ρ^{T_b}‖₁ of sites a, b. */
  logNegativity(a = 0, b = 1): number {
    return call(() => this.raw.logNegativity(a, b));
  }

  /** Uhlmann fidelity, squared convention ((Tr√(√ρ σ √ρ))², 1 for equal states). */
  fidelity(other: DensityMatrix): number {
    return call(() => this.raw.fidelity(other.raw));
  }
}

/** QuTiP-style functions over {@link DensityMatrix}. */
export const expect = (op: Operator | string, rho: DensityMatrix): number => rho.expect(op);
/** Reduced state (QuTiP `ptrace`). */
export const ptrace = (rho: DensityMatrix, keep: readonly number[]): DensityMatrix => rho.ptrace(keep);
/** Tr ρ². */
export const purity = (rho: DensityMatrix): number => rho.purity();
/** Von Neumann entropy in nats. */
export const entropyVN = (rho: DensityMatrix): number => rho.entropyVN();
/** Mutual information between sites a and b, nats. */
export const mutualInformation = (rho: DensityMatrix, a = 0, b = 1): number => rho.mutualInformation(a, b);
/** Wootters concurrence. */
export const concurrence = (rho: DensityMatrix, a = 0, b = 1): number => rho.concurrence(a, b);
/** Negativity. */
export const negativity = (rho: DensityMatrix, a = 0, b = 1): number => rho.negativity(a, b);
