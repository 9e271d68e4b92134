/**
 * Operators on tensor-product spaces, with QuTiP's names and conventions: qubit basis 0 is the
 * +1 eigenstate of σz, `sigmam()` = [[0,0],[1,0]], site 0 is the leftmost factor of `tensor`.
 * Operators are sparse inside wasm; `dense()` copies them out as interleaved re/im, row-major.
 * @module
 */
import { NestqError } from './errors.js';
import { Owned } from './memory.js';
import { call, type RawModule } from './raw.js';

type RawOperator = RawModule['RawOperator']['prototype'];
type Complex = number | [number, number];
const cx = (z: Complex): [number, number] => (typeof z === 'number' ? [z, 0] : z);

/** A sparse complex operator with its site dimensions. Free it (or `using`) when done. */
export class Operator extends Owned<RawOperator> {
  /** @internal */
  constructor(raw: RawOperator) {
    super(raw);
  }

  /** @internal the raw object, for other facade modules. */
  static rawOf(op: Operator): RawOperator {
    return op.raw;
  }

  /**
   * From the model file's expression syntax on sites of dimensions `dims`:
   * `Operator.parse([2, 2], "X0 X1")`. Errors name `expr` and the reason.
   */
  static parse(dims: readonly number[], expr: string): Operator {
    return new Operator(call((m) => m.RawOperator.fromExpr(Uint32Array.from(dims), expr)));
  }

  /** From a dense row-major matrix of `[re, im]` (or real) entries on sites `dims`. */
  static fromMatrix(dims: readonly number[], rows: readonly (readonly Complex[])[]): Operator {
    const n = dims.reduce((a, b) => a * b, 1);
    if (rows.length !== n || rows.some((r) => r.length !== n)) {
      throw new NestqError('invalid_argument', `expected a ${n}×${n} matrix for dims [${dims.join(', ')}]`, 'rows');
    }
    const data = new Float64Array(2 * n * n);
    rows.forEach((r, i) => r.forEach((z, j) => data.set(cx(z), 2 * (i * n + j))));
    return new Operator(call((m) => m.RawOperator.fromDense(Uint32Array.from(dims), data)));
  }

  /** Site dimensions. */
  get dims(): number[] {
    return Array.from(call(() => this.raw.dims()));
  }

  /** Dense copy, interleaved re/im, row-major (`data[2*(i*n+j)]` = Re O_ij). */
  dense(): Float64Array {
    return call(() => this.raw.dense());
  }

  /** `this ⊗ other`. */
  tensor(other: Operator): Operator {
    return new Operator(call(() => this.raw.tensor(other.raw)));
  }

  /** `this + other`. */
  add(other: Operator): Operator {
    return new Operator(call(() => this.raw.add(1, 0, other.raw, 1, 0)));
  }

  /** `this − other`. */
  sub(other: Operator): Operator {
    return new Operator(call(() => this.raw.add(1, 0, other.raw, -1, 0)));
  }

  /** `z · this` for a real or `[re, im]` scalar. */
  scale(z: Complex): Operator {
    const [re, im] = cx(z);
    return new Operator(call(() => this.raw.add(re, im, this.raw, 0, 0)));
  }

  /** Operator product `this · other`. */
  matmul(other: Operator): Operator {
    return new Operator(call(() => this.raw.matmul(other.raw)));
  }

  /** Hermitian conjugate. */
  dag(): Operator {
    return new Operator(call(() => this.raw.dag()));
  }
}

const local = (d: number, name: string) => Operator.parse([d], `${name}0`);
/** Pauli X on one qubit (QuTiP `sigmax()`). */
export const sigmax = (): Operator => local(2, 'X');
/** Pauli Y on one qubit (QuTiP `sigmay()`). */
export const sigmay = (): Operator => local(2, 'Y');
/** Pauli Z on one qubit (QuTiP `sigmaz()`), +1 on basis state 0. */
export const sigmaz = (): Operator => local(2, 'Z');
/** Raising operator [[0,1],[0,0]] (QuTiP `sigmap()`). */
export const sigmap = (): Operator => local(2, 'SP');
/** Lowering operator [[0,0],[1,0]] (QuTiP `sigmam()`), the decay jump of the NEST paper. */
export const sigmam = (): Operator => local(2, 'SM');
/** Annihilation operator truncated to dimension d (QuTiP `destroy(d)`). */
export const destroy = (d: number): Operator => local(d, 'A');
/** Creation operator (QuTiP `create(d)`). */
export const create = (d: number): Operator => local(d, 'AD');
/** Number operator (QuTiP `num(d)`). */
export const num = (d: number): Operator => local(d, 'N');
/** Identity of dimension d (QuTiP `qeye(d)`). */
export const qeye = (d: number): Operator => local(d, 'I');
/** Spin-j operator, d = 2j + 1 (QuTiP `jmat(j, which)`). */
export function jmat(j: number, which: 'x' | 'y' | 'z' | '+' | '-'): Operator {
  const d = Math.round(2 * j + 1);
  if (!(j > 0) || Math.abs(2 * j + 1 - d) > 1e-12) throw new NestqError('invalid_argument', `must be a positive multiple of 1/2, got ${j}`, 'j');
  const name = { x: 'JX', y: 'JY', z: 'JZ', '+': 'JP', '-': 'JM' }[which];
  if (!name) throw new NestqError('invalid_argument', `must be one of x, y, z, +, -; got ${String(which)}`, 'which');
  return local(d, name);
}

/** Tensor product, leftmost first (QuTiP `tensor`); returns a new operator, the inputs stay owned by the caller. */
export function tensor(...ops: Operator[]): Operator {
  const [first, ...rest] = ops;
  if (first === undefined) throw new NestqError('invalid_argument', 'at least one operator is required', 'ops');
  let out = first.scale(1);
  for (const op of rest) {
    const next = out.tensor(op);
    out.free();
    out = next;
  }
  return out;
}
