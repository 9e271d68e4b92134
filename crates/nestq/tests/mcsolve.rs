//! `mcsolve` (quantum-jump trajectories) against the master equation and against analytic
//! jump statistics. Every test uses a fixed seed, so its numbers are fixed; the tolerances are
//! statistical (4 standard errors, Kolmogorov–Smirnov at the 1 % level) and were checked to hold
//! with margin, not tuned to one draw.

use nestq::{mesolve, mesolve_with, ErrorCode, Model, SolveResult};
use serde_json::{json, Value};
use std::collections::BTreeMap;

mod common;
use common::{model, real, with_solver};

fn std_err(r: &SolveResult, name: &str) -> Vec<f64> {
    let i = r.expect.iter().position(|e| e.name == name).unwrap();
    r.stats.mc.as_ref().expect("mc stats").std_expect[i].clone()
}

/// Every observable of the mcsolve run is within `k` standard errors (plus a floor for times
/// where the ensemble has no spread, e.g. t = 0) of mesolve at every output time.
fn assert_agrees(me: &SolveResult, mc: &SolveResult, k: f64) {
    for e in &me.expect {
        let a = real(me, &e.name);
        let b = real(mc, &e.name);
        let se = std_err(mc, &e.name);
        for t in 0..a.len() {
            let dev = (a[t] - b[t]).abs();
            assert!(dev <= k * se[t] + 2e-4, "{}: t = {}: mesolve {} vs mcsolve {} ± {} ({:.1} SE)", e.name, me.times[t], a[t], b[t], se[t], dev / se[t]);
        }
    }
}

fn driven_damped_qubit() -> Value {
    json!({
        "version": 1, "dims": [2],
        "hamiltonian": [{"coef": 0.5, "ops": "X0"}, {"coef": 0.2, "ops": "Z0"}],
        "jumps": [{"rate": 0.3, "ops": "SM0"}],
        "initial": {"basis": [0]},
        "times": {"start": 0, "stop": 10, "count": 21},
        "observables": {"X0": "X0", "Y0": "Y0", "Z0": "Z0"},
        "solver": {"rtol": 1e-8, "atol": 1e-10}
    })
}

#[test]
fn driven_damped_qubit_agrees_with_mesolve() {
    let v = driven_damped_qubit();
    let me = mesolve(&model(&v), None).unwrap();
    let mc = mesolve(&model(&with_solver(&v, json!({"method": "mcsolve", "ntraj": 800, "seed": 11}))), None).unwrap();
    assert_eq!(mc.stats.method, "mcsolve");
    assert_eq!(mc.stats.mc.as_ref().unwrap().ntraj, 800);
    assert_agrees(&me, &mc, 4.0);
    // the averaged final state is a density matrix close to mesolve's
    let d = (&mc.final_state - &me.final_state).iter().map(|z| z.norm()).fold(0.0, f64::max);
    assert!(d < 0.1, "final states differ by {d}");
    assert!((mc.final_state.trace().re - 1.0).abs() < 1e-9);
    // jump records: some jumps, all inside the span, all of the one collapse operator
    let st = mc.stats.mc.as_ref().unwrap();
    let jumps: usize = st.col_times.iter().map(|c| c.len()).sum();
    assert!(jumps > 800, "only {jumps} jumps");
    assert!(st.col_times.iter().flatten().all(|&t| t > 0.0 && t <= 10.0));
    assert!(st.col_which.iter().flatten().all(|&w| w == 0));
    assert_eq!(st.collapse_ops, vec!["$.jumps[0]".to_string()]);
}

#[test]
fn qutrit_cascade_agrees_with_mesolve() {
    // |2⟩ → |1⟩ → |0⟩ with a drive on the upper transition
    let v = json!({
        "version": 1, "dims": [3],
        "operators": {
            "LO": [[0, 1, 0], [0, 0, 0], [0, 0, 0]],
            "UP": [[0, 0, 0], [0, 0, 1], [0, 0, 0]],
            "PG": [[1, 0, 0], [0, 0, 0], [0, 0, 0]],
            "PM": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
            "PE": [[0, 0, 0], [0, 0, 0], [0, 0, 1]],
            "DR": [[0, 0, 0], [0, 0, 1], [0, 1, 0]]
        },
        "hamiltonian": [{"coef": 0.4, "ops": "DR0"}],
        "jumps": [{"rate": 0.5, "ops": "LO0"}, {"rate": 0.2, "ops": "UP0"}],
        "initial": {"basis": [2]},
        "times": {"start": 0, "stop": 8, "count": 17},
        "observables": {"P0": "PG0", "P1": "PM0", "P2": "PE0"},
        "solver": {"rtol": 1e-8, "atol": 1e-10}
    });
    let me = mesolve(&model(&v), None).unwrap();
    let mc = mesolve(&model(&with_solver(&v, json!({"method": "mcsolve", "ntraj": 600, "seed": 5}))), None).unwrap();
    assert_agrees(&me, &mc, 4.0);
    let st = mc.stats.mc.as_ref().unwrap();
    assert_eq!(st.collapse_ops.len(), 2);
    // both decay channels fire, and |0⟩ is absorbing: after a 1 → 0 jump (operator 0) nothing
    // can happen, so it is always a trajectory's last jump
    let which: Vec<usize> = st.col_which.iter().flatten().copied().collect();
    assert!(which.contains(&0) && which.contains(&1));
    assert!(st.col_which.iter().all(|w| w.iter().rev().skip(1).all(|&j| j == 1)));
}

fn ising_chain(n: usize) -> Value {
    let mut h = Vec::new();
    for i in 0..n {
        h.push(json!({"coef": 1.0, "ops": format!("Z{i}")}));
        h.push(json!({"coef": 0.6, "ops": format!("X{i}")}));
    }
    for i in 0..n - 1 {
        h.push(json!({"coef": 0.5, "ops": format!("X{i} X{}", i + 1)}));
    }
    let jumps: Vec<Value> = (0..n).map(|i| json!({"rate": 0.1, "ops": format!("SM{i}")})).collect();
    let mut obs = serde_json::Map::new();
    obs.insert("Z0".into(), json!("Z0"));
    obs.insert(format!("Z{}", n - 1), json!(format!("Z{}", n - 1)));
    obs.insert("X1X2".into(), json!("X1 X2"));
    json!({
        "version": 1, "dims": vec![2; n],
        "hamiltonian": h, "jumps": jumps,
        "initial": {"basis": vec![0; n]},
        "times": {"start": 0, "stop": 5, "count": 11},
        "observables": obs,
        "solver": {"rtol": 1e-8, "atol": 1e-10}
    })
}

#[test]
fn four_qubit_chain_agrees_with_mesolve_and_the_error_falls_as_one_over_sqrt_ntraj() {
    let v = ising_chain(4);
    let me = mesolve(&model(&v), None).unwrap();
    let small = mesolve(&model(&with_solver(&v, json!({"method": "mcsolve", "ntraj": 100, "seed": 3}))), None).unwrap();
    let big = mesolve(&model(&with_solver(&v, json!({"method": "mcsolve", "ntraj": 1600, "seed": 3}))), None).unwrap();
    assert_agrees(&me, &small, 4.0);
    assert_agrees(&me, &big, 4.0);
    // SE ∝ 1/√ntraj: 16× the trajectories, a quarter of the error (mean ratio over times > 0)
    let (a, b) = (std_err(&small, "Z0"), std_err(&big, "Z0"));
    let ratios: Vec<f64> = a.iter().zip(&b).skip(1).map(|(x, y)| y / x).collect();
    let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
    assert!((mean - 0.25).abs() < 0.05, "SE(1600)/SE(100) = {mean}, expected 0.25");
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let m = model(&with_solver(&ising_chain(3), json!({"method": "mcsolve", "ntraj": 40, "seed": 9})));
    let run = |threads: usize| rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| mesolve(&m, None).unwrap());
    let (a, b) = (run(1), run(2));
    for (x, y) in a.expect.iter().zip(&b.expect) {
        assert_eq!(x.values, y.values, "{}", x.name);
    }
    assert_eq!(a.final_state, b.final_state);
    assert_eq!(a.stats.mc.as_ref().unwrap().col_times, b.stats.mc.as_ref().unwrap().col_times);
    // and a different seed gives a different ensemble
    let other = mesolve(&model(&with_solver(&ising_chain(3), json!({"method": "mcsolve", "ntraj": 40, "seed": 10}))), None).unwrap();
    assert_ne!(a.expect[0].values, other.expect[0].values);
}

/// Kolmogorov–Smirnov statistic of `samples` against the continuous CDF `cdf`.
fn ks(mut samples: Vec<f64>, cdf: impl Fn(f64) -> f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    let n = samples.len() as f64;
    let mut d: f64 = 0.0;
    for (i, &x) in samples.iter().enumerate() {
        let f = cdf(x);
        d = d.max((f - i as f64 / n).abs()).max(((i + 1) as f64 / n - f).abs());
    }
    d
}

#[test]
fn decay_jump_times_are_exponential() {
    // time-independent, and with a cos-modulated Z term, which only turns the phase and leaves
    // the decay alone
    for modulated in [false, true] {
        decay_case(modulated);
    }
}

fn decay_case(modulated: bool) {
    // basis state 0 (Z = +1) is the excited one, SM0 lowers it:
    // an excited qubit decaying at κ jumps once, at an Exp(κ) time (conditioned on t ≤ T)
    let kappa: f64 = 0.7;
    let t_end: f64 = 4.0;
    let v = json!({
        "version": 1, "dims": [2],
        "hamiltonian": [{"coef": 0.3, "ops": "Z0"}],
        "jumps": [{"rate": kappa, "ops": "SM0"}],
        "initial": {"basis": [0]},
        "times": {"start": 0, "stop": t_end, "count": 5},
        "observables": {"Z0": "Z0"},
        "solver": {"method": "mcsolve", "ntraj": 3000, "seed": 2, "rtol": 1e-8, "atol": 1e-10}
    });
    let mut v = v;
    if modulated {
        v["hamiltonian"][0]["modulation"] = json!({"cos": {"omega": 2.0, "phase": 0.3}});
    }
    let r = mesolve(&model(&v), None).unwrap();
    let st = r.stats.mc.as_ref().unwrap();
    assert!(st.col_times.iter().all(|c| c.len() <= 1), "a decayed qubit cannot jump again");
    let times: Vec<f64> = st.col_times.iter().filter_map(|c| c.first().copied()).collect();
    // the fraction that jumped is 1 − e^{−κT} (binomial, 4σ)
    let p = 1.0 - (-kappa * t_end).exp();
    let frac = times.len() as f64 / 3000.0;
    assert!((frac - p).abs() < 4.0 * (p * (1.0 - p) / 3000.0).sqrt(), "jumped {frac}, expected {p}");
    let d = ks(times.clone(), |t| (1.0 - (-kappa * t).exp()) / p);
    let crit = 1.63 / (times.len() as f64).sqrt(); // 1 % level
    assert!(d < crit, "KS statistic {d} ≥ {crit}");
    // and against a wrong rate the same test fails (the check has power)
    let d_wrong = ks(times.clone(), |t| (1.0 - (-1.2 * kappa * t).exp()) / (1.0 - (-1.2 * kappa * t_end).exp()));
    assert!(d_wrong > crit, "KS against a 20 % wrong rate: {d_wrong} < {crit}");
}

#[test]
fn resonance_fluorescence_waiting_times_and_antibunching() {
    // resonantly driven two-level atom H = (Ω/2)σx, L = √γ σ−: after a jump the atom is in
    // |g⟩, and the waiting time to the next jump has density
    // w(τ) = γ (Ω²/4) e^{−γτ/2} sin²(μτ)/μ², μ = √(Ω²/4 − γ²/16) (Carmichael, *Statistical
    // Methods in Quantum Optics 1*, §2.3; Plenio & Knight RMP 70, 101, eq. 60), w(0) = 0.
    let (om, g) = (2.0f64, 0.5f64);
    let t_end = 200.0;
    let v = json!({
        "version": 1, "dims": [2],
        "hamiltonian": [{"coef": om / 2.0, "ops": "X0"}],
        "jumps": [{"rate": g, "ops": "SM0"}],
        "initial": {"basis": [1]},
        "times": {"start": 0, "stop": t_end, "count": 2},
        "observables": {"Z0": "Z0"},
        "solver": {"method": "mcsolve", "ntraj": 20, "seed": 4, "rtol": 1e-9, "atol": 1e-11}
    });
    let r = mesolve(&model(&v), None).unwrap();
    let st = r.stats.mc.as_ref().unwrap();
    // waiting times between successive jumps (the first one starts from |g⟩ at t = 0 too)
    let mut waits = Vec::new();
    for c in &st.col_times {
        let mut prev = 0.0;
        for &t in c {
            waits.push(t - prev);
            prev = t;
        }
    }
    assert!(waits.len() > 800, "{} waiting times", waits.len());
    let mu = (om * om / 4.0 - g * g / 16.0).sqrt();
    let w = |t: f64| g * om * om / 4.0 * (-g * t / 2.0).exp() * (mu * t).sin().powi(2) / (mu * mu);
    // CDF by composite Simpson on a fine grid
    let h = 1e-3;
    let grid: Vec<f64> = (0..=200_000).map(|i| i as f64 * h).collect();
    let mut cdf_tab = vec![0.0; grid.len()];
    for i in 1..grid.len() {
        let (a, b) = (grid[i - 1], grid[i]);
        cdf_tab[i] = cdf_tab[i - 1] + h / 6.0 * (w(a) + 4.0 * w(0.5 * (a + b)) + w(b));
    }
    assert!((cdf_tab[cdf_tab.len() - 1] - 1.0).abs() < 1e-6);
    let cdf = |t: f64| cdf_tab[((t / h) as usize).min(cdf_tab.len() - 1)];
    // waiting times that ran past t_end are censored: drop the last incomplete interval by
    // only counting complete ones (all recorded waits end in a jump), which biases nothing
    // visible here since P(τ > 40) < 1e-4
    let d = ks(waits.clone(), cdf);
    let crit = 1.63 / (waits.len() as f64).sqrt();
    assert!(d < crit, "KS statistic {d} ≥ {crit}");
    // antibunching: P(τ < 0.1) = ∫ w ≈ γΩ²τ³/12 ≈ 8e-5: essentially no short waits
    let short = waits.iter().filter(|&&t| t < 0.1).count();
    assert!(short <= 1, "{short} waiting times below 0.1 (antibunching)");
}

#[test]
fn improved_sampling_agrees_and_reduces_the_error_for_rare_jumps() {
    // weak decay: p(no jump) ≈ e^{-0.05·4}-ish, most plain trajectories carry no information
    let v = json!({
        "version": 1, "dims": [2],
        "hamiltonian": [{"coef": 0.5, "ops": "X0"}],
        "jumps": [{"rate": 0.02, "ops": "SM0"}],
        "initial": {"basis": [0]},
        "times": {"start": 0, "stop": 4, "count": 9},
        "observables": {"Z0": "Z0", "X0": "X0"},
        "solver": {"rtol": 1e-9, "atol": 1e-11}
    });
    let me = mesolve(&model(&v), None).unwrap();
    let plain = mesolve(&model(&with_solver(&v, json!({"method": "mcsolve", "ntraj": 200, "seed": 1, "rtol": 1e-9, "atol": 1e-11}))), None).unwrap();
    let imp = mesolve(&model(&with_solver(&v, json!({"method": "mcsolve", "ntraj": 200, "seed": 1, "improved_sampling": true, "rtol": 1e-9, "atol": 1e-11}))), None).unwrap();
    assert_agrees(&me, &plain, 4.0);
    assert_agrees(&me, &imp, 4.0);
    let st = imp.stats.mc.as_ref().unwrap();
    let p0 = st.no_jump_probability.unwrap();
    assert!(p0 > 0.9 && p0 < 1.0, "p0 = {p0}");
    assert!(st.col_times[0].is_empty() && st.col_times[1..].iter().all(|c| !c.is_empty()), "trajectory 0 is the no-jump one, the others jump");
    let (a, b) = (std_err(&plain, "Z0"), std_err(&imp, "Z0"));
    assert!(b[8] < 0.3 * a[8], "improved sampling SE {} vs plain {}", b[8], a[8]);
}

#[test]
fn mixed_initial_state_and_time_dependence_agree_with_mesolve() {
    let v = json!({
        "version": 1, "dims": [2],
        "hamiltonian": [{"coef": 0.4, "ops": "Z0"}, {"coef": 0.6, "ops": "X0", "modulation": {"cos": {"omega": 0.8, "phase": 0.0}}}],
        "jumps": [{"rate": 0.4, "ops": "SM0", "modulation": {"exp": {"rate": 0.2}}}, {"rate": 0.1, "ops": "Z0"}],
        "initial": {"dm": [[0.7, 0.1], [0.1, 0.3]]},
        "times": {"start": 0, "stop": 6, "count": 13},
        "observables": {"X0": "X0", "Z0": "Z0"},
        "solver": {"rtol": 1e-8, "atol": 1e-10}
    });
    let me = mesolve(&model(&v), None).unwrap();
    let mc = mesolve(&model(&with_solver(&v, json!({"method": "mcsolve", "ntraj": 800, "seed": 21}))), None).unwrap();
    assert_agrees(&me, &mc, 4.0);
    assert_eq!(mc.stats.mc.as_ref().unwrap().collapse_ops.len(), 2);
}

#[test]
fn cross_terms_unravel_only_when_completely_positive() {
    let paper = serde_json::from_str::<Value>(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/nest_cross_paper.json")).unwrap()).unwrap();
    let mut p = paper.clone();
    p["times"] = json!({"start": 0, "stop": 5, "count": 6});
    let e = Model::from_json_str(&with_solver(&p, json!({"method": "mcsolve", "ntraj": 10, "seed": 1})).to_string()).and_then(|m| mesolve(&m, None)).unwrap_err();
    assert!(e.to_string().contains("completely positive") && e.to_string().contains("cp_completion"), "{e}");
    assert!(e.path.as_deref().is_some_and(|p| p.starts_with("$.cross[")), "{:?}", e.path);
    // the CP completion gives collapse operators from the Kossakowski eigenmodes
    let cp = serde_json::from_str::<Value>(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/nest_cross_cp.json")).unwrap()).unwrap();
    let mut c = cp.clone();
    c["times"] = json!({"start": 0, "stop": 6, "count": 7});
    c["measures"] = json!(["purity", "concurrence:0,1"]);
    let me = mesolve(&model(&c), None).unwrap();
    let mc = mesolve(&model(&with_solver(&c, json!({"method": "mcsolve", "ntraj": 600, "seed": 8}))), None).unwrap();
    assert_agrees(&me, &mc, 4.0);
    // the sites' decays stay their own collapse operators; the completed cross pair γ(X0, X1)
    // + γ(X1, X0) + γD[X0] + γD[X1] has one eigenmode, √(2γ)(X0 + X1)/√2
    let ops = &mc.stats.mc.as_ref().unwrap().collapse_ops;
    assert_eq!(ops.len(), 3, "{ops:?}");
    assert_eq!(&ops[..2], &["$.jumps[0]".to_string(), "$.jumps[1]".to_string()]);
    assert!(ops[2].starts_with("eigenmode") && ops[2].contains("$.cross[0]"), "{ops:?}");
    // measures are evaluated on the averaged ρ(t): close to mesolve's
    for ((_, a), (_, b)) in me.measures.iter().zip(&mc.measures) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 0.08, "{x} vs {y}");
        }
    }
}

#[test]
fn target_tol_stops_early_and_overrides_apply() {
    let v = with_solver(&driven_damped_qubit(), json!({"method": "mcsolve", "ntraj": 5000, "seed": 3, "target_tol": 0.05}));
    let r = mesolve(&model(&v), None).unwrap();
    let st = r.stats.mc.as_ref().unwrap();
    assert_eq!(st.target_tol_reached, Some(true));
    assert!(st.ntraj < 5000 && st.ntraj % 16 == 0, "ran {}", st.ntraj);
    assert!(st.std_expect.iter().flatten().all(|&s| s <= 0.05));
    // a model parameter override goes through the same entry
    let mut p = driven_damped_qubit();
    p["parameters"] = json!({"g": 0.3});
    p["jumps"][0]["rate"] = json!("g");
    let m = model(&with_solver(&p, json!({"method": "mcsolve", "ntraj": 32, "seed": 3})));
    let mut o = BTreeMap::new();
    o.insert("g".to_string(), 0.0);
    let r0 = mesolve_with(&m, &o, None).unwrap();
    assert!(r0.stats.mc.as_ref().unwrap().col_times.iter().all(|c| c.is_empty()), "rate 0: no jumps");
}

#[test]
fn bad_input_names_the_field() {
    let base = driven_damped_qubit();
    let err = |solver: Value| -> nestq::Error {
        Model::from_json_str(&with_solver(&base, solver).to_string()).and_then(|m| mesolve(&m, None)).unwrap_err()
    };
    for (solver, path, word) in [
        (json!({"method": "mcsolve", "ntraj": 0}), "$.solver.ntraj", "at least 1"),
        (json!({"method": "mcsolve", "ntraj": -5}), "$.solver.ntraj", "at least 1"),
        (json!({"method": "mcsolve", "seed": -1}), "$.solver.seed", "non-negative"),
        (json!({"method": "mcsolve", "target_tol": -0.1}), "$.solver.target_tol", "≥ 0"),
        (json!({"method": "mcsolve", "target_tol": [0, 0]}), "$.solver.target_tol", "both 0"),
        (json!({"method": "mcsolve", "norm_tol": 2}), "$.solver.norm_tol", "(0, 1)"),
        (json!({"method": "dopri5", "ntraj": 10}), "$.solver.ntraj", "mcsolve"),
        (json!({"method": "mcsolve", "ntraj": 1, "improved_sampling": true}), "$.solver.ntraj", "ntraj ≥ 2"),
    ] {
        let e = err(solver.clone());
        assert_eq!(e.path.as_deref(), Some(path), "{solver}: {e}");
        assert!(e.to_string().contains(word), "{solver}: {e}");
    }
    let mut no_obs = with_solver(&base, json!({"method": "mcsolve", "target_tol": 0.01}));
    no_obs["observables"] = json!({});
    let e = Model::from_json_str(&no_obs.to_string()).and_then(|m| mesolve(&m, None)).unwrap_err();
    assert_eq!(e.path.as_deref(), Some("$.solver.target_tol"), "{e}");
    let mut mixed = with_solver(&base, json!({"method": "mcsolve", "improved_sampling": true}));
    mixed["initial"] = json!({"dm": [[0.5, 0], [0, 0.5]]});
    let e = Model::from_json_str(&mixed.to_string()).and_then(|m| mesolve(&m, None)).unwrap_err();
    assert_eq!(e.path.as_deref(), Some("$.solver.improved_sampling"), "{e}");
    // a signed rate (a cross entry with a = b under cos) has no unravelling
    let mut cos_rate = with_solver(&base, json!({"method": "mcsolve"}));
    cos_rate["cross"] = json!([{"rate": 0.1, "a": "Z0", "b": "Z0", "modulation": {"cos": {"omega": 1.0, "phase": 0.0}}}]);
    let e = Model::from_json_str(&cos_rate.to_string()).and_then(|m| mesolve(&m, None)).unwrap_err();
    assert_eq!(e.path.as_deref(), Some("$.cross[0]"), "{e}");
    assert!(e.to_string().contains("non-negative"), "{e}");
    let mut timeout = with_solver(&ising_chain(4), json!({"method": "mcsolve", "ntraj": 100000, "seed": 1, "timeout": 0.2}));
    timeout["times"] = json!({"start": 0, "stop": 50, "count": 3});
    let e = mesolve(&model(&timeout), None).unwrap_err();
    assert_eq!(e.code, ErrorCode::Timeout, "{e}");
}

#[test]
fn ensembles_agree_with_qutip5_mcsolve() {
    // test/fixtures/qutip5_mc: QuTiP 5.3 mcsolve ensembles (scripts/reference/gen_mc_fixtures.py,
    // seeds = 1); nestq runs the same models with its own seed, so the two are independent
    // samples: their means must agree within 4 combined standard errors at every output time
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test/fixtures");
    for name in ["qubit", "qutrit", "chain3"] {
        let m = Model::from_json_str(&std::fs::read_to_string(format!("{root}/mc/{name}.json")).unwrap()).unwrap();
        let q: Value = serde_json::from_str(&std::fs::read_to_string(format!("{root}/qutip5_mc/{name}.json")).unwrap()).unwrap();
        assert!(q["qutip_version"].as_str().unwrap().starts_with('5'), "{name}: not a QuTiP 5 fixture");
        let r = mesolve(&m, None).unwrap();
        assert_eq!(r.stats.mc.as_ref().unwrap().ntraj as u64, q["ntraj"].as_u64().unwrap());
        let mut worst: f64 = 0.0;
        for e in &r.expect {
            let qm: Vec<f64> = serde_json::from_value(q["expect"][&e.name].clone()).unwrap();
            let qs: Vec<f64> = serde_json::from_value(q["std_err"][&e.name].clone()).unwrap();
            let se = std_err(&r, &e.name);
            for t in 0..qm.len() {
                let comb = (qs[t].powi(2) + se[t].powi(2)).sqrt();
                let dev = (e.values[t].re - qm[t]).abs();
                assert!(dev <= 4.0 * comb + 1e-4, "{name} {}: t = {}: nestq {} ± {} vs QuTiP 5 {} ± {}", e.name, r.times[t], e.values[t].re, se[t], qm[t], qs[t]);
                if comb > 0.0 {
                    worst = worst.max(dev / comb);
                }
            }
        }
        eprintln!("{name}: largest deviation {worst:.2} combined standard errors");
    }
}

#[test]
fn driven_kerr_oscillator_agrees_with_mesolve() {
    // the QuantumToolbox.jl paper's benchmark system at N = 50 (~100 jumps per trajectory)
    let (delta, u, f, nth) = (0.1, -0.05, 2.0, 0.2);
    let v = json!({
        "version": 1, "dims": [50],
        "hamiltonian": [{"coef": delta, "ops": "N0"}, {"coef": -u / 2.0, "ops": "AD0 AD0 A0 A0"}, {"coef": f, "ops": "A0"}, {"coef": f, "ops": "AD0"}],
        "jumps": [{"rate": 1.0 + nth, "ops": "A0"}, {"rate": nth, "ops": "AD0"}],
        "initial": {"basis": [0]},
        "times": {"start": 0, "stop": 10, "count": 11},
        "observables": {"N": "N0", "A": "A0"},
        "solver": {"rtol": 1e-8, "atol": 1e-10, "physicality": false}
    });
    let me = mesolve(&model(&v), None).unwrap();
    let mc = mesolve(&model(&with_solver(&v, json!({"method": "mcsolve", "ntraj": 160, "seed": 2}))), None).unwrap();
    assert!(mc.stats.method_reason.contains("Dormand"), "{}", mc.stats.method_reason);
    assert_agrees(&me, &mc, 4.0);
}

#[test]
fn krylov_trajectories_of_an_eight_qubit_chain_agree_with_mesolve() {
    // dimension 256: time-independent trajectories run on Krylov steps (the norm and the output
    // times are read inside the Arnoldi steps); a Kerr oscillator after jumps needed more than
    // Expokit's 10 rejections there, so this also runs at the stepper's own tolerance
    let mut v = ising_chain(8);
    v["times"] = json!({"start": 0, "stop": 3, "count": 7});
    let me = mesolve(&model(&v), None).unwrap();
    let mc = mesolve(&model(&with_solver(&v, json!({"method": "mcsolve", "ntraj": 96, "seed": 6}))), None).unwrap();
    assert!(mc.stats.method_reason.contains("Krylov"), "{}", mc.stats.method_reason);
    assert_agrees(&me, &mc, 4.0);
    let jumps: usize = mc.stats.mc.as_ref().unwrap().col_times.iter().map(|c| c.len()).sum();
    assert!(jumps > 50, "{jumps} jumps");
    // bit-identical on one thread
    let m = model(&with_solver(&v, json!({"method": "mcsolve", "ntraj": 96, "seed": 6})));
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| mesolve(&m, None).unwrap());
    assert_eq!(one.expect[0].values, mc.expect[0].values);
    assert_eq!(one.final_state, mc.final_state);
}
