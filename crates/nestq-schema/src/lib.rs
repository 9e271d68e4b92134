//! # nestq-schema — the file formats of nestq as types, and their JSON Schemas
//!
//! The model file (`docs/model-format.md`), the network file (`docs/network-format.md`) and the
//! training config (`docs/training.md`) are described here once, as serde types that derive
//! [`schemars::JsonSchema`]. From them `cargo run -p nestq-schema --bin gen-schema` writes
//! `schema/model.schema.json`, `schema/network.schema.json` and `schema/training.schema.json`
//! (JSON Schema 2020-12, committed), and `scripts/build/gen-spec-types.mjs` turns those into the
//! TypeScript types of `ts/generated/spec-types.ts`. The schemas are normative for field names
//! and types; the docs explain them.
//!
//! The engine keeps its own hand-written parsers (`nestq::Model::from_value`,
//! `nestq::neural::Network::from_value`, `nestq::train::TrainConfig::from_value`), which also
//! check values (ranges, sizes, references to names). The tests of this crate hold the two
//! descriptions together: every example and fixture must be read by both, and at every object
//! of every format the set of keys the engine's parser allows must equal the schema's
//! properties (`tests/keys.rs`). A schema that has drifted from the committed files fails
//! `tests/drift.rs`.
//!
//! Conventions of the types:
//! - Objects the engine reads strictly reject unknown keys, except keys beginning with `_`,
//!   which are comments (the [`Comments`] field of every such struct; in the schema:
//!   `"patternProperties": {"^_": true}, "additionalProperties": false`).
//! - An optional field may be left out but not set to `null` (the engine rejects `null`), unless
//!   its documentation says otherwise.
//! - Value checks that JSON Schema expresses simply (`minimum`, `enum`, string `pattern`s) are in
//!   the schema; the rest (a `dm` that is a density matrix, names that refer to parameters or
//!   neurons, shapes that depend on `dims`) is only in the engine and the prose.

#![warn(missing_docs)]

pub mod model;
pub mod network;
pub mod training;

use schemars::generate::SchemaSettings;
use schemars::transform::{RecursiveTransform, RestrictFormats, Transform};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

pub use model::ModelFile;
pub use network::NetworkFile;
pub use training::TrainingFile;

// ---------------------------------------------------------------- shared types

/// Keys beginning with `_` in an object the engine reads strictly: comments, ignored by the
/// engine. Any other key that the struct does not name is an error, as in the engine.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Comments(pub BTreeMap<String, serde_json::Value>);

impl<'de> Deserialize<'de> for Comments {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Comments;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("comment keys beginning with '_'")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Comments, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(k) = m.next_key::<String>()? {
                    if !k.starts_with('_') {
                        return Err(de::Error::custom(format!("unknown field `{k}`")));
                    }
                    out.insert(k, m.next_value()?);
                }
                Ok(Comments(out))
            }
        }
        d.deserialize_map(V)
    }
}

impl JsonSchema for Comments {
    fn schema_name() -> Cow<'static, str> {
        "Comments".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "patternProperties": { "^_": { "description": "A comment (keys beginning with '_' are ignored)." } },
            "additionalProperties": false
        })
    }
}

/// The format version: `1`, the only version this build reads (any other value is an error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version1;

impl<'de> Deserialize<'de> for Version1 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match u64::deserialize(d)? {
            1 => Ok(Version1),
            v => Err(de::Error::custom(format!("unsupported version {v} (this build reads version 1)"))),
        }
    }
}

impl JsonSchema for Version1 {
    fn schema_name() -> Cow<'static, str> {
        "Version1".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "const": 1 })
    }
}

/// A complex number: a JSON number (real) or a two-element array `[re, im]`.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Complex {
    /// A real number.
    Real(f64),
    /// `[re, im]`.
    Pair([f64; 2]),
}

/// A square matrix: an array of rows, each an array of complex numbers (a number or
/// `[re, im]`), row-major.
pub type Matrix = Vec<Vec<Complex>>;

/// Deserializes a present optional field: `null` is an error (as in the engine), absence is
/// handled by `#[serde(default)]`.
pub(crate) fn some<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

// ---------------------------------------------------------------- schema generation

/// The three schemas: `(file stem, schema)`, e.g. `("model", …)` for `schema/model.schema.json`.
pub fn schemas() -> Vec<(&'static str, Schema)> {
    vec![
        ("model", schema_for::<ModelFile>()),
        ("network", schema_for::<NetworkFile>()),
        ("training", schema_for::<TrainingFile>()),
    ]
}

/// The committed text of a schema file: pretty-printed JSON and a final newline.
pub fn schema_text(schema: &Schema) -> String {
    let mut s = serde_json::to_string_pretty(schema).expect("a schema serialises");
    s.push('\n');
    s
}

fn schema_for<T: JsonSchema>() -> Schema {
    let mut settings = SchemaSettings::draft2020_12();
    // schemars' Rust-specific formats ("double", "uint64") say nothing a JSON reader can use
    // (the integer `minimum: 0` stays); formats of the JSON Schema standard would be kept.
    settings.transforms.push(Box::new(RestrictFormats::default()));
    settings.transforms.push(Box::new(RecursiveTransform(Tidy)));
    SchemaGenerator::new(settings).into_root_schema_for::<T>()
}

/// Finishes every subschema:
/// - checks that an object schema with the comment pattern of [`Comments`] is strict
///   (`"additionalProperties": false`, which each such struct sets: schemars drops it from
///   flattened fields and leaves the decision to the outer struct);
/// - removes `"default": null`, which schemars writes for `#[serde(default)]` fields of type
///   `Option` (absent means the engine's default, which the description gives; `null` is
///   refused);
/// - removes `"required": []`.
#[derive(Clone)]
struct Tidy;

impl Transform for Tidy {
    fn transform(&mut self, schema: &mut Schema) {
        let comments = schema.get("patternProperties").and_then(|p| p.as_object()).is_some_and(|p| p.contains_key("^_"));
        if comments && schema.get("additionalProperties") != Some(&false.into()) {
            panic!("a struct with a `comments: Comments` field lacks #[schemars(extend(\"additionalProperties\" = false))]: {schema:?}");
        }
        if schema.get("default").is_some_and(|d| d.is_null()) {
            schema.remove("default");
        }
        if schema.get("required").and_then(|r| r.as_array()).is_some_and(|a| a.is_empty()) {
            schema.remove("required");
        }
    }
}

/// Path of the repository's top level (two levels above this crate).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}
