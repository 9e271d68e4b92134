//! `mcsolve`: the quantum-jump (Monte Carlo wave-function) unravelling of the master equation,
//! with QuTiP 5 `mcsolve` semantics (Johansson, Nation & Nori, CPC 184, 1234 (2013), §3;
//! QuTiP 5 `qutip.solver.mcsolve`).
//!
//! Each trajectory is a pure state evolving under `H_eff = H − (i/2) Σ_j C_j†C_j` and jumping at
//! random times ([`trajectory`]); averages over trajectories converge to the master equation's
//! `Tr(O ρ(t))` with standard error `∝ 1/√ntraj`. The collapse operators come from the model's
//! jumps and cross terms ([`system`]; the generator must be completely positive).
//!
//! Ensemble rules:
//! - trajectory k draws from its own stream `Xoshiro256::seed_from_u64(stream_seed(seed, k))`
//!   ([`crate::rng`]), so results do not depend on the thread count or on how many
//!   trajectories run; trajectories run in parallel in batches of [`BATCH`] and are summed in
//!   index order (bit-identical for any number of threads);
//! - a mixed initial state is sampled from its eigen-decomposition (one uniform draw per
//!   trajectory, before its first jump target);
//! - `target_tol` is checked after every batch once [`BATCH`] trajectories have run;
//! - improved sampling (Abdelhafez, Schuster & Koch, PRA 99, 052327 (2019)): trajectory 0 is
//!   the no-jump trajectory, with probability p₀ = ‖ψ_nj(T)‖²; trajectories 1 … ntraj−1 are
//!   conditioned on at least one jump (first target `r ~ U(p₀, 1)`) and weighted by 1 − p₀.
//!
//! The averaged density matrix (for `final_state` and the model's `measures`) is
//! `Σ_k w_k |ψ_k⟩⟨ψ_k|` of the normalised trajectory states.

pub mod system;
pub(crate) mod trajectory;

use crate::error::{Error, Result};
use crate::guard::{check_scale, Deadline, TermScale};
use crate::integrate::{Stats, Tolerances};
use crate::lindblad::Lindbladian;
use crate::model::{Measure, Model, SolverOptions};
use crate::result::{ExpectSeries, McStats, Physicality, Progress, RunStats, SolveResult};
use crate::rng::{stream_seed, Xoshiro256};
use crate::sparse::Csr;
use crate::C64;
use nalgebra::DMatrix;
pub use system::{Collapse, McSystem};
use trajectory::{FirstTarget, Keep, KrylovParams, Setup, Trajectory};
use crate::ensemble::{accumulate, initial_ensemble, run_batch, Moments};
pub use crate::ensemble::BATCH;

/// Time-independent trajectories run on Krylov steps from this Hilbert-space dimension on, and
/// below it when they oscillate much more than they jump ([`KRYLOV_OSCILLATION`]). Small
/// systems that jump often do better on Dormand–Prince: every jump restarts the Arnoldi process,
/// and the small exponentials at output and jump times cost more than Dormand–Prince's extra
/// products. Measured (session 9, bench/RESULTS.md): on the QuantumToolbox.jl Kerr oscillator
/// (n = 50, ~100 jumps per trajectory) Krylov steps took 4.5 s for 100 trajectories and
/// Dormand–Prince 0.25 s; on the Ising chain at n = 64 (~6 jumps, ‖H‖T ≈ 4000) Krylov was 1.8×
/// faster; at n = 1024 it needs 10× fewer products.
pub const KRYLOV_MIN_DIM: usize = 256;

/// Below [`KRYLOV_MIN_DIM`], Krylov steps are used when ‖G‖₁ ≥ this × ‖Σ_j C_j†C_j‖₁ (the bound of
/// the jump rate): the Ising chain at n = 64 has a ratio ≈ 70, the Kerr oscillator ≈ 1.5.
pub const KRYLOV_OSCILLATION: f64 = 20.0;

/// Arnoldi dimension of the Krylov trajectory integrator: 16 up to dimension 256, Expokit's 30
/// above, where the matrix–vector products outweigh the small exponentials (measured on the
/// dissipative Ising chain: N = 8, 100 trajectories, 5.6 s at 16 against 6.4 s at 30; N = 10,
/// 32 trajectories, 9.3 s at 16 against 8.4 s at 30; 2 threads, session 9).
pub fn krylov_dim(n: usize) -> usize {
    if n <= 256 {
        16
    } else {
        30
    }
}

/// Runs the model's trajectories with its `solver` options (`ntraj`, `seed`, …; see
/// [`crate::model::McOptions`]) whatever its `solver.method`.
pub fn mcsolve(model: &Model, progress: Option<Progress>) -> Result<SolveResult> {
    let l = model.lindbladian()?;
    let obs: Vec<(String, Csr)> = model.observables.iter().map(|(n, _, o)| (n.clone(), o.clone())).collect();
    mcsolve_lindbladian(&l, &model.initial, &model.times, &obs, &model.measures, &model.solver, progress)
}

/// Runs `solver.mc.ntraj` quantum-jump trajectories of the generator `l` from `rho0` and returns
/// the ensemble averages of `observables` at `times` (with their standard errors, jump records
/// and, when it fits the memory budget, the averaged final state; `measures` are evaluated on
/// the averaged ρ(t)). The `physicality` report is empty: trajectories are normalised pure
/// states by construction.
///
/// Errors: a generator that is not completely positive (no unravelling exists), a
/// `target_tol` without observables, improved sampling with a mixed initial state or fewer than
/// 2 trajectories, `measures` whose averaged states exceed the memory budget, the timeout, a
/// progress callback returning `false`.
pub fn mcsolve_lindbladian(
    l: &Lindbladian,
    rho0: &DMatrix<C64>,
    times: &[f64],
    observables: &[(String, Csr)],
    measures_req: &[(String, Measure)],
    solver: &SolverOptions,
    mut progress: Option<Progress>,
) -> Result<SolveResult> {
    let start = crate::clock::now_s();
    let n = l.dim();
    if rho0.nrows() != n || rho0.ncols() != n {
        return Err(Error::arg("rho0", format!("initial state is {}×{} but the generator acts on dimension {n}", rho0.nrows(), rho0.ncols())));
    }
    crate::integrate::check_times(times)?;
    let mc = &solver.mc;
    if mc.target_tol.is_some() && observables.is_empty() {
        return Err(Error::model("$.solver.target_tol", "target_tol needs at least one observable (in $.observables) whose standard error it bounds"));
    }
    let scales = crate::guard::term_scales(l, times[0], times[times.len() - 1]);
    let scales: Vec<TermScale<'_>> = scales.iter().map(|(p, v)| TermScale { path: p, norm: *v }).collect();
    check_scale(&scales, times)?;
    l.check_hamiltonian_hermitian()?;
    let sys = McSystem::build(l)?;
    let init = initial_ensemble(rho0)?;
    if mc.improved_sampling && init.len() > 1 {
        return Err(Error::model("$.solver.improved_sampling", format!("improved sampling needs a pure initial state; this one has rank {}", init.len())));
    }
    if mc.improved_sampling && mc.ntraj < 2 {
        return Err(Error::model("$.solver.ntraj", "improved sampling needs ntraj ≥ 2 (the no-jump trajectory and at least one more)"));
    }
    let state_bytes = (n as u128) * (n as u128) * 16;
    let keep = if !measures_req.is_empty() {
        let need = state_bytes * times.len() as u128;
        if need > solver.memory_budget {
            return Err(Error::model("$.measures", format!(
                "measures on an mcsolve run need the averaged ρ at all {} output times ({} MB), over the memory budget of {} MB (solver.memory_budget_mb)",
                times.len(), need / 1048576, solver.memory_budget / 1048576)));
        }
        Keep::All
    } else if state_bytes <= solver.memory_budget {
        Keep::Last
    } else {
        Keep::Nothing
    };
    let seed = mc.seed.unwrap_or_else(|| (crate::clock::now_s() * 1e6) as u64 ^ 0x6A09_E667_F3BC_C908);
    let obs_ops: Vec<Csr> = observables.iter().map(|(_, o)| o.clone()).collect();
    // time-independent G of dimension ≥ KRYLOV_MIN_DIM: Krylov steps spanning many output times
    // (Expokit's error control with tolerance rtol per unit time, as method krylov); otherwise
    // Dormand–Prince with dense output
    let anorm = sys.g0.norm1();
    let krylov = (sys.td.is_empty() && (n >= KRYLOV_MIN_DIM || anorm >= KRYLOV_OSCILLATION * sys.jump_bound))
        .then(|| KrylovParams { m: krylov_dim(n), tol: solver.rtol, anorm });
    let setup = Setup {
        sys: &sys,
        krylov,
        observables: &obs_ops,
        times,
        tol: Tolerances { rtol: solver.rtol, atol: solver.atol, max_steps: solver.max_steps },
        norm_tol: mc.norm_tol,
        keep,
        deadline: Deadline::start(solver.timeout)?,
    };
    let nkept = match keep {
        Keep::Nothing => 0,
        Keep::Last => 1,
        Keep::All => times.len(),
    };
    let mut rho_sum: Vec<DMatrix<C64>> = (0..nkept).map(|_| DMatrix::zeros(n, n)).collect();
    let mut stats = McStats { seed, collapse_ops: sys.collapses.iter().map(|c| c.label.clone()).collect(), ..Default::default() };
    let mut istats = Stats::default();
    let mut add_stats = |s: &Stats| {
        istats.steps += s.steps;
        istats.rejected += s.rejected;
        istats.rhs_evals += s.rhs_evals;
    };
    let mut runs: Vec<Vec<Vec<C64>>> = Vec::new();
    // improved sampling: the no-jump trajectory first
    let mut first = FirstTarget::Uniform;
    let mut no_jump: Option<(f64, Trajectory)> = None;
    let mut k0 = 0;
    if mc.improved_sampling {
        let mut rng = Xoshiro256::seed_from_u64(stream_seed(seed, 0));
        let t = trajectory::run(&setup, &init[0].1, &mut rng, FirstTarget::Never)?;
        let p0 = t.final_norm2.clamp(0.0, 1.0);
        add_stats(&t.stats);
        stats.col_times.push(Vec::new());
        stats.col_which.push(Vec::new());
        if mc.keep_runs_results {
            runs.push(t.expect.clone());
        }
        first = FirstTarget::Above(p0);
        no_jump = Some((p0, t));
        k0 = 1;
    }
    let one = |k: usize| -> Result<Trajectory> {
        let mut rng = Xoshiro256::seed_from_u64(stream_seed(seed, k as u64));
        let psi0 = crate::ensemble::pick(&init, &mut rng);
        trajectory::run(&setup, psi0, &mut rng, first)
    };
    let mut moments = Moments::new(observables.len(), times.len());
    let mut done = k0;
    let mut reached = None;
    while done < mc.ntraj {
        let hi = (done + BATCH).min(mc.ntraj);
        let batch = run_batch(done, hi, &one);
        let mut trajs = Vec::with_capacity(batch.len());
        for r in batch {
            trajs.push(r?);
        }
        for t in &trajs {
            moments.push(&t.expect);
            add_stats(&t.stats);
        }
        for (slot, acc) in rho_sum.iter_mut().enumerate() {
            let states: Vec<&[C64]> = trajs.iter().map(|t| t.states[slot].as_slice()).collect();
            accumulate(acc, 1.0, &states);
        }
        for t in trajs {
            stats.col_times.push(t.jump_times);
            stats.col_which.push(t.jump_which);
            if mc.keep_runs_results {
                runs.push(t.expect);
            }
        }
        done = hi;
        let at = done;
        setup.deadline.check(|| format!("after {at} of {} trajectories", mc.ntraj))?;
        if let Some(p) = progress.as_mut() {
            if !p(done as f64 / mc.ntraj as f64) {
                return Err(Error::new(crate::error::ErrorCode::Aborted, format!("aborted by the caller after {done} trajectories")));
            }
        }
        if let Some((atol, rtol)) = mc.target_tol {
            if moments.m >= BATCH {
                let w = no_jump.as_ref().map_or(1.0, |(p0, _)| 1.0 - p0);
                let ok = (0..observables.len()).all(|i| {
                    (0..times.len()).all(|k| {
                        let mean = mean_at(&moments, no_jump.as_ref(), i, k);
                        w * moments.std_err(i, k) <= atol + rtol * mean.norm()
                    })
                });
                if ok {
                    reached = Some(true);
                    break;
                }
            }
        }
    }
    let mut warnings = Vec::new();
    if mc.target_tol.is_some() && reached.is_none() {
        reached = Some(false);
        warnings.push(format!("target_tol was not reached within ntraj = {} trajectories", mc.ntraj));
    }
    let w_jump = no_jump.as_ref().map_or(1.0, |(p0, _)| 1.0 - p0);
    let m = moments.m.max(1) as f64;
    // averaged states: p₀ρ_nj + (1 − p₀)·(1/m)Σρ_k
    let rho_avg: Vec<DMatrix<C64>> = rho_sum
        .into_iter()
        .enumerate()
        .map(|(slot, mut r)| {
            r *= C64::new(w_jump / m, 0.0);
            if let Some((p0, t)) = no_jump.as_ref() {
                accumulate(&mut r, *p0, &[t.states[slot].as_slice()]);
            }
            r
        })
        .collect();
    let expect: Vec<ExpectSeries> = observables
        .iter()
        .enumerate()
        .map(|(i, (name, op))| {
            let values = (0..times.len()).map(|k| mean_at(&moments, no_jump.as_ref(), i, k)).collect();
            ExpectSeries { name: name.clone(), values, real: op.hermiticity_error() <= 1e-12 * op.max_abs().max(1.0) }
        })
        .collect();
    stats.std_expect = (0..observables.len()).map(|i| (0..times.len()).map(|k| w_jump * moments.std_err(i, k)).collect()).collect();
    stats.ntraj = done;
    stats.no_jump_probability = no_jump.as_ref().map(|(p0, _)| *p0);
    stats.target_tol_reached = reached;
    stats.runs_expect = if mc.keep_runs_results { Some(runs) } else { None };
    stats.final_state_omitted = rho_avg.is_empty();
    let (meas, final_state) = crate::ensemble::averaged_outputs(measures_req, &rho_avg, rho0, &l.dims, &mut warnings)?;
    Ok(SolveResult {
        times: times.to_vec(),
        expect,
        measures: meas,
        physicality: Physicality::default(),
        final_state,
        stats: RunStats {
            method: "mcsolve".into(),
            method_reason: format!(
                "requested: {} quantum-jump trajectories (seed {seed}){}, integrated by {}",
                done,
                if mc.improved_sampling { ", improved sampling" } else { "" },
                if krylov.is_some() { "Krylov steps (time-independent H_eff)" } else { "Dormand–Prince 5(4) with dense output (time-dependent H_eff, or small and jumping often)" }
            ),
            integrator: istats,
            wall_s: crate::clock::now_s() - start,
            cp_min_eigenvalue: l.cp_report().min_eigenvalue,
            warnings,
            mpo: None,
            mc: Some(stats),
            sde: None,
        },
    })
}

/// The ensemble mean of observable `i` at output `k` (with improved sampling,
/// `p₀·⟨O⟩_nj + (1 − p₀)·mean`).
fn mean_at(m: &Moments, no_jump: Option<&(f64, Trajectory)>, i: usize, k: usize) -> C64 {
    match no_jump {
        Some((p0, t)) => t.expect[i][k] * *p0 + m.mean[i][k] * (1.0 - p0),
        None => m.mean[i][k],
    }
}
