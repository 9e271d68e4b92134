//! The neural layer (`nestq::neural`): exact LIF integration against closed forms, synaptic
//! delays, Poisson inputs, bridges against `mesolve`, spike kicks, Bell states, the CP warning
//! and the error paths of the network file.

use nestq::neural::{Network, NetworkResult};
use nestq::ErrorCode;
use serde_json::{json, Value};

fn run(v: Value) -> NetworkResult {
    Network::from_value(&v).unwrap_or_else(|e| panic!("{e}")).run(None).unwrap()
}

fn series<'a>(r: &'a NetworkResult, id: &str) -> &'a [f64] {
    &r.v.iter().find(|(k, _)| k == id).unwrap_or_else(|| panic!("no V of {id}")).1
}

fn spike_times(r: &NetworkResult, id: &str) -> Vec<f64> {
    r.spikes.iter().filter(|(k, _)| k == id).map(|(_, t)| *t).collect()
}

fn lif(id: &str, i_ext: f64, t_ref: f64) -> Value {
    json!({"id": id, "tau_m": 20, "v_rest": -65, "v_reset": -65, "v_th": -50, "r_m": 10, "t_ref": t_ref, "i_ext": i_ext})
}

// ------------------------------------------------------------------ LIF

/// Smallest j ≥ 1 with V∞ + (V_start − V∞)e^(−j dt/τ) ≥ V_th: the step count of the exact
/// discrete-time update to reach threshold (closed form ⌈T/dt⌉ with T = τ ln((V∞−V_start)/(V∞−V_th)),
/// evaluated by search so that no rounding of T/dt near an integer matters).
fn steps_to_threshold(v_start: f64, v_inf: f64, v_th: f64, tau: f64, dt: f64) -> u64 {
    let mut j = 1u64;
    while v_inf + (v_start - v_inf) * (-(j as f64) * dt / tau).exp() < v_th {
        j += 1;
    }
    j
}

#[test]
fn lif_constant_current_matches_the_closed_form() {
    let (tau, dt, v_rest, v_th, r_m, i, t_ref): (f64, f64, f64, f64, f64, f64, f64) = (20.0, 0.1, -65.0, -50.0, 10.0, 2.0, 2.0);
    let r = run(json!({"dt": dt, "duration": 200, "neurons": [lif("a", i, t_ref)], "record": {"v": ["a"]}}));
    let v_inf = v_rest + r_m * i; // −45 mV
    let v = series(&r, "a");
    assert_eq!(r.times.len(), 2001);
    assert_eq!(v.len(), 2001);
    // continuous first crossing T0 = τ ln((V∞ − V0)/(V∞ − V_th)) = 20 ln 4 = 27.7259 ms
    let t0 = tau * ((v_inf - v_rest) / (v_inf - v_th)).ln();
    let j0 = steps_to_threshold(v_rest, v_inf, v_th, tau, dt);
    assert_eq!(j0, (t0 / dt).ceil() as u64);
    let spikes = spike_times(&r, "a");
    // the spike is stamped with the start of the step in which V crossed (Brian2): (j0 − 1)·dt
    assert!((spikes[0] - (j0 - 1) as f64 * dt).abs() < 1e-9, "{} vs {}", spikes[0], (j0 - 1) as f64 * dt);
    assert!(spikes[0] < t0 && t0 <= spikes[0] + dt);
    // exact V(t_n) before the first spike, to 1e-9 relative
    for (n, &vn) in v.iter().enumerate().take(j0 as usize) {
        let exact = v_inf + (v_rest - v_inf) * (-(r.times[n]) / tau).exp();
        assert!(((vn - exact) / exact).abs() < 1e-9, "n = {n}: {vn} vs {exact}");
    }
    // reset and refractory: V = V_reset at t_{s+1} … t_{s+R}, then the exact rise again
    let s = (j0 - 1) as usize;
    let rs = (t_ref / dt).round() as usize;
    for k in s + 1..=s + rs {
        assert_eq!(v[k], -65.0, "refractory sample {k}");
    }
    let after = v_inf + (-65.0 - v_inf) * (-dt / tau).exp();
    assert!(((v[s + rs + 1] - after) / after).abs() < 1e-12);
    // ISI: discrete closed form (R + ⌈T/dt⌉ − 1)·dt exactly; continuous t_ref + T within dt
    let t_isi = tau * ((v_inf - (-65.0)) / (v_inf - v_th)).ln();
    let j = steps_to_threshold(-65.0, v_inf, v_th, tau, dt);
    let isi_discrete = (rs as u64 + j - 1) as f64 * dt;
    assert!(spikes.len() >= 5);
    for w in spikes.windows(2) {
        assert!((w[1] - w[0] - isi_discrete).abs() < 1e-9, "{} vs {isi_discrete}", w[1] - w[0]);
        assert!((w[1] - w[0] - (t_ref + t_isi)).abs() < dt);
    }
}

#[test]
fn lif_isi_converges_to_the_continuous_formula() {
    let (tau, dt, t_ref) = (10.0, 0.001, 3.0);
    let r = run(json!({"dt": dt, "duration": 150, "neurons": [{"id": "a", "tau_m": tau, "v_rest": -70, "v_reset": -75, "v_th": -55, "r_m": 20, "t_ref": t_ref, "i_ext": 1.0}],
                       "record": {"every": 1000}}));
    let v_inf: f64 = -70.0 + 20.0;
    let isi = t_ref + tau * ((v_inf + 75.0) / (v_inf + 55.0)).ln();
    let s = spike_times(&r, "a");
    assert!(s.len() > 5);
    for w in s.windows(2) {
        assert!((w[1] - w[0] - isi).abs() < dt, "{} vs {isi}", w[1] - w[0]);
    }
    let first = tau * ((v_inf + 70.0) / (v_inf + 55.0)).ln();
    assert!((s[0] - first).abs() < dt);
    assert_eq!(r.times.len(), 151);
}

// ------------------------------------------------------------------ synapses and inputs

#[test]
fn synaptic_delay_weight_and_refractory_inputs() {
    let tau: f64 = 20.0;
    for (delay, d) in [(1.0, 10usize), (0.0, 0), (0.25, 3)] {
        let r = run(json!({"dt": 0.1, "duration": 5,
            "neurons": [lif("a", 0.0, 2.0), lif("b", 0.0, 0.0)],
            "synapses": [{"pre": "a", "post": "b", "weight": 0.5, "delay": delay}],
            "inputs": [{"neuron": "a", "kind": "spikes", "times": [1.0, 2.0], "weight": 30}],
            "record": {"v": ["a", "b"]}}));
        // the input of step 10 lands on V(t_11); a crosses during step 11 → spike stamped 1.1
        let va = series(&r, "a");
        assert_eq!(va[10], -65.0);
        assert_eq!(va[11], -35.0);
        assert_eq!(spike_times(&r, "a"), vec![1.1]);
        assert_eq!(r.spikes.len(), 1);
        // refractory for round(2/0.1) = 20 steps from step 11: the input of step 20 is ignored
        for (k, &x) in va.iter().enumerate().take(32).skip(12) {
            assert_eq!(x, -65.0, "a at sample {k}");
        }
        assert_eq!(r.stats.input_events, vec![2]);
        // b: the event of step 11 + d lands on V(t_{12+d}), then decays exactly
        let vb = series(&r, "b");
        for (k, &x) in vb.iter().enumerate() {
            let expect = if k < 12 + d { -65.0 } else { -65.0 + 0.5 * (-((k - 12 - d) as f64) * 0.1 / tau).exp() };
            assert!((x - expect).abs() < 1e-12, "delay {delay}, sample {k}: {x} vs {expect}");
        }
        // 0.25 ms is not on the 0.1 ms grid: rounded to 3 steps with a warning
        assert_eq!(r.warnings.iter().any(|w| w.contains("$.synapses[0].delay")), delay == 0.25, "{:?}", r.warnings);
    }
}

fn poisson_net(seed: u64, target: &str) -> Value {
    json!({"dt": 0.1, "duration": 100000,
        "neurons": [{"id": "a", "tau_m": 20, "v_rest": -65, "v_reset": -65, "v_th": 1e9, "r_m": 10}],
        "groups": [{"id": "g", "n": 3, "tau_m": 20, "v_rest": -65, "v_reset": -65, "v_th": 1e9, "r_m": 10}],
        "inputs": [{"neuron": target, "kind": "poisson", "rate_hz": 50, "weight": 1.0, "seed": seed}],
        "record": {"v": ["a", "g"], "every": 1000}})
}

#[test]
fn poisson_input_is_reproducible_with_the_right_rate() {
    let r1 = run(poisson_net(1, "a"));
    let r2 = run(poisson_net(1, "a"));
    let r3 = run(poisson_net(2, "a"));
    // 50 Hz over 100 s: mean 5000 events, σ = √5000 ≈ 71; the seed is fixed, so this is a
    // deterministic check that the count lies within 5σ.
    let c = r1.stats.input_events[0] as f64;
    assert!((c - 5000.0).abs() < 5.0 * 5000f64.sqrt(), "{c}");
    assert_eq!(r1.stats.input_events, r2.stats.input_events);
    assert_eq!(series(&r1, "a"), series(&r2, "a"));
    assert_ne!(r1.stats.input_events, r3.stats.input_events);
    // the input moves V: mean V − V_rest = rate·w·τ = 0.05/ms · 1 mV · 20 ms = 1 mV (shot noise)
    let va = series(&r1, "a");
    let mean = va[10..].iter().map(|x| x + 65.0).sum::<f64>() / (va.len() - 10) as f64;
    assert!((mean - 1.0).abs() < 0.5, "{mean}");
    // a group input: independent streams per member, same total statistics
    let rg = run(poisson_net(1, "g"));
    let c = rg.stats.input_events[0] as f64;
    assert!((c - 15000.0).abs() < 5.0 * 15000f64.sqrt(), "{c}");
    assert_ne!(series(&rg, "g[0]"), series(&rg, "g[1]"));
    assert_eq!(series(&rg, "a").iter().filter(|&&x| x != -65.0).count(), 0);
}

#[test]
fn groups_and_generated_connectivity() {
    let net = |seed: u64, p: f64| {
        Network::from_value(&json!({"dt": 0.1, "duration": 1,
            "groups": [{"id": "h", "n": 200, "tau_m": 20, "v_rest": -65, "v_reset": -65, "v_th": -50, "r_m": 10}],
            "synapses": [{"pre": "h", "post": "h", "p": p, "weight": 0.5, "delay": 1.0, "seed": seed}]}))
        .unwrap()
    };
    let a = net(3, 0.1);
    assert_eq!(a.ids.len(), 200);
    assert_eq!(a.ids[199], "h[199]");
    // Bernoulli(0.1) over 200·199 ordered pairs: mean 3980, σ ≈ 60
    let c = a.synapses.len() as f64;
    assert!((c - 3980.0).abs() < 5.0 * (39800.0f64 * 0.1 * 0.9).sqrt(), "{c}");
    assert!(a.synapses.iter().all(|s| s.pre != s.post && s.delay_steps == 10 && s.weight == 0.5));
    let b = net(3, 0.1);
    assert_eq!(a.synapses, b.synapses);
    assert_ne!(a.synapses, net(4, 0.1).synapses);
    assert_eq!(net(1, 1.0).synapses.len(), 200 * 199);
    assert_eq!(net(1, 0.0).synapses.len(), 0);
}

#[test]
fn per_member_group_parameters() {
    let taus = [20.0, 10.0, 30.0, 40.0].repeat(1000);
    let net = Network::from_value(&json!({"dt": 0.1, "duration": 1,
        "groups": [{"id": "h", "n": 4000, "tau_m": taus, "v_rest": -65, "v_reset": -65, "v_th": -50, "r_m": 10,
                    "i_ext": {"uniform": [1.0, 2.5], "seed": 3}, "v0": {"normal": [-60, 2], "seed": 4}}]}))
    .unwrap();
    let taus: Vec<f64> = net.params.iter().map(|p| p.tau_m).collect();
    assert_eq!(&taus[..5], &[20.0, 10.0, 30.0, 40.0, 20.0]);
    let i: Vec<f64> = net.params.iter().map(|p| p.i_ext).collect();
    assert!(i.iter().all(|&x| (1.0..2.5).contains(&x)));
    let mean = i.iter().sum::<f64>() / 4000.0;
    // U(1, 2.5): mean 1.75, σ of the mean 0.433/√4000 ≈ 0.007
    assert!((mean - 1.75).abs() < 0.035, "{mean}");
    let v0: Vec<f64> = net.params.iter().map(|p| p.v0).collect();
    let m = v0.iter().sum::<f64>() / 4000.0;
    let sd = (v0.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 3999.0).sqrt();
    assert!((m + 60.0).abs() < 0.1 && (sd - 2.0).abs() < 0.1, "{m} {sd}");
    // same seed, same draws; members are independent of each other's fields
    let again = Network::from_value(&json!({"dt": 0.1, "duration": 1,
        "groups": [{"id": "h", "n": 4000, "tau_m": 20, "v_rest": -65, "v_reset": -65, "v_th": -50, "r_m": 10, "i_ext": {"uniform": [1.0, 2.5], "seed": 3}}]}))
    .unwrap();
    assert!(again.params.iter().zip(&net.params).all(|(a, b)| a.i_ext == b.i_ext));
    // per-member errors name the member
    let bad = |g: Value, path: &str| {
        let e = Network::from_value(&json!({"dt": 0.1, "duration": 1, "groups": [g]})).unwrap_err();
        assert_eq!(e.path.as_deref(), Some(path), "{e}");
    };
    let g = |k: &str, v: Value| {
        let mut g = json!({"id": "h", "n": 3, "tau_m": 20, "v_rest": -65, "v_reset": -65, "v_th": -50, "r_m": 10});
        g[k] = v;
        g
    };
    bad(g("tau_m", json!([20, 20, 0])), "$.groups[0].tau_m[2]");
    bad(g("tau_m", json!([20, 20])), "$.groups[0].tau_m");
    bad(g("v0", json!([-60, -40, -60])), "$.groups[0].v0[1]");
    bad(g("r_m", json!({"uniform": [-10, -9], "seed": 1})), "$.groups[0].r_m[0]");
    bad(g("i_ext", json!({"uniform": [2, 1], "seed": 1})), "$.groups[0].i_ext.uniform");
    bad(g("i_ext", json!({"normal": [2, 1]})), "$.groups[0].i_ext.seed");
    bad(g("i_ext", json!({"poisson": 2, "seed": 1})), "$.groups[0].i_ext.poisson");
    bad(g("i_ext", json!("high")), "$.groups[0].i_ext");
    // single neurons take numbers only
    let e = Network::from_value(&json!({"dt": 0.1, "duration": 1, "neurons": [{"id": "a", "tau_m": [20], "v_rest": -65, "v_reset": -65, "v_th": -50, "r_m": 10}]})).unwrap_err();
    assert_eq!(e.path.as_deref(), Some("$.neurons[0].tau_m"));
}

#[test]
fn explicit_synapses_and_weight_distributions() {
    let base = |syn: Value| {
        json!({"dt": 0.1, "duration": 1,
            "groups": [{"id": "in", "n": 5, "tau_m": 20, "v_rest": -65, "v_reset": -65, "v_th": -50, "r_m": 10},
                       {"id": "h", "n": 3, "tau_m": 20, "v_rest": -65, "v_reset": -65, "v_th": -50, "r_m": 10}],
            "synapses": [syn]})
    };
    let net = Network::from_value(&base(json!({"pre": "in", "post": "h", "i": [0, 4, 2], "j": [2, 0, 0], "weight": [0.5, -1.0, 2.0], "delay": 0.3}))).unwrap();
    let got: Vec<(u32, u32, f64, u32)> = net.synapses.iter().map(|s| (s.pre, s.post, s.weight, s.delay_steps)).collect();
    assert_eq!(got, vec![(0, 7, 0.5, 3), (4, 5, -1.0, 3), (2, 5, 2.0, 3)]);
    let net = Network::from_value(&base(json!({"pre": "in", "post": "h", "p": 1.0, "seed": 1, "weight": {"normal": [1.0, 0.1], "seed": 9}, "delay": 0}))).unwrap();
    assert_eq!(net.synapses.len(), 15);
    let w: Vec<f64> = net.synapses.iter().map(|s| s.weight).collect();
    assert!(w.iter().all(|&x| (x - 1.0).abs() < 0.6) && w.windows(2).any(|p| p[0] != p[1]));
    let bad = |syn: Value, path: &str| {
        let e = Network::from_value(&base(syn)).unwrap_err();
        assert_eq!(e.path.as_deref(), Some(path), "{e}");
    };
    bad(json!({"pre": "in", "post": "h", "i": [0, 5], "j": [0, 1], "weight": 1, "delay": 0}), "$.synapses[0].i[1]");
    bad(json!({"pre": "in", "post": "h", "i": [0, 1], "j": [0], "weight": 1, "delay": 0}), "$.synapses[0].j");
    bad(json!({"pre": "in", "post": "h", "i": [0], "j": [0], "weight": [1, 2], "delay": 0}), "$.synapses[0].weight");
    bad(json!({"pre": "in", "post": "h", "weight": [1, 2], "delay": 0}), "$.synapses[0].weight");
    bad(json!({"pre": "h", "post": "h", "i": [1], "j": [1], "weight": 1, "delay": 0}), "$.synapses[0].j[0]");
    bad(json!({"pre": "in", "post": "h", "i": [1], "j": [1], "p": 0.5, "seed": 1, "weight": 1, "delay": 0}), "$.synapses[0].p");
}

#[test]
fn poisson_rates_per_member_and_frames() {
    // three members at 0, 100 and 300 Hz for 20 s; then frames of 1 s: 200 Hz, 0 Hz, then silent
    let net = |rate: Value, present: Option<f64>| {
        let mut inp = json!({"neuron": "g", "kind": "poisson", "rate_hz": rate, "weight": 0.0, "seed": 5});
        if let Some(p) = present {
            inp["present"] = json!(p);
        }
        json!({"dt": 0.1, "duration": 20000,
            "groups": [{"id": "g", "n": 3, "tau_m": 20, "v_rest": -65, "v_reset": -65, "v_th": 1e9, "r_m": 10}],
            "synapses": [], "inputs": [inp]})
    };
    let r = run(net(json!([0, 100, 300]), None));
    // expected 0 + 2000 + 6000 = 8000 events, σ ≈ 89
    let c = r.stats.input_events[0] as f64;
    assert!((c - 8000.0).abs() < 5.0 * 8000f64.sqrt(), "{c}");
    let r = run(net(json!([[200, 200, 200], [0, 0, 0]]), Some(1000.0)));
    // only the first second fires: 3 × 200 events, σ ≈ 24
    let c = r.stats.input_events[0] as f64;
    assert!((c - 600.0).abs() < 5.0 * 600f64.sqrt(), "{c}");
    let r = run(net(json!([[100, 100, 100], [100, 100, 100]]), Some(10000.0)));
    let c = r.stats.input_events[0] as f64;
    assert!((c - 6000.0).abs() < 5.0 * 6000f64.sqrt(), "{c}");
    for (rate, present, path) in [
        (json!([1, 2]), None, "$.inputs[0].rate_hz"),
        (json!([[1, 2, 3], [1, -2, 3]]), Some(1.0), "$.inputs[0].rate_hz[1][1]"),
        (json!([[1, 2, 3], [1, 2, 3]]), None, "$.inputs[0].present"),
        (json!(5), Some(0.0), "$.inputs[0].present"),
    ] {
        let e = Network::from_value(&net(rate, present)).unwrap_err();
        assert_eq!(e.path.as_deref(), Some(path), "{e}");
    }
}

#[test]
fn synchrony_report_of_bridged_pairs() {
    // two identical neurons with the same constant drive fire identically: Γ = 1, D = 0
    let mut net = json!({"dt": 0.1, "duration": 500,
        "neurons": [lif("a", 2.0, 2.0), lif("b", 2.0, 2.0), lif("c", 1.8, 2.0)],
        "bridges": [{"neurons": ["a", "b"], "omega": 1, "gamma0": 0}, {"neurons": ["a", "c"], "omega": 1, "gamma0": 0}],
        "record": {"synchrony": {"tau": 5, "delta": 1}}});
    let r = run(net.clone());
    assert_eq!(r.synchrony.len(), 2);
    let ab = &r.synchrony[0];
    assert!(ab.spikes[0] > 5 && ab.spikes[0] == ab.spikes[1]);
    assert_eq!(ab.van_rossum, 0.0);
    assert!((ab.coincidence.unwrap() - 1.0).abs() < 1e-12);
    // a and c fire at different rates: the same numbers as the sync module on their spike times
    let (ta, tc) = (spike_times(&r, "a"), spike_times(&r, "c"));
    let ac = &r.synchrony[1];
    assert_eq!(ac.spikes, [ta.len(), tc.len()]);
    assert_eq!(ac.van_rossum, nestq::neural::sync::van_rossum(&ta, &tc, 5.0));
    assert_eq!(ac.coincidence, nestq::neural::sync::coincidence_factor(&ta, &tc, 500.0, 1.0));
    let j = r.to_json();
    assert_eq!(j["synchrony"][1]["neurons"], json!(["a", "c"]));
    // off by default, and the report does not need the spike list
    net["record"] = json!({"spikes": false, "synchrony": {}});
    let r = run(net.clone());
    assert!(r.spikes.is_empty() && r.synchrony[0].tau == 10.0 && r.synchrony[0].delta == 2.0 && r.synchrony[0].van_rossum == 0.0);
    net["record"] = json!({});
    assert!(run(net.clone()).to_json().get("synchrony").is_none());
    for (rec, path) in [
        (json!({"synchrony": {"tau": 0}}), "$.record.synchrony.tau"),
        (json!({"synchrony": {"delta": -1}}), "$.record.synchrony.delta"),
        (json!({"synchrony": {"window": 1}}), "$.record.synchrony.window"),
    ] {
        net["record"] = rec;
        let e = Network::from_value(&net).unwrap_err();
        assert_eq!(e.path.as_deref(), Some(path), "{e}");
    }
}

// ------------------------------------------------------------------ bridges

fn bridge_model(coupling: &str, omega: [f64; 2], gamma: f64, kappa: [f64; 2], initial: Value, times: &[f64]) -> nestq::Model {
    let mut m = json!({
        "dims": [2, 2],
        "hamiltonian": [{"coef": omega[0], "ops": "Z0"}, {"coef": omega[1], "ops": "Z1"}],
        "jumps": [{"rate": kappa[0], "ops": "SM0"}, {"rate": kappa[1], "ops": "SM1"}],
        "initial": initial,
        "times": times,
        "observables": {"X0": "X0", "X1": "X1"},
        "measures": ["concurrence:0,1"],
    });
    match coupling {
        "hamiltonian" => m["hamiltonian"].as_array_mut().unwrap().push(json!({"coef": gamma, "ops": "X0 X1"})),
        _ => {
            m["cross"] = json!([{"rate": gamma, "a": "X0", "b": "X1"}, {"rate": gamma, "a": "X1", "b": "X0"}]);
            m["cp_completion"] = json!(coupling == "cp");
        }
    }
    nestq::Model::from_value(&m).unwrap()
}

fn pair_net(coupling: &str, method: &str, beta: f64, initial: Value) -> Value {
    pair_net_dt(coupling, method, beta, initial, 0.1)
}

fn pair_net_dt(coupling: &str, method: &str, beta: f64, initial: Value, dt: f64) -> Value {
    json!({"dt": dt, "duration": 20, "bridge_method": method,
        "neurons": [{"id": "a", "tau_m": 20, "v_rest": -65, "v_reset": -65, "v_th": -50, "r_m": 10, "v0": -60},
                    {"id": "b", "tau_m": 15, "v_rest": -65, "v_reset": -65, "v_th": -50, "r_m": 10}],
        "bridges": [{"neurons": ["a", "b"], "omega": [1.0, 0.7], "gamma0": 0.3, "beta": beta, "kappa": [0.05, 0.08],
                     "alpha": [0.3, -0.2], "coupling": coupling, "initial": initial}],
        "record": {"v": ["a", "b"], "every": (0.999 / dt).round() as u64}})
}

#[test]
fn bridge_with_constant_gamma_matches_mesolve() {
    let initial = json!({"product": [[1, 1], [1, [0, 1]]]});
    for coupling in ["hamiltonian", "paper", "cp"] {
        let r = run(pair_net(coupling, "expm", 0.0, initial.clone()));
        assert_eq!(r.times.len(), 21);
        let m = bridge_model(coupling, [1.0, 0.7], 0.3, [0.05, 0.08], initial.clone(), &r.times);
        let s = nestq::mesolve(&m, None).unwrap();
        let b = &r.bridges[0];
        let mut worst = 0.0f64;
        for k in 0..r.times.len() {
            worst = worst.max((b.expect[0][k] - s.expect[0].values[k].re).abs());
            worst = worst.max((b.expect[1][k] - s.expect[1].values[k].re).abs());
            worst = worst.max((b.concurrence[k] - s.measures[0].1[k]).abs());
            assert_eq!(b.gamma[k], 0.3);
        }
        assert!(worst < 1e-8, "{coupling}: {worst:e}");
        // the neurons stayed sub-threshold and felt I_q: V_b leaves V_rest
        assert!(r.spikes.is_empty());
        assert!(series(&r, "b")[20] != -65.0);
        // one RK4 step per network step: error O(dt⁴) — 16× smaller at half the step
        let r4 = run(pair_net(coupling, "rk4", 0.0, initial.clone()));
        let d = (0..r.times.len()).map(|k| (r4.bridges[0].expect[0][k] - b.expect[0][k]).abs()).fold(0.0, f64::max);
        assert!(d < 1e-3 && d > 1e-7, "{coupling} rk4: {d:e}");
        assert!(r4.stats.rhs_evals == 4 * 200 && r4.stats.propagators == 0);
        let r4h = run(pair_net_dt(coupling, "rk4", 0.0, initial.clone(), 0.05));
        assert!(r4h.times.iter().zip(&r.times).all(|(a, b)| (a - b).abs() < 1e-12));
        let dh = (0..r.times.len()).map(|k| (r4h.bridges[0].expect[0][k] - b.expect[0][k]).abs()).fold(0.0, f64::max);
        assert!(d / dh > 12.0 && d / dh < 20.0, "{coupling} rk4 order: {d:e} / {dh:e}");
        assert_eq!(r.stats.propagators, 1, "constant γ: one propagator");
    }
}

/// Largest |difference| of ⟨M⁽⁰⁾⟩, ⟨M⁽¹⁾⟩ and concurrence between two runs on the same grid, and
/// of the final states relative to the largest entry (the `paper` coupling amplifies the
/// |+−⟩⟨−+| coherence as e^(4γt), so absolute state errors grow with it).
fn bridge_gap(a: &NetworkResult, b: &NetworkResult) -> f64 {
    let (x, y) = (&a.bridges[0], &b.bridges[0]);
    assert_eq!(x.expect[0].len(), y.expect[0].len());
    let mut d = 0.0f64;
    for k in 0..x.expect[0].len() {
        d = d.max((x.expect[0][k] - y.expect[0][k]).abs()).max((x.expect[1][k] - y.expect[1][k]).abs());
        d = d.max((x.concurrence[k] - y.concurrence[k]).abs());
    }
    let scale = x.final_state.iter().fold(1.0f64, |m, z| m.max(z.norm()));
    d.max((&x.final_state - &y.final_state).iter().fold(0.0f64, |m, z| m.max(z.norm())) / scale)
}

#[test]
fn split_bridge_step_is_second_order_and_keeps_the_state_physical() {
    let initial = json!({"product": [[1, 1], [1, [0, 1]]]});
    for coupling in ["hamiltonian", "paper", "cp"] {
        // β = 0: the bridge is autonomous and expm is exact at any dt
        let exact = run(pair_net(coupling, "expm", 0.0, initial.clone()));
        let errs: Vec<f64> = [0.1, 0.05, 0.025]
            .iter()
            .map(|&dt| bridge_gap(&run(pair_net_dt(coupling, "split", 0.0, initial.clone(), dt)), &exact))
            .collect();
        let orders: Vec<f64> = errs.windows(2).map(|w| (w[0] / w[1]).log2()).collect();
        eprintln!("split {coupling}: errors {errs:?}, orders {orders:.3?}");
        assert!(errs[0] < 1e-2 && errs[0] > 1e-8, "{coupling}: {errs:?}");
        assert!(orders.iter().all(|&p| (p - 2.0).abs() < 0.15), "{coupling}: expected second order, got {orders:?}");
        // without coupling the split step is exact (the two single-qubit channels commute)
        let mut a = pair_net(coupling, "expm", 0.0, initial.clone());
        let mut b = pair_net(coupling, "split", 0.0, initial.clone());
        a["bridges"][0]["gamma0"] = json!(0.0);
        b["bridges"][0]["gamma0"] = json!(0.0);
        let d = bridge_gap(&run(a), &run(b));
        assert!(d < 1e-13, "{coupling} γ = 0: {d:e}");
    }
    // a coarse step keeps every factor CPTP for hamiltonian and cp: ρ stays PSD with unit trace
    for coupling in ["hamiltonian", "cp"] {
        let mut n = pair_net_dt(coupling, "split", 0.0, json!({"bell": "psi+"}), 1.0);
        n["bridges"][0]["gamma0"] = json!(3.0);
        n["bridges"][0]["kappa"] = json!([0.4, 0.9]);
        let r = run(n);
        let rho = &r.bridges[0].final_state;
        let ev = nestq::measures::hermitian_eigenvalues(rho);
        assert!(ev.iter().all(|&l| l > -1e-13), "{coupling}: eigenvalues {ev:?}");
        assert!((rho.trace().re - 1.0).abs() < 1e-13);
    }
}

#[test]
fn adaptive_gamma_follows_the_voltage_difference() {
    let r = run(pair_net("hamiltonian", "expm", 0.1, json!({"basis": [0, 0]})));
    let (va, vb) = (series(&r, "a"), series(&r, "b"));
    for k in 0..r.times.len() {
        let g = 0.3 * (-0.1 * (va[k] - vb[k]).abs()).exp();
        assert!((r.bridges[0].gamma[k] - g).abs() < 1e-15, "{k}");
    }
    assert!((r.bridges[0].gamma[0] - 0.3 * (-0.5f64).exp()).abs() < 1e-15);
    assert!(r.stats.propagators > 100, "γ changes every step");
}

#[test]
fn spike_kick_pi_flips_the_qubit() {
    let r = run(json!({"dt": 0.1, "duration": 3,
        "neurons": [lif("a", 0.0, 2.0), lif("b", 0.0, 2.0)],
        "bridges": [{"neurons": ["a", "b"], "omega": 0, "gamma0": 0, "measure": "Z", "initial": {"basis": [0, 0]}, "spike_kick": std::f64::consts::PI}],
        "inputs": [{"neuron": "a", "kind": "spikes", "times": [1.0], "weight": 30}],
        "record": {"v": ["a"]}}));
    // a spikes in step 11 (stamp 1.1); the kick acts on ρ(t_12)
    assert_eq!(spike_times(&r, "a"), vec![1.1]);
    let b = &r.bridges[0];
    for k in 0..r.times.len() {
        let z0 = if k <= 11 { 1.0 } else { -1.0 };
        assert!((b.expect[0][k] - z0).abs() < 1e-14, "sample {k}: {}", b.expect[0][k]);
        assert!((b.expect[1][k] - 1.0).abs() < 1e-14);
    }
    // a kick of π/2 on |0⟩ gives ⟨Z⟩ = 0 and ⟨Y⟩ = −1 (purity 1), and a Bell pair stays maximally
    // entangled under local unitaries
    let mut net = json!({"dt": 0.1, "duration": 3,
        "neurons": [lif("a", 0.0, 2.0), lif("b", 0.0, 2.0)],
        "bridges": [{"neurons": ["a", "b"], "omega": 0, "gamma0": 0, "measure": "Z", "initial": {"basis": [0, 0]}, "spike_kick": std::f64::consts::FRAC_PI_2},
                    {"neurons": ["a", "b"], "omega": 0, "gamma0": 0, "initial": {"bell": "phi+"}, "spike_kick": 1.0}],
        "inputs": [{"neuron": "a", "kind": "spikes", "times": [1.0], "weight": 30}]});
    let r = run(net.clone());
    assert!(r.bridges[0].expect[0].last().unwrap().abs() < 1e-14);
    assert!((r.bridges[1].concurrence.last().unwrap() - 1.0).abs() < 1e-12);
    net["record"] = json!({"bridge_expect": false});
    let r = run(net);
    assert!(r.bridges[0].expect[0].is_empty() && r.bridges[0].gamma.is_empty());
}

#[test]
fn bell_initial_states_have_concurrence_one() {
    for (name, zz) in [("phi+", 1.0), ("phi-", 1.0), ("psi+", -1.0), ("psi-", -1.0)] {
        let net = Network::from_value(&json!({"dt": 0.1, "duration": 1, "neurons": [lif("a", 0.0, 0.0), lif("b", 0.0, 0.0)],
            "bridges": [{"neurons": ["a", "b"], "omega": 1, "gamma0": 0, "initial": {"bell": name}, "measure": "Z"}]}))
        .unwrap();
        let rho = &net.bridges[0].initial;
        let zz_op = nestq::ops::OpContext::new(vec![2, 2]).build("Z0 Z1").unwrap();
        assert!((nestq::measures::expect(&zz_op, rho).re - zz).abs() < 1e-15, "{name}");
        let r = net.run(None).unwrap();
        assert!((r.bridges[0].concurrence[0] - 1.0).abs() < 1e-12, "{name}: {}", r.bridges[0].concurrence[0]);
        assert!(r.bridges[0].expect[0][0].abs() < 1e-15);
        // H = ω(Z0 + Z1) with no dissipation keeps a Bell state maximally entangled
        assert!((r.bridges[0].concurrence[10] - 1.0).abs() < 1e-10);
    }
}

#[test]
fn paper_coupling_reports_the_cp_warning_once_per_bridge() {
    let b = |c: &str, x: &str, y: &str| json!({"neurons": [x, y], "omega": 1, "gamma0": 0.1, "kappa": 0.05, "coupling": c});
    let r = run(json!({"dt": 0.1, "duration": 1,
        "neurons": [lif("a", 0.0, 0.0), lif("b", 0.0, 0.0), lif("c", 0.0, 0.0)],
        "bridges": [b("paper", "a", "b"), b("cp", "a", "c"), b("hamiltonian", "b", "c"), b("paper", "c", "a")]}));
    let cp: Vec<&String> = r.warnings.iter().filter(|w| w.contains("not completely positive")).collect();
    assert_eq!(cp.len(), 2, "{:?}", r.warnings);
    assert!(cp[0].starts_with("$.bridges[0] (a–b)"), "{}", cp[0]);
    assert!(cp[1].starts_with("$.bridges[3] (c–a)"), "{}", cp[1]);
}

#[test]
fn many_bridges_in_parallel_give_the_single_bridge_numbers() {
    // 10 bridges on disjoint pairs (≥ PARALLEL_MIN_BRIDGES: rayon path); each must equal the
    // same pair simulated alone (sequential path), bit for bit.
    let mut neurons = vec![];
    let mut bridges = vec![];
    for i in 0..10 {
        neurons.push(json!({"id": format!("p{i}"), "tau_m": 20, "v_rest": -65, "v_reset": -70, "v_th": -50, "r_m": 10, "i_ext": 2.5 + 0.01 * i as f64}));
        neurons.push(json!({"id": format!("q{i}"), "tau_m": 20, "v_rest": -65, "v_reset": -70, "v_th": -50, "r_m": 10, "i_ext": 2.0}));
        bridges.push(json!({"neurons": [format!("p{i}"), format!("q{i}")], "omega": [1, 1.1], "gamma0": 0.2, "beta": 0.05,
                            "kappa": 0.05, "alpha": [0.5, 0.5], "spike_kick": 0.7}));
    }
    let all = run(json!({"dt": 0.1, "duration": 100, "neurons": neurons.clone(), "bridges": bridges.clone(), "record": {"every": 5}}));
    assert!(all.stats.spikes > 20);
    for i in [0usize, 7] {
        let one = run(json!({"dt": 0.1, "duration": 100, "neurons": [neurons[2 * i].clone(), neurons[2 * i + 1].clone()],
                             "bridges": [bridges[i].clone()], "record": {"every": 5}}));
        assert_eq!(one.bridges[0].expect, all.bridges[i].expect);
        assert_eq!(one.bridges[0].gamma, all.bridges[i].gamma);
        let p = format!("p{i}");
        assert_eq!(spike_times(&one, &p), spike_times(&all, &p));
    }
}

// ------------------------------------------------------------------ examples, result file

fn example(name: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(name)).unwrap()
}

#[test]
fn example_networks_run() {
    let r = nestq::neural::run_network_json(&example("network_bridge_pair.json"), None).unwrap();
    let j = r.to_json();
    let n = j["times"].as_array().unwrap().len();
    assert!(n > 10);
    for key in ["v", "spikes", "bridges", "warnings", "stats"] {
        assert!(!j[key].is_null(), "{key}");
    }
    let b = &j["bridges"][0];
    let ids: Vec<&str> = b["neurons"].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
    for id in &ids {
        assert_eq!(b["expect"][id].as_array().unwrap().len(), n);
        assert_eq!(j["v"][id].as_array().unwrap().len(), n);
    }
    assert_eq!(b["gamma"].as_array().unwrap().len(), n);
    assert!(j["spikes"].as_array().unwrap().len() > 0);
    assert_eq!(j["spikes"][0].as_object().unwrap().len(), 2);

    let q = nestq::neural::run_network_json(&example("network_qlif_pair.json"), None).unwrap();
    assert!((q.bridges[0].concurrence[0] - 1.0).abs() < 1e-12);
    assert!(!q.spikes.is_empty());
    // the kicks and the decay change the entanglement
    assert!(q.bridges[0].concurrence.last().unwrap() < &0.99);
}

// ------------------------------------------------------------------ bad input

#[test]
fn bad_input_names_the_field() {
    let ok = || json!({"dt": 0.1, "duration": 10,
        "neurons": [lif("a", 0.0, 2.0), lif("b", 0.0, 2.0)],
        "synapses": [{"pre": "a", "post": "b", "weight": 0.5, "delay": 1.0}],
        "bridges": [{"neurons": ["a", "b"], "omega": [1, 1], "gamma0": 0.1, "kappa": [0.05, 0.05]}],
        "inputs": [{"neuron": "a", "kind": "poisson", "rate_hz": 50, "weight": 1.0, "seed": 1}],
        "record": {"v": ["a"], "every": 10}});
    assert!(Network::from_value(&ok()).is_ok());
    type Edit = fn(&mut Value);
    let cases: Vec<(Edit, &str)> = vec![
        (|v| v["foo"] = json!(1), "$.foo"),
        (|v| v["version"] = json!(2), "$.version"),
        (|v| v["dt"] = json!(0), "$.dt"),
        (|v| v["dt"] = json!("0.1"), "$.dt"),
        (|v| v["duration"] = json!(-5), "$.duration"),
        (|v| { v.as_object_mut().unwrap().remove("duration"); }, "$.duration"),
        (|v| v["bridge_method"] = json!("euler"), "$.bridge_method"),
        (|v| v["neurons"][0]["tau_m"] = json!(0), "$.neurons[0].tau_m"),
        (|v| v["neurons"][1]["tau_m"] = json!(0.15), "$.neurons[1].tau_m"),
        (|v| v["neurons"][0]["v_reset"] = json!(-50), "$.neurons[0].v_reset"),
        (|v| v["neurons"][0]["v0"] = json!(-40), "$.neurons[0].v0"),
        (|v| v["neurons"][1]["t_ref"] = json!(-1), "$.neurons[1].t_ref"),
        (|v| v["neurons"][0]["r_m"] = json!(-10), "$.neurons[0].r_m"),
        (|v| v["neurons"][0]["tau"] = json!(20), "$.neurons[0].tau"),
        (|v| { v["neurons"][0].as_object_mut().unwrap().remove("v_th"); }, "$.neurons[0].v_th"),
        (|v| v["neurons"][1]["id"] = json!("a"), "$.neurons[1].id"),
        (|v| v["neurons"] = json!([]), "$.neurons"),
        (|v| v["groups"] = json!([{"id": "g", "n": 0, "tau_m": 20, "v_rest": -65, "v_reset": -65, "v_th": -50, "r_m": 10}]), "$.groups[0].n"),
        (|v| v["groups"] = json!([{"id": "a", "n": 2, "tau_m": 20, "v_rest": -65, "v_reset": -65, "v_th": -50, "r_m": 10}]), "$.groups[0].id"),
        (|v| v["synapses"][0]["post"] = json!("zz"), "$.synapses[0].post"),
        (|v| v["synapses"][0]["post"] = json!("a"), "$.synapses[0].post"),
        (|v| v["synapses"][0]["delay"] = json!(-1), "$.synapses[0].delay"),
        (|v| v["synapses"][0]["p"] = json!(1.5), "$.synapses[0].p"),
        (|v| v["synapses"][0]["p"] = json!(0.5), "$.synapses[0].seed"),
        (|v| v["bridges"][0]["neurons"] = json!(["a", "a"]), "$.bridges[0].neurons[1]"),
        (|v| v["bridges"][0]["neurons"] = json!(["x", "b"]), "$.bridges[0].neurons[0]"),
        (|v| v["bridges"][0]["neurons"] = json!(["a"]), "$.bridges[0].neurons"),
        (|v| v["bridges"][0]["kappa"] = json!([0.05, -0.01]), "$.bridges[0].kappa[1]"),
        (|v| v["bridges"][0]["omega"] = json!([1, 2, 3]), "$.bridges[0].omega"),
        (|v| v["bridges"][0]["beta"] = json!(-0.1), "$.bridges[0].beta"),
        (|v| { v["bridges"][0]["coupling"] = json!("cp"); v["bridges"][0]["gamma0"] = json!(-0.1); }, "$.bridges[0].gamma0"),
        (|v| v["bridges"][0]["coupling"] = json!("xy"), "$.bridges[0].coupling"),
        (|v| v["bridges"][0]["measure"] = json!("Y"), "$.bridges[0].measure"),
        (|v| v["bridges"][0]["initial"] = json!({"bell": "chi"}), "$.bridges[0].initial.bell"),
        (|v| v["bridges"][0]["initial"] = json!({"basis": [0, 2]}), "$.bridges[0].initial.basis[1]"),
        (|v| v["bridges"][0]["initial"] = json!({"dm": [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]]}), "$.bridges[0].initial.dm"),
        (|v| v["bridges"][0]["spike_kicks"] = json!(1), "$.bridges[0].spike_kicks"),
        (|v| v["inputs"][0]["rate_hz"] = json!(-1), "$.inputs[0].rate_hz"),
        (|v| v["inputs"][0]["kind"] = json!("gauss"), "$.inputs[0].kind"),
        (|v| v["inputs"][0]["neuron"] = json!("q"), "$.inputs[0].neuron"),
        (|v| { v["inputs"][0].as_object_mut().unwrap().remove("seed"); }, "$.inputs[0].seed"),
        (|v| v["inputs"][0] = json!({"neuron": "a", "kind": "spikes", "times": [1, -2], "weight": 1}), "$.inputs[0].times[1]"),
        (|v| v["inputs"][0] = json!({"neuron": "a", "kind": "constant", "current": 1, "weight": 1}), "$.inputs[0].weight"),
        (|v| v["record"]["every"] = json!(0), "$.record.every"),
        (|v| v["record"]["v"] = json!(["a", "nope"]), "$.record.v[1]"),
        (|v| v["record"]["spikes"] = json!(1), "$.record.spikes"),
    ];
    for (i, (edit, path)) in cases.iter().enumerate() {
        let mut v = ok();
        edit(&mut v);
        let e = Network::from_value(&v).err().unwrap_or_else(|| panic!("case {i} ({path}) was accepted"));
        assert_eq!(e.code, ErrorCode::InvalidModel, "case {i}: {e}");
        assert_eq!(e.path.as_deref(), Some(*path), "case {i}: {e}");
    }
    let e = Network::from_json_str("{\"dt\": 0.1,").unwrap_err();
    assert_eq!(e.code, ErrorCode::Parse);
}

/// Spike trains identical to Brian2 2.5 (`method='exact'`) on the deterministic networks of
/// `scripts/reference/brian2_reference.py` (which cross-checks Brian2 against an independent
/// stepper), and V at the recorded samples to 1e-9 relative.
#[test]
fn spike_trains_match_brian2_fixtures() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test/fixtures/neural");
    let mut checked = 0;
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name().into_string().unwrap()).filter(|f| f.ends_with(".brian2.json")).collect();
    names.sort();
    for f in names {
        let name = f.trim_end_matches(".brian2.json");
        let net_text = std::fs::read_to_string(dir.join(format!("{name}.net.json"))).unwrap();
        let reference: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join(&f)).unwrap()).unwrap();
        let net = nestq::neural::Network::from_json_str(&net_text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let res = net.run(None).unwrap_or_else(|e| panic!("{name}: {e}"));
        let j = res.to_json();
        let dt = reference["dt"].as_f64().unwrap();
        let ours: Vec<(String, i64)> = j["spikes"].as_array().unwrap().iter().map(|s| (s["neuron"].as_str().unwrap().to_string(), (s["t"].as_f64().unwrap() / dt).round() as i64)).collect();
        let theirs: Vec<(String, i64)> = reference["spikes"].as_array().unwrap().iter().map(|s| (s["neuron"].as_str().unwrap().to_string(), s["step"].as_i64().unwrap())).collect();
        let mut a = ours.clone();
        let mut b = theirs.clone();
        a.sort();
        b.sort();
        assert!(!b.is_empty(), "{name}: the fixture has no spikes");
        assert_eq!(a, b, "{name}: spike trains differ from Brian2 ({} vs {} spikes)", a.len(), b.len());
        for (id, vs) in reference["v"].as_object().unwrap() {
            let mine = j["v"][id].as_array().unwrap_or_else(|| panic!("{name}: no V recorded for {id}"));
            let vs = vs.as_array().unwrap();
            assert_eq!(mine.len(), vs.len(), "{name}: number of V samples of {id}");
            for (k, (x, y)) in mine.iter().zip(vs).enumerate() {
                let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                assert!((x - y).abs() <= 1e-9 * y.abs().max(1.0), "{name}: V of {id} at sample {k}: {x} vs Brian2 {y}");
            }
        }
        checked += 1;
    }
    assert!(checked >= 7, "only {checked} Brian2 fixtures found");
}

/// Sub-threshold neurons joined by a bridge: V(t) and ⟨M⟩(t) converge, as dt → 0, to the
/// joint-ODE reference of `scripts/reference/neural_reference.py` (scipy DOP853,
/// rtol = atol = 1e-12). The network holds I_q and γ constant over each step (operator splitting
/// with piecewise-constant coupling), so the expected order is 1; the test measures it.
#[test]
fn coupled_bridge_converges_to_the_joint_ode_reference() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test/fixtures/neural");
    for (case, method) in [
        ("coupled_hamiltonian", "expm"),
        ("coupled_hamiltonian_crossing", "expm"),
        ("coupled_cp", "expm"),
        ("coupled_hamiltonian", "split"),
        ("coupled_hamiltonian_crossing", "split"),
        ("coupled_cp", "split"),
    ] {
        let mut net: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{case}.net.json"))).unwrap()).unwrap();
        net["bridge_method"] = serde_json::json!(method);
        let reference: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{case}.ref.json"))).unwrap()).unwrap();
        let rt: Vec<f64> = reference["times"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        let sample = rt[1] - rt[0];
        let mut errors = Vec::new();
        for refine in [1u32, 2, 4, 8] {
            let dt = sample / refine as f64;
            let mut n = net.clone();
            n["dt"] = serde_json::json!(dt);
            n["record"]["every"] = serde_json::json!(refine);
            let res = nestq::neural::Network::from_json_str(&n.to_string()).unwrap().run(None).unwrap().to_json();
            let mut err = 0.0f64;
            for id in ["i", "k"] {
                let v = res["v"][id].as_array().unwrap();
                let e = res["bridges"][0]["expect"][id].as_array().unwrap();
                let rv = reference["v"][id].as_array().unwrap();
                let re = reference["expect"][id].as_array().unwrap();
                assert_eq!(v.len(), rv.len(), "{case}: samples");
                for k in 0..rv.len() {
                    err = err.max((v[k].as_f64().unwrap() - rv[k].as_f64().unwrap()).abs());
                    err = err.max((e[k].as_f64().unwrap() - re[k].as_f64().unwrap()).abs());
                }
            }
            errors.push(err);
        }
        let orders: Vec<f64> = errors.windows(2).map(|w| (w[0] / w[1]).log2()).collect();
        eprintln!("{case} ({method}): max |error| of V (mV) and ⟨M⟩ at dt = {sample}/{{1,2,4,8}}: {errors:.3?}, orders {orders:.2?}");
        assert!(errors.windows(2).all(|w| w[1] < w[0]), "{case}: errors must fall with dt: {errors:?}");
        assert!(orders.iter().all(|&p| p > 0.85 && p < 1.3), "{case}: expected first order, measured {orders:?} (errors {errors:?})");
        assert!(errors[3] < 0.05, "{case}: error at dt = {} is {}", sample / 8.0, errors[3]);
    }
}
