/**
 * mesolveAsync: mesolve in a worker thread — same numbers as the synchronous call, progress
 * events, an AbortSignal that stops a long solve promptly, errors as NestqError with their path.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { NestqError, init, mesolve, mesolveAsync } from '../pkg/dist/index.js';
import type { ModelSpec } from '../pkg/dist/index.js';
import { maxAbsDiff, readJSON } from './helpers.js';

const ising = readJSON<ModelSpec>('test/fixtures/models/ising_n4.json');

beforeAll(async () => {
  await init({ threads: false });
});

describe('mesolveAsync', () => {
  it('gives the synchronous result, with progress events ending at 1', async () => {
    const fractions: number[] = [];
    const r = await mesolveAsync(ising, { onProgress: (f) => fractions.push(f), progressIntervalMs: 0 });
    const s = mesolve(ising);
    expect(Array.from(r.times)).toEqual(Array.from(s.times));
    for (const k of Object.keys(s.expect)) expect(maxAbsDiff(r.expect[k]!, s.expect[k]!)).toBe(0);
    expect(fractions.length).toBeGreaterThan(2);
    expect(fractions.at(-1)).toBe(1);
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]!).toBeGreaterThanOrEqual(fractions[i - 1]!);
    expect(JSON.parse(JSON.stringify(r)).times).toEqual(Array.from(s.times));
  });

  it('aborts a long solve promptly when the signal fires', async () => {
    const long: ModelSpec = { ...ising, times: { start: 0, stop: 5000, count: 5001 }, solver: { method: 'dopri5' } };
    const ac = new AbortController();
    setTimeout(() => ac.abort('test'), 300);
    const t0 = performance.now();
    const err = await mesolveAsync(long, { signal: ac.signal }).catch((e: unknown) => e);
    const ms = performance.now() - t0;
    expect(err).toBeInstanceOf(NestqError);
    expect((err as NestqError).code).toBe('aborted');
    expect(ms).toBeLessThan(3000); // the full solve takes far longer (about a minute)
  });

  it('rejects at once on an already aborted signal', async () => {
    const err = await mesolveAsync(ising, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect((err as NestqError).code).toBe('aborted');
  });

  it('reports model errors with code and path', async () => {
    const bad = { ...ising, jumps: [{ rate: -1, ops: 'SM0' }] };
    const err = await mesolveAsync(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NestqError);
    expect((err as NestqError).code).toBe('invalid_model');
    expect((err as NestqError).path).toBe('$.jumps[0].rate');
  });

  it('applies parameter overrides like mesolve', async () => {
    const spec = readJSON<ModelSpec>('examples/nest_bridge.json');
    const name = Object.keys(spec.parameters!)[0]!;
    const r = await mesolveAsync(spec, { parameters: { [name]: 0.3 } });
    const s = mesolve(spec, { parameters: { [name]: 0.3 } });
    for (const k of Object.keys(s.expect)) expect(maxAbsDiff(r.expect[k]!, s.expect[k]!)).toBe(0);
  });
});
