/**
 * `mcsolve` through the threaded WebAssembly build (pool of 2): ensemble means against
 * `mesolve` within 4 standard errors, the trajectory record, reproducibility from the seed,
 * batches, and errors that name the field.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init, mcsolve, mesolve, mesolveBatch, runtimeInfo, type ModelSpec } from '../pkg/dist/index.js';
import { drivenQubit, thrown } from './helpers.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

/** A driven, detuned qubit decaying at 0.3 (basis state 0 is the excited one); ⟨X⟩ and ⟨Z⟩ both move. */
const model = (): ModelSpec =>
  drivenQubit({
    hamiltonian: [
      { coef: 0.5, ops: 'X0' },
      { coef: 0.2, ops: 'Z0' },
    ],
    jumps: [{ rate: 0.3, ops: 'SM0' }],
    times: { start: 0, stop: 6, count: 13 },
  });

describe('mcsolve (threaded build)', () => {
  it('runs on a pool of 2', () => {
    expect(runtimeInfo().threads).toBe(2);
  });

  it('agrees with mesolve within 4 standard errors and reports the trajectories', () => {
    const me = mesolve(model());
    const mc = mcsolve(model(), { ntraj: 400, seed: 7 });
    expect(mc.stats.method).toBe('mcsolve');
    for (const k of ['Z', 'X']) {
      const a = me.expect[k]!;
      const b = mc.expect[k]!;
      const se = mc.stdExpect[k]!;
      expect(se.length).toBe(a.length);
      for (let t = 0; t < a.length; t++) expect(Math.abs(a[t]! - b[t]!)).toBeLessThanOrEqual(4 * se[t]! + 2e-4);
      expect(se[se.length - 1]!).toBeGreaterThan(0.003);
      expect(se[se.length - 1]!).toBeLessThan(0.06);
    }
    const tr = mc.trajectories;
    expect(tr.ntraj).toBe(400);
    expect(tr.seed).toBe(7);
    expect(tr.collapse_ops).toEqual(['$.jumps[0]']);
    expect(tr.col_times.length).toBe(400);
    expect(tr.col_times.flat().every((t) => t > 0 && t <= 6)).toBe(true);
    expect(tr.col_which.flat().every((j) => j === 0)).toBe(true);
    // the averaged final state is a density matrix close to mesolve's
    const d = mc.finalState.data;
    expect(d[0]! + d[6]!).toBeCloseTo(1, 12);
    const json = mc.toJSON();
    expect(Object.keys(json.std_expect!).sort()).toEqual(['X', 'Z']);
    expect(json.trajectories!.col_which.length).toBe(400);
  });

  it('is reproducible from the seed, and another seed gives another ensemble', () => {
    const a = mcsolve(model(), { ntraj: 48, seed: 3 });
    const b = mcsolve(model(), { ntraj: 48, seed: 3 });
    const c = mcsolve(model(), { ntraj: 48, seed: 4 });
    expect(Array.from(a.expect.Z!)).toEqual(Array.from(b.expect.Z!));
    expect(a.trajectories.col_times).toEqual(b.trajectories.col_times);
    expect(Array.from(a.expect.Z!)).not.toEqual(Array.from(c.expect.Z!));
  });

  it('carries the trajectory record through batches', () => {
    const spec = { ...model(), solver: { method: 'mcsolve', ntraj: 32, seed: 1 } } as ModelSpec;
    const [e] = mesolveBatch([spec]);
    expect(e!.ok).toBe(true);
    if (!e!.ok) return;
    const one = mcsolve(model(), { ntraj: 32, seed: 1 });
    expect(Array.from(e!.result.expect.Z!)).toEqual(Array.from(one.expect.Z!));
    expect(Array.from(e!.result.stdExpect!.Z!)).toEqual(Array.from(one.stdExpect.Z!));
    expect(e!.result.trajectories!.col_times).toEqual(one.trajectories.col_times);
  });

  it('refuses bad input with the field named', () => {
    let e = thrown(() => mcsolve(model(), { ntraj: 0 }));
    expect(e.code).toBe('invalid_model');
    expect(e.path).toBe('$.solver.ntraj');
    e = thrown(() => mcsolve({ ...model(), observables: {} }, { targetTol: 0.01 }));
    expect(e.path).toBe('$.solver.target_tol');
    e = thrown(() => mcsolve(model(), { seed: -1 }));
    expect(e.path).toBe('$.solver.seed');
    // the NEST paper's bare cross term has no unravelling
    const cross: ModelSpec = {
      dims: [2, 2],
      hamiltonian: [{ coef: 1, ops: 'Z0' }],
      cross: [{ rate: 0.1, a: 'X0', b: 'X1' }, { rate: 0.1, a: 'X1', b: 'X0' }],
      initial: { basis: [0, 0] },
      times: [0, 1],
      observables: { Z: 'Z0' },
    };
    e = thrown(() => mcsolve(cross, { ntraj: 4 }));
    expect(e.path).toBe('$.cross[0]');
    expect(e.message).toMatch(/completely positive/);
  });
});
