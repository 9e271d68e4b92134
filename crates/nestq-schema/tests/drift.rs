//! The committed `schema/*.schema.json` must be exactly what the types of this crate generate.

#[test]
fn committed_schemas_are_generated_from_the_types() {
    let dir = nestq_schema::repo_root().join("schema");
    let mut stale = Vec::new();
    for (stem, schema) in nestq_schema::schemas() {
        let path = dir.join(format!("{stem}.schema.json"));
        let want = nestq_schema::schema_text(&schema);
        match std::fs::read_to_string(&path) {
            Ok(have) if have == want => {}
            Ok(_) => stale.push(format!("{} differs from the types", path.display())),
            Err(e) => stale.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(
        stale.is_empty(),
        "the committed JSON Schemas have drifted from crates/nestq-schema:\n  {}\nRegenerate them with\n  cargo run -p nestq-schema --bin gen-schema\nthen regenerate the TypeScript types with\n  node scripts/build/gen-spec-types.mjs\nand commit schema/ and ts/generated/.",
        stale.join("\n  ")
    );
}
