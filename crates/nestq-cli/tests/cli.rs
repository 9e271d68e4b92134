//! The native `nestq` binary: result files, exit codes and error messages.

use std::path::PathBuf;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nestq"))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nestq-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

#[test]
fn run_writes_the_result_file_of_the_spec() {
    let out = tmp("nest.json");
    let st = bin().args(["run", root().join("examples/nest_bridge.json").to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]).status().unwrap();
    assert!(st.success());
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let times = r["times"].as_array().unwrap();
    assert_eq!(times.len(), 201);
    for key in ["X0", "X1", "Z0", "Z1", "X0X1"] {
        assert_eq!(r["expect"][key].as_array().unwrap().len(), 201, "{key}");
    }
    assert_eq!(r["measures"]["concurrence:0,1"].as_array().unwrap().len(), 201);
    assert_eq!(r["final_state"].as_array().unwrap().len(), 4);
    for k in ["method", "method_reason", "steps", "rhs_evals", "wall_s", "warnings"] {
        assert!(!r["stats"][k].is_null(), "stats.{k}");
    }
    // ⟨Z0⟩(0) = 1 for |00⟩ and the trace stays 1
    assert!((r["expect"]["Z0"][0].as_f64().unwrap() - 1.0).abs() < 1e-14);
    assert!(r["measures"]["trace"].as_array().unwrap().iter().all(|t| (t.as_f64().unwrap() - 1.0).abs() < 1e-9));
}

fn max_diff(a: &serde_json::Value, b: &serde_json::Value) -> f64 {
    match (a, b) {
        (serde_json::Value::Array(x), serde_json::Value::Array(y)) => {
            assert_eq!(x.len(), y.len());
            x.iter().zip(y).map(|(p, q)| max_diff(p, q)).fold(0.0, f64::max)
        }
        (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
            assert_eq!(x.len(), y.len());
            x.iter().map(|(k, v)| max_diff(v, &y[k])).fold(0.0, f64::max)
        }
        _ => (a.as_f64().unwrap() - b.as_f64().unwrap()).abs(),
    }
}

#[test]
fn run_matches_the_library() {
    let out = tmp("q.json");
    let spec = root().join("test/fixtures/models/qutrit_bridge.json");
    assert!(bin().args(["run", spec.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]).status().unwrap().success());
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let m = nestq::Model::from_json_str(&std::fs::read_to_string(&spec).unwrap()).unwrap();
    let lib = nestq::mesolve(&m, None).unwrap().to_json();
    // same code, different link-time code generation: equal to the last few bits
    assert!(max_diff(&r["expect"], &lib["expect"]) < 1e-12);
    assert!(max_diff(&r["final_state"], &lib["final_state"]) < 1e-12);
}

#[test]
fn paper_cross_term_prints_the_cp_warning() {
    let out = tmp("cross.json");
    let o = bin().args(["run", root().join("examples/nest_cross_paper.json").to_str().unwrap(), "--out", out.to_str().unwrap()]).output().unwrap();
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not completely positive"), "{err}");
    let c = bin().args(["check", root().join("examples/nest_cross_paper.json").to_str().unwrap()]).output().unwrap();
    let rep: serde_json::Value = serde_json::from_slice(&c.stdout).unwrap();
    assert_eq!(rep["completely_positive"], false);
    // the whole Kossakowski matrix (σ− jumps overlap X) has a negative eigenvalue, as the library says
    let m = nestq::Model::from_json_str(&std::fs::read_to_string(root().join("examples/nest_cross_paper.json")).unwrap()).unwrap();
    let lib = m.lindbladian().unwrap().cp_report().min_eigenvalue;
    assert!(lib < -0.05);
    assert!((rep["cp_min_eigenvalue"].as_f64().unwrap() - lib).abs() < 1e-15);
}

#[test]
fn bad_input_exits_2_naming_the_field() {
    let cases = [
        (r#"{"dims": [2], "jumps": [{"rate": -1, "ops": "SM0"}], "initial": {"basis": [0]}, "times": [0, 1]}"#, "$.jumps[0].rate"),
        (r#"{"dims": [2], "hamiltonian": [{"coef": 1, "ops": "X3"}], "initial": {"basis": [0]}, "times": [0, 1]}"#, "$.hamiltonian[0].ops"),
        (r#"{"dims": [2], "initial": {"basis": [0]}, "times": [0, 1]"#, "invalid JSON"),
    ];
    for (i, (json, needle)) in cases.iter().enumerate() {
        let spec = tmp(&format!("bad{i}.json"));
        std::fs::write(&spec, json).unwrap();
        let o = bin().args(["run", spec.to_str().unwrap(), "--out", tmp("never.json").to_str().unwrap()]).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "case {i}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "case {i}: {err}");
        assert!(!err.contains("panicked"), "case {i}: {err}");
    }
    let o = bin().args(["run", "/nonexistent/model.json", "--out", tmp("x.json").to_str().unwrap()]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn steadystate_of_thermal_qubit() {
    let spec = tmp("thermal.json");
    std::fs::write(&spec, r#"{"dims": [2], "hamiltonian": [{"coef": 0.5, "ops": "Z0"}],
      "jumps": [{"rate": 0.3, "ops": "SM0"}, {"rate": 0.1, "ops": "SP0"}], "initial": {"basis": [0]}, "times": [0],
      "observables": {"z": "Z0"}}"#).unwrap();
    let out = tmp("thermal.out.json");
    assert!(bin().args(["steadystate", spec.to_str().unwrap(), "--out", out.to_str().unwrap()]).status().unwrap().success());
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    // n̄ = 0.1/0.2 = 0.5 ⇒ ⟨Z⟩ = −1/(2n̄+1) = −0.5
    assert!((r["expect"]["z"][0].as_f64().unwrap() + 0.5).abs() < 1e-12);
}

#[test]
fn network_writes_the_result_file() {
    let out = tmp("net.json");
    let spec = root().join("examples/network_bridge_pair.json");
    let o = bin().args(["network", spec.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet", "--threads", "1"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    // duration 500 ms, dt 0.1 ms, every 10 steps: t = 0, 1, …, 500
    let times = r["times"].as_array().unwrap();
    assert_eq!(times.len(), 501);
    assert_eq!(times[1].as_f64().unwrap(), 1.0);
    for id in ["a", "b"] {
        assert_eq!(r["v"][id].as_array().unwrap().len(), 501, "{id}");
        assert_eq!(r["bridges"][0]["expect"][id].as_array().unwrap().len(), 501, "{id}");
    }
    assert_eq!(r["v"]["a"][0].as_f64().unwrap(), -65.0);
    assert_eq!(r["v"]["b"][0].as_f64().unwrap(), -60.0);
    // γ(0) = 0.1·e^(−0.1·5)
    assert!((r["bridges"][0]["gamma"][0].as_f64().unwrap() - 0.1 * (-0.5f64).exp()).abs() < 1e-15);
    assert!(!r["spikes"].as_array().unwrap().is_empty());
    assert!(r["stats"]["spikes"].as_u64().unwrap() > 0);
    // same numbers as the library
    let lib = nestq::neural::run_network_json(&std::fs::read_to_string(&spec).unwrap(), None).unwrap().to_json();
    assert!(max_diff(&r["v"], &lib["v"]) < 1e-12);
    assert!(max_diff(&r["bridges"][0]["expect"], &lib["bridges"][0]["expect"]) < 1e-12);
    // (serde_json's default float parser is not correctly rounded: compare times to 1e-9)
    let (a, b) = (r["spikes"].as_array().unwrap(), lib["spikes"].as_array().unwrap());
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x["neuron"], y["neuron"]);
        assert!((x["t"].as_f64().unwrap() - y["t"].as_f64().unwrap()).abs() < 1e-9);
    }
}

#[test]
fn network_paper_coupling_warns_and_bad_input_exits_2() {
    let spec = tmp("paper_net.json");
    std::fs::write(&spec, r#"{"dt": 0.1, "duration": 5,
      "neurons": [{"id": "a", "tau_m": 20, "v_rest": -65, "v_reset": -65, "v_th": -50, "r_m": 10},
                  {"id": "b", "tau_m": 20, "v_rest": -65, "v_reset": -65, "v_th": -50, "r_m": 10}],
      "bridges": [{"neurons": ["a", "b"], "omega": 1, "gamma0": 0.1, "kappa": 0.05, "coupling": "paper"}]}"#).unwrap();
    let out = tmp("paper_net.out.json");
    let o = bin().args(["network", spec.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]).output().unwrap();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not completely positive"));
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(r["warnings"].as_array().unwrap().len(), 1);

    let cases = [
        (r#"{"dt": 0.1, "duration": 5, "neurons": [{"id": "a", "tau_m": 20, "v_rest": -65, "v_reset": -65, "v_th": -50, "r_m": 10}],
             "bridges": [{"neurons": ["a", "a"], "omega": 1, "gamma0": 0.1}]}"#, "$.bridges[0].neurons[1]"),
        (r#"{"dt": 0.1, "duration": 5, "neurons": [{"id": "a", "tau_m": -20, "v_rest": -65, "v_reset": -65, "v_th": -50, "r_m": 10}]}"#, "$.neurons[0].tau_m"),
        (r#"{"dt": 0.1, "duration": 5, "neurons": ["#, "invalid JSON"),
    ];
    for (i, (json, needle)) in cases.iter().enumerate() {
        let spec = tmp(&format!("badnet{i}.json"));
        std::fs::write(&spec, json).unwrap();
        let o = bin().args(["network", spec.to_str().unwrap(), "--out", tmp("never.json").to_str().unwrap()]).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "case {i}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "case {i}: {err}");
        assert!(!err.contains("panicked"), "case {i}: {err}");
    }
    let o = bin().args(["network", "/nonexistent/net.json", "--out", tmp("x.json").to_str().unwrap()]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn grad_writes_value_and_gradient_equal_to_the_library() {
    let spec = root().join("test/fixtures/grad/chain4.json");
    let objf = root().join("test/fixtures/grad/chain4.objective.json");
    let m = nestq::Model::from_json_str(&std::fs::read_to_string(&spec).unwrap()).unwrap();
    // --objective NAME: ⟨NAME⟩ at the final time
    let out = tmp("grad1.json");
    assert!(bin().args(["grad", spec.to_str().unwrap(), "--objective", "Z0", "--out", out.to_str().unwrap(), "--quiet"]).status().unwrap().success());
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let lib = nestq::mesolve_grad(&m, &nestq::Objective::final_observable("Z0"), &Default::default()).unwrap().to_json();
    assert!(max_diff(&r["value"], &lib["value"]) < 1e-12);
    assert!(max_diff(&r["gradient"], &lib["gradient"]) < 1e-12);
    assert_eq!(r["gradient"].as_object().unwrap().len(), m.parameters.len());
    for k in ["steps", "dt", "checkpoints", "segment_states", "forward_evals", "adjoint_evals"] {
        assert!(!r["stats"][k].is_null(), "stats.{k}");
    }
    // --objective-file, with a checkpoint count: same gradient as the library's default
    let out = tmp("grad2.json");
    assert!(bin().args(["grad", spec.to_str().unwrap(), "--objective-file", objf.to_str().unwrap(), "--checkpoints", "4", "--out", out.to_str().unwrap(), "--quiet"]).status().unwrap().success());
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let obj = nestq::Objective::from_json_str(&std::fs::read_to_string(&objf).unwrap()).unwrap();
    let lib = nestq::mesolve_grad(&m, &obj, &Default::default()).unwrap().to_json();
    assert!(max_diff(&r["gradient"], &lib["gradient"]) < 1e-12);
    assert_eq!(r["stats"]["checkpoints"], 4);
}

#[test]
fn grad_errors_name_the_field_and_exit_2() {
    let spec = root().join("test/fixtures/grad/chain4.json");
    let out = tmp("grad_err.json");
    let o = bin().args(["grad", spec.to_str().unwrap(), "--objective", "nope", "--out", out.to_str().unwrap()]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--objective") && err.contains("nope"), "{err}");
    let objf = tmp("bad_obj.json");
    std::fs::write(&objf, r#"{"terms": [{"observable": "Z0", "time": 9}]}"#).unwrap();
    let o = bin().args(["grad", spec.to_str().unwrap(), "--objective-file", objf.to_str().unwrap(), "--out", out.to_str().unwrap()]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("$.terms[0].time"), "{err}");
}

/// Runs `nestq run` on a model text with a time limit; returns (exit code, stderr, seconds).
fn run_text(name: &str, text: &str) -> (Option<i32>, String, f64) {
    let spec = tmp(name);
    std::fs::write(&spec, text).unwrap();
    let out = tmp(&format!("{name}.out.json"));
    let t0 = std::time::Instant::now();
    let mut child = bin().args(["run", spec.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]).stderr(std::process::Stdio::piped()).spawn().unwrap();
    // a hang is the defect under test: never wait more than 60 s
    loop {
        if child.try_wait().unwrap().is_some() || t0.elapsed().as_secs() > 60 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let o = child.wait_with_output().unwrap();
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned(), t0.elapsed().as_secs_f64())
}

fn chain_text(n: usize, coef: &str, solver: &str, times: &str) -> String {
    let mut h = vec![format!(r#"{{"coef": {coef}, "ops": "Z0"}}"#)];
    h.extend((0..n - 1).map(|i| format!(r#"{{"coef": 0.5, "ops": "X{i} X{}"}}"#, i + 1)));
    format!(
        r#"{{"dims": {:?}, "hamiltonian": [{}], "jumps": [{{"rate": 0.1, "ops": "SM0"}}], "initial": {{"basis": {:?}}}, "times": {times}, "observables": {{"Z0": "Z0"}}, "solver": {solver}}}"#,
        vec![2; n],
        h.join(", "),
        vec![0; n]
    )
}

/// Regression: a coefficient of 1e308 or −9.2e18 made `nestq run` run without end (expm's
/// scaling loop on an infinite norm, cheby and dopri5 on a step size that could never cover the
/// span) or fail with an internal message and exit status 1. Now each is refused at once with
/// the coefficient's path and exit status 2.
#[test]
fn huge_coefficients_are_refused_with_the_term_path() {
    let times = r#"{"start": 0, "stop": 1, "count": 11}"#;
    for n in [2, 6] {
        for (coef, why) in [("1e308", "not a finite number"), ("-9.2e18", "cannot resolve")] {
            let (code, err, secs) = run_text(&format!("huge{n}_{coef}.json"), &chain_text(n, coef, "{}", times));
            assert_eq!(code, Some(2), "{n} qubits, coef {coef}: {err}");
            assert!(err.contains("$.hamiltonian[0].coef") && err.contains(why), "{n} qubits, coef {coef}: {err}");
            assert!(secs < 20.0, "took {secs} s");
        }
    }
    // a fixed-step run that cannot finish within max_steps: refused with its step count
    let (code, err, _) = run_text("steps.json", &chain_text(4, "1.0", r#"{"method": "rk4", "dt": 1e-6}"#, r#"{"start": 0, "stop": 1000, "count": 3}"#));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("$.solver.max_steps") && err.contains("rk4 needs 1.000e9 steps"), "{err}");
}

/// Regression: `"atol": 1e308` was accepted and ended in "dopri5: non-finite error estimate"
/// (exit 1); tolerances of 1 or more are now refused by the parser (exit 2).
#[test]
fn tolerances_of_one_or_more_are_refused() {
    for (key, v) in [("atol", "1e308"), ("rtol", "1.0"), ("atol", "1.5")] {
        let (code, err, _) = run_text(&format!("tol_{key}.json"), &chain_text(2, "1.0", &format!(r#"{{"method": "dopri5", "{key}": {v}}}"#), r#"{"start": 0, "stop": 1, "count": 3}"#));
        assert_eq!(code, Some(2), "{key} = {v}: {err}");
        assert!(err.contains(&format!("$.solver.{key}")) && err.contains("below 1"), "{err}");
    }
}

/// Regression: `"times": {"count": 100000000}` ran on past 2 minutes and 890 MB. The result's
/// size is now estimated before anything is allocated.
#[test]
fn a_huge_time_grid_is_refused_before_allocating() {
    let (code, err, secs) = run_text("grid.json", &chain_text(1 + 1, "1.0", "{}", r#"{"start": 0, "stop": 1, "count": 100000000}"#));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("$.times.count") && err.contains("MiB") && err.contains("memory budget"), "{err}");
    assert!(secs < 10.0, "took {secs} s");
}

/// `solver.timeout` ends a long solve with a named error (exit 1) that says how far it got.
#[test]
fn timeout_stops_a_long_solve_and_reports_how_far_it_got() {
    let (code, err, secs) = run_text("timeout.json", &chain_text(6, "1.0", r#"{"method": "rk4", "dt": 1e-5, "timeout": 0.5}"#, r#"{"start": 0, "stop": 50, "count": 11}"#));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("$.solver.timeout") && err.contains("timeout of 0.5 s at t = ") && err.contains("recorded output times"), "{err}");
    assert!(secs < 10.0, "took {secs} s");
}
