//! Every model, network and training file in the repository (examples, test fixtures, benchmark
//! inputs) is read both by the schema types and by the engine's own parser.

mod common;
use common::{json_files, repo, Kind};
use serde_json::Value;

/// Which format a file is, from its place and name; `None` for the JSON files that are not
/// inputs (reference results and objectives next to the fixtures).
fn kind_of(rel: &str, v: &Value) -> Option<Kind> {
    let name = rel.rsplit('/').next().unwrap();
    if rel.starts_with("examples/") {
        // Every JSON file under examples/ is an input; its top-level keys say which.
        return Some(if v.get("task").is_some() {
            Kind::Training
        } else if v.get("dims").is_some() {
            Kind::Model
        } else if v.get("duration").is_some() {
            Kind::Network
        } else {
            panic!("{rel}: not a model, network or training file (examples/ holds inputs only)")
        });
    }
    if rel.starts_with("test/fixtures/models/") || rel.starts_with("test/fixtures/mc/") || rel.starts_with("test/fixtures/sme/") || rel.starts_with("bench/mpo_chain") {
        return Some(Kind::Model);
    }
    if rel.starts_with("test/fixtures/grad/") {
        // chain4.json is the model; chain4.objective.json and chain4.torch.json go with it.
        return (!name.ends_with(".objective.json") && !name.ends_with(".torch.json")).then_some(Kind::Model);
    }
    if rel.starts_with("test/fixtures/neural/") {
        // *.net.json are networks; *.brian2.json and *.ref.json are reference results.
        return name.ends_with(".net.json").then_some(Kind::Network);
    }
    if rel.starts_with("bench/networks/") {
        return Some(Kind::Network);
    }
    if rel.starts_with("bench/out/") {
        return None; // generated inputs and results of the benchmark scripts (git-ignored)
    }
    if rel.starts_with("test/fixtures/qutip5_mc/") || rel.starts_with("test/fixtures/qutip5_sme/") {
        return None; // QuTiP 5 mcsolve/smesolve/ssesolve reference ensembles
    }
    if rel.starts_with("test/fixtures/qutip/") {
        return None; // QuTiP reference results
    }
    panic!("{rel}: unclassified JSON file (add a rule to kind_of)")
}

fn check_tree(dirs: &[&str], min_files: usize) {
    let root = repo();
    let mut checked = 0;
    let mut failures = Vec::new();
    for dir in dirs {
        for path in json_files(&root.join(dir)) {
            let rel = path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(&path).unwrap();
            let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: invalid JSON: {e}"));
            let Some(kind) = kind_of(&rel, &v) else { continue };
            checked += 1;
            if let Err(e) = kind.schema_read(&v) {
                failures.push(format!("{rel} ({kind:?}): the schema types refuse it: {e}"));
            }
            if let Err(e) = kind.engine_read(&v) {
                failures.push(format!("{rel} ({kind:?}): the engine refuses it: {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= min_files, "only {checked} files checked in {dirs:?}");
}

#[test]
fn examples_are_read_by_schema_and_engine() {
    check_tree(&["examples"], 9);
}

#[test]
fn fixtures_are_read_by_schema_and_engine() {
    check_tree(&["test/fixtures"], 16 + 3 + 12);
}

#[test]
fn bench_inputs_are_read_by_schema_and_engine() {
    let root = repo();
    let mut n = 0;
    for path in json_files(&root.join("bench")) {
        let rel = path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let kind = kind_of(&rel, &v).unwrap_or_else(|| panic!("{rel}: not an input"));
        kind.schema_read(&v).unwrap_or_else(|e| panic!("{rel}: the schema types refuse it: {e}"));
        kind.engine_read(&v).unwrap_or_else(|e| panic!("{rel}: the engine refuses it: {e}"));
        n += 1;
    }
    assert!(n >= 4, "{n} bench inputs (bench/networks/*.json are generated: node bench/make_networks.mjs, which npm test runs)");
}

/// The ```json blocks of the format docs that are whole files (the top-level keys each format
/// requires) are read by both; fragments are checked against their definitions by
/// test/schema.test.ts.
#[test]
fn docs_whole_files_are_read_by_schema_and_engine() {
    let mut n = 0;
    for doc in ["docs/model-format.md", "docs/network-format.md", "docs/training.md"] {
        let text = std::fs::read_to_string(repo().join(doc)).unwrap();
        for block in text.split("```json\n").skip(1).map(|b| b.split("```").next().unwrap()) {
            let Ok(v) = serde_json::from_str::<Value>(block) else { continue };
            let has = |keys: &[&str]| keys.iter().all(|k| v.get(k).is_some());
            let kind = if has(&["dims", "initial", "times"]) {
                Kind::Model
            } else if has(&["dt", "duration"]) {
                Kind::Network
            } else if has(&["task"]) {
                Kind::Training
            } else {
                continue;
            };
            kind.schema_read(&v).unwrap_or_else(|e| panic!("{doc}: the schema types refuse a {kind:?} example: {e}\n{block}"));
            kind.engine_read(&v).unwrap_or_else(|e| panic!("{doc}: the engine refuses a {kind:?} example: {e}\n{block}"));
            n += 1;
        }
    }
    assert!(n >= 3, "{n} whole files in the docs");
}
