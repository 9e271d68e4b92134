/**
 * The bulk read of a batch (`RawBatch.bulkLayout` + `bulkData`, used by `readBatch` in
 * ts/solve.ts) against the per-result path of `mesolve` (`readResult`: one boundary call per
 * series): every number bit for bit, the same names, dims, stats and `toJSON()`, and per-entry
 * errors with the same code, message and path as `mesolve` throws. Defined once here, run on the
 * single-threaded build (bulk-read.test.ts) and on the threaded one (bulk-read.mt.test.ts).
 */
import { expect, it } from 'vitest';
import { NestqError, mesolve, mesolveBatch, mesolveSweep, type BatchEntry, type MesolveResult, type ModelSpec } from '../pkg/dist/index.js';
import { coupledPair, drivenQubit, rawModule, thrown } from './helpers.js';

/** Two coupled qubits with parameters, a non-Hermitian observable (complex series), measures and physicality checks. */
export const pair = (): ModelSpec => {
  const m = coupledPair();
  return { ...m, observables: { ...m.observables, SM0: 'SM0' } };
};

/** A driven, damped qubit. */
const qubit = drivenQubit;

/** A damped qutrit, physicality checks off (empty diagnostics), one observable, no measures. */
const qutrit = (): ModelSpec => ({
  dims: [3],
  hamiltonian: [{ coef: 1, ops: 'JX0' }],
  jumps: [{ rate: 0.2, ops: 'JM0' }],
  initial: { basis: [0] },
  times: { start: 0, stop: 2, count: 7 },
  observables: { Jz: 'JZ0' },
  solver: { physicality: false },
});

/** Three qubits with method mpo (stats.mpo), a measure and an entropy. */
const chain = (): ModelSpec => ({
  dims: [2, 2, 2],
  hamiltonian: [
    { coef: 1, ops: 'X0 X1' },
    { coef: 1, ops: 'X1 X2' },
  ],
  jumps: [{ rate: 0.1, ops: 'SM1' }],
  initial: { basis: [0, 1, 0] },
  times: { start: 0, stop: 0.5, count: 3 },
  observables: { Z1: 'Z1' },
  measures: ['concurrence:0,1'],
  solver: { method: 'mpo', dt: 0.05 },
});

/** The bytes of a typed array's numbers (for bit-for-bit comparison: NaN payloads and −0 too). */
const bytes = (a: Float64Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function sameSeries(got: Float64Array, want: Float64Array, what: string): void {
  expect(got, what).toBeInstanceOf(Float64Array);
  expect(got.length, what).toBe(want.length);
  expect(bytes(got).equals(bytes(want)), `${what}: not bit-for-bit equal`).toBe(true);
}

function sameRecord(got: Record<string, Float64Array>, want: Record<string, Float64Array>, what: string): void {
  expect(Object.keys(got), what).toEqual(Object.keys(want));
  for (const k of Object.keys(want)) sameSeries(got[k]!, want[k]!, `${what}.${k}`);
}

/** stats without the wall time (the only field that differs between two solves). */
const statsOf = (r: MesolveResult): unknown => ({ ...r.stats, wall_s: 0 });

/** Asserts that a batch result is the per-result path's result of the same solve, bit for bit. */
export function expectSameResult(got: MesolveResult, want: MesolveResult, label: string): void {
  expect(Object.keys(got), label).toEqual(Object.keys(want));
  sameSeries(got.times, want.times, `${label} times`);
  sameRecord(got.expect, want.expect, `${label} expect`);
  sameRecord(got.expectImag, want.expectImag, `${label} expectImag`);
  sameRecord(got.measures, want.measures, `${label} measures`);
  sameRecord({ ...got.physicality }, { ...want.physicality }, `${label} physicality`);
  expect(got.finalState.dims, label).toEqual(want.finalState.dims);
  sameSeries(got.finalState.data, want.finalState.data, `${label} finalState.data`);
  expect(statsOf(got), label).toEqual(statsOf(want));
  const json = (r: MesolveResult) => ({ ...r.toJSON(), stats: statsOf(r) });
  expect(json(got), label).toEqual(json(want));
}

/** Asserts that entry `e` failed with the error `f` throws (code, message, path). */
export function expectSameError(e: BatchEntry | undefined, f: () => unknown, label: string): NestqError {
  expect(e?.ok, label).toBe(false);
  const want = thrown(f);
  const got = (e as { ok: false; error: NestqError }).error;
  expect(got, label).toBeInstanceOf(NestqError);
  expect({ code: got.code, message: got.message, path: got.path }, label).toEqual({ code: want.code, message: want.message, path: want.path });
  return got;
}

/** Every array of a result. */
const arraysOf = (r: MesolveResult): Float64Array[] => [
  r.times,
  ...Object.values(r.expect),
  ...Object.values(r.expectImag),
  ...Object.values(r.measures),
  r.physicality.traceDrift,
  r.physicality.hermiticityError,
  r.physicality.minEigenvalue,
  r.finalState.data,
];

/** The `it`s shared by the st and mt test files. */
export function defineBulkReadTests(): void {
  it('mesolveSweep of 36 sets equals mesolve with the same parameters, bit for bit; a failing set is a per-entry error', () => {
    const sets = Array.from({ length: 36 }, (_, k) => ({ g: 0.05 + 0.04 * k, kappa: k === 17 ? -0.5 : 0.01 * (k % 7) }));
    const out = mesolveSweep(pair(), sets);
    expect(out.length).toBe(sets.length);
    out.forEach((e, k) => {
      if (k === 17) return;
      if (!e.ok) throw e.error;
      expectSameResult(e.result, mesolve(pair(), { parameters: sets[k] }), `set ${k}`);
    });
    const err = expectSameError(out[17], () => mesolve(pair(), { parameters: sets[17] }), 'set 17');
    expect(err.code).toBe('invalid_model');
    expect(err.path).toBe('$.jumps[0].rate');
    expect(err.message).toBe('$.jumps[0].rate: negative rate -0.5 (rates must be ≥ 0; L = √rate·ops)');
    // the complex observable and the measures made it through
    const r0 = out[0]!;
    if (!r0.ok) throw r0.error;
    expect(Object.keys(r0.result.expectImag)).toEqual(['SM0']);
    expect(Object.keys(r0.result.measures)).toEqual(['concurrence:0,1', 'purity']);
    // a parameter the model does not define fails every entry, as mesolve does
    const unknown = mesolveSweep(pair(), [{ g: 0.2, nope: 1 }, { g: 0.3, nope: 2 }]);
    unknown.forEach((e, k) => expectSameError(e, () => mesolve(pair(), { parameters: { g: 0.2 + 0.1 * k, nope: k + 1 } }), `unknown ${k}`));
    expect((unknown[0] as { error: NestqError }).error.path).toBe('parameters.nope');
  });

  it('mesolveBatch of mixed models (dims, observables, measures, methods) equals mesolve, bit for bit; solver failures per entry', () => {
    const specs: (ModelSpec | string)[] = [
      qubit(),
      pair(),
      { ...pair(), parameters: { g: 1.1, kappa: 0.4 } },
      qubit({ solver: { method: 'dopri5', max_steps: 2 } }), // numerical, no path
      qutrit(),
      chain(),
      { ...pair(), solver: { method: 'expm', memory_budget_mb: 0.005 } }, // memory_budget at solve time, with path
      JSON.stringify(qubit({ initial: { basis: [1] }, measures: ['purity', 'entropy'] })),
      pair(),
    ];
    const failing = new Set([3, 6]);
    const out = mesolveBatch(specs);
    expect(out.length).toBe(specs.length);
    out.forEach((e, i) => {
      if (failing.has(i)) return;
      if (!e.ok) throw e.error;
      expectSameResult(e.result, mesolve(specs[i]!), `entry ${i}`);
    });
    const numerical = expectSameError(out[3], () => mesolve(specs[3]!), 'entry 3');
    expect(numerical.code).toBe('numerical');
    expect(numerical.path).toBeUndefined();
    expect(numerical.message).toMatch(/^dopri5 exceeded max_steps = 2 at t = /);
    const budget = expectSameError(out[6], () => mesolve(specs[6]!), 'entry 6');
    expect(budget.code).toBe('memory_budget');
    expect(budget.path).toBe('$.solver.memory_budget_mb');
    // the mix is what it claims to be
    const ok = (i: number) => (out[i] as { result: MesolveResult }).result;
    expect(ok(4).finalState.dims).toEqual([3]);
    expect(ok(4).physicality.traceDrift.length).toBe(0);
    expect(ok(5).stats.method).toBe('mpo');
    expect(ok(5).finalState.data.length).toBe(2 * 64);
    expect(Object.keys(ok(7).measures)).toEqual(['purity', 'entropy']);
  });

  it('mesolveBatch parses its texts in parallel and reports the first faulty one (lowest index)', () => {
    const specs = Array.from({ length: 40 }, (_, i) =>
      i === 13 ? qubit({ times: { start: 0, stop: -1, count: 3 } }) : i === 29 ? qubit({ jumps: [{ rate: -1, ops: 'SM0' }] }) : qubit());
    const err = thrown(() => mesolveBatch(specs));
    expect(err.code).toBe('invalid_model');
    expect(err.path).toBe('models[13].times.stop');
    // the other faulty text alone is reported with its own index
    specs[13] = qubit();
    const second = thrown(() => mesolveBatch(specs));
    expect(second.code).toBe('invalid_model');
    expect(second.path).toBe('models[29].jumps[0].rate');
    expect(second.message).toMatch(/negative rate/);
  });

  it('batch results are non-overlapping views into one unshared buffer per call', () => {
    const out = mesolveBatch([qubit(), qubit({ solver: { method: 'dopri5', max_steps: 2 } }), pair(), qutrit()]);
    const arrays = out.flatMap((e) => (e.ok ? arraysOf(e.result) : []));
    const buffer = arrays[0]!.buffer;
    expect(buffer).toBeInstanceOf(ArrayBuffer);
    expect(typeof SharedArrayBuffer === 'undefined' || !(buffer instanceof SharedArrayBuffer)).toBe(true);
    for (const a of arrays) expect(a.buffer).toBe(buffer);
    // back to back without overlap, covering the whole buffer
    const spans = arrays.filter((a) => a.length > 0).map((a) => [a.byteOffset, a.byteOffset + a.byteLength] as const);
    spans.sort((x, y) => x[0] - y[0]);
    spans.forEach(([s], k) => expect(s).toBe(k === 0 ? 0 : spans[k - 1]![1]));
    expect(spans[spans.length - 1]![1]).toBe(buffer.byteLength);
    // writing into one result leaves the others alone
    const a = (out[0] as { result: MesolveResult }).result;
    const b = (out[2] as { result: MesolveResult }).result;
    const before = Float64Array.from(b.times);
    a.finalState.data.fill(NaN);
    expect(Array.from(b.times)).toEqual(Array.from(before));
  });

  it('RawBatch.take still works next to the bulk read; a taken entry reads as an error', () => {
    const m = rawModule();
    const b = m.mesolveBatch([JSON.stringify(qubit()), JSON.stringify(qubit({ solver: { method: 'dopri5', max_steps: 2 } }))]);
    try {
      const r = b.take(0);
      try {
        expect(r.expectNames()).toEqual(['X', 'Z']);
      } finally {
        r.free();
      }
      const layout = JSON.parse(b.bulkLayout()) as Record<string, unknown>[];
      expect(layout[0]).toEqual({ ok: false, code: 'invalid_argument', message: 'entry 0 was already taken', path: 'i' });
      expect(layout[1]).toMatchObject({ ok: false, code: 'numerical' });
      // take throws what the layout says (and moves the entry out too)
      let takeError: (Error & { code?: string; path?: string }) | undefined;
      try {
        b.take(1);
      } catch (e) {
        takeError = e as Error & { code?: string; path?: string };
      }
      expect({ ok: false, code: takeError?.code, message: takeError?.message }).toEqual(layout[1]);
      expect(takeError?.path).toBeUndefined();
      expect(JSON.parse(b.bulkLayout())[1]).toEqual({ ok: false, code: 'invalid_argument', message: 'entry 1 was already taken', path: 'i' });
      expect(b.bulkData().length).toBe(0);
    } finally {
      b.free();
    }
  });
}
