//! Training of spiking networks with NEST bridges (`nestq::train`, docs/training.md): config
//! errors, learning, determinism, projection, and the bridge dynamics against the engine.

use nestq::train::{self, Net, Sample, TrainConfig};
use nestq::{mesolve, ErrorCode, Model};

fn config(extra_network: &str, extra: &str) -> String {
    format!(
        r#"{{"version": 1, "seed": 3,
            "task": {{"kind": "delayed_recall", "symbols": 3, "cue_steps": 5, "delay_steps": 5, "recall_steps": 5, "train": 240, "test": 120}},
            "network": {{"n_hidden": 16, "dt": 1.0, "links": {{"kind": "bridge", "count": 4}} {extra_network}}},
            "epochs": 6, "batch_size": 16, "mi_every": 3 {extra}}}"#
    )
}

fn err(text: &str) -> nestq::Error {
    TrainConfig::from_json_str(text).expect_err("config should be rejected")
}

#[test]
fn bad_configs_name_the_field() {
    let e = err(&config(r#", "neuron": {"tau_m": -1}"#, ""));
    assert_eq!(e.path.as_deref(), Some("$.network.neuron.tau_m"), "{e}");
    let e = err(&config(r#", "dt": 30"#, ""));
    assert_eq!(e.path.as_deref(), Some("$.network.dt"), "{e}");
    assert!(e.message.contains("tau_m/2"), "{e}");
    let e = err(&config("", r#", "optimizer": {"beta1": 1.0}"#));
    assert_eq!(e.path.as_deref(), Some("$.optimizer.beta1"), "{e}");
    let e = err(&config("", r#", "optimizer": {"lr_quantum": 0}"#));
    assert_eq!(e.path.as_deref(), Some("$.optimizer.lr_quantum"), "{e}");
    let e = err(&config("", r#", "bogus": 1"#));
    assert_eq!(e.path.as_deref(), Some("$.bogus"), "{e}");
    let e = err(&config(r#", "readout": {"from_step": 99}"#, ""));
    assert_eq!(e.path.as_deref(), Some("$.network.readout.from_step"), "{e}");
    // links
    let bad = |l: &str| {
        let text = config("", "").replace(r#""links": {"kind": "bridge", "count": 4}"#, &format!(r#""links": {l}"#));
        err(&text)
    };
    assert_eq!(bad(r#"{"kind": "bridge", "pairs": [[3, 3]]}"#).path.as_deref(), Some("$.network.links.pairs[0]"));
    assert_eq!(bad(r#"{"kind": "bridge", "pairs": [[3, 16]]}"#).path.as_deref(), Some("$.network.links.pairs[0]"));
    assert_eq!(bad(r#"{"kind": "bridge", "count": 9}"#).path.as_deref(), Some("$.network.links.count"));
    assert_eq!(bad(r#"{"kind": "quantum"}"#).path.as_deref(), Some("$.network.links.kind"));
    assert_eq!(bad(r#"{"kind": "bridge", "coupling": "strong"}"#).path.as_deref(), Some("$.network.links.coupling"));
    assert_eq!(bad(r#"{"kind": "bridge", "init": {"kappa": -0.1}}"#).path.as_deref(), Some("$.network.links.init.kappa"));
    assert_eq!(bad(r#"{"kind": "bridge", "gamma_max": 0.5, "init": {"gamma0": 0.6}}"#).path.as_deref(), Some("$.network.links.init.gamma0"));
    let e = err(r#"{"task": {"kind": "parity"}}"#);
    assert_eq!(e.path.as_deref(), Some("$.task.kind"), "{e}");
    let e = err(r#"{"network": {}}"#);
    assert_eq!(e.path.as_deref(), Some("$.task"), "{e}");
}

#[test]
fn mnist_needs_data_and_checks_it() {
    let cfg = TrainConfig::from_json_str(r#"{"task": {"kind": "mnist_rows", "train": 2, "test": 1}}"#).unwrap();
    let e = train::datasets(&cfg, None).unwrap_err();
    assert_eq!(e.path.as_deref(), Some("$.task.data"));
    let data = serde_json::json!({"train": {"images": [vec![0; 784], vec![255; 784]], "labels": [1, 2]}, "test": {"images": [vec![7; 783]], "labels": [0]}});
    let e = train::MnistData::from_json(&data).unwrap_err();
    assert_eq!(e.path.as_deref(), Some("data.test.images[0]"), "{e}");
    let data = serde_json::json!({"train": {"images": [vec![0; 784], vec![255; 784]], "labels": [1, 2]}, "test": {"images": [vec![7; 784]], "labels": [0]}});
    let d = train::MnistData::from_json(&data).unwrap();
    let (tr, te) = train::datasets(&cfg, Some(&d)).unwrap();
    assert_eq!((tr.len(), te.len()), (2, 1));
    // Row r of the image is on the 28 channels during steps 2r, 2r+1 (steps_per_row 2), scaled 1/255.
    assert_eq!(tr[1].x.len(), 56 * 28);
    assert!((tr[1].x[5 * 28 + 3] - 1.0).abs() < 1e-15 && tr[1].label == 2);
    assert!((te[0].x[0] - 7.0 / 255.0).abs() < 1e-15);
    let cfg3 = TrainConfig::from_json_str(r#"{"task": {"kind": "mnist_rows", "train": 3, "test": 1}}"#).unwrap();
    assert_eq!(train::datasets(&cfg3, Some(&d)).unwrap_err().path.as_deref(), Some("$.task.train"));
}

/// Bridged networks learn a short delayed-recall task far above chance (1/3), deterministically.
#[test]
fn learns_delayed_recall_and_is_deterministic() {
    let cfg = TrainConfig::from_json_str(&config("", "")).unwrap();
    let (tr, te) = train::datasets(&cfg, None).unwrap();
    let a = train::train(&cfg, &tr, &te, None).unwrap();
    let first = &a.history[0];
    let best = a.history.iter().find(|r| r.epoch == a.best_epoch).unwrap();
    assert!(best.test_loss < first.test_loss - 0.2, "loss {} -> {}", first.test_loss, best.test_loss);
    assert!(best.test_acc > 0.8, "accuracy {}", best.test_acc);
    assert!(a.history.iter().skip(1).all(|r| r.grad_norm[1] > 0.0), "bridge parameters received no gradient");
    // 4 bridges × 8 parameters in the quantum group.
    assert_eq!(a.layout.segments.iter().filter(|s| s.group == train::Group::Quantum).map(|s| s.len).sum::<usize>(), 32);
    assert_eq!(a.analysis.quantum_mi.len(), 4);
    assert!(a.analysis.quantum_mi.iter().all(|m| m.is_finite() && *m >= -1e-12));
    // Same seed, different thread count: identical numbers.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let b = pool.install(|| train::train(&cfg, &tr, &te, None)).unwrap();
    assert_eq!(a.best_params, b.best_params);
    assert_eq!(a.history.iter().map(|r| r.test_loss).collect::<Vec<_>>(), b.history.iter().map(|r| r.test_loss).collect::<Vec<_>>());
}

/// Projected Adam keeps γ₀ in [0, gamma_max] and κ, β ≥ 0 and counts the projections.
#[test]
fn projection_keeps_bounds_and_is_reported() {
    let text = config(r#", "links": {"kind": "bridge", "count": 4, "gamma_max": 0.12, "init": {"gamma0": 0.1, "kappa": 0.001, "beta": 0.001}}"#, r#", "optimizer": {"lr_quantum": 0.5}"#)
        .replace(r#""links": {"kind": "bridge", "count": 4} , "#, "");
    let cfg = TrainConfig::from_json_str(&text).unwrap();
    let (tr, te) = train::datasets(&cfg, None).unwrap();
    let r = train::train(&cfg, &tr, &te, None).unwrap();
    assert!(r.history.iter().map(|h| h.projections).sum::<usize>() > 0);
    let seg = |n: &str| {
        let s = r.layout.get(n).unwrap();
        r.best_params[s.offset..s.offset + s.len].to_vec()
    };
    assert!(seg("gamma0").iter().all(|g| (0.0..=0.12).contains(g)));
    assert!(seg("kappa").iter().all(|k| *k >= 0.0));
    assert!(seg("beta").iter().all(|b| *b >= 0.0));
}

/// With β = 0 (constant γ = γ₀) and α = 0 (no feedback), the trained network's bridge evolves
/// autonomously: its Bloch-basis RK4 trajectory converges at fourth order to the engine's exact
/// propagator for the same two-qubit model, for each coupling.
#[test]
fn bridge_dynamics_match_the_engine() {
    for (coupling, cross) in [
        ("hamiltonian", ""),
        ("paper", r#", "cross": [{"rate": 0.3, "a": "X0", "b": "X1"}, {"rate": 0.3, "a": "X1", "b": "X0"}]"#),
        ("cp", r#", "cross": [{"rate": 0.3, "a": "X0", "b": "X1"}, {"rate": 0.3, "a": "X1", "b": "X0"}, {"rate": 0.3, "a": "X0", "b": "X0"}, {"rate": 0.3, "a": "X1", "b": "X1"}]"#),
    ] {
        let h = if coupling == "hamiltonian" { r#", {"coef": 0.3, "ops": "X0 X1"}"# } else { "" };
        let model = format!(
            r#"{{"dims": [2, 2], "hamiltonian": [{{"coef": 0.7, "ops": "Z0"}}, {{"coef": 0.7, "ops": "Z1"}}{h}], "jumps": [{{"rate": 0.05, "ops": "SM0"}}, {{"rate": 0.05, "ops": "SM1"}}] {cross},
                "initial": {{"ket": [[0.7071067811865476, 0], 0, 0, [0.7071067811865476, 0]]}}, "times": {{"start": 0, "stop": 15, "count": 16}},
                "observables": {{"Z0": "Z0", "X0X1": "X0 X1", "Y0Y1": "Y0 Y1"}}, "solver": {{"method": "expm"}}}}"#
        );
        let res = mesolve(&Model::from_json_str(&model).unwrap(), None).unwrap();
        let max_err = |substeps: usize| -> f64 {
            let text = config(
                &format!(r#", "links": {{"kind": "bridge", "pairs": [[2, 9]], "coupling": "{coupling}", "initial": "bell", "substeps": {substeps}, "init": {{"omega": 0.7, "kappa": 0.05, "gamma0": 0.3, "beta": 0, "alpha": 0}}}}"#),
                "",
            )
            .replace(r#""links": {"kind": "bridge", "count": 4} , "#, "");
            let cfg = TrainConfig::from_json_str(&text).unwrap();
            let net = Net::new(cfg.net.clone());
            let p = net.init_params(1);
            let sample: Sample = train::datasets(&cfg, None).unwrap().0.remove(0);
            let (r, _) = net.trace(&p, &sample.x);
            let mut worst: f64 = 0.0;
            for n in 0..16 {
                for (name, idx) in [("Z0", 12), ("X0X1", 5), ("Y0Y1", 10)] {
                    let engine = res.expect.iter().find(|s| s.name == name).unwrap().values[n].re;
                    // Relative: the `paper` cross term is not CP and its solution grows
                    // (⟨X0X1⟩ leaves [−1, 1]), so absolute errors grow with it.
                    worst = worst.max((r[n][idx] - engine).abs() / engine.abs().max(1.0));
                }
            }
            worst
        };
        let (e8, e16, e64) = (max_err(8), max_err(16), max_err(64));
        let order = (e8 / e16).log2();
        assert!((3.8..4.2).contains(&order), "{coupling}: RK4 order {order} (errors {e8:e}, {e16:e})");
        // Measured (relative): hamiltonian 2.5e-3, 1.5e-4, 8.8e-6, 5.4e-7 at 8, 16, 32, 64 substeps;
        // paper 3.4e-4 … 6.5e-8 (its ⟨Z0⟩(15 ms) from Φ⁺ is 5.6e4: not CP, the state blows up); cp 1.2e-4 … 2.6e-8.
        assert!(e64 < 1e-6, "{coupling}: error {e64:e} at 64 substeps");
    }
}

/// Progress fractions rise monotonically to 1; epoch reports come once per epoch; `false` aborts.
#[test]
fn progress_is_monotone_and_can_abort() {
    let cfg = TrainConfig::from_json_str(&config("", "")).unwrap();
    let (tr, te) = train::datasets(&cfg, None).unwrap();
    let (mut fractions, mut epochs) = (Vec::new(), Vec::new());
    let mut cb = |p: &train::TrainProgress| {
        fractions.push(p.fraction);
        if let Some(r) = p.epoch {
            epochs.push(r.epoch);
        }
        true
    };
    train::train(&cfg, &tr, &te, Some(&mut cb)).unwrap();
    assert_eq!(epochs, (1..=6).collect::<Vec<_>>());
    assert!(fractions.windows(2).all(|w| w[0] < w[1]) && fractions.iter().all(|f| *f > 0.0 && *f <= 1.0), "{fractions:?}");
    assert_eq!(*fractions.last().unwrap(), 1.0);
    let mut stop = |p: &train::TrainProgress| p.fraction < 0.3;
    assert_eq!(train::train(&cfg, &tr, &te, Some(&mut stop)).unwrap_err().code, ErrorCode::Aborted);
}

#[test]
fn bad_samples_are_rejected() {
    let cfg = TrainConfig::from_json_str(&config("", "")).unwrap();
    let (tr, te) = train::datasets(&cfg, None).unwrap();
    let mut bad = tr.clone();
    bad[3].label = 7;
    let e = train::train(&cfg, &bad, &te, None).unwrap_err();
    assert_eq!((e.code, e.path.as_deref()), (ErrorCode::InvalidArgument, Some("train[3].label")));
    let mut bad = te.clone();
    bad[1].x[4] = f64::NAN;
    let e = train::train(&cfg, &tr, &bad, None).unwrap_err();
    assert_eq!(e.path.as_deref(), Some("test[1].x[4]"));
}

#[test]
fn mutual_information_estimator() {
    // Independent uniform bits: ≈ 0 after the bias correction; identical: ln 2 (+ correction).
    let a: Vec<u32> = (0..4000u32).map(|i| (i * 2654435761u32) >> 31).collect();
    let b: Vec<u32> = (0..4000u32).map(|i| (i.wrapping_mul(40503).wrapping_add(12345) >> 7) & 1).collect();
    assert!(train::discrete_mutual_information(&a, &b).abs() < 5e-3);
    let mi = train::discrete_mutual_information(&a, &a);
    assert!((mi - std::f64::consts::LN_2).abs() < 1e-3, "{mi}");
}
