/**
 * Every golden QuTiP fixture through the threaded WASM build in Node (rayon on worker_threads,
 * pool of 2), with every applicable method (the rule of crates/nestq/tests/fixtures.rs, shared
 * via ./helpers.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init, runtimeInfo } from '../pkg/dist/index.js';
import { defineFixtureTests, rawModule } from './helpers.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

describe('threaded build', () => {
  it('is the threaded SIMD build with a pool of 2', () => {
    const info = runtimeInfo();
    expect(info.fallbackReason).toBeUndefined();
    expect(info.threaded).toBe(true);
    expect(info.threads).toBe(2);
    expect(info.simd).toBe(true);
  });

  it('really runs work on at least 2 threads', () => {
    expect(rawModule().threadsUsed(1e6)).toBeGreaterThanOrEqual(2);
  });
});

describe('golden fixtures (mt)', () => {
  defineFixtureTests((l) => console.log(`[mt] ${l}`));
});
