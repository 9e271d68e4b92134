/**
 * The published package: `npm pack` the repository, install the tarball into a fresh project
 * (dependencies from the registry), then (a) import `nestq` from plain Node ESM and solve,
 * (b) run the `nestq` bin through npx, (c) type-check a TypeScript consumer against the
 * shipped declarations, (d) plot with the CLI once the optional `vega`/`vega-lite` peers are
 * installed. Runtime dependencies are only what the bin needs (`commander`, `cli-progress`): the
 * plotting stack is an optional peer, so installing nestq does not install it.
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, maxAbsDiff } from './helpers.js';

const TSC = join(ROOT, 'node_modules/.bin/tsc');

/**
 * The environment for child npm/node processes: without the `npm_*` variables of the npm that
 * started vitest (npm_config_local_prefix etc. would point npm at the repository).
 */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return env;
}

/** Runs a command, returning its status and output (never throws on a non-zero exit). */
function run(cmd: string, args: string[], cwd: string, timeout = 240_000): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env: childEnv(), encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return r;
}

/** Fails with the command's output if it did not exit with status 0; returns its stdout. */
function ok(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} exited with ${r.status} (signal ${r.signal})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r.stdout;
}

let tmp: string;
let project: string;
let packedFiles: string[] = [];
let tarball: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'nestq-pkg-'));
  project = join(tmp, 'consumer');
  const packJson = ok(run('npm', ['pack', '--json', '--pack-destination', tmp], ROOT), 'npm pack');
  const info = JSON.parse(packJson.slice(packJson.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  tarball = join(tmp, info[0]!.filename);
  packedFiles = info[0]!.files.map((f) => f.path);
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'nestq-consumer', version: '0.0.0', private: true, type: 'module' }, null, 2));
  ok(run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball], project), 'npm install <tarball>');
});

afterAll(() => {
  if (tmp && !process.env.NESTQ_KEEP_TMP) rmSync(tmp, { recursive: true, force: true });
});

describe('npm package', () => {
  it('the tarball holds the compiled facade, both wasm builds and the examples, and no sources', () => {
    for (const f of [
      'package.json',
      'pkg/dist/index.js',
      'pkg/dist/index.d.ts',
      'pkg/dist/raw.js',
      'pkg/dist/node/worker-shim.js',
      'pkg/dist/node/worker-boot.js',
      'pkg/dist/node/dir-import-hooks.js',
      'pkg/wasm/st/nestq_wasm.js',
      'pkg/wasm/st/nestq_wasm_bg.wasm',
      'pkg/wasm/mt/nestq_wasm.js',
      'pkg/wasm/mt/nestq_wasm_bg.wasm',
      'examples/nest_bridge.json',
      'docs/model-format.md',
    ]) {
      expect(packedFiles, f).toContain(f);
    }
    expect(packedFiles.some((f) => /^pkg\/wasm\/mt\/snippets\/.*workerHelpers\.js$/.test(f)), 'the rayon worker helper').toBe(true);
    expect(packedFiles.filter((f) => /^(ts|crates|target|test|bench|scripts|node_modules)\//.test(f))).toEqual([]);
    expect(packedFiles.filter((f) => f.endsWith('.map') || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    const pj = JSON.parse(readFileSync(join(project, 'node_modules/nestq/package.json'), 'utf8')) as { bin?: Record<string, string> };
    if (pj.bin?.nestq) expect(packedFiles, 'the bin named in package.json').toContain(pj.bin.nestq.replace(/^\.\//, ''));
  });

  it('runtime dependencies are the CLI\'s commander and cli-progress; vega and vega-lite are optional peers and not installed', () => {
    const pj = JSON.parse(readFileSync(join(project, 'node_modules/nestq/package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
      peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    };
    expect(Object.keys(pj.dependencies ?? {}).sort()).toEqual(['cli-progress', 'commander']);
    expect(pj.optionalDependencies ?? {}).toEqual({});
    for (const peer of ['vega', 'vega-lite']) {
      expect(pj.peerDependencies?.[peer], `${peer} is a peer dependency`).toBeDefined();
      expect(pj.peerDependenciesMeta?.[peer]?.optional, `${peer} is an optional peer`).toBe(true);
      expect(existsSync(join(project, 'node_modules', peer)), `${peer} is not installed with nestq`).toBe(false);
    }
    for (const dep of ['commander', 'cli-progress']) expect(existsSync(join(project, 'node_modules', dep)), dep).toBe(true);
  });

  for (const threads of ['auto', 'false'] as const) {
    it(`(a) plain Node ESM imports nestq, init({threads: ${threads}}) and solves`, () => {
      const script = `
        import { init, mesolve, runtimeInfo, NestqError } from 'nestq';
        import { readFileSync } from 'node:fs';
        const info = await init(${threads === 'auto' ? '' : '{ threads: false }'});
        const r = mesolve({ dims: [2], jumps: [{ rate: 0.3, ops: 'SM0' }], initial: { basis: [0] },
                            times: { start: 0, stop: 2, count: 3 }, observables: { Z: 'Z0' } });
        const bridge = mesolve(readFileSync(new URL('./node_modules/nestq/examples/nest_bridge.json', import.meta.url), 'utf8'));
        let code;
        try { mesolve({ dims: [2], jumps: [{ rate: -1, ops: 'SM0' }], initial: { basis: [0] }, times: [0, 1] }); }
        catch (e) { code = e instanceof NestqError ? e.code + ' ' + e.path : 'not a NestqError: ' + e; }
        console.log(JSON.stringify({ info, rt: runtimeInfo(), z: Array.from(r.expect.Z), x0: Array.from(bridge.expect.X0), code }));
      `;
      const file = join(project, `solve-${threads}.mjs`);
      writeFileSync(file, script);
      const t0 = Date.now();
      const out = ok(run(process.execPath, [file], project, 60_000), 'node solve.mjs');
      const res = JSON.parse(out.trim().split('\n').at(-1)!) as {
        info: { threaded: boolean; threads: number; fallbackReason?: string };
        z: number[];
        x0: number[];
        code: string;
      };
      // ⟨σz⟩(t) = 2e^(−γt) − 1 for decay from basis 0 (σz = +1)
      expect(res.z.length).toBe(3);
      res.z.forEach((z, k) => expect(Math.abs(z - (2 * Math.exp(-0.3 * k) - 1))).toBeLessThan(1e-7));
      expect(res.x0.length).toBe(201);
      expect(res.code).toBe('invalid_model $.jumps[0].rate');
      if (threads === 'auto') {
        expect(res.info.threaded).toBe(availableParallelism() >= 2);
        if (res.info.threaded) expect(res.info.threads).toBe(availableParallelism());
      } else {
        expect(res.info.threaded).toBe(false);
      }
      // the process exits by itself (worker threads do not keep it alive)
      expect(Date.now() - t0).toBeLessThan(60_000);
      writeFileSync(join(project, `x0-${threads}.json`), JSON.stringify(res.x0));
    });
  }

  it('(b) npx nestq run <example> --out writes the result file', () => {
    const cli = join(project, 'node_modules/nestq/pkg/dist/cli.js');
    expect(existsSync(cli), 'pkg/dist/cli.js is in the package').toBe(true);
    const example = 'node_modules/nestq/examples/nest_bridge.json';
    const r = run('npx', ['--no', 'nestq', 'run', example, '--out', 'out.json', '--quiet'], project, 120_000);
    ok(r, 'npx nestq run');
    expect(r.stdout.trim()).toBe(''); // results go to the file, messages to stderr
    const result = JSON.parse(readFileSync(join(project, 'out.json'), 'utf8')) as {
      times: number[];
      expect: Record<string, number[]>;
      measures: Record<string, number[]>;
      final_state: [number, number][][];
      stats: { method: string };
    };
    expect(result.times.length).toBe(201);
    expect(result.times.at(-1)).toBe(20);
    expect(Object.keys(result.expect).sort()).toEqual(['X0', 'X0X1', 'X1', 'Z0', 'Z1']);
    expect(Object.keys(result.measures)).toContain('concurrence:0,1');
    expect(result.final_state.length).toBe(4);
    const trace = result.final_state.reduce((s, row, i) => s + row[i]![0], 0);
    expect(trace).toBeCloseTo(1, 9);
    expect(result.stats.method).toBe('expm');
    // the same numbers as the library call in (a)
    const x0 = JSON.parse(readFileSync(join(project, 'x0-auto.json'), 'utf8')) as number[];
    expect(maxAbsDiff(result.expect.X0!, x0)).toBeLessThan(1e-10);
    // invalid input: exit status 2 and the JSON path on stderr
    const spec = JSON.parse(readFileSync(join(project, example), 'utf8')) as { jumps: { rate: unknown }[] };
    spec.jumps[0]!.rate = -1;
    writeFileSync(join(project, 'bad.json'), JSON.stringify(spec));
    const bad = run('npx', ['--no', 'nestq', 'run', 'bad.json', '--out', 'bad-out.json', '--quiet'], project, 120_000);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('$.jumps[0].rate');
    expect(existsSync(join(project, 'bad-out.json'))).toBe(false);
  });

  it('(b) without vega/vega-lite, --plot fails before the run with the install command (exit status 1)', () => {
    const r = run('npx', ['--no', 'nestq', 'run', 'node_modules/nestq/examples/nest_bridge.json', '--out', 'noplot.json', '--plot', 'noplot.svg', '--quiet'], project, 120_000);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('npm install vega');
    expect(r.stderr).not.toMatch(/^\s+at /m); // a message, not a stack trace
    expect(existsSync(join(project, 'noplot.json')), 'no solve ran').toBe(false);
    expect(existsSync(join(project, 'noplot.svg'))).toBe(false);
  });

  const consumer = `
    import { init, mesolve, NestqError, DensityMatrix, type MesolveResult, type NestqErrorCode, type ModelSpec } from 'nestq';

    type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;

    await init({ threads: false });
    const spec: ModelSpec = { dims: [2], jumps: [{ rate: 0.3, ops: 'SM0' }], initial: { basis: [0] }, times: [0, 1], observables: { Z: 'Z0' } };
    const res: MesolveResult = mesolve(spec, { onProgress: (f: number) => f < 2 });
    const expectIsRecord: Equal<typeof res.expect, Record<string, Float64Array>> = true;
    const z: Float64Array | undefined = res.expect['Z'];
    // @ts-expect-error expect values are Float64Arrays, not number[]
    const wrong: Record<string, number[]> = res.expect;

    try {
      mesolve('{');
    } catch (e) {
      if (e instanceof NestqError) {
        const code: NestqErrorCode = e.code;
        if (e.code === 'invalid_model') {
          const narrowed: 'invalid_model' = e.code;
          const path: string | undefined = e.path;
          console.log(narrowed, path);
        }
        // @ts-expect-error not an error code
        if (e.code === 'no_such_code') console.log(code);
      }
    }

    {
      using rho = DensityMatrix.bell();
      const c: number = rho.concurrence();
      console.log(c, z, expectIsRecord, wrong);
    }
    // @ts-expect-error models need dims
    mesolve({ initial: { basis: [0] }, times: [0, 1] });
  `;

  /** A strict NodeNext tsconfig; `lib` without DOM is a Node-only project. */
  const tsconfig = (skipLibCheck: boolean, lib = ['ES2022', 'ESNext.Disposable']) => ({
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib,
      strict: true,
      noEmit: true,
      skipLibCheck,
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules/@types')],
    },
    files: ['consumer.ts'],
  });

  it('(c) a strict NodeNext TypeScript consumer type-checks against the typed API', () => {
    writeFileSync(join(project, 'consumer.ts'), consumer);
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(tsconfig(true), null, 2));
    ok(run(TSC, ['--noEmit', '-p', 'tsconfig.json'], project), 'tsc --noEmit (consumer)');
    // the checker really sees nestq's types: a misuse is an error
    writeFileSync(join(project, 'consumer.ts'), consumer.replace("const c: number = rho.concurrence();", "const c: string = rho.concurrence();"));
    const bad = run(TSC, ['--noEmit', '-p', 'tsconfig.json'], project);
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toMatch(/consumer\.ts\(\d+,\d+\): error TS2322/);
    writeFileSync(join(project, 'consumer.ts'), consumer);
  });

  it('(c) the shipped declarations themselves type-check (skipLibCheck: false; DOM lib for the wasm-bindgen glue types)', () => {
    writeFileSync(join(project, 'consumer.ts'), consumer);
    // wasm-bindgen's generated .d.ts names RequestInfo/BufferSource/WebAssembly: those need the DOM lib
    writeFileSync(join(project, 'tsconfig.strict-lib.json'), JSON.stringify(tsconfig(false, ['ES2022', 'ESNext.Disposable', 'DOM']), null, 2));
    ok(run(TSC, ['--noEmit', '-p', 'tsconfig.strict-lib.json'], project), 'tsc --noEmit (declarations)');
  });

  // Last: it adds the optional peers to the consumer project.
  it('(d) after npm install vega vega-lite, npx nestq run --plot writes the SVG', () => {
    const peers = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> };
    const specs = ['vega', 'vega-lite'].map((p) => `${p}@${peers.peerDependencies[p]}`);
    ok(run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...specs], project), 'npm install vega vega-lite');
    const r = run('npx', ['--no', 'nestq', 'run', 'node_modules/nestq/examples/nest_bridge.json', '--out', 'plotted.json', '--plot', 'plotted.svg', '--quiet'], project, 120_000);
    ok(r, 'npx nestq run --plot');
    expect(readFileSync(join(project, 'plotted.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
  });
});
