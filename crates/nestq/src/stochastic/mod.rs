//! `ssesolve` and `smesolve`: the diffusive unravellings of the master equation — continuous
//! homodyne or heterodyne detection of the model's jumps — with QuTiP 5 semantics
//! (`qutip.solver.stochastic`: `sc_ops`, `heterodyne`, `store_measurement`, `dW`,
//! `run_from_experiment`; Wiseman & Milburn, *Quantum Measurement and Control* (2010), ch. 4).
//!
//! - `smesolve` integrates the stochastic master equation for the conditional ρ of each
//!   trajectory: the monitored jumps (`solver.sc_ops`, each with a detection efficiency η) drive
//!   the noise, every jump (monitored or not) the deterministic part. Averages over trajectories
//!   converge to `mesolve` of the same model.
//! - `ssesolve` integrates the stochastic Schrödinger equation: every collapse operator is
//!   monitored with efficiency 1, so a pure state stays pure.
//!
//! Schemes ([`step`]): Euler–Maruyama, Milstein, and the positivity-preserving Rouchon–Ralph
//! map (default). Steps are fixed: each output interval is divided into
//! `⌈Δt/dt⌉` equal steps (`solver.dt`, default [`crate::model::DEFAULT_SDE_DT`]), so every output
//! time is hit exactly.
//!
//! The record of channel `i` over output interval `k` is reported as QuTiP 5 does:
//! `measurement[i][k] = f_i·(⟨s_i + s_i†⟩ + ΔW_ik/Δt_k)` with `⟨·⟩` at the interval's end (or
//! start, or their mean: `store_measurement`), `ΔW_ik` the sum of the step increments, and the
//! noise factor `f_i` = 1 (homodyne), √2 (heterodyne; see [`system`]).
//!
//! Ensembles: trajectory k draws from `Xoshiro256::seed_from_u64(stream_seed(seed, k))`, runs in
//! batches of [`crate::ensemble::BATCH`], summed in index order: results do not depend on the
//! thread count. `from_experiment` runs one trajectory on a given record instead.

pub mod step;
pub mod system;

use crate::ensemble::{initial_ensemble, run_batch, Moments, BATCH};
use crate::error::{Error, ErrorCode, Result};
use crate::guard::{check_scale, Deadline, TermScale};
use crate::integrate::Stats;
use crate::lindblad::Lindbladian;
use crate::model::{FromExperiment, Measure, Method, Model, SdeMethod, SolverOptions, StoreMeasurement, DEFAULT_SDE_DT};
use crate::result::{ExpectSeries, Physicality, Progress, RunStats, SdeStats, SolveResult};
use crate::rng::{stream_seed, Xoshiro256};
use crate::sparse::Csr;
use crate::C64;
use nalgebra::DMatrix;
use step::Work;
pub use system::SdeSystem;

/// Runs the model's diffusive trajectories with its `solver` options; `solver.method` must be
/// `ssesolve` or `smesolve`.
pub fn smesolve(model: &Model, progress: Option<Progress>) -> Result<SolveResult> {
    let l = model.lindbladian()?;
    let obs: Vec<(String, Csr)> = model.observables.iter().map(|(n, _, o)| (n.clone(), o.clone())).collect();
    sdesolve_lindbladian(&l, &model.initial, &model.times, &obs, &model.measures, &model.solver, progress)
}

/// What one trajectory returns.
struct SdeTrajectory {
    /// `expect[i][k]`.
    expect: Vec<Vec<C64>>,
    /// Kept states: column-major ρ (SME) or normalised ψ (SSE), in output order.
    states: Vec<Vec<C64>>,
    /// `measurement[i][k]` (with `store_measurement`).
    measurement: Vec<Vec<f64>>,
    /// `dw[i][k]`, summed over the steps of interval k (with `store_measurement`).
    dw: Vec<Vec<f64>>,
    /// SME: `(|Tr ρ − 1|, max|ρ − ρ†|, λ_min)` at each output time (with `physicality`).
    phys: Vec<(f64, f64, f64)>,
    steps: u64,
}

/// The noise a trajectory is driven by.
enum Noise<'a> {
    Sampled(Xoshiro256),
    Given(&'a [Vec<f64>]),
    Measured(&'a [Vec<f64>]),
}

struct Setup<'a> {
    sys: &'a SdeSystem,
    sme: bool,
    method: SdeMethod,
    dt: f64,
    times: &'a [f64],
    observables: &'a [Csr],
    keep_all: bool,
    keep_last: bool,
    store: StoreMeasurement,
    physicality: bool,
    deadline: Deadline,
}

/// Steps of output interval `k`: `⌈Δt/dt⌉` (one for a recorded experiment).
fn steps_of(dt: f64, span: f64) -> u64 {
    if span <= 0.0 {
        return 0;
    }
    let q = span / dt;
    (q * (1.0 - 1e-12)).ceil().max(1.0) as u64
}

fn run(setup: &Setup, init: &[C64], mut noise: Noise) -> Result<SdeTrajectory> {
    let sys = setup.sys;
    let n = sys.mc.n;
    let m = sys.channels.len();
    let times = setup.times;
    let nt = times.len();
    let len = if setup.sme { n * n } else { n };
    let mut state: Vec<C64> = if setup.sme {
        let mut r = vec![C64::new(0.0, 0.0); n * n];
        for j in 0..n {
            for i in 0..n {
                r[j * n + i] = init[i] * init[j].conj();
            }
        }
        r
    } else {
        init.to_vec()
    };
    let mut w = Work::new(n, len, m);
    let mut tmp = vec![C64::new(0.0, 0.0); n];
    let store = setup.store != StoreMeasurement::No;
    let mut out = SdeTrajectory {
        expect: vec![Vec::with_capacity(nt); setup.observables.len()],
        states: Vec::new(),
        measurement: if store { vec![Vec::with_capacity(nt.saturating_sub(1)); m] } else { Vec::new() },
        dw: if store { vec![Vec::with_capacity(nt.saturating_sub(1)); m] } else { Vec::new() },
        phys: Vec::new(),
        steps: 0,
    };
    let mut x_prev = vec![0.0; m];
    let mut dw = vec![0.0; m];
    let mut dw_sum = vec![0.0; m];
    for k in 0..nt {
        let t_k = times[k];
        if k > 0 {
            let span = t_k - times[k - 1];
            let nsteps = if matches!(noise, Noise::Sampled(_)) { steps_of(setup.dt, span) } else { u64::from(span > 0.0) };
            let h = if nsteps > 0 { span / nsteps as f64 } else { 0.0 };
            dw_sum.iter_mut().for_each(|v| *v = 0.0);
            for s in 0..nsteps {
                let t = times[k - 1] + s as f64 * h;
                let nrm2 = if setup.sme { step::sme_channels(sys, t, &state, &mut w)?; 1.0 } else { step::sse_channels(sys, t, &state, &mut w)? };
                match &mut noise {
                    Noise::Sampled(rng) => {
                        let sh = h.sqrt();
                        dw.iter_mut().for_each(|v| *v = sh * rng.normal());
                    }
                    Noise::Given(d) => dw.iter_mut().enumerate().for_each(|(i, v)| *v = d[i][k - 1]),
                    // current r = f(⟨x⟩ + ΔW/Δt), ⟨x⟩ at the start: ΔW = r·h/f − ⟨x⟩h
                    Noise::Measured(r) => dw.iter_mut().enumerate().for_each(|(i, v)| *v = r[i][k - 1] * h / sys.channels[i].factor - w.x[i] * h),
                }
                if setup.sme {
                    step::sme_step(sys, setup.method, t, h, &dw, &mut state, &mut w)?;
                } else {
                    step::sse_step(sys, setup.method, t, h, &dw, nrm2, &mut state, &mut w);
                }
                for (a, b) in dw_sum.iter_mut().zip(&dw) {
                    *a += b;
                }
                out.steps += 1;
            }
            if state.iter().any(|v| !v.re.is_finite() || !v.im.is_finite()) {
                return Err(Error::new(ErrorCode::Numerical, format!(
                    "the {} state is no longer finite at t = {t_k} ({} with steps of {:.4e}): the step is too large for this model; reduce $.solver.dt or use sde_method \"rouchon\"",
                    if setup.sme { "conditional" } else { "trajectory" }, setup.method.as_str(), h)));
            }
            setup.deadline.check(|| format!("at t = {t_k} of a trajectory"))?;
        }
        // observables and channel expectations at t_k
        let nrm2 = if setup.sme { 1.0 } else { state.iter().map(|v| v.norm_sqr()).sum() };
        let (t_ref, st) = (t_k, &state);
        let rho_tr = if setup.sme { step_trace(st, n) } else { 1.0 };
        for (i, op) in setup.observables.iter().enumerate() {
            let v = if setup.sme { step::expect_dm(op, st, n) / rho_tr } else { step::expect_ket(op, st, nrm2, &mut tmp) };
            out.expect[i].push(v);
        }
        if store {
            let amp = {
                let mut a = vec![0.0; m];
                sys.amplitudes(t_ref, &mut a)?;
                a
            };
            let x_now: Vec<f64> = (0..m)
                .map(|i| {
                    let ch = &sys.channels[i];
                    let v = if setup.sme { step::expect_dm(&ch.op, st, n) } else { step::expect_ket(&ch.op, st, nrm2, &mut tmp) };
                    2.0 * amp[i] * v.re
                })
                .collect();
            if k > 0 {
                let span = t_k - times[k - 1];
                for i in 0..m {
                    let x = match setup.store {
                        StoreMeasurement::Start => x_prev[i],
                        StoreMeasurement::Middle => 0.5 * (x_prev[i] + x_now[i]),
                        _ => x_now[i],
                    };
                    let f = sys.channels[i].factor;
                    out.measurement[i].push(f * (x + if span > 0.0 { dw_sum[i] / span } else { 0.0 }));
                    out.dw[i].push(dw_sum[i]);
                }
            }
            x_prev = x_now;
        }
        if setup.sme && setup.physicality {
            let rho = DMatrix::from_column_slice(n, n, st);
            let herm = (0..n).flat_map(|j| (0..n).map(move |i| (i, j))).map(|(i, j)| (rho[(i, j)] - rho[(j, i)].conj()).norm()).fold(0.0, f64::max);
            let lmin = crate::measures::hermitian_eigenvalues(&rho)[0];
            out.phys.push(((rho_tr - 1.0).abs(), herm, lmin));
        }
        let keep = setup.keep_all || (setup.keep_last && k + 1 == nt);
        if keep {
            if setup.sme {
                out.states.push(state.clone());
            } else {
                let c = 1.0 / nrm2.sqrt();
                out.states.push(state.iter().map(|v| v * c).collect());
            }
        }
    }
    Ok(out)
}

fn step_trace(rho: &[C64], n: usize) -> f64 {
    (0..n).map(|i| rho[i * n + i].re).sum()
}

/// Runs `solver.mc.ntraj` diffusive trajectories of the generator `l` from `rho0`
/// (`solver.method` `ssesolve` or `smesolve`) and returns the ensemble averages of `observables`
/// at `times` with their standard errors, the measurement records on request, and (when it fits
/// the memory budget) the averaged final state; `measures` are evaluated on the averaged ρ(t).
/// `smesolve`'s `physicality` report is taken over the trajectories: the largest trace drift and
/// Hermiticity error and the smallest eigenvalue of any conditional ρ at each output time.
///
/// Errors: a generator that is not completely positive, a monitored jump that does not exist,
/// has rate 0 or shares its operator with a cross term, `ssesolve` on a mixed initial state, a
/// `target_tol` without observables, a `from_experiment` record of the wrong shape or on an
/// uneven time grid, a state that stops being finite (the step is too large), the timeout, a
/// progress callback returning `false`.
pub fn sdesolve_lindbladian(
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
    let sme = match solver.method {
        Method::Smesolve => true,
        Method::Ssesolve => false,
        other => return Err(Error::model("$.solver.method", format!("sdesolve_lindbladian runs ssesolve or smesolve, not {}", other.as_str()))),
    };
    if rho0.nrows() != n || rho0.ncols() != n {
        return Err(Error::arg("rho0", format!("initial state is {}×{} but the generator acts on dimension {n}", rho0.nrows(), rho0.ncols())));
    }
    crate::integrate::check_times(times)?;
    let mc = &solver.mc;
    let opts = &solver.sde;
    if mc.target_tol.is_some() && observables.is_empty() {
        return Err(Error::model("$.solver.target_tol", "target_tol needs at least one observable (in $.observables) whose standard error it bounds"));
    }
    let scales = crate::guard::term_scales(l, times[0], times[times.len() - 1]);
    let scales: Vec<TermScale<'_>> = scales.iter().map(|(p, v)| TermScale { path: p, norm: *v }).collect();
    check_scale(&scales, times)?;
    l.check_hamiltonian_hermitian()?;
    let sys = SdeSystem::build(l, opts.sc_ops.as_deref(), opts.heterodyne)?;
    let init = initial_ensemble(rho0)?;
    if !sme && init.len() > 1 {
        return Err(Error::model("$.initial", format!("ssesolve needs a pure initial state; this one has rank {} (use smesolve)", init.len())));
    }
    let dt = solver.dt.unwrap_or(DEFAULT_SDE_DT);
    let m = sys.channels.len();
    // from_experiment: one trajectory, one step per output interval on an even grid
    let experiment: Option<(&[Vec<f64>], bool)> = match &opts.from_experiment {
        None => None,
        Some(fe) => {
            let (rec, measured, key) = match fe {
                FromExperiment::Dw(d) => (d.as_slice(), false, "dW"),
                FromExperiment::Measurement(r) => (r.as_slice(), true, "measurement"),
            };
            let p = format!("$.solver.from_experiment.{key}");
            if rec.len() != m {
                return Err(Error::model(p, format!("expected {m} channels (one per monitored channel{}: {}), got {}", if opts.heterodyne { ", two per operator for heterodyne" } else { "" }, sys.channels.iter().map(|c| c.label.as_str()).collect::<Vec<_>>().join(", "), rec.len())));
            }
            for (i, r) in rec.iter().enumerate() {
                if r.len() + 1 != times.len() {
                    return Err(Error::model(format!("{p}[{i}]"), format!("expected {} values (one per output interval), got {}", times.len() - 1, r.len())));
                }
            }
            if times.len() > 2 {
                let d0 = times[1] - times[0];
                if let Some(k) = times.windows(2).position(|w| ((w[1] - w[0]) - d0).abs() > 1e-9 * d0.abs().max(1e-300)) {
                    return Err(Error::model("$.times", format!("from_experiment needs evenly spaced output times (one SDE step per record entry); interval {k} differs from the first")));
                }
            }
            if solver.dt.is_some() {
                return Err(Error::model("$.solver.dt", "with from_experiment the step is the output interval (one step per record entry); leave dt out"));
            }
            Some((rec, measured))
        }
    };
    let ntraj = if experiment.is_some() { 1 } else { mc.ntraj };
    let steps_per_traj: u64 = if experiment.is_some() { times.len() as u64 - 1 } else { times.windows(2).map(|w| steps_of(dt, w[1] - w[0])).sum() };
    if steps_per_traj > solver.max_steps {
        return Err(Error::model("$.solver.dt", format!("dt = {dt} needs {steps_per_traj} steps per trajectory, over max_steps = {}; raise dt or $.solver.max_steps", solver.max_steps)));
    }
    let state_bytes = (n as u128) * (n as u128) * 16;
    let (keep_all, keep_last) = if !measures_req.is_empty() {
        let need = state_bytes * times.len() as u128;
        if need > solver.memory_budget {
            return Err(Error::model("$.measures", format!(
                "measures on a {} run need the averaged ρ at all {} output times ({} MB), over the memory budget of {} MB (solver.memory_budget_mb)",
                solver.method.as_str(), times.len(), need / 1048576, solver.memory_budget / 1048576)));
        }
        (true, false)
    } else {
        (false, state_bytes <= solver.memory_budget)
    };
    let seed = mc.seed.unwrap_or_else(|| (crate::clock::now_s() * 1e6) as u64 ^ 0xBB67_AE85_84CA_A73B);
    let obs_ops: Vec<Csr> = observables.iter().map(|(_, o)| o.clone()).collect();
    let physicality = sme && solver.physicality;
    let setup = Setup {
        sys: &sys,
        sme,
        method: opts.method,
        dt,
        times,
        observables: &obs_ops,
        keep_all,
        keep_last,
        store: opts.store_measurement,
        physicality,
        deadline: Deadline::start(solver.timeout)?,
    };
    let one = |k: usize| -> Result<SdeTrajectory> {
        let mut rng = Xoshiro256::seed_from_u64(stream_seed(seed, k as u64));
        let psi0 = crate::ensemble::pick(&init, &mut rng).to_vec();
        let noise = match experiment {
            Some((rec, false)) => Noise::Given(rec),
            Some((rec, true)) => Noise::Measured(rec),
            None => Noise::Sampled(rng),
        };
        run(&setup, &psi0, noise)
    };
    let nkept = if keep_all { times.len() } else { usize::from(keep_last) };
    let mut rho_sum: Vec<DMatrix<C64>> = (0..nkept).map(|_| DMatrix::zeros(n, n)).collect();
    let mut moments = Moments::new(observables.len(), times.len());
    let mut phys = Physicality::default();
    if physicality {
        phys.trace_drift = vec![0.0; times.len()];
        phys.hermiticity_error = vec![0.0; times.len()];
        phys.min_eigenvalue = vec![f64::INFINITY; times.len()];
    }
    let mut stats = SdeStats { seed, sde_method: opts.method.as_str().into(), heterodyne: opts.heterodyne, from_experiment: experiment.is_some(), ..Default::default() };
    stats.channels = sys.channels.iter().map(|c| c.label.clone()).collect();
    stats.noise_factors = sys.channels.iter().map(|c| c.factor).collect();
    stats.dt = if experiment.is_some() { times.get(1).map_or(0.0, |t1| t1 - times[0]) } else { times.windows(2).map(|w| { let s = steps_of(dt, w[1] - w[0]); if s > 0 { (w[1] - w[0]) / s as f64 } else { 0.0 } }).fold(0.0, f64::max) };
    let store = opts.store_measurement != StoreMeasurement::No;
    let mut measurement = Vec::new();
    let mut wiener = Vec::new();
    let mut runs = Vec::new();
    let mut istats = Stats::default();
    let mut done = 0;
    let mut reached = None;
    while done < ntraj {
        let hi = (done + BATCH).min(ntraj);
        let batch = run_batch(done, hi, &one);
        let mut trajs = Vec::with_capacity(batch.len());
        for r in batch {
            trajs.push(r?);
        }
        for t in &trajs {
            moments.push(&t.expect);
            istats.steps += t.steps;
            for (k, &(tr, he, lm)) in t.phys.iter().enumerate() {
                phys.trace_drift[k] = phys.trace_drift[k].max(tr);
                phys.hermiticity_error[k] = phys.hermiticity_error[k].max(he);
                phys.min_eigenvalue[k] = phys.min_eigenvalue[k].min(lm);
            }
        }
        for (slot, acc) in rho_sum.iter_mut().enumerate() {
            if sme {
                for t in &trajs {
                    for (a, v) in acc.as_mut_slice().iter_mut().zip(&t.states[slot]) {
                        *a += v;
                    }
                }
            } else {
                let states: Vec<&[C64]> = trajs.iter().map(|t| t.states[slot].as_slice()).collect();
                crate::ensemble::accumulate(acc, 1.0, &states);
            }
        }
        for t in trajs {
            if store {
                measurement.push(t.measurement);
                wiener.push(t.dw);
            }
            if mc.keep_runs_results {
                runs.push(t.expect);
            }
        }
        done = hi;
        let at = done;
        setup.deadline.check(|| format!("after {at} of {ntraj} trajectories"))?;
        if let Some(p) = progress.as_mut() {
            if !p(done as f64 / ntraj as f64) {
                return Err(Error::new(ErrorCode::Aborted, format!("aborted by the caller after {done} trajectories")));
            }
        }
        if let Some((atol, rtol)) = mc.target_tol {
            if moments.m >= BATCH && (0..observables.len()).all(|i| (0..times.len()).all(|k| moments.std_err(i, k) <= atol + rtol * moments.mean[i][k].norm())) {
                reached = Some(true);
                break;
            }
        }
    }
    let mut warnings = Vec::new();
    if mc.target_tol.is_some() && reached.is_none() {
        reached = Some(false);
        warnings.push(format!("target_tol was not reached within ntraj = {ntraj} trajectories"));
    }
    if physicality {
        if let Some((k, &worst)) = phys.min_eigenvalue.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)) {
            if worst < -1e-8 {
                warnings.push(format!(
                    "a conditional state lost positivity: smallest eigenvalue {worst:.3e} at t = {} ({} with dt = {}); the Euler and Milstein schemes do not keep ρ ⪰ 0 — use sde_method \"rouchon\" or a smaller dt",
                    times[k], opts.method.as_str(), stats.dt));
            }
        }
    }
    let mf = moments.m.max(1) as f64;
    let rho_avg: Vec<DMatrix<C64>> = rho_sum.into_iter().map(|r| r * C64::new(1.0 / mf, 0.0)).collect();
    let expect: Vec<ExpectSeries> = observables
        .iter()
        .enumerate()
        .map(|(i, (name, op))| ExpectSeries { name: name.clone(), values: moments.mean[i].clone(), real: op.hermiticity_error() <= 1e-12 * op.max_abs().max(1.0) })
        .collect();
    stats.std_expect = (0..observables.len()).map(|i| (0..times.len()).map(|k| moments.std_err(i, k)).collect()).collect();
    stats.ntraj = done;
    stats.target_tol_reached = reached;
    stats.runs_expect = mc.keep_runs_results.then_some(runs);
    if store {
        stats.measurement = Some(measurement);
        stats.dw = Some(wiener);
    }
    stats.final_state_omitted = rho_avg.is_empty();
    let (meas, final_state) = crate::ensemble::averaged_outputs(measures_req, &rho_avg, rho0, &l.dims, &mut warnings)?;
    let what = if sme { "stochastic master equation" } else { "stochastic Schrödinger equation" };
    Ok(SolveResult {
        times: times.to_vec(),
        expect,
        measures: meas,
        physicality: phys,
        final_state,
        stats: RunStats {
            method: solver.method.as_str().into(),
            method_reason: if experiment.is_some() {
                format!("requested: the {what} filtered on a measured record ({} channels), {} scheme", m, opts.method.as_str())
            } else {
                format!("requested: {done} {} trajectories of the {what} (seed {seed}, {} channels), {} scheme, steps of {:.4e}", if opts.heterodyne { "heterodyne" } else { "homodyne" }, m, opts.method.as_str(), stats.dt)
            },
            integrator: istats,
            wall_s: crate::clock::now_s() - start,
            cp_min_eigenvalue: l.cp_report().min_eigenvalue,
            warnings,
            mpo: None,
            mc: None,
            sde: Some(stats),
        },
    })
}
