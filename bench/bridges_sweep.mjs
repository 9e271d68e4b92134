// The 1000-bridge parameter sweep of the benchmarks, in one place for bench/wasm_bench.mjs and
// bench/sweep_raw.mjs: the native harness's bridge_model()/bridge_sets() in
// crates/nestq/benches/engine.rs (= bench/bridges_models.py), character for character in content.
//
// Bridge k: H = ω1 Z0 + ω2 Z1 + γ12 X0 X1, decay √κ SM on both qubits, ρ(0) = |00⟩⟨00|, 51 output
// times on [0, 10], default tolerances, physicality checks off; observable ⟨Z0⟩.

/** Names of the swept parameters, in the order of {@link bridgeValues}' rows. */
export const BRIDGE_PARAMETERS = ['omega1', 'omega2', 'gamma12', 'kappa'];

/**
 * The bridge model (a model-file object). `method` `'auto'` leaves `solver.method` out (its
 * default); `params` are the model's `parameters` (the template's by default).
 */
export function bridgeSpec(method = 'auto', params = { omega1: 1, omega2: 1, gamma12: 0.1, kappa: 0.05 }) {
  return {
    dims: [2, 2],
    parameters: params,
    hamiltonian: [
      { coef: 'omega1', ops: 'Z0' },
      { coef: 'omega2', ops: 'Z1' },
      { coef: 'gamma12', ops: 'X0 X1' },
    ],
    jumps: [
      { rate: 'kappa', ops: 'SM0' },
      { rate: 'kappa', ops: 'SM1' },
    ],
    initial: { basis: [0, 0] },
    times: { start: 0, stop: 10, count: 51 },
    observables: { Z0: 'Z0' },
    solver: { physicality: false, ...(method === 'auto' ? {} : { method }) },
  };
}

/** The `count` parameter sets of the sweep (objects keyed by {@link BRIDGE_PARAMETERS}). */
export function bridgeSets(count) {
  return Array.from({ length: count }, (_, k) => {
    const f = k / (Math.max(count, 2) - 1);
    return { omega1: 1 + 0.5 * f, omega2: 1 - 0.3 * f, gamma12: 0.05 + 0.2 * f, kappa: 0.02 + 0.08 * f };
  });
}

/** The sets as the raw `RawModel.sweep` wants them: row-major `count × 4` in {@link BRIDGE_PARAMETERS} order. */
export function bridgeValues(count) {
  return Float64Array.from(bridgeSets(count).flatMap((s) => BRIDGE_PARAMETERS.map((n) => s[n])));
}
