//! nestq's side of the benchmarks in `bench/` (run through `bench/run.sh`, which runs QuTiP on
//! the same machine in the same run). Prints one JSON object per line.
//!
//! ```text
//! cargo bench -p nestq --bench engine -- ising 6 8     # dissipative Ising chain
//! cargo bench -p nestq --bench engine -- bridges 1000  # 1000 two-qubit NEST bridges
//! cargo bench -p nestq --bench engine -- rhs 6 8       # GFLOP/s of the right-hand side (on a thread team)
//! cargo bench -p nestq --bench engine -- gemm 256      # faer vs nalgebra complex GEMM
//! ```

use nestq::{mesolve, Model, C64};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Instant;

fn ising_json(n: usize, method: &str) -> String {
    let mut h: Vec<String> = (0..n).map(|i| format!(r#"{{"coef": 50, "ops": "Z{i}"}}"#)).collect();
    h.extend((0..n - 1).map(|i| format!(r#"{{"coef": 25, "ops": "X{i} X{}"}}"#, i + 1)));
    let jumps: Vec<String> = (0..n).map(|i| format!(r#"{{"rate": 1, "ops": "SM{i}"}}"#)).collect();
    format!(
        r#"{{"dims": {dims:?}, "hamiltonian": [{h}], "jumps": [{j}], "initial": {{"basis": {basis:?}}},
            "times": {{"start": 0, "stop": 10, "count": 100}}, "observables": {{"z": "Z{last}"}},
            "solver": {{"method": "{method}", "rtol": 1e-6, "atol": 1e-8, "physicality": false}}}}"#,
        dims = vec![2; n],
        h = h.join(","),
        j = jumps.join(","),
        basis = vec![0; n],
        last = n - 1
    )
}

fn threads() -> usize {
    rayon::current_num_threads()
}

fn bench_ising(n: usize) {
    // BENCH_ISING_METHODS=auto,dopri5 restricts the methods (default: all four)
    let only = std::env::var("BENCH_ISING_METHODS").unwrap_or_default();
    for method in ["auto", "dopri5", "cheby", "krylov"] {
        if !only.is_empty() && !only.split(',').any(|m| m == method) {
            continue;
        }
        let m = Model::from_json_str(&ising_json(n, method)).unwrap();
        let reps = if n <= 6 { 3 } else { 1 };
        let mut best = f64::INFINITY;
        let mut res = None;
        for _ in 0..reps {
            let t0 = Instant::now();
            let r = mesolve(&m, None).unwrap();
            best = best.min(t0.elapsed().as_secs_f64());
            res = Some(r);
        }
        let r = res.unwrap();
        println!("{}", json!({"bench": "ising", "n": n, "impl": format!("nestq-native/{method}"), "method": r.stats.method,
            "threads": threads(), "wall_s": best, "steps": r.stats.integrator.steps, "rhs_evals": r.stats.integrator.rhs_evals,
            "z_last_final": r.expect[0].values.last().unwrap().re}));
    }
}

fn bridge_model() -> Model {
    Model::from_json_str(r#"{"dims": [2, 2], "parameters": {"omega1": 1, "omega2": 1, "gamma12": 0.1, "kappa": 0.05},
      "hamiltonian": [{"coef": "omega1", "ops": "Z0"}, {"coef": "omega2", "ops": "Z1"}, {"coef": "gamma12", "ops": "X0 X1"}],
      "jumps": [{"rate": "kappa", "ops": "SM0"}, {"rate": "kappa", "ops": "SM1"}],
      "initial": {"basis": [0, 0]}, "times": {"start": 0, "stop": 10, "count": 51}, "observables": {"Z0": "Z0"},
      "solver": {"physicality": false}}"#).unwrap()
}

fn bridge_sets(count: usize) -> Vec<BTreeMap<String, f64>> {
    (0..count)
        .map(|k| {
            let f = k as f64 / (count.max(2) - 1) as f64;
            [("omega1", 1.0 + 0.5 * f), ("omega2", 1.0 - 0.3 * f), ("gamma12", 0.05 + 0.2 * f), ("kappa", 0.02 + 0.08 * f)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect()
        })
        .collect()
}

fn bench_bridges(count: usize) {
    let m = bridge_model();
    let sets = bridge_sets(count);
    // BENCH_BRIDGE_METHODS=auto (or dopri5) restricts the run, e.g. for profiling one path
    let only = std::env::var("BENCH_BRIDGE_METHODS").unwrap_or_default();
    for (label, method) in [("auto", nestq::Method::Auto), ("dopri5", nestq::Method::Dopri5)] {
        if !only.is_empty() && !only.split(',').any(|m| m == label) {
            continue;
        }
        let mut mm = m.clone();
        mm.solver.method = method;
        let t0 = Instant::now();
        let out = nestq::mesolve_sweep(&mm, &sets);
        let wall = t0.elapsed().as_secs_f64();
        let finals: Vec<f64> = out.into_iter().map(|r| r.unwrap().expect[0].values.last().unwrap().re).collect();
        println!("{}", json!({"bench": "bridges", "count": count, "impl": format!("nestq-native/{label}"), "threads": threads(),
            "wall_s": wall, "z0_final_first": finals[0], "z0_final_last": finals[count - 1], "z0_final_sum": finals.iter().sum::<f64>()}));
    }
}

fn bench_rhs(nq: usize) {
    let m = Model::from_json_str(&ising_json(nq, "dopri5")).unwrap();
    let l = m.lindbladian().unwrap();
    let mut rhs = l.compile();
    rhs.set_input_projection(false);
    let n = l.dim();
    let x: Vec<C64> = m.initial.as_slice().to_vec();
    let mut y = vec![C64::new(0.0, 0.0); n * n];
    // flop count of one evaluation: K = ρG† (8 flops per complex multiply-add), K + K†
    // (2 per entry), monomial sandwiches (real scale: 4 flops per entry)
    let (ops, _) = l.kossakowski();
    let g_nnz: usize = {
        let mut t = nestq::Csr::zeros(n, n);
        for h in &l.hamiltonian {
            t = t.add(C64::new(1.0, 0.0), &h.op, C64::new(1.0, 0.0));
        }
        for d in &l.dissipators {
            t = t.add(C64::new(1.0, 0.0), &d.b.adjoint().matmul(&d.a), C64::new(1.0, 0.0));
        }
        t.nnz()
    };
    let sandwich: usize = ops.iter().map(|o| o.nnz() * o.nnz()).sum();
    let flops = 8.0 * (g_nnz * n) as f64 + 2.0 * (n * n) as f64 + 4.0 * sandwich as f64;
    let reps = (2e9 / flops).clamp(10.0, 100000.0) as usize;
    // on a thread team, as inside a solve (crate::par): `apply` alone, and `apply_parts` feeding
    // an elementwise update w ← w + 10⁻⁶·𝓛w, the shape of the Chebyshev recurrence's use
    let (dt, dt_parts) = nestq::par::with_team(|| {
        for _ in 0..3 {
            rhs.apply(0.0, &x, &mut y);
        }
        let t0 = Instant::now();
        for _ in 0..reps {
            rhs.apply(0.0, &x, &mut y);
        }
        let dt = t0.elapsed().as_secs_f64() / reps as f64;
        let (mut w, mut w_next) = (x.clone(), vec![C64::new(0.0, 0.0); n * n]);
        let t0 = Instant::now();
        for _ in 0..reps {
            let out = nestq::par::SharedMut::new(&mut w_next);
            let w_in: &[C64] = &w;
            rhs.apply_parts(0.0, &w, &mut y, &|start, part| {
                // SAFETY: the parts cover the buffer once, disjointly
                let o = unsafe { out.slice(start, part.len()) };
                for ((o, l), v) in o.iter_mut().zip(part).zip(&w_in[start..start + part.len()]) {
                    *o = *v + *l * 1e-6;
                }
            });
            std::mem::swap(&mut w, &mut w_next);
        }
        (dt, t0.elapsed().as_secs_f64() / reps as f64)
    });
    println!("{}", json!({"bench": "rhs", "n_qubits": nq, "dim": n, "threads": threads(), "seconds_per_eval": dt,
        "seconds_per_eval_parts": dt_parts, "flops_per_eval": flops, "gflops": flops / dt / 1e9}));
}

fn bench_gemm(n: usize) {
    use faer::linalg::matmul::matmul;
    let a = nalgebra::DMatrix::<C64>::from_fn(n, n, |i, j| C64::new((i as f64 * 0.37 + j as f64).sin(), (i * j) as f64 * 1e-3));
    let b = a.adjoint();
    let t0 = Instant::now();
    let c = &a * &b;
    let t_na = t0.elapsed().as_secs_f64();
    let fa = faer::Mat::<C64>::from_fn(n, n, |i, j| a[(i, j)]);
    let fb = faer::Mat::<C64>::from_fn(n, n, |i, j| b[(i, j)]);
    let mut fc = faer::Mat::<C64>::zeros(n, n);
    let t0 = Instant::now();
    matmul(&mut fc, faer::Accum::Replace, &fa, &fb, C64::new(1.0, 0.0), faer::Par::Seq);
    let t_fa = t0.elapsed().as_secs_f64();
    let diff = (0..n).map(|i| (c[(i, i)] - fc[(i, i)]).norm()).fold(0.0, f64::max);
    let flops = 8.0 * (n as f64).powi(3);
    println!("{}", json!({"bench": "gemm", "n": n, "nalgebra_s": t_na, "faer_s": t_fa, "nalgebra_gflops": flops / t_na / 1e9,
        "faer_gflops": flops / t_fa / 1e9, "max_diag_diff": diff}));
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if args.is_empty() {
        eprintln!("usage: engine (ising N… | bridges COUNT | rhs N… | gemm N…)");
        return;
    }
    let nums: Vec<usize> = args[1..].iter().map(|a| a.parse().expect("a number")).collect();
    match args[0].as_str() {
        "ising" => nums.iter().for_each(|&n| bench_ising(n)),
        "bridges" => nums.iter().for_each(|&n| bench_bridges(n)),
        "rhs" => nums.iter().for_each(|&n| bench_rhs(n)),
        "gemm" => nums.iter().for_each(|&n| bench_gemm(n)),
        other => eprintln!("unknown benchmark {other}"),
    }
}
