/**
 * The bulk read of batches (test/bulk-read.ts) on the threaded build (pool of 2), where the
 * numbers and the layout text are copied out of shared memory.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init, runtimeInfo } from '../pkg/dist/index.js';
import { defineBulkReadTests } from './bulk-read.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

describe('bulk read of batches (mt)', () => {
  it('runs on the threaded build with a pool of 2', () => {
    const info = runtimeInfo();
    expect(info.threaded).toBe(true);
    expect(info.threads).toBe(2);
  });
  defineBulkReadTests();
});
