/**
 * Behaviour of the TypeScript facade (single-threaded build): QuTiP conventions, density-matrix
 * measures against analytic values, Model.check, NESTBridge, typed errors, ownership,
 * progress/abort, batch/sweep and the panic → NestqError('panic') → init({force}) path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DensityMatrix,
  Model,
  NESTBridge,
  NestqError,
  Operator,
  concurrence,
  create,
  destroy,
  entropyVN,
  expect as qexpect,
  init,
  jmat,
  train,
  grad,
  gradLoss,
  mesolve,
  mesolveBatch,
  mesolveSweep,
  mutualInformation,
  negativity,
  nestBridgeModel,
  num,
  ptrace,
  purity,
  qeye,
  runtimeInfo,
  sigmam,
  sigmap,
  sigmax,
  sigmay,
  sigmaz,
  steadystate,
  tensor,
  type MesolveResult,
  type ModelSpec,
  type NESTBridgeOptions,
} from '../pkg/dist/index.js';
import { call } from '../pkg/dist/raw.js';
import { ROOT, coupledPair, drivenQubit, fromMatrix, maxAbsDiff, rawModule, thrown, toMatrix } from './helpers.js';

const LN2 = Math.log(2);

/** A small driven, damped qubit. */
const qubit = drivenQubit;

/** Two coupled, damped qubits with parameters (for sweeps). */
const pair = coupledPair;

/** The largest difference between two results' observables, measures and final states. */
function resultDiff(a: MesolveResult, b: MesolveResult): number {
  let d = maxAbsDiff(a.times, b.times);
  expect(Object.keys(a.expect).sort()).toEqual(Object.keys(b.expect).sort());
  for (const k of Object.keys(a.expect)) d = Math.max(d, maxAbsDiff(a.expect[k]!, b.expect[k]!));
  for (const k of Object.keys(a.measures)) d = Math.max(d, maxAbsDiff(a.measures[k]!, b.measures[k]!));
  return Math.max(d, maxAbsDiff(a.finalState.data, b.finalState.data));
}

/** The two-qubit Werner state p|ψ−⟩⟨ψ−| + (1 − p) I/4. */
function werner(p: number): DensityMatrix {
  const d = (1 - p) / 4;
  const rows = [
    [d, 0, 0, 0],
    [0, d + p / 2, -p / 2, 0],
    [0, -p / 2, d + p / 2, 0],
    [0, 0, 0, d],
  ];
  return DensityMatrix.fromData({ dims: [2, 2], data: fromMatrix(rows) });
}

let preInitError: unknown;
beforeAll(async () => {
  try {
    runtimeInfo();
  } catch (e) {
    preInitError = e;
  }
  await init({ threads: false });
});

describe('init', () => {
  it('refuses use before init with not_initialized, then loads the single-threaded build', () => {
    expect(preInitError).toBeInstanceOf(NestqError);
    expect((preInitError as NestqError).code).toBe('not_initialized');
    const info = runtimeInfo();
    expect(info).toMatchObject({ threaded: false, threads: 1, simd: true, platform: 'node' });
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('rejects an invalid thread count', async () => {
    await expect(init({ threads: 0 as number, force: true })).rejects.toMatchObject({ code: 'invalid_argument', path: 'threads' });
    expect(runtimeInfo().threaded).toBe(false); // the failed call left the instance alone
  });
});

describe('QuTiP conventions', () => {
  it('sigmaz is +1 on basis state 0 and −1 on basis state 1', () => {
    using z = sigmaz();
    using b0 = DensityMatrix.basis([2], [0]);
    using b1 = DensityMatrix.basis([2], [1]);
    expect(b0.expect(z)).toBe(1);
    expect(b1.expect(z)).toBe(-1);
    expect(Array.from(z.dense())).toEqual([1, 0, 0, 0, 0, 0, -1, 0]);
  });

  it('Pauli, ladder, number and spin matrices are QuTiP’s', () => {
    const cases: [Operator, number[]][] = [
      [sigmam(), [0, 0, 0, 0, 1, 0, 0, 0]], // [[0,0],[1,0]]
      [sigmap(), [0, 0, 1, 0, 0, 0, 0, 0]], // [[0,1],[0,0]]
      [sigmax(), [0, 0, 1, 0, 1, 0, 0, 0]],
      [sigmay(), [0, 0, 0, -1, 0, 1, 0, 0]], // [[0,−i],[i,0]]
      [qeye(2), [1, 0, 0, 0, 0, 0, 1, 0]],
    ];
    for (const [op, want] of cases) {
      expect(Array.from(op.dense())).toEqual(want);
      op.free();
    }
    using a = destroy(3);
    const m = toMatrix(a.dense());
    expect(m[0]![1]).toEqual([1, 0]);
    expect(m[1]![2]![0]).toBeCloseTo(Math.SQRT2, 14);
    expect(m[1]![0]).toEqual([0, 0]); // a|1⟩ = |0⟩: above the diagonal
    using ad = create(3);
    expect(maxAbsDiff(toMatrix(ad.dense())[2]![1]!, [Math.SQRT2, 0])).toBeLessThan(1e-14);
    using n = num(3);
    expect(toMatrix(n.dense()).map((r, i) => r[i]![0])).toEqual([0, 1, 2]);
    using jz = jmat(1, 'z');
    expect(toMatrix(jz.dense()).map((r, i) => r[i]![0])).toEqual([1, 0, -1]);
    expect(() => jmat(0.3, 'z')).toThrow(NestqError);
  });

  it('tensor puts site 0 leftmost and matches the expression syntax', () => {
    using z = sigmaz();
    using id = qeye(2);
    using zi = tensor(z, id);
    using parsed = Operator.parse([2, 2], 'Z0');
    expect(Array.from(zi.dense())).toEqual(Array.from(parsed.dense()));
    using s10 = DensityMatrix.basis([2, 2], [1, 0]);
    using s01 = DensityMatrix.basis([2, 2], [0, 1]);
    expect(s10.expect(zi)).toBe(-1);
    expect(s01.expect(zi)).toBe(1);
    expect(s01.expect('Z1')).toBe(-1);
    // σ−⊗I maps |00⟩ (index 0) to |10⟩ (index 2)
    using sm = sigmam();
    using smi = tensor(sm, id);
    const m = toMatrix(smi.dense());
    expect(m[2]![0]).toEqual([1, 0]);
    expect(m[1]![0]).toEqual([0, 0]);
    expect(zi.dims).toEqual([2, 2]);
  });

  it('operator algebra: [σx, σy] = 2iσz, σ+ = σ−†', () => {
    using x = sigmax();
    using y = sigmay();
    using z = sigmaz();
    using xy = x.matmul(y);
    using yx = y.matmul(x);
    using comm = xy.sub(yx);
    using want = z.scale([0, 2]);
    expect(maxAbsDiff(comm.dense(), want.dense())).toBeLessThan(1e-15);
    using sm = sigmam();
    using smd = sm.dag();
    using sp = sigmap();
    expect(Array.from(smd.dense())).toEqual(Array.from(sp.dense()));
  });
});

describe('DensityMatrix measures', () => {
  it('Bell state: concurrence 1, negativity 1/2, mutual information 2 ln 2, reduced entropy ln 2', () => {
    using bell = DensityMatrix.bell();
    expect(bell.trace()[0]).toBeCloseTo(1, 14);
    expect(bell.purity()).toBeCloseTo(1, 12);
    expect(Math.abs(bell.entropyVN())).toBeLessThan(1e-10);
    expect(bell.concurrence()).toBeCloseTo(1, 10);
    expect(concurrence(bell)).toBeCloseTo(1, 10);
    expect(bell.negativity()).toBeCloseTo(0.5, 10);
    expect(negativity(bell)).toBeCloseTo(0.5, 10);
    expect(bell.logNegativity()).toBeCloseTo(1, 10);
    expect(bell.mutualInformation()).toBeCloseTo(2 * LN2, 10);
    expect(mutualInformation(bell, 0, 1)).toBeCloseTo(2 * LN2, 10);
    using a = ptrace(bell, [0]);
    expect(a.dims).toEqual([2]);
    expect(entropyVN(a)).toBeCloseTo(LN2, 10);
    expect(purity(a)).toBeCloseTo(0.5, 12);
    expect(maxAbsDiff(a.data(), [0.5, 0, 0, 0, 0, 0, 0.5, 0])).toBeLessThan(1e-14);
    expect(bell.expect('X0 X1')).toBeCloseTo(1, 14);
    expect(qexpect('Y0 Y1', bell)).toBeCloseTo(-1, 14);
    expect(qexpect('Z0 Z1', bell)).toBeCloseTo(1, 14);
    expect(bell.expect('Z0')).toBeCloseTo(0, 14);
    using other = DensityMatrix.bell('psi+');
    // (identical pure states come out 1 + 1.8e-8: √ of the ~1e-16 null eigenvalues)
    expect(Math.abs(bell.fidelity(bell) - 1)).toBeLessThan(1e-7);
    expect(bell.fidelity(other)).toBeCloseTo(0, 8);
    using plus = DensityMatrix.fromKet([2], [1, 1]);
    using zero = DensityMatrix.basis([2], [0]);
    expect(zero.fidelity(plus)).toBeCloseTo(0.5, 10);
  });

  it('Werner states: concurrence max(0,(3p−1)/2), negativity max(0,(3p−1)/4), I = 2 ln 2 − S', () => {
    for (const p of [0, 0.2, 1 / 3, 0.5, 0.8, 1]) {
      using w = werner(p);
      const lam = [(1 + 3 * p) / 4, (1 - p) / 4, (1 - p) / 4, (1 - p) / 4];
      const s = -lam.reduce((acc, l) => acc + (l > 0 ? l * Math.log(l) : 0), 0);
      expect(w.concurrence(), `C(p=${p})`).toBeCloseTo(Math.max(0, (3 * p - 1) / 2), 8);
      expect(w.negativity(), `N(p=${p})`).toBeCloseTo(Math.max(0, (3 * p - 1) / 4), 8);
      expect(w.entropyVN(), `S(p=${p})`).toBeCloseTo(s, 8);
      expect(w.mutualInformation(), `I(p=${p})`).toBeCloseTo(2 * LN2 - s, 8);
      expect(w.purity()).toBeCloseTo(lam.reduce((a, l) => a + l * l, 0), 12);
      expect(maxAbsDiff(w.eigenvalues(), [...lam].sort((a, b) => a - b))).toBeLessThan(1e-12);
      using r = w.ptrace([1]);
      expect(r.entropyVN()).toBeCloseTo(LN2, 10);
    }
  });

  it('product states have no entanglement and no mutual information', () => {
    using a = DensityMatrix.fromKet([2], [1, [0, 1]]); // (|0⟩ + i|1⟩)/√2
    using b = DensityMatrix.fromKet([2], [0.6, 0.8]);
    using ab = a.tensor(b);
    expect(ab.concurrence()).toBeLessThan(1e-7);
    expect(ab.negativity()).toBeLessThan(1e-10);
    expect(Math.abs(ab.mutualInformation())).toBeLessThan(1e-7);
    expect(ab.expect('Y0')).toBeCloseTo(1, 12);
    expect(ab.expect('Z1')).toBeCloseTo(0.36 - 0.64, 12);
    expect(ab.expect('X0 X1')).toBeCloseTo(0, 12);
    expect(ab.expect('Y0 X1')).toBeCloseTo(2 * 0.6 * 0.8, 12);
    expect(ab.expectComplex('SP0')).toEqual([expect.closeTo(0, 12), expect.closeTo(0.5, 12)]); // Tr(σ+ρ) = ρ₁₀ = (⟨X⟩ + i⟨Y⟩)/2
  });

  it('ptrace keeps the listed sites in the listed order', () => {
    using a = DensityMatrix.fromKet([2], [0.6, 0.8]);
    using b = DensityMatrix.fromKet([3], [1, 0, [0, 1]]);
    using ab = a.tensor(b);
    expect(ab.dims).toEqual([2, 3]);
    using ra = ab.ptrace([0]);
    using rb = ab.ptrace([1]);
    expect(maxAbsDiff(ra.data(), a.data())).toBeLessThan(1e-14);
    expect(maxAbsDiff(rb.data(), b.data())).toBeLessThan(1e-14);
    using ba = b.tensor(a);
    using swapped = ab.ptrace([1, 0]);
    expect(swapped.dims).toEqual([3, 2]);
    expect(maxAbsDiff(swapped.data(), ba.data())).toBeLessThan(1e-14);
  });

  it('fromData validates its argument (errors name data)', () => {
    const short = thrown(() => DensityMatrix.fromData({ dims: [2], data: new Float64Array(6) }));
    expect(short.code).toBe('invalid_argument');
    expect(short.path).toBe('data');
    // trace 2: an API argument, so invalid_argument (not invalid_model, which is for model-file fields)
    const e = thrown(() => DensityMatrix.fromData({ dims: [2], data: fromMatrix([[1, 0], [0, 1]]) }));
    expect(e.path).toBe('data');
    expect(e.message).toMatch(/trace/);
    expect(e.code).toBe('invalid_argument');
    using unchecked = DensityMatrix.fromData({ dims: [2], data: fromMatrix([[1, 0], [0, 1]]) }, false);
    expect(unchecked.trace()[0]).toBe(2);
  });
});

describe('Model', () => {
  const example = (name: string) => readFileSync(join(ROOT, 'examples', `${name}.json`), 'utf8');

  it('check(): the paper’s cross term is not completely positive, its completion is', () => {
    using paper = new Model(example('nest_cross_paper'));
    const r = paper.check();
    expect(r.completely_positive).toBe(false);
    expect(r.cp_min_eigenvalue).toBeLessThan(-1e-3);
    expect(r.hermiticity_preserving).toBe(true);
    expect(r.time_independent).toBe(true);
    expect(r.dims).toEqual([2, 2]);
    expect(r.hilbert_dim).toBe(4);
    expect(r.warnings.join(' ')).toMatch(/not completely positive/);
    using cp = new Model(example('nest_cross_cp'));
    const c = cp.check();
    expect(c.completely_positive).toBe(true);
    expect(c.cp_min_eigenvalue).toBeGreaterThan(-1e-12);
    expect(c.warnings).toEqual([]);
  });

  it('the paper’s cross term drives ⟨X0 X1⟩ below −1; the CP completion keeps it physical', () => {
    const paper = mesolve(example('nest_cross_paper'));
    expect(Math.min(...paper.expect.X0X1!)).toBeLessThan(-1);
    expect(paper.stats.warnings.length).toBeGreaterThan(0);
    expect(paper.stats.cp_min_eigenvalue).toBeLessThan(0);
    const cp = mesolve(example('nest_cross_cp'));
    expect(Math.min(...cp.expect.X0X1!)).toBeGreaterThanOrEqual(-1 - 1e-9);
    expect(Math.min(...cp.physicality.minEigenvalue)).toBeGreaterThan(-1e-8);
  });

  it('exposes dims, times, parameters and the initial state', () => {
    using m = new Model(pair());
    expect(m.dims).toEqual([2, 2]);
    expect(Array.from(m.times)).toEqual([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4]);
    expect(m.parameterNames).toEqual(['g', 'kappa']);
    expect(m.parameter('g')).toBe(0.3);
    using rho = m.initial();
    expect(rho.expect('X0')).toBeCloseTo(1, 14);
    expect(rho.expect('Z1')).toBeCloseTo(1, 14);
  });

  it('mesolve of a damped qubit matches the analytic decay, steadystate the ground state', () => {
    const gamma = 0.3;
    // basis 0 is the excited state (σz = +1) and σ− decays it to basis 1: P0(t) = e^(−γt)
    const res = mesolve({ dims: [2], jumps: [{ rate: gamma, ops: 'SM0' }], initial: { basis: [0] }, times: { start: 0, stop: 5, count: 6 }, observables: { Z: 'Z0' } });
    res.times.forEach((t, k) => expect(res.expect.Z![k]).toBeCloseTo(2 * Math.exp(-gamma * t) - 1, 7));
    expect(Object.keys(res.expectImag)).toEqual([]);
    const json = res.toJSON();
    expect(json.times).toEqual(Array.from(res.times));
    expect(json.final_state[0]![0]![0]).toBeCloseTo(Math.exp(-gamma * 5), 7);
    const ss = steadystate(qubit({ hamiltonian: [{ coef: 0.2, ops: 'X0' }], jumps: [{ rate: 1, ops: 'SM0' }] }));
    // against a long mesolve (relaxation rate ~γ/2: e^(−30) at t = 60)
    const long = mesolve(qubit({ hamiltonian: [{ coef: 0.2, ops: 'X0' }], jumps: [{ rate: 1, ops: 'SM0' }], times: [0, 60] }));
    expect(ss.expect.Z![0]).toBeCloseTo(long.expect.Z![1]!, 7);
    expect(ss.residual).toBeLessThan(1e-10);
  });

  it('mesolve with parameters overrides the model’s parameters', () => {
    const spec = pair();
    const viaOption = mesolve(spec, { parameters: { g: 0.9 } });
    const viaSpec = mesolve({ ...spec, parameters: { g: 0.9, kappa: 0.1 } });
    expect(resultDiff(viaOption, viaSpec)).toBeLessThan(1e-13);
    expect(resultDiff(viaOption, mesolve(spec))).toBeGreaterThan(1e-3);
  });
});

describe('NESTBridge', () => {
  const opts: NESTBridgeOptions = {
    couplingStrength: 0.3,
    decoherenceRate: [0.05, 0.1],
    omega: [1, 1.3],
    initial: { product: [[1, 1], [1, 0]] }, // |+⟩|0⟩: ⟨σx⁽⁰⁾⟩ ≠ 0
    solver: { rtol: 1e-10, atol: 1e-12 },
  };
  const dt = 0.5;
  const steps = 10;

  /** mesolve of the bridge's own model, observed at the bridge's step times. */
  function reference(o: NESTBridgeOptions, t0 = 0, n = steps): MesolveResult {
    const spec = nestBridgeModel(o);
    spec.times = Array.from({ length: n + 1 }, (_, k) => t0 + k * dt);
    spec.observables = { X0: 'X0', X1: 'X1', Z0: 'Z0', XX: 'X0 X1' };
    return mesolve(spec);
  }

  for (const coupling of ['hamiltonian', 'paper', 'cp'] as const) {
    it(`evolve agrees with mesolve of nestBridgeModel at the same times (${coupling})`, () => {
      const o = { ...opts, coupling };
      const ref = reference(o);
      using b = new NESTBridge(o);
      expect(b.coupling).toBe(coupling);
      let worst = 0;
      for (let k = 1; k <= steps; k++) {
        b.evolve(dt);
        using s = b.state();
        worst = Math.max(
          worst,
          Math.abs(b.measure(0) - ref.expect.X0![k]!),
          Math.abs(b.measure(1) - ref.expect.X1![k]!),
          Math.abs(s.expect('Z0') - ref.expect.Z0![k]!),
          Math.abs(s.expect('X0 X1') - ref.expect.XX![k]!),
        );
      }
      expect(worst).toBeLessThan(1e-6);
      expect(b.time).toBeCloseTo(steps * dt, 12);
      expect(Math.abs(ref.expect.X0![steps]!)).toBeGreaterThan(1e-2); // the comparison is not of zeros
    });
  }

  it('computeQuantumInput = α·⟨σx⟩ per qubit', () => {
    using b = new NESTBridge({ ...opts, alpha: [2.5, -3] });
    b.evolve(0.7);
    using s = b.state();
    const x0 = s.expect('X0');
    const x1 = s.expect('X1');
    expect(Math.abs(x0)).toBeGreaterThan(1e-2);
    expect(b.computeQuantumInput(0)).toBeCloseTo(2.5 * x0, 12);
    expect(b.computeQuantumInput(1)).toBeCloseTo(-3 * x1, 12);
    expect(b.measure(0)).toBeCloseTo(x0, 12);
    expect(thrown(() => b.measure(2)).code).toBe('invalid_argument');
    using z = new NESTBridge({ ...opts, measurementOperator: 'Z', alpha: 2 });
    z.evolve(0.7);
    using sz = z.state();
    expect(z.computeQuantumInput(1)).toBeCloseTo(2 * sz.expect('Z1'), 12);
  });

  it('adaptCoupling sets γ = γ0·e^(−β|ΔV|) and the evolution uses it from the next step', () => {
    using b = new NESTBridge(opts);
    expect(b.couplingStrength).toBe(0.3);
    for (let k = 0; k < 4; k++) b.evolve(dt);
    const g = b.adaptCoupling(-65, -60.5, 0.2, 0.3);
    expect(g).toBeCloseTo(0.2 * Math.exp(-0.3 * 4.5), 15);
    expect(b.couplingStrength).toBeCloseTo(g, 15);
    expect(b.adaptCoupling(-60.5, -65, 0.2, 0.3)).toBeCloseTo(g, 15); // |ΔV|: symmetric
    // stage 1 with γ = 0.3 to t = 2, stage 2 with the adapted γ from ρ(2)
    const stage1 = reference(opts, 0, 4);
    const rho2 = toMatrix(stage1.finalState.data);
    const stage2 = mesolve({ ...nestBridgeModel({ ...opts, initial: { dm: rho2 } }), times: [2, 2.5, 3, 3.5, 4], observables: { X0: 'X0' } }, { parameters: { gamma: g } });
    const unadapted = reference(opts, 0, 8);
    for (let k = 1; k <= 4; k++) {
      b.evolve(dt);
      expect(Math.abs(b.measure(0) - stage2.expect.X0![k]!)).toBeLessThan(1e-6);
    }
    expect(Math.abs(b.measure(0) - unadapted.expect.X0![8]!)).toBeGreaterThan(1e-4);
  });

  it('paper mode warns (not completely positive, eigenvalue −γ without decay); hamiltonian and cp modes do not', () => {
    using paper = new NESTBridge({ coupling: 'paper' });
    expect(paper.warnings.length).toBeGreaterThan(0);
    expect(paper.warnings.join(' ')).toMatch(/not completely positive/);
    expect(paper.cpMinEigenvalue).toBeLessThan(0);
    using bare = new NESTBridge({ coupling: 'paper', decoherenceRate: 0, couplingStrength: 0.25 });
    expect(bare.cpMinEigenvalue).toBeCloseTo(-0.25, 10);
    using h = new NESTBridge({ coupling: 'hamiltonian' });
    expect(h.warnings).toEqual([]);
    using cp = new NESTBridge({ coupling: 'cp' });
    expect(cp.warnings).toEqual([]);
    expect(cp.cpMinEigenvalue).toBeGreaterThan(-1e-12);
  });

  it('validates its options', () => {
    expect(thrown(() => new NESTBridge({ numQubits: 1 })).path).toBe('numQubits');
    expect(thrown(() => new NESTBridge({ decoherenceRate: [0.1, -1] })).path).toBe('decoherenceRate[1]');
    expect(thrown(() => new NESTBridge({ coupling: 'paper', couplingStrength: -0.1 })).path).toBe('couplingStrength');
  });
});

describe('errors', () => {
  it('a negative rate names $.jumps[0].rate', () => {
    const e = thrown(() => new Model(qubit({ jumps: [{ rate: -1, ops: 'SM0' }] })));
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('NestqError');
    expect(e.code).toBe('invalid_model');
    expect(e.path).toBe('$.jumps[0].rate');
    expect(e.message).toMatch(/negative rate/);
    // the same through mesolve with a spec object
    expect(thrown(() => mesolve(qubit({ jumps: [{ rate: 0.1, ops: 'SM0' }, { rate: -2, ops: 'SM0' }] }))).path).toBe('$.jumps[1].rate');
  });

  it('an unknown field is named', () => {
    const e = thrown(() => new Model({ ...qubit(), colour: 'blue' } as ModelSpec));
    expect(e.code).toBe('invalid_model');
    expect(e.path).toBe('$.colour');
    expect(e.message).toMatch(/unknown field/);
  });

  it('bad JSON → parse', () => {
    expect(thrown(() => new Model('{"dims": [2],')).code).toBe('parse');
    expect(thrown(() => mesolve('not json')).code).toBe('parse');
  });

  it('an unknown operator name in an expression is named', () => {
    const e = thrown(() => Operator.parse([2], 'Q0'));
    expect(['invalid_argument', 'invalid_model']).toContain(e.code);
    const m = thrown(() => new Model(qubit({ observables: { bad: 'Q0' } })));
    expect(m.path).toBe('$.observables.bad');
  });
});

describe('ownership', () => {
  it('using an object after free() throws freed; free() twice is fine', () => {
    const op = sigmax();
    const dm = DensityMatrix.bell();
    const model = new Model(qubit());
    expect(op.freed).toBe(false);
    op.free();
    dm.free();
    model.free();
    expect(op.freed).toBe(true);
    expect(thrown(() => op.dense()).code).toBe('freed');
    expect(thrown(() => dm.purity()).code).toBe('freed');
    expect(thrown(() => model.check()).code).toBe('freed');
    expect(thrown(() => mesolve(model)).code).toBe('freed');
    expect(() => {
      op.free();
      dm.free();
      model.free();
      op[Symbol.dispose]();
    }).not.toThrow();
    const b = new NESTBridge();
    b.free();
    b.free();
    expect(thrown(() => b.evolve(0.1)).code).toBe('freed');
  });

  it('`using` disposes at the end of the block', () => {
    let escaped: DensityMatrix | undefined;
    let escapedOp: Operator | undefined;
    {
      using dm = DensityMatrix.bell();
      using op = Operator.parse([2, 2], 'X0 X1');
      escaped = dm;
      escapedOp = op;
      expect(dm.expect(op)).toBeCloseTo(1, 14);
      expect(dm.freed).toBe(false);
    }
    expect(escaped.freed).toBe(true);
    expect(escapedOp.freed).toBe(true);
    expect(thrown(() => escaped!.purity()).code).toBe('freed');
  });

  it('a model passed as an object is not freed by mesolve, a spec is not leaked', () => {
    using m = new Model(qubit());
    const a = mesolve(m);
    const b = mesolve(m);
    expect(m.freed).toBe(false);
    expect(resultDiff(a, b)).toBe(0);
  });
});

describe('progress and abort', () => {
  it('onProgress sees non-decreasing fractions in [0, 1] ending at 1', () => {
    for (const method of ['auto', 'dopri5'] as const) {
      const seen: number[] = [];
      const res = mesolve(qubit({ solver: { method } }), { onProgress: (f) => void seen.push(f) });
      expect(res.times.length).toBe(11);
      expect(seen.length, method).toBeGreaterThanOrEqual(res.times.length - 1);
      for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
      expect(seen[0]!).toBeGreaterThanOrEqual(0);
      expect(seen.at(-1)).toBe(1);
      expect(new Set(seen).size).toBeGreaterThan(5);
    }
  });

  it('onProgress returning false aborts with code aborted', () => {
    let calls = 0;
    const e = thrown(() =>
      mesolve(qubit(), {
        onProgress: (f) => {
          calls++;
          return f < 0.5;
        },
      }),
    );
    expect(e.code).toBe('aborted');
    expect(calls).toBeGreaterThan(1);
    expect(calls).toBeLessThan(11);
  });

  it('an AbortSignal aborts: already aborted, or aborted during the solve', () => {
    const ac = new AbortController();
    ac.abort();
    let progressed = false;
    const e = thrown(() => mesolve(qubit(), { signal: ac.signal, onProgress: () => void (progressed = true) }));
    expect(e.code).toBe('aborted');
    expect(progressed).toBe(false);
    const ac2 = new AbortController();
    const e2 = thrown(() => mesolve(qubit(), { signal: ac2.signal, onProgress: (f) => void (f >= 0.3 && ac2.abort()) }));
    expect(e2.code).toBe('aborted');
    // the instance is fine afterwards
    expect(mesolve(qubit()).expect.Z![0]).toBe(1);
  });
});

describe('batch and sweep', () => {
  it('mesolveBatch results equal individual mesolve results; solver failures are per entry', () => {
    const specs: ModelSpec[] = [qubit(), pair(), { ...pair(), parameters: { g: 1.1, kappa: 0.4 } }, qubit({ solver: { method: 'dopri5', max_steps: 2 } })];
    const out = mesolveBatch(specs);
    expect(out.length).toBe(4);
    for (let i = 0; i < 3; i++) {
      const e = out[i]!;
      if (!e.ok) throw e.error;
      expect(resultDiff(e.result, mesolve(specs[i]!)), `entry ${i}`).toBeLessThanOrEqual(1e-12);
    }
    const bad = out[3]!;
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error).toBeInstanceOf(NestqError);
      expect(bad.error.code).toBe('numerical');
    }
    // a model that does not parse fails the whole call, naming the entry
    const e = thrown(() => mesolveBatch([qubit(), qubit({ jumps: [{ rate: -1, ops: 'SM0' }] })]));
    expect(e.code).toBe('invalid_model');
    expect(e.path).toBe('models[1].jumps[0].rate');
  });

  it('mesolveSweep results equal mesolve with the same parameters', () => {
    const sets = [{ g: 0.1, kappa: 0.1 }, { g: 0.5, kappa: 0 }, { g: 1.3, kappa: 0.7 }];
    const out = mesolveSweep(pair(), sets);
    expect(out.length).toBe(3);
    out.forEach((e, k) => {
      if (!e.ok) throw e.error;
      expect(resultDiff(e.result, mesolve(pair(), { parameters: sets[k] })), `set ${k}`).toBeLessThanOrEqual(1e-12);
    });
    const r0 = out[0]!;
    const r2 = out[2]!;
    if (r0.ok && r2.ok) expect(resultDiff(r0.result, r2.result)).toBeGreaterThan(1e-2);
    using m = new Model(pair());
    const viaModel = mesolveSweep(m, [{ g: 0.5 }]);
    expect(m.freed).toBe(false);
    const v = viaModel[0]!;
    if (!v.ok) throw v.error;
    expect(resultDiff(v.result, mesolve(pair(), { parameters: { g: 0.5 } }))).toBeLessThanOrEqual(1e-12);
    expect(mesolveSweep(pair(), [])).toEqual([]);
    expect(thrown(() => mesolveSweep(pair(), [{ g: 1 }, { kappa: 2 }])).path).toBe('sets[1]');
  });
});

// Last: it poisons the instance and re-initialises it.
describe('Rust panics', () => {
  it('surface as NestqError panic with the message, poison the instance, and init({force}) recovers', async () => {
    const before = mesolve(pair());
    const old = DensityMatrix.bell();
    // No public API can panic on purpose: go through the facade's own error translation (`call`).
    const e = thrown(() => call((m) => m.debugPanic('boom')));
    expect(e.code).toBe('panic');
    expect(e.message).toContain('boom');
    expect(thrown(() => mesolve(pair())).code).toBe('poisoned');
    expect(thrown(() => runtimeInfo()).code).toBe('poisoned');
    // `threads: false` is needed: a bare init({ force: true }) means threads 'auto' and would load
    // the threaded build (it does not remember the previous choice).
    const info = await init({ force: true, threads: false });
    expect(info.threaded).toBe(false);
    expect(runtimeInfo().threaded).toBe(false);
    const after = mesolve(pair());
    expect(resultDiff(before, after)).toBe(0);
    using bell = DensityMatrix.bell();
    expect(bell.concurrence()).toBeCloseTo(1, 10);
    expect(rawModule().lastPanic() ?? '').not.toContain('boom');
    // objects of the panicked instance are unusable, and freeing them is harmless
    expect(thrown(() => old.purity()).code).toBe('poisoned');
    expect(() => old.free()).not.toThrow();
  });
});

describe('train()', () => {
  const config = {
    seed: 4,
    task: { kind: 'delayed_recall' as const, symbols: 3, cue_steps: 4, delay_steps: 4, recall_steps: 4, train: 64, test: 32 },
    network: { n_hidden: 10, links: { kind: 'bridge' as const, count: 2 } },
    epochs: 3,
    batch_size: 16,
  };

  it('reports progress and one checkpoint per epoch, and the result carries the history', () => {
    const fractions: number[] = [];
    const epochs: number[] = [];
    const r = train(config, { onProgress: (f) => void fractions.push(f), onEpoch: (c) => void epochs.push(c.epoch) });
    expect(epochs).toEqual([1, 2, 3]);
    expect(fractions.at(-1)).toBeCloseTo(1, 12);
    expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1]!)).toBe(true);
    expect(r.history.map((h) => h.epoch)).toEqual([0, 1, 2, 3]);
    expect(r.param_count).toBe(r.layout.reduce((a, s) => a + s.len, 0));
    expect(r.layout.filter((s) => s.group === 'quantum').map((s) => s.name)).toEqual(['omega', 'kappa', 'gamma0', 'beta', 'alpha']);
    expect(r.analysis.quantum_mi).toHaveLength(2);
  });

  it('onEpoch returning false and an aborted signal stop training with code "aborted"', () => {
    expect(thrown(() => train(config, { onEpoch: () => false })).code).toBe('aborted');
    const ac = new AbortController();
    ac.abort();
    expect(thrown(() => train(config, { signal: ac.signal })).code).toBe('aborted');
  });

  it('bad configs and data throw NestqError with the path', () => {
    const e = thrown(() => train({ ...config, network: { ...config.network, links: { kind: 'bridge', coupling: 'strong' as 'cp' } } }));
    expect([e.code, e.path]).toEqual(['invalid_model', '$.network.links.coupling']);
    const m = thrown(() => train({ task: { kind: 'mnist_rows', train: 2, test: 1 } }));
    expect(m.path).toBe('$.task.data');
    const bad = { train: { images: new Uint8Array(784 * 2), labels: Uint8Array.from([1, 12]) }, test: { images: new Uint8Array(784), labels: Uint8Array.from([0]) } };
    expect(thrown(() => train({ task: { kind: 'mnist_rows', train: 2, test: 1 } }, { data: bad })).path).toBe('labels[1]');
  });
});

describe('gradLoss() (callback-defined loss, chain rule through the adjoint)', () => {
  const spec = JSON.parse(readFileSync(join(ROOT, 'examples', 'nest_bridge.json'), 'utf8')) as Record<string, unknown>;
  const opts = { dt: 0.02 };
  const loss = (v: number[]) => (v[0]! - 0.3) ** 2 + Math.sin(v[1]!);
  const inputs = [{ observable: 'Z0', time: 'final' as const }, { observable: 'X0X1', time: 5 }];

  it('equals the chain rule over grad() and finite differences of the loss', () => {
    const r = gradLoss(spec, { inputs, loss }, opts);
    const z = grad(spec, { terms: [{ observable: 'Z0', time: 'final' }] }, opts);
    const xx = grad(spec, { terms: [{ observable: 'X0X1', time: 5 }] }, opts);
    expect(r.inputs[0]).toBeCloseTo(z.value, 13);
    expect(r.inputs[1]).toBeCloseTo(xx.value, 13);
    expect(r.value).toBeCloseTo(loss(r.inputs), 14);
    for (const p of ['omega1', 'omega2', 'gamma12', 'kappa']) {
      const chain = 2 * (r.inputs[0]! - 0.3) * z.gradient[p]! + Math.cos(r.inputs[1]!) * xx.gradient[p]!;
      expect(Math.abs(r.gradient[p]! - chain)).toBeLessThan(1e-7 * Math.max(1, Math.abs(chain)));
      // central finite differences of the loss itself (parameter overrides)
      const h = 1e-5;
      const at = (x: number) => gradLoss(spec, { inputs, loss, lossGrad: () => [0, 0] }, { ...opts, parameters: { [p]: x } }).value;
      const base = (spec.parameters as Record<string, number>)[p]!;
      const fd = (at(base + h) - at(base - h)) / (2 * h);
      expect(Math.abs(r.gradient[p]! - fd)).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
    }
  });

  it('an explicit lossGrad is used as given; bad callbacks throw NestqError naming them', () => {
    const r = gradLoss(spec, { inputs: ['Z0'], loss: (v) => 3 * v[0]!, lossGrad: () => [3] }, opts);
    const z = grad(spec, 'Z0', opts);
    expect(r.dLdInputs).toEqual([3]);
    expect(r.gradient.kappa!).toBeCloseTo(3 * z.gradient.kappa!, 12);
    expect(thrown(() => gradLoss(spec, { inputs: ['Z0'], loss: () => Number.NaN }, opts)).path).toBe('loss');
    expect(thrown(() => gradLoss(spec, { inputs: ['Z0'], loss: (v) => v[0]!, lossGrad: () => [1, 2] }, opts)).path).toBe('lossGrad');
    expect(thrown(() => gradLoss(spec, { inputs: ['nope'], loss: (v) => v[0]! }, opts)).code).toBe('invalid_model');
  });
});
