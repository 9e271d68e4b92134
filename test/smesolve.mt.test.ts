/**
 * `smesolve`/`ssesolve`/`runFromExperiment` through the threaded WebAssembly build (pool of 2):
 * ensemble means against `mesolve` within 4 standard errors, the measurement record as typed
 * arrays, filtering a recorded current back to its trajectory, reproducibility, and errors that
 * name the field.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init, mesolve, runFromExperiment, runtimeInfo, smesolve, ssesolve, type ModelSpec } from '../pkg/dist/index.js';
import { drivenQubit, thrown } from './helpers.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

/** A driven, detuned qubit decaying at 0.4 and dephasing at 0.1. */
const model = (): ModelSpec =>
  drivenQubit({
    hamiltonian: [
      { coef: 0.5, ops: 'X0' },
      { coef: 0.2, ops: 'Z0' },
    ],
    jumps: [
      { rate: 0.4, ops: 'SM0' },
      { rate: 0.1, ops: 'Z0' },
    ],
    times: { start: 0, stop: 4, count: 9 },
  });

describe('smesolve and ssesolve (threaded build)', () => {
  it('runs on a pool of 2', () => {
    expect(runtimeInfo().threads).toBe(2);
  });

  it('agree with mesolve within 4 standard errors and return the records', () => {
    const me = mesolve(model());
    const sme = smesolve(model(), { ntraj: 200, seed: 5, dt: 0.005, scOps: [{ jump: 0, efficiency: 0.6 }, 1], storeMeasurement: true });
    const sse = ssesolve(model(), { ntraj: 200, seed: 5, dt: 0.005, heterodyne: true });
    for (const r of [sme, sse]) {
      for (const k of ['Z', 'X']) {
        const a = me.expect[k]!;
        const b = r.expect[k]!;
        const se = r.stdExpect[k]!;
        for (let t = 0; t < a.length; t++) expect(Math.abs(a[t]! - b[t]!)).toBeLessThanOrEqual(4 * se[t]! + 1e-3);
        expect(se[se.length - 1]!).toBeGreaterThan(1e-3);
      }
    }
    expect(sme.stats.method).toBe('smesolve');
    expect(sme.trajectories.channels).toEqual(['$.jumps[0]', '$.jumps[1]']);
    expect(sme.measurement!.length).toBe(200);
    expect(sme.measurement![0]!.length).toBe(2);
    expect(sme.measurement![0]![0]).toBeInstanceOf(Float64Array);
    expect(sme.measurement![0]![0]!.length).toBe(8);
    expect(sme.dW![0]![1]!.length).toBe(8);
    expect(sse.trajectories.channels.length).toBe(4);
    expect(sse.trajectories.noise_factors[0]).toBeCloseTo(Math.SQRT2, 15);
    expect(sse.measurement).toBeNull();
    // the Rouchon scheme keeps every conditional ρ a density matrix
    expect(Math.min(...sme.physicality.minEigenvalue)).toBeGreaterThan(-1e-12);
    const json = sme.toJSON();
    expect(json.trajectories!.ntraj).toBe(200);
  });

  it('is reproducible from the seed', () => {
    const a = smesolve(model(), { ntraj: 32, seed: 3, dt: 0.01 });
    const b = smesolve(model(), { ntraj: 32, seed: 3, dt: 0.01 });
    const c = smesolve(model(), { ntraj: 32, seed: 4, dt: 0.01 });
    expect(Array.from(a.expect.Z!)).toEqual(Array.from(b.expect.Z!));
    expect(Array.from(a.expect.Z!)).not.toEqual(Array.from(c.expect.Z!));
  });

  it('filters a recorded current back to its trajectory', () => {
    const spec = { ...model(), times: { start: 0, stop: 1, count: 201 } } as ModelSpec;
    const one = smesolve(spec, { ntraj: 1, seed: 8, dt: 1 / 200, storeMeasurement: 'start' });
    const filtered = runFromExperiment(spec, one.measurement![0]!, { measurement: true });
    expect(filtered.trajectories.from_experiment).toBe(true);
    for (const k of ['X', 'Z']) {
      const a = one.expect[k]!;
      const b = filtered.expect[k]!;
      for (let t = 0; t < a.length; t++) expect(Math.abs(a[t]! - b[t]!)).toBeLessThan(1e-9);
    }
  });

  it('refuses bad input with the field named', () => {
    let e = thrown(() => smesolve(model(), { scOps: [{ jump: 0, efficiency: 1.5 }] }));
    expect(e.code).toBe('invalid_model');
    expect(e.path).toBe('$.solver.sc_ops[0].efficiency');
    e = thrown(() => smesolve(model(), { ntraj: 0 }));
    expect(e.path).toBe('$.solver.ntraj');
    e = thrown(() => smesolve(model(), { dt: -1 }));
    expect(e.path).toBe('$.solver.dt');
    e = thrown(() => smesolve(model(), { scOps: [7] }));
    expect(e.path).toBe('$.solver.sc_ops[0]');
    e = thrown(() => runFromExperiment(model(), [[0.1, 0.2]]));
    expect(e.path).toBe('$.solver.from_experiment.dW');
    e = thrown(() => ssesolve({ ...model(), initial: { dm: [[0.5, 0], [0, 0.5]] } }));
    expect(e.path).toBe('$.initial');
  });
});
