//! Writes `schema/{model,network,training}.schema.json` at the repository's top level from the
//! types of `nestq-schema`: `cargo run -p nestq-schema --bin gen-schema`. With `--check` it
//! writes nothing and exits with status 1 if a committed file differs.

use std::process::ExitCode;

fn main() -> ExitCode {
    let check = std::env::args().any(|a| a == "--check");
    let dir = nestq_schema::repo_root().join("schema");
    let mut stale = Vec::new();
    for (stem, schema) in nestq_schema::schemas() {
        let path = dir.join(format!("{stem}.schema.json"));
        let text = nestq_schema::schema_text(&schema);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        if check {
            stale.push(path.display().to_string());
        } else {
            std::fs::create_dir_all(&dir).expect("create schema/");
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            println!("wrote {}", path.display());
        }
    }
    if !stale.is_empty() {
        eprintln!("out of date: {} (run `cargo run -p nestq-schema --bin gen-schema`)", stale.join(", "));
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
