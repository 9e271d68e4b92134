/**
 * Shared helpers of the vitest suites: the golden QuTiP fixtures, the comparison rule of the
 * Rust fixture test (crates/nestq/tests/fixtures.rs) and small numeric utilities.
 *
 * Tolerance rule (identical to the Rust test): |nestq − qutip| ≤ tol·max(1, |qutip|) with
 * tol = 1e-6 + 2·reference_check.max_abs_state_deviation; entropy-like measures (`entropy*`,
 * `mutual*`) get 20·tol because they amplify state errors δ to δ·ln(1/δ).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect as vexpect, it } from 'vitest';
import { Model, NestqError, mesolve, type MesolveResult, type ModelSpec } from '../pkg/dist/index.js';
import type { MethodName, ResultJSON } from '../pkg/dist/spec.js';
import * as rawInternals from '../pkg/dist/raw.js';
import type { RawModule } from '../pkg/dist/raw.js';

/**
 * The raw wasm-bindgen module of the live instance (`rawModuleForChecks()` of raw.ts; it is
 * `@internal`, so stripped from the declarations, hence the cast).
 */
export function rawModule(): RawModule {
  return (rawInternals as unknown as { rawModuleForChecks(): RawModule }).rawModuleForChecks();
}

/** Repository root (the parent of `test/`). */
/** A small driven, damped qubit (H = X, L = √0.1 σ−), observables Z and X; `over` replaces fields. */
export const drivenQubit = (over: Partial<ModelSpec> = {}): ModelSpec => ({
  dims: [2],
  hamiltonian: [{ coef: 1, ops: 'X0' }],
  jumps: [{ rate: 0.1, ops: 'SM0' }],
  initial: { basis: [0] },
  times: { start: 0, stop: 5, count: 11 },
  observables: { Z: 'Z0', X: 'X0' },
  ...over,
});

/** Two coupled, damped qubits with parameters `g`, `kappa` (sweeps), observables X0, Z1, X0 X1 and measures. */
export const coupledPair = (): ModelSpec => ({
  dims: [2, 2],
  parameters: { g: 0.3, kappa: 0.1 },
  hamiltonian: [
    { coef: 1, ops: 'Z0' },
    { coef: 0.7, ops: 'Z1' },
    { coef: 'g', ops: 'X0 X1' },
  ],
  jumps: [
    { rate: 'kappa', ops: 'SM0' },
    { rate: 0.05, ops: 'SM1' },
  ],
  initial: { product: [[1, 1], [1, 0]] },
  times: { start: 0, stop: 4, count: 9 },
  observables: { X0: 'X0', Z1: 'Z1', XX: 'X0 X1' },
  measures: ['concurrence:0,1', 'purity'],
});

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A complex number as `[re, im]`. */
export type C = [number, number];

/** What `scripts/reference/gen_fixtures.py` writes to `test/fixtures/qutip/<name>.json`. */
export interface QutipReference {
  times: number[];
  expect: Record<string, (number | C)[]>;
  measures: Record<string, number[]>;
  final_state: (number | C)[][];
  reference_check?: { max_abs_state_deviation?: number };
}

/** Names of the golden fixtures (file stems of `test/fixtures/models/*.json`), sorted. */
export function fixtureNames(): string[] {
  return readdirSync(join(ROOT, 'test/fixtures/models'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** Reads a JSON file relative to the repository root. */
export function readJSON<T = unknown>(rel: string): T {
  return JSON.parse(readFileSync(join(ROOT, rel), 'utf8')) as T;
}

/** The model file and QuTiP result of fixture `name`. */
export function loadFixture(name: string): { spec: ModelSpec; reference: QutipReference } {
  return {
    spec: readJSON<ModelSpec>(`test/fixtures/models/${name}.json`),
    reference: readJSON<QutipReference>(`test/fixtures/qutip/${name}.json`),
  };
}

/** The comparison tolerance of a fixture: 1e-6 + 2·(QuTiP's own deviation from the exact solution). */
export function fixtureTolerance(reference: QutipReference): number {
  return 1e-6 + 2 * (reference.reference_check?.max_abs_state_deviation ?? 0);
}

/**
 * The methods the Rust test runs on a fixture: auto, dopri5, trbdf2 (not on `ising_n4`, whose
 * ω ≈ 200 oscillations cost ~10⁶ second-order steps at this tolerance) and, for time-independent
 * models, krylov and expm, plus cheby when the generator also preserves Hermiticity.
 */
export function methodsFor(name: string, timeIndependent: boolean, hermitianPreserving = true): MethodName[] {
  const m: MethodName[] = ['auto', 'dopri5'];
  if (name !== 'ising_n4') m.push('trbdf2');
  if (timeIndependent) m.push('krylov', 'expm');
  if (timeIndependent && hermitianPreserving) m.push('cheby');
  return m;
}

/**
 * Whether the model's coefficient matrix is Hermitian, i.e. every cross term `{rate, a, b}` has
 * its partner `{conj(rate), b, a}` (the Hamiltonian is Hermitian in every valid model). Rates
 * given as parameter names are compared by name, and modulations must match.
 */
export function isHermiticityPreserving(spec: ModelSpec): boolean {
  const cross = (spec.cross ?? []) as Array<{ rate: unknown; a: string; b: string; modulation?: unknown }>;
  const key = (v: unknown): string => JSON.stringify(v);
  const conj = (v: unknown): unknown => (Array.isArray(v) ? [v[0], -(v[1] as number)] : v);
  return cross.every((c) => c.a === c.b || cross.some((d) => d.a === c.b && d.b === c.a && key(d.rate) === key(conj(c.rate)) && key(d.modulation) === key(c.modulation)));
}

/** `spec` with solver `method` (trbdf2 tightened to rtol 1e-12/atol 1e-14, rk4 given dt 1e-3, as in the Rust test). */
export function withMethod(spec: ModelSpec, method: MethodName): ModelSpec {
  const s = structuredClone(spec);
  s.solver = { ...s.solver, method };
  if (method === 'trbdf2' || method === 'stiff') Object.assign(s.solver, { rtol: 1e-12, atol: 1e-14 });
  if (method === 'rk4') s.solver.dt = 1e-3;
  return s;
}

const cval = (v: number | C | undefined): C => (v === undefined ? [NaN, NaN] : typeof v === 'number' ? [v, 0] : v);
const cabs = (re: number, im: number): number => Math.hypot(re, im);

/** Outcome of {@link compareWithQutip}: the largest scaled deviation and every violation found. */
export interface Comparison {
  /** max |nestq − qutip| / max(1, |qutip|) over everything compared (entropy-like measures divided by 20). */
  worst: number;
  /** Human-readable description of each value outside the tolerance (empty when all agree). */
  failures: string[];
  /** Number of scalar values compared. */
  compared: number;
}

/**
 * Compares a mesolve result with a QuTiP reference by the Rust test's rule: output times to
 * 1e-12, every expectation value (complex: `expect` + i·`expectImag`), every measure and the
 * final state. Observables or measures missing from either side are failures.
 */
export function compareWithQutip(res: MesolveResult, ref: QutipReference, tol: number): Comparison {
  const failures: string[] = [];
  let worst = 0;
  let compared = 0;
  const fail = (s: string) => {
    if (failures.length < 20) failures.push(s);
  };
  if (res.times.length !== ref.times.length) fail(`number of times: nestq ${res.times.length} vs qutip ${ref.times.length}`);
  ref.times.forEach((t, k) => {
    if (!(Math.abs(t - res.times[k]!) < 1e-12)) fail(`time[${k}]: nestq ${res.times[k]} vs qutip ${t}`);
  });
  const names = Object.keys(res.expect);
  for (const n of Object.keys(ref.expect)) if (!names.includes(n)) fail(`observable ${n} missing from the result`);
  for (const n of names) {
    const r = ref.expect[n];
    if (!r) {
      fail(`no reference for observable ${n}`);
      continue;
    }
    const re = res.expect[n]!;
    const im = res.expectImag[n];
    re.forEach((v, k) => {
      const [rr, ri] = cval(r[k]);
      const vi = im ? im[k]! : 0;
      const d = cabs(v - rr, vi - ri) / Math.max(1, cabs(rr, ri));
      compared++;
      worst = Math.max(worst, d);
      if (!(d <= tol)) fail(`expect ${n} at t=${res.times[k]}: nestq ${v}${im ? `+${vi}i` : ''} vs qutip ${rr}+${ri}i (scaled dev ${d.toExponential(2)}, tol ${tol.toExponential(2)})`);
    });
  }
  const mnames = Object.keys(res.measures);
  for (const n of Object.keys(ref.measures)) if (!mnames.includes(n)) fail(`measure ${n} missing from the result`);
  for (const n of mnames) {
    const r = ref.measures[n];
    if (!r) {
      fail(`no reference for measure ${n}`);
      continue;
    }
    const mt = n.startsWith('entropy') || n.startsWith('mutual') ? tol * 20 : tol;
    res.measures[n]!.forEach((v, k) => {
      const rv = r[k]!;
      const d = Math.abs(v - rv) / Math.max(1, Math.abs(rv));
      compared++;
      worst = Math.max(worst, d / (mt / tol));
      if (!(d <= mt)) fail(`measure ${n} at t=${res.times[k]}: nestq ${v} vs qutip ${rv} (scaled dev ${d.toExponential(2)}, tol ${mt.toExponential(2)})`);
    });
  }
  const n = ref.final_state.length;
  const fs = res.finalState.data;
  if (fs.length !== 2 * n * n) fail(`final state: nestq has ${fs.length / 2} entries, qutip ${n * n}`);
  ref.final_state.forEach((row, i) =>
    row.forEach((z, j) => {
      const [rr, ri] = cval(z);
      const vr = fs[2 * (i * n + j)]!;
      const vi = fs[2 * (i * n + j) + 1]!;
      const d = cabs(vr - rr, vi - ri) / Math.max(1, cabs(rr, ri));
      compared++;
      worst = Math.max(worst, d);
      if (!(d <= tol)) fail(`final_state[${i}][${j}]: nestq ${vr}+${vi}i vs qutip ${rr}+${ri}i`);
    }),
  );
  return { worst, failures, compared };
}

/** Whether a model is time-independent (per the engine's own `check()`). */
export function isTimeIndependent(spec: ModelSpec): boolean {
  const m = new Model(spec);
  try {
    return m.check().time_independent;
  } finally {
    m.free();
  }
}

/**
 * Registers one test per (fixture, applicable method): solve through the WASM facade and
 * compare with QuTiP. Call at the top level of a test file after `init()` ran in `beforeAll`.
 * `log` receives one line per solve (method used, time, worst deviation).
 */
export function defineFixtureTests(log: (line: string) => void = () => {}): void {
  const names = fixtureNames();
  it('has at least 12 golden fixtures, each with a QuTiP reference', () => {
    vexpect(names.length).toBeGreaterThanOrEqual(12);
    for (const n of names) vexpect(Object.keys(loadFixture(n).reference.expect).length, n).toBeGreaterThan(0);
  });
  it('the comparison rejects a result off by 1e-5 (in an observable, a measure or the final state)', () => {
    const { spec, reference } = loadFixture('nest_paper');
    const tol = fixtureTolerance(reference);
    const res = mesolve(spec);
    vexpect(compareWithQutip(res, reference, tol).failures).toEqual([]);
    const obs = Object.keys(res.expect)[0]!;
    res.expect[obs]![3]! += 1e-5;
    vexpect(compareWithQutip(res, reference, tol).failures.join('\n')).toMatch(new RegExp(`expect ${obs} at t=`));
    res.expect[obs]![3]! -= 1e-5;
    const meas = Object.keys(res.measures).find((n) => !n.startsWith('entropy') && !n.startsWith('mutual'))!;
    res.measures[meas]![5]! += 1e-5;
    vexpect(compareWithQutip(res, reference, tol).failures.join('\n')).toContain(`measure ${meas}`);
    res.measures[meas]![5]! -= 1e-5;
    res.finalState.data[1]! += 1e-5;
    vexpect(compareWithQutip(res, reference, tol).failures.join('\n')).toContain('final_state[0][0]');
  });
  const allMethods: MethodName[] = ['auto', 'dopri5', 'trbdf2', 'krylov', 'expm', 'cheby'];
  for (const name of names) {
    for (const method of allMethods) {
      it(`${name} [${method}] matches QuTiP`, (ctx) => {
        const { spec, reference } = loadFixture(name);
        if (!methodsFor(name, isTimeIndependent(spec), isHermiticityPreserving(spec)).includes(method)) {
          ctx.skip(); // not applicable (time-dependent model, or trbdf2 on ising_n4): as in the Rust test
          return;
        }
        const t0 = performance.now();
        const res = mesolve(withMethod(spec, method));
        const ms = performance.now() - t0;
        if (method !== 'auto') vexpect(res.stats.method).toBe(method);
        const tol = fixtureTolerance(reference);
        const c = compareWithQutip(res, reference, tol);
        log(`${name.padEnd(24)} ${method.padEnd(7)} (${res.stats.method}) ${ms.toFixed(0).padStart(5)} ms  dev ${c.worst.toExponential(2)}  tol ${tol.toExponential(2)}`);
        vexpect(c.failures).toEqual([]);
        vexpect(c.compared).toBeGreaterThan(reference.times.length);
      });
    }
  }
}

/** max |a_i − b_i| of two equally long arrays (Infinity if the lengths differ). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Dense n×n matrix of `[re, im]` entries from interleaved re/im row-major data. */
export function toMatrix(data: ArrayLike<number>): C[][] {
  const n = Math.round(Math.sqrt(data.length / 2));
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j): C => [data[2 * (i * n + j)]!, data[2 * (i * n + j) + 1]!]));
}

/** Interleaved re/im row-major data of a dense matrix of real or `[re, im]` entries. */
export function fromMatrix(rows: readonly (readonly (number | C)[])[]): Float64Array {
  const n = rows.length;
  const out = new Float64Array(2 * n * n);
  rows.forEach((r, i) => r.forEach((z, j) => out.set(typeof z === 'number' ? [z, 0] : z, 2 * (i * n + j))));
  return out;
}

/** A {@link MesolveResult} rebuilt from a result file (e.g. one computed in the browser). */
export function fromResultJSON(j: ResultJSON): MesolveResult {
  const expect: Record<string, Float64Array> = {};
  const expectImag: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(j.expect)) {
    const complex = v.length > 0 && Array.isArray(v[0]);
    expect[k] = Float64Array.from(v as (number | [number, number])[], (z) => (Array.isArray(z) ? z[0] : z));
    if (complex) expectImag[k] = Float64Array.from(v as [number, number][], (z) => z[1]);
  }
  const measures: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(j.measures)) measures[k] = Float64Array.from(v);
  const n = j.final_state.length;
  return {
    times: Float64Array.from(j.times),
    expect,
    expectImag,
    measures,
    physicality: {
      traceDrift: Float64Array.from(j.physicality.trace_drift),
      hermiticityError: Float64Array.from(j.physicality.hermiticity_error),
      minEigenvalue: Float64Array.from(j.physicality.min_eigenvalue),
    },
    finalState: { dims: [n], data: Float64Array.from(j.final_state.flat(2)) },
    stats: j.stats,
    toJSON: () => j,
  };
}

/** Runs `f` and returns the `NestqError` it threw (fails the test if it threw nothing or
 * something else). */
export function thrown(f: () => unknown): NestqError {
  try {
    f();
  } catch (e) {
    vexpect(e).toBeInstanceOf(NestqError);
    return e as NestqError;
  }
  throw new Error('expected a NestqError, nothing was thrown');
}
