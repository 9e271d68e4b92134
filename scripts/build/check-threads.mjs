// Post-build check: the threaded build starts its pool in Node and really runs on 2 workers.
// (A wasm-opt regression once made initThreadPool hang; run under `timeout`.)
import { init } from '../../pkg/dist/index.js';
import { rawModuleForChecks } from '../../pkg/dist/raw.js';
const info = await init({ threads: 2 });
if (!info.threaded || info.threads !== 2) throw new Error(`expected the threaded build with 2 threads, got ${JSON.stringify(info)}`);
const used = rawModuleForChecks().threadsUsed(2_000_000);
if (used < 2) throw new Error(`only ${used} pool thread(s) took part in a parallel loop`);
console.error(`[check-threads] threaded build: pool of ${info.threads}, ${used} threads used, simd ${info.simd}`);
