//! The engine's module layers (`docs/architecture.md`): every top-level module of
//! `crates/nestq/src` belongs to one layer, and may use (`crate::…` paths outside comments and
//! test modules) only modules of its own layer or of lower layers, without cycles. A new
//! module must be added to the table, which is the same as the diagram in the doc.
//!
//! This reads the `crate::` paths of the sources, as `cargo modules dependencies --acyclic`
//! would report them for this crate; `cargo-modules` itself is not used because it builds a
//! rust-analyzer (several minutes on every fresh CI machine) to answer the same question.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lowest layer first.
const LAYERS: &[(&str, &[&str])] = &[
    ("foundation", &["error", "clock", "json", "par", "coef", "sparse", "rng"]),
    ("operators and measures", &["ops", "measures"]),
    // the model builds its generator (`Model::lindbladian_with`), so the generator sits below
    // it for now; moving that build into the generator layer (one term list read by the
    // Lindbladian, the MPO split and the gradients) would put the model file below it
    ("generator", &["lindblad"]),
    ("model file", &["model"]),
    ("integrators", &["integrate"]),
    ("solver support", &["result", "guard", "ensemble"]),
    ("solvers", &["mpo", "steady", "grad", "mcsolve", "stochastic"]),
    ("solver entry", &["solve", "load"]),
    ("applications", &["batch", "neural"]),
    ("training", &["train"]),
];

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `crate::name` references of a source text, outside comment lines and `#[cfg(test)]` modules.
fn references(text: &str) -> BTreeSet<String> {
    let body = text.split("#[cfg(test)]").next().unwrap_or("");
    let code: String = body.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
    let mut out = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + 7..];
        if after.starts_with('{') {
            // use crate::{a::x, b, c::{..}}: the first segment of each comma-separated item
            let close = after.find(';').unwrap_or(after.len());
            let group = &after[1..close];
            let mut depth = 0;
            let mut item = String::new();
            for ch in group.chars() {
                match ch {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.insert(item.trim().split("::").next().unwrap_or("").to_string());
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 || ch != '}' {
                    item.push(ch);
                }
            }
            out.insert(item.trim().trim_end_matches('}').split("::").next().unwrap_or("").trim().to_string());
        } else {
            let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            out.insert(name);
        }
        rest = after;
    }
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rs_files(&src, &mut files);
    let mut modules: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap();
        let top = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        if top != "lib" {
            modules.entry(top).or_default().push(f);
        }
    }
    let names: BTreeSet<String> = modules.keys().cloned().collect();
    modules
        .iter()
        .map(|(m, files)| {
            let mut deps = BTreeSet::new();
            for f in files {
                for r in references(&std::fs::read_to_string(f).unwrap()) {
                    if names.contains(&r) && &r != m {
                        deps.insert(r);
                    }
                }
            }
            (m.clone(), deps)
        })
        .collect()
}

fn layer_of(m: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, ms)| ms.contains(&m))
}

#[test]
fn every_module_has_a_layer_and_uses_only_its_own_or_lower_layers() {
    let g = graph();
    let mut problems = Vec::new();
    for (m, deps) in &g {
        let Some(lm) = layer_of(m) else {
            problems.push(format!("module `{m}` is in no layer: add it to LAYERS here and to docs/architecture.md"));
            continue;
        };
        for d in deps {
            match layer_of(d) {
                Some(ld) if ld > lm => problems.push(format!("`{m}` ({}) uses `{d}` of a higher layer ({})", LAYERS[lm].0, LAYERS[ld].0)),
                _ => {}
            }
        }
    }
    for (_, ms) in LAYERS {
        for m in *ms {
            if !g.contains_key(*m) {
                problems.push(format!("LAYERS names `{m}`, which is not a module of the crate"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_module_graph_has_no_cycle() {
    let g = graph();
    // depth-first search for a back edge
    fn visit(m: &str, g: &BTreeMap<String, BTreeSet<String>>, state: &mut BTreeMap<String, u8>, path: &mut Vec<String>) -> Option<Vec<String>> {
        state.insert(m.to_string(), 1);
        path.push(m.to_string());
        for d in &g[m] {
            match state.get(d.as_str()).copied().unwrap_or(0) {
                1 => {
                    let start = path.iter().position(|x| x == d).unwrap();
                    let mut cycle = path[start..].to_vec();
                    cycle.push(d.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(d, g, state, path) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        state.insert(m.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for m in g.keys() {
        if state.get(m.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(m, &g, &mut state, &mut Vec::new()) {
                panic!("module cycle: {}", c.join(" → "));
            }
        }
    }
}

/// The test can fail: a made-up dependency of a low module on a high one is caught.
#[test]
fn a_dependency_upwards_would_be_reported() {
    let refs = references("use crate::{error::Error, solve::{mesolve, x}};\n// crate::train in a comment\nfn f() { crate::model::Model::default(); }");
    assert_eq!(refs.into_iter().collect::<Vec<_>>(), vec!["error", "model", "solve"]);
    assert!(layer_of("error").unwrap() < layer_of("solve").unwrap());
}
