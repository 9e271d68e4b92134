/**
 * The JSON Schemas of the input files (schema/*.schema.json, generated from the Rust types of
 * crates/nestq-schema, whose own tests hold them to the engine's parsers) against the TypeScript
 * types, the examples and the docs:
 *  (a) ts/generated/spec-types.ts is what scripts/build/gen-spec-types.mjs makes of the schemas now;
 *  (b) every input file in examples/ (and the test fixtures and bench inputs) validates;
 *  (c) every ```json block of docs/model-format.md, docs/network-format.md and docs/training.md
 *      validates: a whole file against its schema, a documented fragment (a neuron, a synapse, …)
 *      against its definition; blocks that are not inputs (result files) are skipped by an explicit
 *      rule, and a block no rule accounts for fails the test;
 *  (d) the rules the schemas add beyond keys and types (solver `dt`, MPO keys, synapse pairs)
 *      refuse what the engine refuses.
 * Needs no wasm: the engine is not loaded here.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import Ajv2020Module from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { generateSpecTypes, OUT } from '../scripts/build/gen-spec-types.mjs';

/** Repository root (test/helpers.ts has it too, but imports the wasm facade). */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

type Kind = 'model' | 'network' | 'training';
const KINDS: Kind[] = ['model', 'network', 'training'];

// ajv is CommonJS; its class is the module object itself or its `default`.
const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as typeof Ajv2020Module;
// Strict, except that the `if`/`then` rules of `solver` name required keys without repeating
// their `properties` (ajv's strictRequired) and that rate frames are an open tuple, a first
// entry (an array) followed by any number of frames (ajv's strictTuples wants a closed one).
const ajv = new Ajv2020({ strict: true, strictRequired: false, strictTuples: false, allErrors: true });
const schemas = Object.fromEntries(KINDS.map((k) => [k, JSON.parse(readFileSync(join(ROOT, `schema/${k}.schema.json`), 'utf8'))])) as Record<Kind, Record<string, unknown>>;
for (const k of KINDS) ajv.addSchema(schemas[k], k);
const validators = new Map<string, ValidateFunction>();
/** The validator of a whole file (`model`) or of one definition (`network#/$defs/Neuron`). */
function validator(ref: string): ValidateFunction {
  let v = validators.get(ref);
  if (!v) {
    v = ajv.getSchema(ref);
    if (!v) throw new Error(`no schema ${ref}`);
    validators.set(ref, v);
  }
  return v;
}
const explain = (errors: ErrorObject[] | null | undefined) => (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`).join('\n');
function expectValid(ref: string, value: unknown, where: string): void {
  const v = validator(ref);
  if (!v(value)) expect.fail(`${where} does not validate against ${ref}:\n${explain(v.errors)}`);
}

/** The kind of an input file from its top-level keys (the required ones of each schema). */
function kindOf(v: unknown): Kind | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const has = (keys: string[]) => keys.every((k) => k in v);
  const kinds = KINDS.filter((k) => has((schemas[k].required as string[]) ?? []));
  return kinds.length === 1 ? kinds[0] : undefined;
}

/** JSON files under `dir`, leaving out hidden directories (bench/.venv) and bench/out (generated). */
function jsonFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir))
    .sort()
    .filter((f) => !f.startsWith('.') && `${dir}/${f}` !== 'bench/out')
    .flatMap((f) => {
      const rel = `${dir}/${f}`;
      if (statSync(join(ROOT, rel)).isDirectory()) return jsonFiles(rel);
      return f.endsWith('.json') ? [rel] : [];
    });
}

describe('schema', () => {
  it('(a) ts/generated/spec-types.ts is generated from the committed schemas', async () => {
    const want = await generateSpecTypes(ROOT);
    const have = readFileSync(OUT, 'utf8');
    expect(have === want, `${relative(ROOT, OUT)} has drifted from schema/*.schema.json: run node scripts/build/gen-spec-types.mjs (after cargo run -p nestq-schema --bin gen-schema) and commit it`).toBe(true);
  });

  it('the schemas compile in ajv strict mode and declare draft 2020-12', () => {
    for (const k of KINDS) {
      expect(schemas[k].$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(typeof validator(k)).toBe('function');
    }
  });

  it('(b) every file in examples/ is an input file and validates', () => {
    const files = jsonFiles('examples');
    expect(files.length).toBeGreaterThanOrEqual(9);
    for (const f of files) {
      const v: unknown = JSON.parse(readFileSync(join(ROOT, f), 'utf8'));
      const kind = kindOf(v);
      if (!kind) expect.fail(`${f}: not a model, network or training file`);
      expectValid(kind, v, f);
    }
  });

  it('(b) the test fixtures and bench inputs validate', () => {
    const inputs = [
      ...jsonFiles('test/fixtures/models'),
      ...jsonFiles('test/fixtures/mc'),
      ...jsonFiles('test/fixtures/sme'),
      ...jsonFiles('test/fixtures/grad').filter((f) => !/\.(objective|torch)\.json$/.test(f)),
      ...jsonFiles('test/fixtures/neural').filter((f) => f.endsWith('.net.json')),
      ...jsonFiles('bench'),
    ];
    expect(inputs.length).toBeGreaterThanOrEqual(35);
    for (const f of inputs) {
      const v: unknown = JSON.parse(readFileSync(join(ROOT, f), 'utf8'));
      const kind = kindOf(v);
      if (!kind) expect.fail(`${f}: not a model, network or training file`);
      expectValid(kind, v, f);
    }
  });

  /**
   * How a ```json block of the docs that is not a whole input file is checked: matched by the
   * start of its text; `def` validates it (each line when `lines`) against a definition, `wrap`
   * first turns a `"key": value` fragment into an object and validates its `key`; `skip` says
   * why it is not an input.
   */
  interface Rule {
    doc: string;
    startsWith: string;
    def?: string;
    lines?: boolean;
    wrap?: string;
    skip?: string;
  }
  const RULES: Rule[] = [
    { doc: 'docs/model-format.md', startsWith: '"solver": {"method": "mpo"', wrap: 'solver', def: 'model#/$defs/Solver' },
    { doc: 'docs/model-format.md', startsWith: '{"times": [...]', skip: 'the result file (an output, with comments)' },
    { doc: 'docs/model-format.md', startsWith: '"std_expect"', skip: "the trajectory methods' extra result keys (an output)" },
    { doc: 'docs/network-format.md', startsWith: '{"id": "a"', def: 'network#/$defs/Neuron' },
    { doc: 'docs/network-format.md', startsWith: '{"id": "h"', def: 'network#/$defs/Group' },
    { doc: 'docs/network-format.md', startsWith: '{"pre": "a"', def: 'network#/$defs/Synapse', lines: true },
    { doc: 'docs/network-format.md', startsWith: '{"neurons": ["a", "b"]', def: 'network#/$defs/Bridge' },
    { doc: 'docs/network-format.md', startsWith: '{"neuron": "a"', def: 'network#/$defs/Input', lines: true },
    { doc: 'docs/network-format.md', startsWith: '{"v": ["a", "b"]', def: 'network#/$defs/Recording' },
    { doc: 'docs/network-format.md', startsWith: '{"times": [0, 1, ...]', skip: 'the result file (an output)' },
    { doc: 'docs/training.md', startsWith: '{"param_count"', skip: 'the result file (an output)' },
  ];

  const DOCS = ['docs/model-format.md', 'docs/network-format.md', 'docs/training.md'];

  it('(c) every ```json block of the format docs validates (whole files) or is accounted for', () => {
    const used = new Set<Rule>();
    const wholeFiles: Record<Kind, number> = { model: 0, network: 0, training: 0 };
    for (const doc of DOCS) {
      const text = readFileSync(join(ROOT, doc), 'utf8');
      const blocks = [...text.matchAll(/^```json\n([\s\S]*?)^```$/gm)].map((m) => m[1]!.trim());
      expect(blocks.length, doc).toBeGreaterThan(0);
      for (const block of blocks) {
        const where = `${doc}: block ${JSON.stringify(block.slice(0, 60))}`;
        let parsed: unknown;
        try {
          parsed = JSON.parse(block);
        } catch {
          parsed = undefined;
        }
        const kind = kindOf(parsed);
        const rules = RULES.filter((r) => r.doc === doc && block.startsWith(r.startsWith));
        if (kind) {
          expect(rules, `${where}: a whole ${kind} file matches a fragment rule`).toEqual([]);
          expectValid(kind, parsed, where);
          wholeFiles[kind]++;
          continue;
        }
        if (rules.length !== 1) expect.fail(`${where}: not a whole input file and matched by ${rules.length} rules (add one to RULES)`);
        const rule = rules[0]!;
        used.add(rule);
        if (rule.skip) continue;
        const values: unknown[] = rule.lines ? block.split('\n').map((l) => JSON.parse(l)) : [JSON.parse(rule.wrap ? `{${block}}` : block)];
        for (const v of values) expectValid(rule.def!, rule.wrap ? (v as Record<string, unknown>)[rule.wrap] : v, where);
      }
    }
    expect(RULES.filter((r) => !used.has(r)), 'rules that match no block').toEqual([]);
    // Each format doc shows at least one whole file.
    expect(wholeFiles.model).toBeGreaterThanOrEqual(1);
    expect(wholeFiles.network).toBeGreaterThanOrEqual(1);
    expect(wholeFiles.training).toBeGreaterThanOrEqual(1);
  });

  /** Documents the engine refuses for a reason the schema states beyond keys and types. */
  it('(d) the schemas refuse what the engine refuses across fields', () => {
    const model = (solver: Record<string, unknown>) => ({ dims: [2], initial: { basis: [0] }, times: [0, 1], solver });
    const net = (synapse: Record<string, unknown>) => ({
      dt: 0.1,
      duration: 1,
      neurons: [
        { id: 'a', tau_m: 20, v_rest: -65, v_reset: -65, v_th: -50, r_m: 10 },
        { id: 'b', tau_m: 20, v_rest: -65, v_reset: -65, v_th: -50, r_m: 10 },
      ],
      synapses: [{ pre: 'a', post: 'b', weight: 1, delay: 1, ...synapse }],
    });
    const cases: [Kind, unknown, boolean, string][] = [
      ['model', model({ method: 'rk4', dt: 0.1 }), true, ''],
      ['model', model({ method: 'rk4' }), false, '$.solver.dt: method rk4 needs a step size dt'],
      ['model', model({ method: 'mpo', dt: 0.1, chi_max: 8 }), true, ''],
      ['model', model({ method: 'mpo' }), false, '$.solver.dt: method mpo needs a time step dt > 0'],
      ['model', model({ method: 'dopri5', chi_max: 8 }), false, '$.solver.chi_max: only used by method "mpo"'],
      ['model', model({ trotter_check: false }), false, '$.solver.trotter_check: only used by method "mpo"'],
      ['model', model({ method: 'chebyshev' }), true, ''],
      ['model', model({ method: 'stiff' }), true, ''],
      ['model', model({ method: 'auto', order: 3 }), false, '$.solver.order: must be 2 or 4'],
      ['network', net({ p: 0.5, seed: 1 }), true, ''],
      ['network', net({ p: 0.5 }), false, '$.synapses[0].seed: generated connectivity (p) needs a seed'],
      ['network', net({ i: [0] }), false, '$.synapses[0].j: required field is missing'],
      ['network', net({ i: [0], j: [0] }), true, ''],
    ];
    for (const [kind, doc, valid, engineMessage] of cases) {
      const ok = validator(kind)(doc);
      expect(ok, `${JSON.stringify(doc)} (engine: ${engineMessage || 'accepted'})`).toBe(valid);
    }
  });
});
