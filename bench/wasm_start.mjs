// Shared start of the WebAssembly benchmark scripts that run one model or network file
// (bench/neural_bench.mjs, bench/mpo_bench.mjs): parses `FILE [--threads N] [more options]`,
// loads the npm package — the single-threaded build for N = 1, the threaded build with a pool of
// N otherwise — and checks that it got that many threads.
import { parseArgs } from 'node:util';

/**
 * @param {string} usage the usage line printed (exit status 2) when FILE is missing
 * @param {Record<string, {type: 'string' | 'boolean', default?: string | boolean}>} options more
 *   options for node:util parseArgs (`threads` is added, default '1')
 * @returns {Promise<{file: string, values: Record<string, string | boolean | undefined>, threads: number, nq: typeof import('../pkg/dist/index.js'), info: import('../pkg/dist/index.js').RuntimeInfo}>}
 */
export async function startWasmBench(usage, options = {}) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { threads: { type: 'string', default: '1' }, ...options } });
  const [file] = positionals;
  if (!file) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  const threads = Number(values.threads);
  const nq = await import('../pkg/dist/index.js');
  const info = await nq.init({ threads: threads === 1 ? false : threads });
  if (info.threads !== threads) throw new Error(`asked for ${threads} thread(s), got ${JSON.stringify(info)}`);
  return { file, values, threads, nq, info };
}
