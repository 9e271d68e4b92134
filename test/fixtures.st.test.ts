/**
 * Every golden QuTiP fixture through the single-threaded WASM build in Node, with every
 * applicable method (the rule of crates/nestq/tests/fixtures.rs, shared via ./helpers.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init, runtimeInfo } from '../pkg/dist/index.js';
import { defineFixtureTests } from './helpers.js';

beforeAll(async () => {
  await init({ threads: false });
});

describe('single-threaded build', () => {
  it('is the single-threaded SIMD build', () => {
    const info = runtimeInfo();
    expect(info.threaded).toBe(false);
    expect(info.threads).toBe(1);
    expect(info.simd).toBe(true);
    expect(info.platform).toBe('node');
    expect(info.fallbackReason).toBeUndefined();
  });
});

describe('golden fixtures (st)', () => {
  defineFixtureTests((l) => console.log(`[st] ${l}`));
});
