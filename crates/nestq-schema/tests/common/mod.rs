//! Shared by the tests: the three file kinds read by the schema types and by the engine's own
//! parsers, and a walker that finds the properties the schema allows at a place in a document.

#![allow(dead_code)]

pub mod docs;

use serde_json::Value;
use std::path::{Path, PathBuf};

/// The three file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Model,
    Network,
    Training,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Model, Kind::Network, Kind::Training];

    /// Stem of `schema/<stem>.schema.json`.
    pub fn stem(self) -> &'static str {
        match self {
            Kind::Model => "model",
            Kind::Network => "network",
            Kind::Training => "training",
        }
    }

    /// Reads `v` with the schema types.
    pub fn schema_read(self, v: &Value) -> Result<(), String> {
        let r = match self {
            Kind::Model => serde_json::from_value::<nestq_schema::ModelFile>(v.clone()).map(|_| ()),
            Kind::Network => serde_json::from_value::<nestq_schema::NetworkFile>(v.clone()).map(|_| ()),
            Kind::Training => serde_json::from_value::<nestq_schema::TrainingFile>(v.clone()).map(|_| ()),
        };
        r.map_err(|e| e.to_string())
    }

    /// Reads `v` with the engine's parser.
    pub fn engine_read(self, v: &Value) -> Result<(), nestq::Error> {
        match self {
            Kind::Model => nestq::Model::from_value(v).map(|_| ()),
            Kind::Network => nestq::neural::Network::from_value(v).map(|_| ()),
            Kind::Training => nestq::train::TrainConfig::from_value(v).map(|_| ()),
        }
    }

    /// The generated schema.
    pub fn schema(self) -> Value {
        let (_, s) = nestq_schema::schemas().into_iter().find(|(stem, _)| *stem == self.stem()).expect("schema");
        s.to_value()
    }
}

/// The repository's top level.
pub fn repo() -> PathBuf {
    nestq_schema::repo_root()
}

/// Every `.json` file below `dir` (recursively), sorted.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("read {}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                // hidden directories are tools' (bench/.venv holds QuTiP 5's own JSON files)
                if !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

// ---------------------------------------------------------------- schema walker

fn resolve<'a>(root: &'a Value, s: &'a Value) -> &'a Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let ptr = r.strip_prefix('#').expect("local $ref");
            resolve(root, root.pointer(ptr).unwrap_or_else(|| panic!("dangling $ref {r}")))
        }
        None => s,
    }
}

/// The subschemas a value at `s` may be checked against: `$ref`s followed and `anyOf`/`oneOf`/
/// `allOf` branches expanded (the schema itself stays in the list when it has other keywords).
fn leaves<'a>(root: &'a Value, s: &'a Value, out: &mut Vec<&'a Value>) {
    let s = resolve(root, s);
    let mut branched = false;
    for k in ["anyOf", "oneOf", "allOf"] {
        if let Some(bs) = s.get(k).and_then(Value::as_array) {
            branched = true;
            for b in bs {
                leaves(root, b, out);
            }
        }
    }
    if !branched || s.get("properties").is_some() {
        out.push(s);
    }
}

/// Whether the object `obj` can be an instance of the object schema `s` as far as `const`
/// properties go (picks the branch of a tagged union, e.g. `"kind": "poisson"`).
pub fn const_compatible(s: &Value, obj: &Value) -> bool {
    let Some(props) = s.get("properties").and_then(Value::as_object) else { return true };
    let required = |k: &str| s.get("required").and_then(Value::as_array).is_some_and(|r| r.iter().any(|x| x == k));
    props.iter().all(|(k, p)| match (p.get("const"), obj.get(k)) {
        (Some(c), Some(v)) => v == c,
        (Some(_), None) => !required(k),
        (None, _) => true,
    })
}

/// The subschemas (leaves, see [`leaves`]) that apply to the value at JSON pointer `ptr` of
/// `doc`: object properties are followed through the branches whose `const` properties fit the
/// object (a tagged union's `kind`), array indices step into `items`.
pub fn schema_at<'a>(root: &'a Value, doc: &Value, ptr: &str) -> Vec<&'a Value> {
    let mut here: Vec<&Value> = vec![root];
    let mut at = String::new();
    for seg in ptr.split('/').skip(1) {
        let parent = doc.pointer(&at).unwrap_or_else(|| panic!("no {at} in the document"));
        at.push('/');
        at.push_str(seg);
        let mut next = Vec::new();
        for s in &here {
            let mut ls = Vec::new();
            leaves(root, s, &mut ls);
            for l in ls {
                if parent.is_array() {
                    if let Some(i) = l.get("items") {
                        next.push(i);
                    }
                    if let Some(Value::Array(p)) = l.get("prefixItems") {
                        next.extend(p.iter());
                    }
                } else if const_compatible(l, parent) {
                    if let Some(p) = l.get("properties").and_then(|p| p.get(seg)) {
                        next.push(p);
                    }
                }
            }
        }
        assert!(!next.is_empty(), "the schema has nothing at {at}");
        here = next;
    }
    let mut out = Vec::new();
    for s in here {
        leaves(root, s, &mut out);
    }
    out
}

/// The property names the schema allows for the object at JSON pointer `ptr` of `doc` (union
/// over the object branches that fit it).
pub fn schema_properties(root: &Value, doc: &Value, ptr: &str) -> Vec<String> {
    let obj = doc.pointer(ptr).unwrap_or_else(|| panic!("no {ptr} in the document"));
    let mut names: Vec<String> = Vec::new();
    for l in schema_at(root, doc, ptr) {
        if let Some(p) = l.get("properties").and_then(Value::as_object) {
            if const_compatible(l, obj) {
                names.extend(p.keys().cloned());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// The strings the schema allows at JSON pointer `ptr` of `doc` (its `const` and `enum` strings).
pub fn schema_strings(root: &Value, doc: &Value, ptr: &str) -> Vec<String> {
    let mut out = Vec::new();
    for l in schema_at(root, doc, ptr) {
        if let Some(c) = l.get("const").and_then(Value::as_str) {
            out.push(c.to_string());
        }
        if let Some(e) = l.get("enum").and_then(Value::as_array) {
            out.extend(e.iter().filter_map(Value::as_str).map(String::from));
        }
    }
    out.sort();
    out.dedup();
    out
}
