//! Strings with a syntax or a fixed set of values: the schema (its `pattern`s and enums), the
//! schema types and the engine agree.

mod common;
use common::docs::{model_dense, network_full, training_mnist, training_recall};
use common::{schema_at, schema_strings, Kind};
use nestq_schema::model::{Measure, OperatorExpr, OperatorName, BUILTIN_OPERATORS};
use serde_json::{json, Value};

/// The `pattern` of the schema at a place.
fn pattern_at(kind: Kind, doc: &Value, ptr: &str) -> regex::Regex {
    let schema = kind.schema();
    let p = schema_at(&schema, doc, ptr).into_iter().find_map(|l| l.get("pattern").and_then(Value::as_str).map(String::from)).unwrap_or_else(|| panic!("no pattern at {ptr}"));
    regex::Regex::new(&p).unwrap()
}

#[test]
fn builtin_operator_names_match_the_engine() {
    assert_eq!(BUILTIN_OPERATORS.as_slice(), nestq::ops::BUILTIN_NAMES);
}

#[test]
fn operator_expressions() {
    let doc = model_dense();
    let re = pattern_at(Kind::Model, &doc, "/hamiltonian/0/ops");
    let cases = [
        "", " ", "X0", "X0 X1", "  X0\tX1 ", "LAM12", "X00", "X_0", "_a3", "X", "0X", "X0a", "X+0", "X-1", "X0,X1", "é0", "X0  Z1 SM2", "X 0",
    ];
    for s in cases {
        let engine = nestq::ops::parse_expr(s).is_ok();
        assert_eq!(OperatorExpr::is_valid(s), engine, "{s:?}: schema type vs engine");
        assert_eq!(re.is_match(s), engine, "{s:?}: schema pattern vs engine");
    }
}

#[test]
fn operator_names() {
    let schema = Kind::Model.schema();
    let names = schema.pointer("/properties/operators/propertyNames").unwrap();
    let re = regex::Regex::new(names["pattern"].as_str().unwrap()).unwrap();
    let not: Vec<&str> = names["not"]["enum"].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
    assert_eq!(not, BUILTIN_OPERATORS);
    for s in ["LAM", "_", "a_b", "Sx", "X", "AD", "JM", "L1", "", "é", "A B"] {
        let mut d = model_dense();
        d["operators"] = json!({ s: [[0, 1], [1, 0]] });
        d["cross"] = json!([]);
        let engine = Kind::Model.engine_read(&d).is_ok();
        assert_eq!(OperatorName::is_valid(s), engine, "{s:?}: schema type vs engine");
        assert_eq!(re.is_match(s) && !not.contains(&s), engine, "{s:?}: schema vs engine");
        assert_eq!(Kind::Model.schema_read(&d).is_ok(), engine, "{s:?}: schema types vs engine");
    }
}

#[test]
fn measures() {
    let base = || {
        let mut d = model_dense();
        d["dims"] = json!([2, 2, 2]);
        d["initial"] = json!({"basis": [0, 0, 0]});
        d["operators"] = json!({});
        d["cross"] = json!([]);
        d
    };
    let re = pattern_at(Kind::Model, &base(), "/measures/0");
    // Syntax only: indices are in range and pairs differ, which the engine checks as values.
    let cases = [
        "purity", "trace", "fidelity", "entropy", "entropy:0", "entropy: 1 ", "entropy:+1", "entropy:", "entropy:0,1", "mutual_info:0,1",
        "mutual_info: 0 , 2", "concurrence:0,1", "negativity:1,0", "log_negativity:0,2", "purity:0", "mutual_info:0", "mutual_info:0,1,2",
        "foo", "Purity", "entropy:a", "entropy:-1", "mutual_info:0,,1", " purity", "trace:", "fidelity:1",
    ];
    for s in cases {
        let mut d = base();
        d["measures"] = json!([s]);
        let engine = Kind::Model.engine_read(&d).is_ok();
        assert_eq!(Measure::is_valid(s), engine, "{s:?}: schema type vs engine");
        assert_eq!(re.is_match(s), engine, "{s:?}: schema pattern vs engine");
        assert_eq!(Kind::Model.schema_read(&d).is_ok(), engine, "{s:?}: schema types vs engine");
    }
}

/// The names listed in an engine error such as `unknown coupling 'x' (hamiltonian, paper, cp)`
/// or `unknown task "x" (expected "delayed_recall" or "mnist_rows")`.
fn listed(message: &str) -> Vec<String> {
    let inner = &message[message.rfind('(').expect("a list in parentheses") + 1..message.rfind(')').unwrap()];
    if inner.contains('"') {
        inner.split('"').skip(1).step_by(2).map(String::from).collect()
    } else {
        inner.split(", ").map(|s| s.trim().to_string()).collect()
    }
}

/// Every string the schema allows at a place is accepted by the engine there; an unknown
/// string is refused by both, and the engine's list of names is part of the schema's.
#[test]
fn enumerated_strings() {
    let places: Vec<(Kind, fn() -> Value, &str, usize)> = vec![
        (Kind::Model, model_dense, "/solver/method", 8),
        (Kind::Network, network_full, "/bridge_method", 3),
        (Kind::Network, network_full, "/bridges/0/coupling", 3),
        (Kind::Network, network_full, "/bridges/0/measure", 2),
        (Kind::Network, network_full, "/bridges/0/initial/bell", 4),
        (Kind::Network, network_full, "/inputs/0/kind", 3),
        (Kind::Training, training_recall, "/task/kind", 2),
        (Kind::Training, training_recall, "/network/links/kind", 3),
        (Kind::Training, training_recall, "/network/links/coupling", 3),
        (Kind::Training, training_recall, "/network/links/measure", 2),
        (Kind::Training, training_recall, "/network/links/initial", 2),
        (Kind::Training, training_recall, "/network/links/pairs", 1),
        (Kind::Training, training_recall, "/network/surrogate/kind", 1),
        (Kind::Training, training_recall, "/optimizer/kind", 1),
    ];
    for (kind, doc, ptr, at_least) in places {
        let schema = kind.schema();
        let tag = ptr.strip_suffix("/kind").filter(|parent| matches!(*parent, "/task" | "/inputs/0"));
        let allowed = match tag {
            // A tagged union: the tags of all its branches (each variant is read in keys.rs).
            Some(parent) => {
                let mut t: Vec<String> = schema_at(&schema, &doc(), parent)
                    .into_iter()
                    .filter_map(|l| l.pointer("/properties/kind/const").and_then(Value::as_str).map(String::from))
                    .collect();
                t.sort();
                t
            }
            None => schema_strings(&schema, &doc(), ptr),
        };
        assert!(allowed.len() >= at_least, "{ptr}: {allowed:?}");
        for s in allowed.iter().filter(|_| tag.is_none()) {
            let mut d = doc();
            *d.pointer_mut(ptr).unwrap() = json!(s);
            if kind == Kind::Model {
                d.as_object_mut().unwrap().remove("cp_completion"); // method mpo refuses it
            }
            kind.schema_read(&d).unwrap_or_else(|e| panic!("{ptr} = {s:?}: the schema types refuse it: {e}"));
            kind.engine_read(&d).unwrap_or_else(|e| panic!("{ptr} = {s:?}: the engine refuses it: {e}"));
        }
        let mut d = doc();
        *d.pointer_mut(ptr).unwrap() = json!("zz_unknown");
        assert!(kind.schema_read(&d).is_err(), "{ptr}: the schema types accept an unknown name");
        let e = kind.engine_read(&d).expect_err("the engine accepts an unknown name");
        if ptr != "/network/links/pairs" {
            for name in listed(&e.message) {
                assert!(allowed.contains(&name), "{ptr}: the engine lists {name:?} ({}), the schema allows {allowed:?}", e.message);
            }
        }
    }
    // The aliases are in the schema as values of their own.
    let schema = Kind::Model.schema();
    let methods = schema_strings(&schema, &model_dense(), "/solver/method");
    for alias in ["chebyshev", "stiff"] {
        assert!(methods.contains(&alias.to_string()), "{alias} missing from {methods:?}");
    }
    let _ = training_mnist;
}
