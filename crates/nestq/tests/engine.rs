//! Engine properties: superoperator ≡ matrix form, convergence orders, agreement of methods,
//! analytic cases (QuTiP's own test models), CP analysis, steady states and bad input.

use nalgebra::DMatrix;
use nestq::integrate::{self, Collect, Tolerances};
use nestq::{mesolve, steadystate, Coef, Csr, ErrorCode, Lindbladian, Method, Model, Modulation, C64};

mod common;
use common::{c, Lcg};


fn random_generator(hermitian_preserving: bool, seed: u64) -> Lindbladian {
    let dims = vec![2, 3];
    let n = 6;
    let mut r = Lcg(seed);
    let mut l = Lindbladian::new(dims);
    let h = r.mat(n);
    let h = (&h + h.adjoint()) * c(0.5, 0.0);
    l.add_hamiltonian(Coef::real(1.0), Csr::from_dense(&h, 0.0), "H0");
    let h2 = r.mat(n);
    let h2 = (&h2 + h2.adjoint()) * c(0.5, 0.0);
    l.add_hamiltonian(Coef { amp: c(0.7, 0.0), modulation: Modulation::Cos { omega: 2.0, phase: 0.3 } }, Csr::from_dense(&h2, 0.0), "H1");
    let a = Csr::from_dense(&r.mat(n), 0.0);
    let b = Csr::from_dense(&r.mat(n), 0.0);
    l.add_jump(Coef::real(0.3), a.clone(), "L0");
    l.add_jump(Coef { amp: c(0.2, 0.0), modulation: Modulation::Exp { rate: 0.5 } }, b.clone(), "L1");
    // monomial operators exercise the fast path
    let sm = nestq::ops::OpContext::new(vec![2, 3]).build("SM0 AD1").unwrap();
    l.add_jump(Coef::real(0.4), sm.clone(), "L2");
    l.add_cross(Coef::constant(c(0.1, 0.05)), a.clone(), b.clone(), "X01");
    if hermitian_preserving {
        l.add_cross(Coef::constant(c(0.1, -0.05)), b, a, "X10");
    }
    l
}

#[test]
fn superoperator_and_matrix_form_agree_to_1e13() {
    for &herm in &[true, false] {
        let l = random_generator(herm, 7);
        let n = l.dim();
        let mut rhs = l.compile();
        assert_eq!(rhs.is_hermiticity_preserving(), herm);
        let mut r = Lcg(99);
        for &t in &[0.0, 0.37, 2.5] {
            let x = r.mat(n);
            let x = if herm { (&x + x.adjoint()) * c(0.5, 0.0) } else { x };
            let sup = l.liouvillian(t, 1 << 30).unwrap();
            // the dense assembly used by the exact propagator is the same operator
            let mut dense = vec![c(0.0, 0.0); n * n * n * n];
            l.superop_dense_into(t, &mut dense);
            let sd = sup.to_dense();
            let dd = (0..n * n).flat_map(|j| (0..n * n).map(move |i| (i, j))).map(|(i, j)| (dense[i + n * n * j] - sd[(i, j)]).norm()).fold(0.0, f64::max);
            assert!(dd <= 1e-13 * sd.iter().map(|v| v.norm()).fold(0.0, f64::max), "dense superoperator differs by {dd:e}");
            let mut a = vec![c(0.0, 0.0); n * n];
            sup.matvec_acc(c(1.0, 0.0), x.as_slice(), &mut a);
            let mut b = vec![c(0.0, 0.0); n * n];
            rhs.apply(t, x.as_slice(), &mut b);
            let scale = a.iter().map(|v| v.norm()).fold(0.0, f64::max);
            let diff = a.iter().zip(&b).map(|(p, q)| (p - q).norm()).fold(0.0, f64::max);
            assert!(diff <= 1e-13 * scale, "hermitian={herm} t={t}: |𝓛x − rhs(x)| = {diff:e} (scale {scale})");
            // SuperOp (CSC, used by the implicit method) is the same operator
            let mut so = nestq::SuperOp::new(&l, 1 << 30).unwrap();
            so.update(t);
            let mut d = vec![c(0.0, 0.0); n * n];
            so.matvec(x.as_slice(), &mut d);
            let diff2 = a.iter().zip(&d).map(|(p, q)| (p - q).norm()).fold(0.0, f64::max);
            assert!(diff2 <= 1e-13 * scale);
        }
    }
}

#[test]
fn superoperator_matches_slides_formula_for_a_jump() {
    // 𝓛 = −i I⊗H + i Hᵀ⊗I + L̄⊗L − ½ I⊗L†L − ½ (L†L)ᵀ⊗I
    let ctx = nestq::ops::OpContext::new(vec![3]);
    let h = ctx.build("N0").unwrap();
    let lop = ctx.build("A0").unwrap();
    let mut l = Lindbladian::new(vec![3]);
    l.add_hamiltonian(Coef::real(1.3), h.clone(), "H");
    l.add_jump(Coef::real(1.0), lop.clone(), "L");
    let got = l.liouvillian(0.0, 1 << 30).unwrap().to_dense();
    let hd = h.to_dense() * c(1.3, 0.0);
    let ld = lop.to_dense();
    let id = DMatrix::<C64>::identity(3, 3);
    let ldl = ld.adjoint() * &ld;
    let expect = id.kronecker(&hd) * c(0.0, -1.0) + hd.transpose().kronecker(&id) * c(0.0, 1.0) + ld.conjugate().kronecker(&ld)
        - id.kronecker(&ldl) * c(0.5, 0.0)
        - ldl.transpose().kronecker(&id) * c(0.5, 0.0);
    assert!((got - expect).norm() < 1e-14);
    let d = nestq::lindblad_dissipator(&lop).to_dense();
    let expect_d = ld.conjugate().kronecker(&ld) - id.kronecker(&ldl) * c(0.5, 0.0) - ldl.transpose().kronecker(&id) * c(0.5, 0.0);
    assert!((d - expect_d).norm() < 1e-14);
}

fn nest_model(extra_solver: &str) -> Model {
    Model::from_json_str(&format!(r#"{{
      "dims": [2, 2],
      "hamiltonian": [{{"coef": 1, "ops": "Z0"}}, {{"coef": 1, "ops": "Z1"}}, {{"coef": 0.1, "ops": "X0 X1"}}],
      "jumps": [{{"rate": 0.05, "ops": "SM0"}}, {{"rate": 0.05, "ops": "SM1"}}],
      "initial": {{"product": [[1, 1], [1, 0.5]]}},
      "times": {{"start": 0, "stop": 4, "count": 5}},
      "observables": {{"X0": "X0"}}
      {extra_solver}
    }}"#)).unwrap()
}

fn final_state_error(m: &Model, reference: &DMatrix<C64>) -> f64 {
    let r = mesolve(m, None).unwrap();
    (r.final_state - reference).norm()
}

#[test]
fn rk4_converges_at_fourth_order() {
    let mut exact = nest_model("");
    exact.solver.method = Method::Expm;
    let reference = mesolve(&exact, None).unwrap().final_state;
    let mut errs = Vec::new();
    for &dt in &[0.1, 0.05, 0.025] {
        let mut m = nest_model("");
        m.solver.method = Method::Rk4;
        m.solver.dt = Some(dt);
        errs.push(final_state_error(&m, &reference));
    }
    for w in errs.windows(2) {
        let order = (w[0] / w[1]).log2();
        assert!((order - 4.0).abs() < 0.2, "observed order {order} (errors {errs:?})");
    }
}

#[test]
fn adaptive_methods_converge_with_tolerance() {
    let mut exact = nest_model("");
    exact.solver.method = Method::Expm;
    let reference = mesolve(&exact, None).unwrap().final_state;
    // Error per step is controlled, so the global error is about (number of steps)·rtol: for the
    // fifth-order and Krylov methods that stays within 200·rtol here; the second-order TR-BDF2
    // takes ~10³ steps at rtol 1e-6 (measured 2.1e-4 = 208·rtol), hence its wider factor.
    for (method, factor) in [(Method::Dopri5, 200.0), (Method::Trbdf2, 2000.0), (Method::Krylov, 200.0), (Method::Cheby, 200.0)] {
        let mut prev = f64::INFINITY;
        for &rtol in &[1e-4, 1e-6, 1e-8] {
            let mut m = nest_model("");
            m.solver.method = method;
            m.solver.rtol = rtol;
            m.solver.atol = rtol * 1e-2;
            let e = final_state_error(&m, &reference);
            // (Krylov is exact to rounding once the Arnoldi space spans the 16-dim problem)
            assert!(e < prev || e < 1e-12, "{}: error {e} did not fall when rtol went to {rtol}", method.as_str());
            assert!(e < factor * rtol, "{}: error {e} too large for rtol {rtol}", method.as_str());
            prev = e;
        }
    }
}

#[test]
fn trbdf2_is_second_order_on_fixed_steps() {
    // With tolerances loose enough that steps are set by the output grid, halving the grid
    // spacing divides the error by ~4.
    let mut exact = nest_model("");
    exact.solver.method = Method::Expm;
    exact.times = vec![0.0, 0.4];
    let reference = mesolve(&exact, None).unwrap().final_state;
    let l = exact.lindbladian().unwrap();
    let mut errs = Vec::new();
    for &k in &[8usize, 16, 32] {
        let times: Vec<f64> = (0..=k).map(|i| 0.4 * i as f64 / k as f64).collect();
        let mut so = nestq::SuperOp::new(&l, 1 << 30).unwrap();
        let mut col = Collect::default();
        integrate::trbdf2::propagate(&mut so, exact.initial.as_slice(), &times, Tolerances { rtol: 1.0, atol: 1.0, max_steps: 1000 }, &mut col, None).unwrap();
        let last = DMatrix::from_column_slice(4, 4, col.states.last().unwrap());
        errs.push((last - &reference).norm());
    }
    for w in errs.windows(2) {
        let order = (w[0] / w[1]).log2();
        assert!((order - 2.0).abs() < 0.3, "TR-BDF2 observed order {order} ({errs:?})");
    }
}

#[test]
fn time_dependent_decay_matches_analytic() {
    // rate κ e^{−rt} on a: ⟨n⟩ = n0 exp(−κ(1 − e^{−rt})/r)   (QuTiP's time-dependent decay test)
    for method in ["dopri5", "trbdf2", "auto"] {
        let m = Model::from_json_str(&format!(r#"{{
          "dims": [8],
          "jumps": [{{"rate": 1.0, "ops": "A0", "modulation": {{"exp": {{"rate": 0.5}}}}}}],
          "initial": {{"basis": [4]}},
          "times": {{"start": 0, "stop": 5, "count": 11}},
          "observables": {{"n": "N0"}},
          "solver": {{"method": "{method}", "rtol": 1e-9, "atol": 1e-11}}
        }}"#)).unwrap();
        let r = mesolve(&m, None).unwrap();
        let tol = if method == "trbdf2" { 1e-6 } else { 2e-7 };
        for (k, t) in r.times.iter().enumerate() {
            let exact = 4.0 * (-(1.0 - (-0.5 * t).exp()) / 0.5).exp();
            assert!((r.expect[0].values[k].re - exact).abs() < tol, "{method} t={t}: {} vs {exact}", r.expect[0].values[k].re);
        }
    }
}

#[test]
fn paper_cross_term_is_flagged_not_cp_and_completion_fixes_it() {
    let base = |extra: &str| {
        Model::from_json_str(&format!(r#"{{
          "dims": [2, 2],
          "hamiltonian": [{{"coef": 1, "ops": "Z0"}}, {{"coef": 1, "ops": "Z1"}}],
          "cross": [{{"rate": 0.1, "a": "X0", "b": "X1"}}, {{"rate": 0.1, "a": "X1", "b": "X0"}}],
          "initial": {{"product": [[1, 1], [1, -1]]}},
          "times": {{"start": 0, "stop": 30, "count": 61}},
          "observables": {{"XX": "X0 X1"}}
          {extra}
        }}"#)).unwrap()
    };
    let m = base("");
    let l = m.lindbladian().unwrap();
    let cp = l.cp_report();
    assert!((cp.min_eigenvalue + 0.1).abs() < 1e-12, "Kossakowski eigenvalue {}", cp.min_eigenvalue);
    let r = mesolve(&m, None).unwrap();
    assert!(r.stats.warnings.iter().any(|w| w.contains("not completely positive")));
    let min_xx = r.expect[0].values.iter().map(|v| v.re).fold(f64::INFINITY, f64::min);
    assert!(min_xx < -1.0, "the paper's cross term should drive ⟨X0X1⟩ below −1 from |+−⟩, min was {min_xx}");
    assert!(r.stats.warnings.iter().any(|w| w.contains("left the set of density matrices")));
    // completion: γ D[X0 + X1]
    let mc = base(r#", "cp_completion": true"#);
    let lc = mc.lindbladian().unwrap();
    assert!(lc.cp_report().min_eigenvalue > -1e-12);
    let rc = mesolve(&mc, None).unwrap();
    assert!(rc.expect[0].values.iter().all(|v| v.re >= -1.0 - 1e-9 && v.re <= 1.0 + 1e-9));
    assert!(rc.physicality.min_eigenvalue.iter().all(|&e| e > -1e-9));
    // the completion is exactly 0.1·D[X0 + X1] added to nothing else
    let ctx = nestq::ops::OpContext::new(vec![2, 2]);
    let mut manual = Lindbladian::new(vec![2, 2]);
    manual.add_hamiltonian(Coef::real(1.0), ctx.build("Z0").unwrap(), "");
    manual.add_hamiltonian(Coef::real(1.0), ctx.build("Z1").unwrap(), "");
    let s = ctx.build("X0").unwrap().add(c(1.0, 0.0), &ctx.build("X1").unwrap(), c(1.0, 0.0));
    manual.add_jump(Coef::real(0.1), s, "");
    let a = lc.liouvillian(0.0, 1 << 30).unwrap().to_dense();
    let b = manual.liouvillian(0.0, 1 << 30).unwrap().to_dense();
    assert!((a - b).norm() < 1e-14);
}

#[test]
fn steady_states_match_analytic_cases() {
    // thermal qubit: H = ω/2 Z, rates γ(n̄+1) D[SM] + γ n̄ D[SP] ⇒ ⟨Z⟩ = −1/(2n̄+1)
    let nbar = 0.7;
    let m = Model::from_json_str(&format!(r#"{{
      "dims": [2], "hamiltonian": [{{"coef": 0.5, "ops": "Z0"}}],
      "jumps": [{{"rate": {}, "ops": "SM0"}}, {{"rate": {}, "ops": "SP0"}}],
      "initial": {{"basis": [0]}}, "times": [0]
    }}"#, 0.2 * (nbar + 1.0), 0.2 * nbar)).unwrap();
    let ss = steadystate(&m.lindbladian().unwrap(), 1 << 30).unwrap();
    let z = nestq::measures::expect(&m.ctx.build("Z0").unwrap(), &ss.rho);
    assert!((z.re + 1.0 / (2.0 * nbar + 1.0)).abs() < 1e-12, "⟨Z⟩ = {z}");
    assert!(ss.residual < 1e-12);
    // driven cavity: H = Δ a†a + E(a + a†), L = √κ a ⇒ coherent state α = −iE/(iΔ + κ/2)
    let (delta, e, kappa) = (0.3, 0.4, 0.5);
    let m = Model::from_json_str(&format!(r#"{{
      "dims": [25], "hamiltonian": [{{"coef": {delta}, "ops": "N0"}}, {{"coef": {e}, "ops": "A0"}}, {{"coef": {e}, "ops": "AD0"}}],
      "jumps": [{{"rate": {kappa}, "ops": "A0"}}],
      "initial": {{"basis": [0]}}, "times": [0]
    }}"#)).unwrap();
    let ss = steadystate(&m.lindbladian().unwrap(), 1 << 30).unwrap();
    let alpha = c(0.0, -e) / c(kappa / 2.0, delta);
    let a = nestq::measures::expect(&m.ctx.build("A0").unwrap(), &ss.rho);
    let nn = nestq::measures::expect(&m.ctx.build("N0").unwrap(), &ss.rho);
    assert!((a - alpha).norm() < 1e-10, "⟨a⟩ = {a}, expected {alpha}");
    assert!((nn.re - alpha.norm_sqr()).abs() < 1e-10);
    assert!((nestq::measures::purity(&ss.rho) - 1.0).abs() < 1e-9, "a coherent state is pure");
    // long-time evolution reaches the same state
    let mut m2 = m.clone();
    m2.times = vec![0.0, 60.0];
    m2.solver.rtol = 1e-10;
    let r = mesolve(&m2, None).unwrap();
    let d = (&r.final_state - &ss.rho).norm();
    assert!(d < 1e-6, "|ρ(60) − ρ_ss| = {d} ({}: {})", r.stats.method, r.stats.method_reason);
}

#[test]
fn batch_and_sweep_match_single_solves() {
    let m = nest_model("");
    let models = vec![m.clone(); 8];
    let out = nestq::mesolve_batch(&models);
    let single = mesolve(&m, None).unwrap();
    for r in out {
        assert!((r.unwrap().final_state - &single.final_state).norm() < 1e-14);
    }
    let pm = Model::from_json_str(r#"{"dims": [2], "parameters": {"k": 0.1},
      "jumps": [{"rate": "k", "ops": "SM0"}], "initial": {"basis": [0]}, "times": [0, 2],
      "observables": {"z": "Z0"}}"#).unwrap();
    let sets: Vec<_> = [0.1, 0.2, 0.4].iter().map(|&k| [("k".to_string(), k)].into_iter().collect()).collect();
    let res = nestq::mesolve_sweep(&pm, &sets);
    for (r, k) in res.into_iter().zip([0.1, 0.2, 0.4]) {
        // ⟨Z⟩ = 2 e^{−kt} − 1
        let z = r.unwrap().expect[0].values[1].re;
        assert!((z - (2.0 * (-k * 2.0f64).exp() - 1.0)).abs() < 1e-9);
    }
    let bad: Vec<_> = vec![[("nope".to_string(), 1.0)].into_iter().collect()];
    assert!(nestq::mesolve_sweep(&pm, &bad)[0].is_err());
}

fn err_of(json: &str) -> nestq::Error {
    Model::from_json_str(json).expect_err("model should be rejected")
}

const OK_TAIL: &str = r#""initial": {"basis": [0, 0]}, "times": [0, 1]"#;

#[test]
fn bad_input_names_the_field() {
    let cases: Vec<(String, &str, &str)> = vec![
        ("{\"dims\": [2, 2],".into(), "$", "invalid JSON"),
        (format!(r#"{{"dims": [2, 2], "hamiltonian": [{{"coef": 1, "ops": "Q0"}}], {OK_TAIL}}}"#), "$.hamiltonian[0].ops", "unknown operator"),
        (format!(r#"{{"dims": [2, 2], "hamiltonian": [{{"coef": 1, "ops": "X5"}}], {OK_TAIL}}}"#), "$.hamiltonian[0].ops", "out of range"),
        (r#"{"dims": [2, 2], "initial": {"ket": [1, 0, 0]}, "times": [0, 1]}"#.into(), "$.initial.ket", "dimension 4"),
        (format!(r#"{{"dims": [2, 2], "hamiltonian": [{{"coef": [0, 1], "ops": "X0"}}], {OK_TAIL}}}"#), "$.hamiltonian[0].coef", "not Hermitian"),
        (format!(r#"{{"dims": [2, 2], "jumps": [{{"rate": -0.1, "ops": "SM0"}}], {OK_TAIL}}}"#), "$.jumps[0].rate", "negative rate"),
        (format!(r#"{{"dims": [2, 2], "hamiltonian": [{{"coef": 1e999, "ops": "X0"}}], {OK_TAIL}}}"#), "$", "JSON"),
        (r#"{"dims": [2], "initial": {"dm": [[0.5, 0], [0, 0.6]]}, "times": [0]}"#.into(), "$.initial.dm", "trace"),
        (r#"{"dims": [2], "initial": {"dm": [[1.2, 0], [0, -0.2]]}, "times": [0]}"#.into(), "$.initial.dm", "positive semidefinite"),
        (r#"{"dims": [2], "initial": {"dm": [[0.5, 0.3], [0.1, 0.5]]}, "times": [0]}"#.into(), "$.initial.dm", "not Hermitian"),
        (format!(r#"{{"dims": [2, 2], "measures": ["concurrence:0,0"], {OK_TAIL}}}"#), "$.measures[0]", "differ"),
        (format!(r#"{{"dims": [2, 3], "measures": ["concurrence:0,1"], "initial": {{"basis": [0, 0]}}, "times": [0]}}"#), "$.measures[0]", "two qubits"),
        (format!(r#"{{"dims": [2, 2], "solver": {{"method": "euler"}}, {OK_TAIL}}}"#), "$.solver.method", "unknown method"),
        (format!(r#"{{"dims": [2, 2], "hamiltonian": [{{"coef": "w", "ops": "Z0"}}], {OK_TAIL}}}"#), "$.hamiltonian[0].coef", "unknown parameter"),
        (format!(r#"{{"dims": [2, 2], "hamiltonan": [], {OK_TAIL}}}"#), "$.hamiltonan", "unknown field"),
        (r#"{"dims": [2, 2], "initial": {"basis": [0, 0]}, "times": [1, 0.5]}"#.into(), "$.times[1]", "increasing"),
        (r#"{"dims": [1], "initial": {"basis": [0]}, "times": [0]}"#.into(), "$.dims[0]", "at least 2"),
        (format!(r#"{{"dims": [2, 2], "solver": {{"method": "rk4"}}, {OK_TAIL}}}"#), "$.solver.dt", "dt"),
        (r#"{"dims": [2,2,2,2,2,2,2,2,2,2,2,2,2,2], "initial": {"basis": [0,0,0,0,0,0,0,0,0,0,0,0,0,0]}, "times": [0], "solver": {"memory_budget_mb": 64}}"#.into(), "$.solver.memory_budget_mb", "memory budget"),
    ];
    for (json, path, reason) in cases {
        let e = err_of(&json);
        assert_eq!(e.path.as_deref(), Some(path), "for {json}: got {e}");
        assert!(e.to_string().contains(reason), "for {json}: message {e} lacks '{reason}'");
    }
    assert_eq!(err_of("{").code, ErrorCode::Parse);
}

#[test]
fn budget_refuses_before_allocating() {
    let m = Model::from_json_str(r#"{"dims": [2,2,2,2,2,2,2,2,2,2], "hamiltonian": [{"coef": 1, "ops": "Z0"}],
        "initial": {"basis": [0,0,0,0,0,0,0,0,0,0]}, "times": [0, 1], "solver": {"method": "expm", "memory_budget_mb": 512}}"#).unwrap();
    let e = mesolve(&m, None).unwrap_err();
    assert_eq!(e.code, ErrorCode::MemoryBudget, "{e}");
    let l = m.lindbladian().unwrap();
    assert_eq!(l.liouvillian(0.0, 1024).unwrap_err().code, ErrorCode::MemoryBudget);
}

#[test]
fn progress_callback_can_abort() {
    let mut m = nest_model("");
    m.solver.method = Method::Dopri5;
    let mut calls = 0;
    let mut cb = |f: f64| {
        calls += 1;
        f < 0.5
    };
    let e = mesolve(&m, Some(&mut cb)).unwrap_err();
    assert_eq!(e.code, ErrorCode::Aborted);
    assert!(calls > 1);
}

#[test]
fn renormalize_is_off_by_default_and_reported() {
    let m = nest_model("");
    assert!(!m.solver.renormalize);
    let m2 = nest_model(r#", "solver": {"method": "dopri5", "renormalize": true}"#);
    let r = mesolve(&m2, None).unwrap();
    assert!(r.stats.warnings.iter().any(|w| w.contains("renormalize")));
    assert!((r.final_state.trace() - c(1.0, 0.0)).norm() < 1e-14);
}

#[test]
fn callback_coefficient_equals_the_declarative_modulation() {
    // a host callback f(t) = cos(1.3 t + 0.2) must reproduce the model file's cos modulation
    let m = Model::from_json_str(r#"{"dims": [2, 2],
      "hamiltonian": [{"coef": 1, "ops": "Z0"}, {"coef": 0.8, "ops": "Z1"},
                      {"coef": 0.4, "ops": "X0 X1", "modulation": {"cos": {"omega": 1.3, "phase": 0.2}}}],
      "jumps": [{"rate": 0.05, "ops": "SM0"}], "initial": {"product": [[1, 0.3], [0.2, 1]]},
      "times": {"start": 0, "stop": 6, "count": 13}, "observables": {"xx": "X0 X1"},
      "solver": {"rtol": 1e-10, "atol": 1e-12}}"#).unwrap();
    let reference = mesolve(&m, None).unwrap();
    let mut l = m.lindbladian().unwrap();
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = calls.clone();
    l.hamiltonian[2].coef.modulation = Modulation::Callback(std::sync::Arc::new(move |t: f64| {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        (1.3 * t + 0.2).cos()
    }));
    assert!(!l.is_time_independent());
    let obs: Vec<_> = m.observables.iter().map(|(n, _, o)| (n.clone(), o.clone())).collect();
    let r = nestq::mesolve_lindbladian(&l, &m.initial, &m.times, &obs, &m.measures, &m.solver, None).unwrap();
    assert!(calls.load(std::sync::atomic::Ordering::Relaxed) > 100, "the callback is evaluated at every RHS call");
    assert!((r.final_state - reference.final_state).norm() < 1e-13);
}


fn ising_model(nq: usize, method: &str, rtol: f64, atol: f64, stop: f64, count: usize) -> Model {
    let mut h: Vec<String> = (0..nq).map(|i| format!(r#"{{"coef": 50, "ops": "Z{i}"}}"#)).collect();
    h.extend((0..nq - 1).map(|i| format!(r#"{{"coef": 25, "ops": "X{i} X{}"}}"#, i + 1)));
    let jumps: Vec<String> = (0..nq).map(|i| format!(r#"{{"rate": 1, "ops": "SM{i}"}}"#)).collect();
    Model::from_json_str(&format!(
        r#"{{"dims": {dims:?}, "hamiltonian": [{h}], "jumps": [{j}], "initial": {{"basis": {basis:?}}},
            "times": {{"start": 0, "stop": {stop}, "count": {count}}}, "observables": {{"z": "Z{last}"}},
            "solver": {{"method": "{method}", "rtol": {rtol}, "atol": {atol}, "physicality": false}}}}"#,
        dims = vec![2; nq],
        h = h.join(","),
        j = jumps.join(","),
        basis = vec![0; nq],
        last = nq - 1
    ))
    .unwrap()
}

fn max_state_diff(a: &nestq::SolveResult, b: &nestq::SolveResult) -> f64 {
    let d = (&a.final_state - &b.final_state).iter().map(|v| v.norm()).fold(0.0, f64::max);
    let e = a.expect[0].values.iter().zip(&b.expect[0].values).map(|(x, y)| (x - y).norm()).fold(0.0, f64::max);
    d.max(e)
}

#[test]
fn cheby_matches_the_exact_propagator_on_an_oscillatory_chain() {
    // Ising N = 4 (|Im W| ≈ 420 ≫ decay): imaginary-axis orientation, many terms per interval
    let exact = mesolve(&ising_model(4, "expm", 1e-10, 1e-12, 2.0, 21), None).unwrap();
    let mut prev = f64::INFINITY;
    for &rtol in &[1e-4, 1e-7, 1e-10] {
        let r = mesolve(&ising_model(4, "cheby", rtol, rtol * 1e-2, 2.0, 21), None).unwrap();
        assert_eq!(r.stats.method, "cheby");
        let d = max_state_diff(&r, &exact);
        eprintln!("cheby rtol {rtol:e}: {} evaluations, max deviation from expm {d:.2e}", r.stats.integrator.rhs_evals);
        assert!(d < 10.0 * rtol, "rtol {rtol}: max deviation {d:e} from expm");
        assert!(d <= prev * 1.01 || d < 1e-12, "rtol {rtol}: deviation {d:e} did not fall (previous {prev:e})");
        prev = d;
        assert!(r.stats.integrator.rhs_evals > 0 && r.stats.integrator.rejected == 0);
    }
    // one long output interval is cut into sub-steps (x = cτ ≤ X_MAX) and stays accurate
    let exact = mesolve(&ising_model(4, "expm", 1e-10, 1e-12, 5.0, 2), None).unwrap();
    let r = mesolve(&ising_model(4, "cheby", 1e-10, 1e-12, 5.0, 2), None).unwrap();
    assert!(r.stats.integrator.steps > 1, "expected sub-steps, got {}", r.stats.integrator.steps);
    assert!(max_state_diff(&r, &exact) < 1e-9, "long interval: deviation {:e}", max_state_diff(&r, &exact));
}

#[test]
fn cheby_handles_dissipation_dominated_and_general_generators() {
    // a qutrit cavity with strong decay and weak dynamics: real-axis orientation
    let spec = |method: &str| {
        Model::from_json_str(&format!(r#"{{"dims": [3, 2],
          "hamiltonian": [{{"coef": 0.2, "ops": "N0"}}, {{"coef": 0.1, "ops": "A0 SP1"}}, {{"coef": 0.1, "ops": "AD0 SM1"}}],
          "jumps": [{{"rate": 6, "ops": "A0"}}, {{"rate": 2, "ops": "SM1"}}, {{"rate": 0.5, "ops": "Z1"}}],
          "cross": [{{"rate": 0.3, "a": "A0", "b": "SM1"}}, {{"rate": 0.3, "a": "SM1", "b": "A0"}}],
          "initial": {{"product": [[0.2, 0.5, 1], [1, 0.3]]}},
          "times": {{"start": 0, "stop": 3, "count": 7}}, "observables": {{"n": "N0"}},
          "solver": {{"method": "{method}", "rtol": 1e-10, "atol": 1e-12}}}}"#)).unwrap()
    };
    let l = spec("cheby").lindbladian().unwrap();
    let b = integrate::cheby::field_box(&l).unwrap();
    assert!(b.aspect() < 1.0, "expected a dissipation-dominated box, got {b:?}");
    eprintln!("dissipation-dominated box {b:?}");
    let exact = mesolve(&spec("expm"), None).unwrap();
    let r = mesolve(&spec("cheby"), None).unwrap();
    assert!(max_state_diff(&r, &exact) < 1e-9, "deviation {:e}", max_state_diff(&r, &exact));
}

#[test]
fn cheby_recovers_from_a_box_that_misses_the_field_of_values() {
    let m = ising_model(3, "expm", 1e-10, 1e-12, 1.0, 11);
    let exact = mesolve(&m, None).unwrap();
    let l = m.lindbladian().unwrap();
    let true_box = integrate::cheby::field_box(&l).unwrap();
    // a box 10× too narrow along the imaginary axis: the recurrence grows, the integrator widens
    // the box and redoes the sub-step
    let bad = integrate::cheby::FieldBox { im_half: true_box.im_half / 10.0, ..true_box };
    let mut rhs = l.compile();
    let mut col = Collect::default();
    let st = integrate::cheby::propagate(&mut rhs, m.initial.as_slice(), &m.times, bad, 1e-10, 1e-12, 100_000, &mut col).unwrap();
    eprintln!("narrow box: {} redone sub-steps, {} evaluations", st.rejected, st.rhs_evals);
    assert!(st.rejected > 0, "the narrow box was not detected");
    let last = col.states.last().unwrap();
    let d = last.iter().zip(exact.final_state.iter()).map(|(a, b)| (a - b).norm()).fold(0.0, f64::max);
    assert!(d < 1e-9, "deviation after recovery {d:e}");
}

#[test]
fn cheby_refuses_what_it_cannot_do_and_auto_picks_it_for_large_oscillatory_models() {
    let err = |json: &str| Model::from_json_str(json).and_then(|m| mesolve(&m, None).map(|_| ())).unwrap_err();
    let e = err(r#"{"dims": [2, 2], "hamiltonian": [{"coef": 1, "ops": "Z0"}], "cross": [{"rate": 0.2, "a": "SM0", "b": "SM1"}],
        "initial": {"basis": [0, 0]}, "times": [0, 1], "solver": {"method": "cheby"}}"#);
    assert!(e.path.as_deref() == Some("$.solver.method") && e.message.contains("Hermiticity"), "{e:?}");
    let e = err(r#"{"dims": [2], "hamiltonian": [{"coef": 1, "ops": "X0", "modulation": {"cos": {"omega": 1}}}],
        "initial": {"basis": [0]}, "times": [0, 1], "solver": {"method": "cheby"}}"#);
    assert!(e.path.as_deref() == Some("$.solver.method") && e.message.contains("time-independent"), "{e:?}");
    // N = 5: superoperator 1024×1024 (too large for auto's dense expm), |Im W| ≈ 530 ≫ decay
    let m = ising_model(5, "auto", 1e-6, 1e-8, 0.5, 6);
    let r = mesolve(&m, None).unwrap();
    assert_eq!(r.stats.method, "cheby", "{}", r.stats.method_reason);
    assert!(r.stats.method_reason.contains("oscillation-dominated"));
    let d = mesolve(&ising_model(5, "dopri5", 1e-10, 1e-12, 0.5, 6), None).unwrap();
    assert!(max_state_diff(&r, &d) < 1e-6, "auto (cheby) vs tight dopri5: {:e}", max_state_diff(&r, &d));
}

#[test]
fn hermitian_fast_path_output_is_exactly_hermitian() {
    // random generator with monomial and general jumps and a Hermitian pair of cross terms
    let l = random_generator(true, 11);
    let n = l.dim();
    let mut rhs = l.compile();
    rhs.set_input_projection(false);
    let mut r = Lcg(5);
    let x = r.mat(n);
    let x = (&x + x.adjoint()) * c(0.5, 0.0);
    let mut xs = x.as_slice().to_vec();
    for j in 0..n {
        xs[j + j * n].im = 0.0;
        for i in j + 1..n {
            xs[j + i * n] = xs[i + j * n].conj();
        }
    }
    let mut out = vec![c(0.0, 0.0); n * n];
    rhs.apply(0.7, &xs, &mut out);
    for j in 0..n {
        for i in 0..n {
            assert_eq!(out[i + j * n], out[j + i * n].conj(), "entry ({i},{j}) is not the conjugate of ({j},{i})");
        }
    }
}

#[test]
fn cheby_results_do_not_depend_on_the_thread_count() {
    // N = 7 (n = 128): the right-hand side and the recurrence run column-parallel on a team
    // (nestq::par) led by a worker of a 2-thread pool, or by this test thread with the global
    // pool's size (the machine's cores), or serially with one thread: the same bits each time.
    for method in ["cheby", "dopri5"] {
        let m = ising_model(7, method, 1e-6, 1e-8, 0.05, 3);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| mesolve(&m, None).unwrap())
        };
        let (a, b) = (run(1), run(2));
        let team = mesolve(&m, None).unwrap();
        assert_eq!(a.final_state, b.final_state, "{method}: 1 vs 2 threads differ");
        assert_eq!(a.stats.integrator.rhs_evals, b.stats.integrator.rhs_evals);
        assert_eq!(a.final_state, team.final_state, "{method}: 1 thread vs a team of {} differ", rayon::current_num_threads());
        assert!(a.expect.iter().zip(&team.expect).all(|(x, y)| x.values == y.values), "{method}: observables differ");
        assert_eq!(a.stats.integrator.rhs_evals, team.stats.integrator.rhs_evals);
    }
}
