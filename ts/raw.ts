/**
 * The one module that imports the wasm-bindgen generated code (the rapier.js/loro split: raw
 * objects never reach users). It loads one of two builds, both compiled with `+simd128`:
 *
 * - `mt`: threaded (`+atomics,+bulk-memory`, rebuilt std, rayon on workers via
 *   wasm-bindgen-rayon). In Node the workers are `worker_threads` behind a small Web-Worker shim
 *   (`./node/worker-shim.js`); in a browser they are Web Workers and need cross-origin isolation
 *   (COOP/COEP headers) and a Worker context (the main thread may not block on `Atomics.wait`).
 * - `st`: single-threaded, used when threads are unavailable or not wanted. Falling back is
 *   announced (`console.warn` once, and {@link RuntimeInfo.fallbackReason}), never silent.
 * @module
 */
import { NestqError, type NestqErrorCode } from './errors.js';
// `#wasm/*` is the package's subpath import of pkg/wasm/* (package.json "imports"), so the
// emitted raw.d.ts resolves for consumers too.
import type * as Generated from '#wasm/st/nestq_wasm.js';

/** The generated module's namespace (identical for the st and mt builds, mt adds initThreadPool). */
export type RawModule = typeof Generated & { initThreadPool?: (n: number) => Promise<void> };

/** What {@link init} loaded. */
export interface RuntimeInfo {
  /** Engine version. */
  version: string;
  /** `true` for the threaded build. */
  threaded: boolean;
  /** Size of the rayon pool (1 single-threaded). */
  threads: number;
  /** Compiled with WebAssembly SIMD (always true for the shipped builds). */
  simd: boolean;
  /** Why the single-threaded build was loaded although threads were allowed, if so. */
  fallbackReason?: string;
  /** `node` or `browser`. */
  platform: 'node' | 'browser';
}

/** Options of {@link init}. */
export interface InitOptions {
  /**
   * Worker threads: `'auto'` (default: all cores where threads work, else single-threaded with
   * an announced fallback), a number (pool size; falls back the same way), or `false`/`1` for
   * the single-threaded build.
   */
  threads?: 'auto' | number | false;
  /** Load even if already initialised (a fresh instance; old objects become unusable). */
  force?: boolean;
  /** Do not print the fallback announcement (it is still in {@link RuntimeInfo.fallbackReason}). */
  quiet?: boolean;
}

let mod: RawModule | undefined;
let info: RuntimeInfo | undefined;
let gen = 0;
let poisoned: string | undefined;
let loading: Promise<RuntimeInfo> | undefined;

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/** Generation of the live instance (bumped by every (re)initialisation). */
export function generation(): number {
  return gen;
}

/** The loaded module; throws `not_initialized` / `poisoned`. */
export function raw(): RawModule {
  if (poisoned !== undefined) {
    throw new NestqError('poisoned', `the wasm instance panicked earlier (${poisoned}); call \`await init({ force: true })\``);
  }
  if (mod === undefined) throw new NestqError('not_initialized', 'nestq is not initialised: `await init()` first');
  return mod;
}

/** Runtime information of the loaded instance (throws `not_initialized` before {@link init}). */
export function runtimeInfo(): RuntimeInfo {
  raw();
  return { ...info! };
}

/** Converts what a raw call threw into a {@link NestqError}. */
export function toNestqError(e: unknown): unknown {
  if (e instanceof NestqError) return e;
  if (e instanceof Error && e.name === 'NestqError') {
    const x = e as Error & { code?: string; path?: string };
    return new NestqError((x.code ?? 'invalid_argument') as NestqErrorCode, x.message, x.path);
  }
  if (typeof WebAssembly !== 'undefined' && e instanceof WebAssembly.RuntimeError) {
    let msg = e.message;
    try {
      msg = mod?.lastPanic() ?? msg;
    } catch {
      /* the instance may be unusable */
    }
    poisoned = msg;
    return new NestqError('panic', `nestq panicked (a bug; please report it): ${msg}`);
  }
  return e;
}

/** Runs a raw call, translating its errors. Every facade call into wasm goes through here. */
export function call<T>(f: (m: RawModule) => T): T {
  const m = raw();
  try {
    return f(m);
  } catch (e) {
    throw toNestqError(e);
  }
}

async function nodeBytes(variant: 'st' | 'mt'): Promise<Uint8Array> {
  const fsName = 'node:fs/promises';
  const fs = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs/promises');
  return fs.readFile(new URL(`../wasm/${variant}/nestq_wasm_bg.wasm`, import.meta.url));
}

async function hardwareThreads(): Promise<number> {
  if (isNode) {
    const osName = 'node:os';
    const os = (await import(/* @vite-ignore */ osName)) as typeof import('node:os');
    return os.availableParallelism?.() ?? os.cpus().length;
  }
  return globalThis.navigator?.hardwareConcurrency ?? 1;
}

/** Why threads cannot be used here, or undefined if they can. */
function threadsUnavailable(): string | undefined {
  if (typeof SharedArrayBuffer === 'undefined') return 'SharedArrayBuffer is not available';
  if (isNode) return undefined;
  if (!(globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated) {
    return 'the page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp)';
  }
  if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'undefined') {
    return 'the threaded build must run in a Worker (the main thread may not block); use nestq from a Worker';
  }
  return undefined;
}

/**
 * Loads the WebAssembly module. Call once (await) before anything else; later calls return the
 * same {@link RuntimeInfo} unless `force` is set or the instance panicked.
 */
export function init(options: InitOptions = {}): Promise<RuntimeInfo> {
  const want = options.threads;
  if (want !== undefined && want !== 'auto' && want !== false && !(Number.isInteger(want) && want >= 1)) {
    return Promise.reject(new NestqError('invalid_argument', `must be 'auto', false or an integer ≥ 1, got ${String(want)}`, 'threads'));
  }
  if (loading && !options.force && poisoned === undefined) return loading;
  const previous = loading;
  // A re-initialisation keeps the earlier thread choice unless told otherwise (never mixes builds).
  const threads = want ?? (info ? (info.threaded ? info.threads : false) : 'auto');
  loading = load({ ...options, threads }).catch((e) => {
    loading = previous;
    throw e;
  });
  return loading;
}

async function load(options: InitOptions): Promise<RuntimeInfo> {
  const want = options.threads ?? 'auto';
  let fallbackReason: string | undefined;
  let threads = 1;
  if (want !== false && want !== 1) {
    fallbackReason = threadsUnavailable();
    threads = want === 'auto' ? await hardwareThreads() : want;
    if (fallbackReason === undefined && threads < 2) fallbackReason = 'only one hardware thread is available';
  }
  const variant: 'st' | 'mt' = want === false || want === 1 || fallbackReason !== undefined ? 'st' : 'mt';
  let m: RawModule;
  if (variant === 'mt') {
    if (mod !== undefined && info?.threaded) {
      throw new NestqError('invalid_argument', 'the threaded build cannot be re-instantiated in this process (its worker pool is fixed): restart the process or reload the page', 'force');
    }
    if (isNode) {
      // hidden from bundlers: the shim (node:worker_threads) must not enter browser bundles
      const shim = './node/worker-shim.js';
      await import(/* @vite-ignore */ shim);
    }
    m = (await import('../wasm/mt/nestq_wasm.js' as string)) as RawModule;
  } else if (gen === 0) {
    m = (await import('../wasm/st/nestq_wasm.js' as string)) as RawModule;
  } else {
    // A fresh module instance (and so a fresh wasm instance) for re-initialisation.
    const spec = `../wasm/st/nestq_wasm.js?instance=${gen + 1}`;
    m = (await import(/* @vite-ignore */ spec)) as RawModule;
  }
  const initArg = isNode ? { module_or_path: await nodeBytes(variant) } : undefined;
  await (m.default as (a?: unknown) => Promise<unknown>)(initArg);
  if (variant === 'mt') await m.initThreadPool!(threads);
  mod = m;
  gen += 1;
  poisoned = undefined;
  info = {
    version: m.version(),
    threaded: variant === 'mt',
    threads: m.numThreads(),
    simd: m.hasSimd(),
    platform: isNode ? 'node' : 'browser',
    ...(fallbackReason !== undefined ? { fallbackReason } : {}),
  };
  if (fallbackReason !== undefined && !options.quiet) {
    console.warn(`nestq: threads unavailable (${fallbackReason}); using the single-threaded WebAssembly build`);
  }
  return { ...info };
}

/** @internal The loaded raw module, for the project's own build checks and benchmarks. */
export function rawModuleForChecks(): RawModule {
  return raw();
}
