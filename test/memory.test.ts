/**
 * Memory: 10⁴ create/solve/free cycles on the single-threaded build leave the wasm heap
 * (`WebAssembly.Memory` of the instance) and Node's external memory flat; the probe itself is
 * shown to see leaks, and the FinalizationRegistry fallback releases dropped objects.
 * vitest.config.ts starts the forks with --expose-gc so that `global.gc` is available.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DensityMatrix, Model, init, mesolve } from '../pkg/dist/index.js';
import { rawModule } from './helpers.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A small two-qubit model (JSON text, so that each cycle parses it anew). */
const SPEC = JSON.stringify({
  dims: [2, 2],
  hamiltonian: [
    { coef: 1, ops: 'Z0' },
    { coef: 0.8, ops: 'Z1' },
    { coef: 0.3, ops: 'X0 X1' },
  ],
  jumps: [
    { rate: 0.1, ops: 'SM0' },
    { rate: 0.05, ops: 'SM1' },
  ],
  initial: { product: [[1, 1], [1, 0]] },
  times: { start: 0, stop: 2, count: 5 },
  observables: { XX: 'X0 X1', Z0: 'Z0' },
  measures: ['purity', 'concurrence:0,1'],
});

let memory: WebAssembly.Memory;

beforeAll(async () => {
  await init({ threads: false });
  // The generated module's init returns the instance's exports (memory included) when the
  // instance already exists: the only way to reach the memory, the facade does not keep it.
  const exports = (await (rawModule().default as () => Promise<{ memory: WebAssembly.Memory }>)()) as { memory: WebAssembly.Memory };
  memory = exports.memory;
  expect(memory).toBeInstanceOf(WebAssembly.Memory);
});

/** One create/solve/measure/free cycle; returns the concurrence so that nothing is optimised away. */
function cycle(): number {
  const model = new Model(SPEC);
  const res = mesolve(model);
  const rho = DensityMatrix.fromData(res.finalState);
  const c = rho.concurrence() + rho.purity() + res.expect.XX![4]!;
  rho.free();
  model.free();
  return c;
}

/** Lets pending FinalizationRegistry callbacks run and collects garbage (if --expose-gc). */
async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Wasm heap size and Node's external/arrayBuffers after a collection. */
async function snapshot(): Promise<{ wasm: number; external: number; arrayBuffers: number }> {
  await settle();
  const u = process.memoryUsage();
  return { wasm: memory.buffer.byteLength, external: u.external, arrayBuffers: u.arrayBuffers };
}

describe('memory (single-threaded build)', () => {
  it('runs with --expose-gc', () => {
    expect(typeof globalThis.gc).toBe('function');
  });

  it('10⁴ create/solve/free cycles leave wasm and external memory flat', async () => {
    let sink = 0;
    for (let i = 0; i < 1000; i++) sink += cycle();
    const warm = await snapshot();
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) sink += cycle();
    const ms = performance.now() - t0;
    const after = await snapshot();
    console.log(
      `[memory] 10⁴ cycles in ${(ms / 1000).toFixed(1)} s; wasm ${warm.wasm} → ${after.wasm} B, ` +
        `external ${warm.external} → ${after.external} B, arrayBuffers ${warm.arrayBuffers} → ${after.arrayBuffers} B`,
    );
    expect(Number.isFinite(sink)).toBe(true);
    expect(after.wasm - warm.wasm).toBeLessThan(256 * KiB);
    expect(after.external - warm.external).toBeLessThan(1 * MiB);
    expect(after.arrayBuffers - warm.arrayBuffers).toBeLessThan(1 * MiB);
  });

  it('the probe sees a leak: 1000 live (unfreed) models grow the wasm heap', async () => {
    const before = await snapshot();
    const live = Array.from({ length: 1000 }, () => new Model(SPEC));
    const grown = await snapshot();
    expect(grown.wasm - before.wasm).toBeGreaterThan(1 * MiB);
    for (const m of live) m.free();
    // freed memory is reused: the same again does not grow the heap further
    const again = Array.from({ length: 1000 }, () => new Model(SPEC));
    const reused = await snapshot();
    expect(reused.wasm - grown.wasm).toBeLessThan(256 * KiB);
    for (const m of again) m.free();
  });

  it('objects dropped without free() are released by the FinalizationRegistry', async () => {
    const drop = (): void => {
      for (let i = 0; i < 1000; i++) new Model(SPEC); // unreachable at once
    };
    drop();
    const first = await snapshot();
    for (let round = 0; round < 3; round++) {
      drop();
      await settle();
    }
    const later = await snapshot();
    // without the finaliser, each round would add ~2.8 MiB
    expect(later.wasm - first.wasm).toBeLessThan(1 * MiB);
  });
});
