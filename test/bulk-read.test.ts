/**
 * The bulk read of batches (test/bulk-read.ts) on the single-threaded build, and a panic during
 * a bulk read (last: it poisons the instance, which is then re-initialised).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { NestqError, init, mesolve, runtimeInfo } from '../pkg/dist/index.js';
import * as solveInternals from '../pkg/dist/solve.js';
import type { RawModule } from '../pkg/dist/raw.js';
import { defineBulkReadTests, pair } from './bulk-read.js';

/** The facade's `readBatch` (`@internal`, so stripped from the declarations, hence the cast). */
const { readBatch } = solveInternals as unknown as { readBatch(b: RawModule['RawBatch']['prototype']): unknown };

beforeAll(async () => {
  await init({ threads: false });
});

describe('bulk read of batches (st)', () => {
  it('runs on the single-threaded build', () => {
    expect(runtimeInfo().threaded).toBe(false);
  });
  defineBulkReadTests();
});

describe('a panic during a bulk read', () => {
  it('throws NestqError{code: "panic"} (not a per-entry error) and frees the batch', async () => {
    let freed = false;
    const fake = {
      bulkLayout: (): string => {
        throw new WebAssembly.RuntimeError('unreachable');
      },
      bulkData: () => new Float64Array(0),
      free: () => void (freed = true),
    } as unknown as Parameters<typeof readBatch>[0];
    let e: unknown;
    try {
      readBatch(fake);
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(NestqError);
    expect((e as NestqError).code).toBe('panic');
    expect(freed).toBe(true);
    expect(() => mesolve(pair())).toThrow(/panicked earlier/);
    await init({ force: true });
    expect(mesolve(pair()).times.length).toBe(9);
  });
});
