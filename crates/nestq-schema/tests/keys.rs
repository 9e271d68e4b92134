//! At every object of the three formats, the keys the engine's parser allows are exactly the
//! schema's properties.
//!
//! For each place (a JSON pointer into one of the maximal documents below):
//! 1. the maximal documents are read by both the schema types and the engine, and the keys they
//!    use there are exactly the schema's properties (so a property added to the schema needs a
//!    maximal document using it, which the engine must then accept);
//! 2. with one unknown key added there, both refuse the document, and the engine's message lists
//!    the keys it allows, which must equal the schema's properties (so a key added to the
//!    engine's `check_keys` list fails here until the schema has it);
//! 3. with a `_comment` key added there, both accept it.
//!
//! The objects that take exactly one key (initial states, modulations) are checked variant by
//! variant in `one_key_objects`.

mod common;
use common::docs::{model_dense, model_mc, model_mpo, model_sme, model_sme_experiment, network_full, training_mnist, training_recall};
use common::{const_compatible, schema_at, schema_properties, Kind};
use serde_json::{json, Value};

/// A place: the format, and the (document, pointer) pairs whose keys together must cover the
/// schema's properties there (several where keys exclude each other).
struct Place {
    kind: Kind,
    at: Vec<(fn() -> Value, &'static str)>,
}

fn places() -> Vec<Place> {
    let one = |kind, doc: fn() -> Value, ptr| Place { kind, at: vec![(doc, ptr)] };
    vec![
        one(Kind::Model, model_dense, ""),
        one(Kind::Model, model_dense, "/hamiltonian/0"),
        one(Kind::Model, model_dense, "/jumps/0"),
        one(Kind::Model, model_dense, "/cross/0"),
        one(Kind::Model, model_dense, "/hamiltonian/0/modulation/cos"),
        one(Kind::Model, model_dense, "/jumps/0/modulation/exp"),
        one(Kind::Model, model_dense, "/cross/0/modulation/exp"),
        one(Kind::Model, model_dense, "/times"),
        Place { kind: Kind::Model, at: vec![(model_dense, "/solver"), (model_mpo, "/solver"), (model_mc, "/solver"), (model_sme, "/solver"), (model_sme_experiment, "/solver")] },
        one(Kind::Model, model_sme, "/solver/sc_ops/0"),
        one(Kind::Network, network_full, ""),
        one(Kind::Network, network_full, "/neurons/0"),
        one(Kind::Network, network_full, "/groups/0"),
        Place { kind: Kind::Network, at: vec![(network_full, "/groups/0/i_ext"), (network_full, "/groups/0/v0")] },
        Place { kind: Kind::Network, at: vec![(network_full, "/synapses/1"), (network_full, "/synapses/2")] },
        Place { kind: Kind::Network, at: vec![(network_full, "/synapses/1/weight"), (network_full, "/synapses/3/weight")] },
        one(Kind::Network, network_full, "/bridges/0"),
        one(Kind::Network, network_full, "/inputs/0"),
        one(Kind::Network, network_full, "/inputs/1"),
        one(Kind::Network, network_full, "/inputs/2"),
        one(Kind::Network, network_full, "/record"),
        one(Kind::Network, network_full, "/record/synchrony"),
        one(Kind::Training, training_recall, ""),
        one(Kind::Training, training_recall, "/task"),
        one(Kind::Training, training_mnist, "/task"),
        one(Kind::Training, training_recall, "/network"),
        one(Kind::Training, training_recall, "/network/neuron"),
        one(Kind::Training, training_recall, "/network/recurrent"),
        one(Kind::Training, training_recall, "/network/links"),
        one(Kind::Training, training_recall, "/network/links/init"),
        one(Kind::Training, training_recall, "/network/readout"),
        one(Kind::Training, training_recall, "/network/surrogate"),
        one(Kind::Training, training_recall, "/network/init"),
        one(Kind::Training, training_recall, "/optimizer"),
        one(Kind::Training, training_recall, "/early_stopping"),
    ]
}

/// The engine's JSON path of a pointer: `/hamiltonian/0/modulation` → `$.hamiltonian[0].modulation`.
fn engine_path(ptr: &str) -> String {
    let mut p = String::from("$");
    for seg in ptr.split('/').skip(1) {
        if seg.parse::<usize>().is_ok() {
            p.push_str(&format!("[{seg}]"));
        } else {
            p.push('.');
            p.push_str(seg);
        }
    }
    p
}

fn with_key(doc: &Value, ptr: &str, key: &str) -> Value {
    let mut d = doc.clone();
    d.pointer_mut(ptr).and_then(Value::as_object_mut).unwrap_or_else(|| panic!("{ptr} is not an object")).insert(key.into(), json!(1));
    d
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// Every strict object of the schemas (one with the `_` comment pattern) is one of the places
/// above, so a new object (say a grouped `solver.trunc`) cannot escape the checks.
#[test]
fn every_strict_object_is_checked() {
    fn strict_objects<'a>(v: &'a Value, path: String, out: &mut Vec<(String, &'a Value)>) {
        match v {
            Value::Object(o) => {
                if o.get("patternProperties").and_then(|p| p.get("^_")).is_some() {
                    out.push((path.clone(), v));
                }
                for (k, x) in o {
                    strict_objects(x, format!("{path}/{k}"), out);
                }
            }
            Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| strict_objects(x, format!("{path}/{i}"), out)),
            _ => {}
        }
    }
    let mut missing = Vec::new();
    for kind in Kind::ALL {
        let schema = kind.schema();
        let mut all = Vec::new();
        strict_objects(&schema, String::new(), &mut all);
        let mut covered: Vec<&Value> = Vec::new();
        for place in places().iter().filter(|p| p.kind == kind) {
            for (doc, ptr) in &place.at {
                let d = doc();
                let obj = d.pointer(ptr).unwrap();
                covered.extend(schema_at(&schema, &d, ptr).into_iter().filter(|l| l.get("properties").is_some() && const_compatible(l, obj)));
            }
        }
        for (path, node) in all {
            if !covered.iter().any(|c| std::ptr::eq(*c, node)) {
                missing.push(format!("{kind:?} schema #{path}"));
            }
        }
    }
    assert!(missing.is_empty(), "strict objects no place checks (add them to places()):\n{}", missing.join("\n"));
}

#[test]
fn maximal_documents_are_read_by_both() {
    for (kind, doc) in [
        (Kind::Model, model_dense()),
        (Kind::Model, model_mpo()),
        (Kind::Model, model_mc()),
        (Kind::Model, model_sme()),
        (Kind::Model, model_sme_experiment()),
        (Kind::Network, network_full()),
        (Kind::Training, training_recall()),
        (Kind::Training, training_mnist()),
    ] {
        kind.schema_read(&doc).unwrap_or_else(|e| panic!("{kind:?}: the schema types refuse a maximal document: {e}\n{doc:#}"));
        kind.engine_read(&doc).unwrap_or_else(|e| panic!("{kind:?}: the engine refuses a maximal document: {e}\n{doc:#}"));
    }
}

#[test]
fn maximal_documents_use_every_schema_property() {
    let mut failures = Vec::new();
    for place in places() {
        let schema = place.kind.schema();
        let (doc0, ptr0) = place.at[0];
        let want = schema_properties(&schema, &doc0(), ptr0);
        let mut used = Vec::new();
        for (doc, ptr) in &place.at {
            let d = doc();
            assert_eq!(schema_properties(&schema, &d, ptr), want, "{:?} {ptr}: the places of one check must be the same schema object", place.kind);
            used.extend(d.pointer(ptr).unwrap().as_object().unwrap().keys().filter(|k| !k.starts_with('_')).cloned());
        }
        let used = sorted(used);
        if used != want {
            failures.push(format!("{:?} {}: the maximal documents use {used:?} but the schema has {want:?}", place.kind, ptr0));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn engine_allows_exactly_the_schema_properties() {
    let mut failures = Vec::new();
    for place in places() {
        let schema = place.kind.schema();
        for (doc, ptr) in &place.at {
            let want = schema_properties(&schema, &doc(), ptr);
            let d = with_key(&doc(), ptr, "zz_unknown");
            if place.kind.schema_read(&d).is_ok() {
                failures.push(format!("{:?} {ptr}: the schema types accept an unknown key", place.kind));
            }
            let expected_path = format!("{}.zz_unknown", engine_path(ptr));
            match place.kind.engine_read(&d) {
                Ok(()) => failures.push(format!("{:?} {ptr}: the engine accepts an unknown key", place.kind)),
                Err(e) if e.path.as_deref() != Some(expected_path.as_str()) => {
                    failures.push(format!("{:?} {ptr}: the engine's error is not about the unknown key: {e}", place.kind))
                }
                Err(e) => {
                    let list = e.message.strip_prefix("unknown field (allowed: ").and_then(|m| m.strip_suffix(')'));
                    match list {
                        None => failures.push(format!("{:?} {ptr}: unexpected message {e}", place.kind)),
                        Some(list) => {
                            let allowed = sorted(list.split(", ").map(String::from).collect());
                            if allowed != want {
                                failures.push(format!("{:?} {ptr}: the engine allows {allowed:?}, the schema {want:?}", place.kind));
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn comment_keys_are_accepted_by_both() {
    for place in places() {
        for (doc, ptr) in &place.at {
            let d = with_key(&doc(), ptr, "_comment");
            place.kind.schema_read(&d).unwrap_or_else(|e| panic!("{:?} {ptr}: the schema types refuse a _comment key: {e}", place.kind));
            place.kind.engine_read(&d).unwrap_or_else(|e| panic!("{:?} {ptr}: the engine refuses a _comment key: {e}", place.kind));
        }
    }
}

/// Objects that take exactly one key: each variant is accepted by both; an unknown variant, a
/// second key or a `_comment` key is refused by both.
#[test]
fn one_key_objects() {
    let model = |f: &dyn Fn(&mut Value)| {
        let mut d = model_dense();
        f(&mut d);
        (Kind::Model, d)
    };
    let network = |f: &dyn Fn(&mut Value)| {
        let mut d = network_full();
        f(&mut d);
        (Kind::Network, d)
    };
    // a one-qubit model with one monitored jump and 3 output intervals
    let experiment = |rec: Value| {
        let mut d = model_sme_experiment();
        d["times"] = json!([0, 0.5, 1, 1.5]);
        d["solver"] = json!({"method": "smesolve", "from_experiment": rec});
        d
    };
    let accepted = [
        model(&|d| d["initial"] = json!({"basis": [1, 2]})),
        model(&|d| d["initial"] = json!({"product": [[1, 0], [0, [0, 1], 1]]})),
        model(&|d| d["initial"] = json!({"ket": [1, 0, 0, 0, 0, [0, 1]]})),
        model(&|d| d["initial"] = json!({"dm": [[1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]]})),
        model(&|d| d["hamiltonian"][0]["modulation"] = json!({"exp": {"rate": 1}})),
        model(&|d| d["cross"][0]["modulation"] = json!({"cos": {"omega": 1}})),
        model(&|d| *d = experiment(json!({"dW": [[0.1, 0.2, 0.3]]}))),
        model(&|d| *d = experiment(json!({"measurement": [[0.1, 0.2, 0.3]]}))),
        network(&|d| d["bridges"][0]["initial"] = json!({"basis": [0, 1]})),
        network(&|d| d["bridges"][0]["initial"] = json!({"product": [[1, 0], [0, 1]]})),
        network(&|d| d["bridges"][0]["initial"] = json!({"ket": [1, 0, 0, [0, 1]]})),
        network(&|d| d["bridges"][0]["initial"] = json!({"dm": [[0.5, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]})),
        network(&|d| d["bridges"][0]["initial"] = json!({"bell": true})),
        network(&|d| d["bridges"][0]["initial"] = json!({"bell": "phi-"})),
    ];
    for (kind, d) in &accepted {
        kind.schema_read(d).unwrap_or_else(|e| panic!("the schema types refuse {d}: {e}"));
        kind.engine_read(d).unwrap_or_else(|e| panic!("the engine refuses {d}: {e}"));
    }
    let refused = [
        model(&|d| d["initial"] = json!({"zz": [0, 0]})),
        model(&|d| d["initial"] = json!({"basis": [0, 0], "_comment": 1})),
        model(&|d| d["initial"] = json!({"basis": [0, 0], "ket": [1, 0, 0, 0, 0, 0]})),
        model(&|d| d["initial"] = json!({})),
        model(&|d| d["hamiltonian"][0]["modulation"] = json!({"sin": {"omega": 1}})),
        model(&|d| d["hamiltonian"][0]["modulation"] = json!({"exp": {"rate": 1}, "_comment": 1})),
        model(&|d| d["jumps"][0]["modulation"] = json!({"cos": {"omega": 1}})),
        model(&|d| *d = experiment(json!({"dW": [[0.1, 0.2, 0.3]], "_comment": 1}))),
        model(&|d| *d = experiment(json!({"dW": [[0.1, 0.2, 0.3]], "measurement": [[0.1, 0.2, 0.3]]}))),
        model(&|d| *d = experiment(json!({"zz": [[0.1, 0.2, 0.3]]}))),
        model(&|d| *d = experiment(json!({}))),
        network(&|d| d["bridges"][0]["initial"] = json!({"zz": true})),
        network(&|d| d["bridges"][0]["initial"] = json!({"bell": false})),
        network(&|d| d["bridges"][0]["initial"] = json!({"bell": "phi"})),
        network(&|d| d["bridges"][0]["initial"] = json!({"bell": true, "_comment": 1})),
    ];
    for (kind, d) in &refused {
        assert!(kind.schema_read(d).is_err(), "the schema types accept {d}");
        assert!(kind.engine_read(d).is_err(), "the engine accepts {d}");
    }
}

/// `null` where a value may be left out: refused by both, except where the engine reads `null`
/// as the default (`optimizer.clip_norm`, `early_stopping`). `name` and `description` are left
/// out: the engine never reads them (so it accepts any value there), the schema says text.
#[test]
fn null_is_refused_except_where_documented() {
    let mut failures = Vec::new();
    for place in places() {
        for (doc, ptr) in &place.at {
            let d0 = doc();
            let obj = d0.pointer(ptr).unwrap().as_object().unwrap().clone();
            for k in obj.keys().filter(|k| !matches!(k.as_str(), "name" | "description")) {
                let mut d = d0.clone();
                d.pointer_mut(ptr).unwrap()[k] = Value::Null;
                let (s, e) = (place.kind.schema_read(&d).is_ok(), place.kind.engine_read(&d).is_ok());
                let documented = matches!((*ptr, k.as_str()), ("/optimizer", "clip_norm") | ("", "early_stopping"));
                if s != e || s != documented {
                    failures.push(format!("{:?} {ptr}/{k} = null: schema types {s}, engine {e}", place.kind));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
