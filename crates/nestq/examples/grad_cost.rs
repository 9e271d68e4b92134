//! Cost of one adjoint gradient (all parameters) relative to one forward solve.
//!
//! ```text
//! cargo run --release -p nestq --example grad_cost -- [N_QUBITS ...]   # default: 4 6
//! ```
//!
//! Model: the `test/fixtures/grad/chain4.json` family — an XY chain of N qubits with a field
//! parameter, a coupling parameter, a cos-modulated drive (amplitude and frequency
//! parameters), decay, dephasing and an exp-decaying pump (7 parameters, every Hamiltonian and
//! jump term parameter-dependent), t ∈ [0, 20], RK4 with dt = 0.01 (2000 steps), objective
//! ⟨Z_{N−1}⟩ at t = 10 plus ⟨Z0⟩ at the final time. Prints one JSON line per size with the best
//! of 7 CPU times (this thread's, `/proc/thread-self/schedstat`) of: `mesolve` (method rk4,
//! same dt; with and without the physicality diagnostics), the forward-only sweep
//! (`objective_value`) and `mesolve_grad`. `GRAD_ONLY=1` times only the gradient (profiling).

use nestq::{mesolve, mesolve_grad, objective_value, GradOptions, Model, Objective};
use serde_json::json;
use std::time::Instant;

fn chain(n: usize, physicality: bool) -> Model {
    let mut h: Vec<String> = (0..n).map(|i| format!(r#"{{"coef": "hz", "ops": "Z{i}"}}"#)).collect();
    for i in 0..n - 1 {
        h.push(format!(r#"{{"coef": "J", "ops": "X{i} X{}"}}"#, i + 1));
        h.push(format!(r#"{{"coef": "J", "ops": "Y{i} Y{}"}}"#, i + 1));
    }
    h.push(r#"{"coef": "A", "ops": "X0", "modulation": {"cos": {"omega": "wd"}}}"#.into());
    let mut j: Vec<String> = (0..n).map(|i| format!(r#"{{"rate": "gamma", "ops": "SM{i}"}}"#)).collect();
    j.extend((0..n).map(|i| format!(r#"{{"rate": "kappa", "ops": "Z{i}"}}"#)));
    j.push(format!(r#"{{"rate": 0.2, "ops": "SP{}", "modulation": {{"exp": {{"rate": "r"}}}}}}"#, n - 1));
    let mut basis = vec![1; n];
    basis[0] = 0;
    Model::from_json_str(&format!(
        r#"{{"dims": {dims:?}, "parameters": {{"hz": 0.6, "J": 0.4, "A": 0.5, "wd": 1.1, "gamma": 0.08, "kappa": 0.03, "r": 0.7}},
            "hamiltonian": [{h}], "jumps": [{j}], "initial": {{"basis": {basis:?}}},
            "times": {{"start": 0, "stop": 20, "count": 21}}, "observables": {{"Z0": "Z0", "Zl": "Z{l}"}},
            "solver": {{"method": "rk4", "dt": 0.01, "physicality": {physicality}}}}}"#,
        dims = vec![2; n],
        h = h.join(","),
        j = j.join(","),
        l = n - 1
    ))
    .unwrap()
}

/// CPU time of this thread in seconds (Linux `schedstat`; the kernels run single-threaded
/// below `PAR_MIN_N = 128`), so that the ratios do not depend on other load on the machine.
/// Falls back to wall time elsewhere.
fn cpu_now(t0: Instant) -> f64 {
    match std::fs::read_to_string("/proc/thread-self/schedstat") {
        Ok(s) => s.split_whitespace().next().and_then(|x| x.parse::<f64>().ok()).map_or(t0.elapsed().as_secs_f64(), |ns| ns * 1e-9),
        Err(_) => t0.elapsed().as_secs_f64(),
    }
}

fn best<T>(reps: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut b = f64::INFINITY;
    let mut out = None;
    let origin = Instant::now();
    for _ in 0..reps {
        let c0 = cpu_now(origin);
        let r = f();
        b = b.min(cpu_now(origin) - c0);
        out = Some(r);
    }
    (b, out.unwrap())
}

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().expect("qubit count")).collect();
    let sizes = if sizes.is_empty() { vec![4, 6] } else { sizes };
    let obj = Objective::from_json_str(r#"{"terms": [{"observable": "Zl", "time": 10}, {"observable": "Z0", "weight": -1}]}"#).unwrap();
    for n in sizes {
        let reps = if n <= 6 { 7 } else { 2 };
        let m = chain(n, true);
        let m_nophys = chain(n, false);
        let opts = GradOptions { checkpoints: std::env::var("GRAD_CHECKPOINTS").ok().map(|k| k.parse().expect("GRAD_CHECKPOINTS")), ..Default::default() };
        if std::env::var("GRAD_ONLY").is_ok() {
            let (t, _) = best(reps, || mesolve_grad(&m, &obj, &opts).unwrap());
            println!("grad only: {t:.3} s");
            continue;
        }
        let (t_solve, _) = best(reps, || mesolve(&m, None).unwrap());
        let (t_solve_np, _) = best(reps, || mesolve(&m_nophys, None).unwrap());
        let (t_fwd, _) = best(reps, || objective_value(&m, &obj, &opts).unwrap());
        let (t_grad, g) = best(reps, || mesolve_grad(&m, &obj, &opts).unwrap());
        println!("{}", json!({
            "bench": "grad_cost", "qubits": n, "parameters": g.gradient.len(), "steps": g.stats.steps,
            "checkpoints": g.stats.checkpoints, "parameter_groups": g.stats.parameter_groups,
            "mesolve_rk4_s": t_solve, "mesolve_rk4_no_physicality_s": t_solve_np, "forward_sweep_s": t_fwd, "grad_s": t_grad,
            "grad_forward_part_s": g.stats.forward_s, "grad_backward_part_s": g.stats.backward_s,
            "ratio_vs_mesolve": t_grad / t_solve, "ratio_vs_mesolve_no_physicality": t_grad / t_solve_np,
            "ratio_vs_forward_sweep": t_grad / t_fwd,
        }));
    }
}
