//! Adjoint gradients (`nestq::grad`): central finite differences of the same RK4
//! discretisation, checkpoint invariance, memory accounting, input errors, and the PyTorch
//! autograd golden fixtures of `scripts/reference/torch_grad_reference.py`.

use nestq::{mesolve, mesolve_grad, objective_value, GradOptions, Model, Objective};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load(name: &str) -> (Model, Objective) {
    let dir = root().join("test/fixtures/grad");
    let m = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap();
    let o = std::fs::read_to_string(dir.join(format!("{name}.objective.json"))).unwrap();
    (Model::from_json_str(&m).unwrap_or_else(|e| panic!("{name}: {e}")), Objective::from_json_str(&o).unwrap())
}

/// Central differences `(J(θ+ε) − J(θ−ε)) / 2ε` with `ε = 1e-5·max(1, |θ|)` on the same RK4
/// grid; returns the largest relative error `|g − g_fd| / max(|g_fd|, 1e-3·max|g_fd|)`.
fn fd_check(name: &str, model: &Model, obj: &Objective) -> f64 {
    let opts = GradOptions::default();
    let res = mesolve_grad(model, obj, &opts).unwrap();
    let v0 = objective_value(model, obj, &opts).unwrap();
    assert!((res.value - v0).abs() <= 1e-14 * v0.abs().max(1.0), "{name}: value of the gradient sweep equals the forward-only value");
    let mut fd = BTreeMap::new();
    for (p, &x) in &model.parameters {
        let eps = 1e-5 * x.abs().max(1.0);
        let at = |v: f64| {
            let mut o = GradOptions::default();
            o.overrides.insert(p.clone(), v);
            objective_value(model, obj, &o).unwrap()
        };
        fd.insert(p.clone(), (at(x + eps) - at(x - eps)) / (2.0 * eps));
    }
    let scale = fd.values().fold(0.0f64, |a, v| a.max(v.abs()));
    let mut worst = 0.0f64;
    for (p, g) in &res.gradient {
        let f = fd[p];
        let rel = (g - f).abs() / f.abs().max(1e-3 * scale);
        eprintln!("{name:12} {p:6} adjoint {g:+.12e}  fd {f:+.12e}  rel {rel:.2e}");
        worst = worst.max(rel);
    }
    eprintln!("{name}: value {:.12}, steps {}, checkpoints {}, max rel err {worst:.2e}", res.value, res.stats.steps, res.stats.checkpoints);
    assert!(res.gradient.values().any(|g| g.abs() > 1e-6), "{name}: gradient is not trivially zero");
    worst
}

#[test]
fn fd_driven_qubit_cos_drive_and_decay() {
    let (m, o) = load("qubit_drive");
    assert!(fd_check("qubit_drive", &m, &o) <= 1e-5);
}

#[test]
fn fd_nest_bridge_coupling_and_cross_rate() {
    let (m, o) = load("nest_bridge");
    assert!(m.cp_completion);
    assert!(fd_check("nest_bridge", &m, &o) <= 1e-5);
}

#[test]
fn fd_chain4_multitime_weighted() {
    let (m, o) = load("chain4");
    assert!(m.parameters.len() >= 4 && o.terms.len() >= 3);
    assert!(fd_check("chain4", &m, &o) <= 1e-5);
}

#[test]
fn fd_non_hermitian_cross_term_general_path() {
    // a single cross entry (no partner) with a complex rate: Γ is not Hermitian, ρ(t) is not
    // Hermitian, the general (non-projected) right-hand sides are used
    let m = Model::from_json_str(r#"{
      "dims": [2, 2],
      "parameters": {"g": 0.3, "gc": 0.2, "w": 0.4},
      "hamiltonian": [{"coef": 1, "ops": "Z0"}, {"coef": "g", "ops": "X0 X1"},
                      {"coef": "w", "ops": "Y1", "modulation": {"exp": {"rate": 0.5}}}],
      "jumps": [{"rate": 0.1, "ops": "SM0"}],
      "cross": [{"rate": "gc", "a": "X0", "b": "SM1"}],
      "initial": {"product": [[1, 1], [1, 0]]},
      "times": {"start": 0, "stop": 2, "count": 5},
      "observables": {"X0": "X0", "SM1": "SM1"},
      "solver": {"method": "rk4", "dt": 0.02}
    }"#).unwrap();
    assert!(!m.lindbladian().unwrap().compile().is_hermiticity_preserving());
    let o = Objective::from_json_str(r#"{"terms": [{"observable": "X0"}, {"observable": "SM1", "time": 1.0, "weight": 2}]}"#).unwrap();
    assert!(fd_check("nonherm", &m, &o) <= 1e-5);
}

#[test]
fn value_matches_mesolve_rk4() {
    let (m, _) = load("chain4");
    let res = mesolve(&m, None).unwrap();
    for (name, k) in [("Z0", m.times.len() - 1), ("X1", 4)] {
        let o = Objective::from_json_str(&format!(r#"{{"terms": [{{"observable": "{name}", "time": {}}}]}}"#, m.times[k])).unwrap();
        let g = mesolve_grad(&m, &o, &GradOptions::default()).unwrap();
        let e = res.expect.iter().find(|e| e.name == name).unwrap().values[k].re;
        assert!((g.value - e).abs() < 1e-12, "{name}: {} vs mesolve {e}", g.value);
    }
}

#[test]
fn checkpoint_count_does_not_change_the_gradient() {
    let (m, o) = load("chain4");
    let base = mesolve_grad(&m, &o, &GradOptions::default()).unwrap();
    let n = base.stats.steps;
    assert!(n >= 300, "{n} steps");
    // default: the 4N stage states (4 qubits: 4 KiB each) fit in 256 MiB → K = 1, nothing recomputed
    assert_eq!((base.stats.checkpoints, base.stats.segment_steps, base.stats.segment_states), (1, n, 4 * n));
    let sqrt = mesolve_grad(&m, &o, &GradOptions { checkpoints: Some(18), ..Default::default() }).unwrap();
    // K = ⌈√300⌉ = 18 → S = 17 → 18 checkpoints
    assert_eq!((sqrt.stats.checkpoints, sqrt.stats.segment_steps, sqrt.stats.segment_states), (18, 17, 68));
    for k in [1usize, 2, 3, 7, 10, 30, 150, 300, 1000] {
        let r = mesolve_grad(&m, &o, &GradOptions { checkpoints: Some(k), ..Default::default() }).unwrap();
        let s = n.div_ceil(k.min(n));
        // stored states: one checkpoint per segment, plus 4 stage states per step of one segment
        assert_eq!(r.stats.checkpoints, n.div_ceil(s), "K = {k}");
        assert_eq!(r.stats.segment_states, 4 * s, "K = {k}");
        if n % k.min(n) == 0 {
            assert_eq!(r.stats.checkpoints, k.min(n));
        }
        // forward sweep: 4 evaluations per step; recomputation of every segment but the last
        // (its stages are kept by the forward sweep), without the final k₄ of each segment;
        // adjoint: 4 per step
        let nseg = r.stats.checkpoints;
        let last = n - (nseg - 1) * s;
        assert_eq!(r.stats.forward_evals, (4 * n + 4 * (n - last) - (nseg - 1)) as u64, "K = {k}");
        assert_eq!(r.stats.adjoint_evals, 4 * n as u64);
        assert_eq!(r.value, base.value);
        for (p, g) in &base.gradient {
            assert_eq!(r.gradient[p], *g, "K = {k}, {p}: recomputation is bit-identical");
        }
    }
}

#[test]
fn parameter_subset_and_unused_parameters() {
    let (m, _) = load("qubit_drive");
    let o = Objective::from_json_str(r#"{"terms": [{"observable": "Z0"}], "parameters": ["gamma", "wd"]}"#).unwrap();
    let r = mesolve_grad(&m, &o, &GradOptions::default()).unwrap();
    assert_eq!(r.gradient.keys().cloned().collect::<Vec<_>>(), vec!["gamma".to_string(), "wd".to_string()]);
    let full = mesolve_grad(&m, &Objective::final_observable("Z0"), &GradOptions::default()).unwrap();
    assert_eq!(r.gradient["gamma"], full.gradient["gamma"]);
    assert_eq!(r.gradient["wd"], full.gradient["wd"]);
    // a parameter used nowhere has a zero gradient
    let mut m2 = m.clone();
    m2.parameters.insert("unused".into(), 3.0);
    let r2 = mesolve_grad(&m2, &Objective::final_observable("Z0"), &GradOptions::default()).unwrap();
    assert_eq!(r2.gradient["unused"], 0.0);
}

#[test]
fn bad_inputs_name_the_field() {
    let (m, _) = load("chain4");
    let opts = GradOptions::default();
    let err = |o: &str| mesolve_grad(&m, &Objective::from_json_str(o).unwrap(), &opts).unwrap_err();
    let e = err(r#"{"terms": [{"observable": "Z9"}]}"#);
    assert_eq!(e.path.as_deref(), Some("$.terms[0].observable"), "{e}");
    assert!(e.message.contains("Z9") && e.message.contains("Z0"), "{e}");
    let e = err(r#"{"terms": [{"observable": "Z0"}, {"observable": "Z3", "time": 3.5}]}"#);
    assert_eq!(e.path.as_deref(), Some("$.terms[1].time"), "{e}");
    let e = err(r#"{"terms": [{"observable": "Z0", "time": -1}]}"#);
    assert_eq!(e.path.as_deref(), Some("$.terms[0].time"), "{e}");
    let e = err(r#"{"terms": [{"observable": "Z0", "time": 0.25}]}"#);
    assert_eq!(e.path.as_deref(), Some("$.terms[0].time"), "{e}: between output times");
    let e = err(r#"{"terms": [{"observable": "Z0"}], "parameters": ["J", "nope"]}"#);
    assert_eq!(e.path.as_deref(), Some("$.parameters[1]"), "{e}");
    assert!(e.message.contains("nope"));
    let mut o = GradOptions::default();
    o.overrides.insert("nope".into(), 1.0);
    let e = mesolve_grad(&m, &Objective::final_observable("Z0"), &o).unwrap_err();
    assert_eq!(e.path.as_deref(), Some("parameters.nope"), "{e}");
    let e = mesolve_grad(&m, &Objective::final_observable("Z0"), &GradOptions { checkpoints: Some(0), ..Default::default() }).unwrap_err();
    assert_eq!(e.path.as_deref(), Some("checkpoints"), "{e}");
    // objective-file syntax
    for (text, path) in [
        (r#"{"terms": []}"#, "$.terms"),
        (r#"{"terms": [{"observable": "Z0", "time": "end"}]}"#, "$.terms[0].time"),
        (r#"{"terms": [{"observable": "Z0", "weight": "x"}]}"#, "$.terms[0].weight"),
        (r#"{"terms": [{"obs": "Z0"}]}"#, "$.terms[0].obs"),
        (r#"{"terms": [{"observable": "Z0"}], "params": []}"#, "$.params"),
        (r#"{"terms": [{"observable": 3}]}"#, "$.terms[0].observable"),
    ] {
        let e = Objective::from_json_str(text).unwrap_err();
        assert_eq!(e.path.as_deref(), Some(path), "{text}: {e}");
    }
}

#[test]
fn objective_json_round_trip() {
    let (_, o) = load("chain4");
    assert_eq!(Objective::from_value(&o.to_json()).unwrap(), o);
    assert_eq!(Objective::from_value(&Value::String("Z0".into())).unwrap(), Objective::final_observable("Z0"));
}

/// Golden fixtures from `scripts/reference/torch_grad_reference.py` (RK4 unrolled in PyTorch,
/// complex128, autograd): value and gradient agree to 1e-6 relative (measured: rounding level).
#[test]
fn torch_autograd_golden_fixtures() {
    let dir = root().join("test/fixtures/grad");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.to_string_lossy().ends_with(".torch.json")).collect();
    files.sort();
    assert!(files.len() >= 3, "torch golden fixtures missing in {}", dir.display());
    for f in files {
        let g: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let model = Model::from_json_str(&std::fs::read_to_string(dir.join(g["model"].as_str().unwrap())).unwrap()).unwrap();
        let obj = Objective::from_value(&g["objective"]).unwrap();
        let r = mesolve_grad(&model, &obj, &GradOptions::default()).unwrap();
        let tv = g["value"].as_f64().unwrap();
        assert!((r.value - tv).abs() <= 1e-10 * tv.abs().max(1.0), "{}: value {} vs torch {tv}", f.display(), r.value);
        let tg = g["gradient"].as_object().unwrap();
        let scale = tg.values().fold(0.0f64, |a, v| a.max(v.as_f64().unwrap().abs()));
        let mut worst = 0.0f64;
        for (p, v) in tg {
            let v = v.as_f64().unwrap();
            let rel = (r.gradient[p] - v).abs() / v.abs().max(1e-3 * scale);
            worst = worst.max(rel);
            assert!(rel <= 1e-6, "{}: d/d{p}: {} vs torch {v} (rel {rel:.2e})", f.display(), r.gradient[p]);
        }
        assert_eq!(tg.len(), r.gradient.len());
        eprintln!("{}: torch agreement max rel {worst:.2e}", f.file_name().unwrap().to_string_lossy());
    }
}
