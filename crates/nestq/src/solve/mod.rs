//! `mesolve`: integrate a master equation and evaluate observables, measures and physicality
//! diagnostics at the output times (QuTiP's `mesolve` in function and tolerances).

use crate::error::{Error, ErrorCode, Result};
use crate::integrate::{self, Observer};
use crate::lindblad::Lindbladian;
use crate::measures;
use crate::model::{Measure, Method, Model, SolverOptions};
use crate::sparse::Csr;
use crate::C64;
use nalgebra::DMatrix;
use serde_json::{json, Value};
use std::collections::BTreeMap;

mod integrators;

use crate::guard::{check_scale, check_steps, Deadline, TermScale};
pub use crate::result::{ExpectSeries, Physicality, Progress, RunStats, SolveResult};

/// Superoperator dimension (n²) up to which `auto` uses the exact dense propagator.
pub const AUTO_EXPM_MAX: usize = 256;

/// `auto` picks the Chebyshev propagator for large time-independent generators whose field of
/// values is at least this many times longer along the imaginary axis than along the real one.
pub const AUTO_CHEBY_ASPECT: f64 = 8.0;

struct Recorder<'a, 'p> {
    n: usize,
    dims: &'a [usize],
    observables: &'a [(String, Csr)],
    measures: &'a [(String, Measure)],
    rho0: &'a DMatrix<C64>,
    physicality: bool,
    t0: f64,
    span: f64,
    expect: Vec<Vec<C64>>,
    meas: Vec<Vec<f64>>,
    phys: Physicality,
    last: Option<DMatrix<C64>>,
    progress: Option<Progress<'p>>,
    deadline: Deadline,
    /// Output times recorded so far.
    outputs: usize,
}

impl Recorder<'_, '_> {
    fn tick(&mut self, t: f64) -> Result<()> {
        let outputs = self.outputs;
        self.deadline.check(|| format!("at t = {t} (span {} … {}), after {outputs} recorded output times", self.t0, self.t0 + self.span))?;
        if let Some(p) = self.progress.as_mut() {
            let frac = if self.span > 0.0 { ((t - self.t0) / self.span).clamp(0.0, 1.0) } else { 1.0 };
            if !p(frac) {
                return Err(Error::new(ErrorCode::Aborted, format!("aborted by the caller at t = {t}")));
            }
        }
        Ok(())
    }
}

impl Observer for Recorder<'_, '_> {
    fn output(&mut self, _k: usize, t: f64, y: &[C64]) -> Result<()> {
        // reuses the previous output's matrix (no allocation per output time)
        let rho = match self.last.take() {
            Some(mut m) if m.nrows() == self.n => {
                m.as_mut_slice().copy_from_slice(y);
                m
            }
            _ => DMatrix::from_column_slice(self.n, self.n, y),
        };
        for (i, (_, op)) in self.observables.iter().enumerate() {
            self.expect[i].push(measures::expect(op, &rho));
        }
        for (i, (_, m)) in self.measures.iter().enumerate() {
            let v = m.evaluate(&rho, self.rho0, self.dims)?;
            self.meas[i].push(v);
        }
        if self.physicality {
            self.phys.trace_drift.push((rho.trace() - C64::new(1.0, 0.0)).norm());
            let mut h = 0.0f64;
            for j in 0..self.n {
                for i in 0..=j {
                    h = h.max((rho[(i, j)] - rho[(j, i)].conj()).norm());
                }
            }
            self.phys.hermiticity_error.push(h);
            self.phys.min_eigenvalue.push(measures::hermitian_eigenvalues(&rho)[0]);
        }
        self.last = Some(rho);
        self.outputs += 1;
        self.tick(t)
    }

    fn step(&mut self, t: f64) -> Result<()> {
        self.tick(t)
    }
}

/// Solves the model's master equation (see [`mesolve_with`]).
pub fn mesolve(model: &Model, progress: Option<Progress>) -> Result<SolveResult> {
    mesolve_with(model, &BTreeMap::new(), progress)
}

/// Solves the model with some of its named parameters overridden (unknown names are an error
/// naming them): the one entry through which every front end solves a model — [`mesolve`],
/// the native CLI, parameter sweeps ([`crate::batch`]) and the WebAssembly bindings. Method
/// `mpo` goes to [`crate::mpo::mesolve_mpo`], method `mcsolve` to
/// [`crate::mcsolve::mcsolve_lindbladian`], every other method to the dense driver
/// [`mesolve_lindbladian`].
pub fn mesolve_with(model: &Model, overrides: &BTreeMap<String, f64>, progress: Option<Progress>) -> Result<SolveResult> {
    if model.solver.method == Method::Mpo {
        if overrides.is_empty() {
            return crate::mpo::mesolve_mpo(model, progress);
        }
        return crate::mpo::mesolve_mpo(&model.with_parameters(overrides)?, progress);
    }
    let l = model.lindbladian_with(overrides)?;
    let obs: Vec<(String, Csr)> = model.observables.iter().map(|(n, _, o)| (n.clone(), o.clone())).collect();
    if model.solver.method == Method::Mcsolve {
        return crate::mcsolve::mcsolve_lindbladian(&l, &model.initial, &model.times, &obs, &model.measures, &model.solver, progress);
    }
    if model.solver.method.is_sde() {
        return crate::stochastic::sdesolve_lindbladian(&l, &model.initial, &model.times, &obs, &model.measures, &model.solver, progress);
    }
    mesolve_lindbladian(&l, &model.initial, &model.times, &obs, &model.measures, &model.solver, progress)
}

/// Chooses the integration method for `auto`, with the reason.
pub fn choose_method(l: &Lindbladian, solver: &SolverOptions) -> (Method, String) {
    let n = l.dim();
    let m = n * n;
    if solver.method != Method::Auto {
        return (solver.method, "requested".into());
    }
    if !l.is_time_independent() {
        return (Method::Dopri5, "time-dependent generator: adaptive Dormand–Prince 5(4)".into());
    }
    let dense_bytes = (m as u128) * (m as u128) * 16 * 10;
    if m <= AUTO_EXPM_MAX && dense_bytes <= solver.memory_budget {
        return (Method::Expm, format!("time-independent and small (superoperator {m}×{m}): exact propagator e^(𝓛Δt) by Padé"));
    }
    // Oscillation-dominated (the field of values is a thin box along the imaginary axis): the
    // Chebyshev expansion needs about 2.4× fewer evaluations than dopri5 on the Ising chains
    // and no orthogonalisation (bench/history/diary.md, session 5).
    if l.is_hermiticity_preserving() {
        if let Ok(b) = integrate::cheby::field_box(l) {
            if b.aspect() >= AUTO_CHEBY_ASPECT {
                return (Method::Cheby, format!(
                    "time-independent, large (superoperator {m}×{m}) and oscillation-dominated (field of values within Re [{:.3}, {:.3}], |Im| ≤ {:.3}): Chebyshev expansion of e^(𝓛τ)",
                    b.re_lo, b.re_hi, b.im_half));
            }
        }
    }
    // Measured on the dissipative Ising chain (bench/history/diary.md, session 1): dopri5 beat Krylov at N = 6
    // (1.27 s vs 1.77 s) and N = 8 (36 s vs 47 s); Krylov's Gram–Schmidt costs more than the
    // extra Runge–Kutta stages for Hamiltonian-dominated generators.
    (Method::Dopri5, format!("time-independent but large (superoperator {m}×{m}): adaptive Dormand–Prince 5(4) on the matrix-form RHS (measured faster than Krylov on oscillatory chains)"))
}

/// Integrates `dρ/dt = 𝓛(t)ρ` from `rho0` and records `observables` and `measures` at `times`.
/// `rho0` must be an `n × n` density matrix (validated by the model parser; library callers
/// are checked for shape and finiteness here).
pub fn mesolve_lindbladian(
    l: &Lindbladian,
    rho0: &DMatrix<C64>,
    times: &[f64],
    observables: &[(String, Csr)],
    measures_req: &[(String, Measure)],
    solver: &SolverOptions,
    progress: Option<Progress>,
) -> Result<SolveResult> {
    let start = crate::clock::now_s();
    let n = l.dim();
    if rho0.nrows() != n || rho0.ncols() != n {
        return Err(Error::arg("rho0", format!("initial state is {}×{} but the generator acts on dimension {n}", rho0.nrows(), rho0.ncols())));
    }
    integrate::check_times(times)?;
    let mut warnings = Vec::new();
    let cp = l.cp_report();
    warnings.extend(cp.warnings.iter().cloned());
    let scales = crate::guard::term_scales(l, times[0], times[times.len() - 1]);
    let scales: Vec<TermScale<'_>> = scales.iter().map(|(p, n)| TermScale { path: p, norm: *n }).collect();
    let (norm, largest) = check_scale(&scales, times)?;
    let (method, reason) = choose_method(l, solver);
    check_steps(norm, largest, times, method, solver)?;
    let herm = l.is_hermiticity_preserving();
    let integ = integrators::integrator_for(method, solver)?;
    integ.check(l, herm)?;
    // the matrix-form right-hand side, for the methods that evaluate it
    let mut compiled = if integ.uses_rhs() { Some(l.compile()) } else { None };
    if solver.renormalize {
        warnings.push("renormalize is on: ρ is replaced by (ρ+ρ†)/(2 Tr ρ) after every step, which hides integration error and changes non-trace-preserving dynamics".into());
    }
    // After every RK step: exact symmetrisation (keeps the Hermitian fast path valid without a
    // per-evaluation projection) and, if requested, the seed's renormalisation.
    let renormalize = solver.renormalize;
    let project = move |y: &mut [C64]| {
        let scale = if renormalize {
            let mut tr = 0.0;
            for i in 0..n {
                tr += y[i + i * n].re;
            }
            1.0 / tr
        } else {
            1.0
        };
        for j in 0..n {
            for i in 0..=j {
                let h = (y[i + j * n] + y[j + i * n].conj()) * (0.5 * scale);
                y[i + j * n] = h;
                y[j + i * n] = h.conj();
            }
        }
    };
    let symmetrise = herm && integ.symmetrises_steps();
    if symmetrise {
        if let Some(r) = compiled.as_mut() {
            r.set_input_projection(false);
        }
    }
    let proj: integrate::Projection = if renormalize || symmetrise { Some((&project, renormalize)) } else { None };
    let t0 = times[0];
    let span = times[times.len() - 1] - t0;
    let mut rec = Recorder {
        n,
        dims: &l.dims,
        observables,
        measures: measures_req,
        rho0,
        physicality: solver.physicality,
        t0,
        span,
        expect: vec![Vec::with_capacity(times.len()); observables.len()],
        meas: vec![Vec::with_capacity(times.len()); measures_req.len()],
        phys: Physicality::default(),
        last: None,
        progress,
        deadline: Deadline::start(solver.timeout)?,
        outputs: 0,
    };
    let y0: Vec<C64> = rho0.as_slice().to_vec();
    let uses_rhs = compiled.is_some();
    let mut integrate_all = || integ.integrate(integrators::DenseProblem { l, rhs: compiled.as_mut(), y0: &y0, times, proj }, &mut rec);
    // Large models: the right-hand side's parallel loops run on a persistent team of spinning
    // threads for the whole integration instead of one rayon fork–join each (crate::par).
    let mut istats = if uses_rhs && n >= crate::lindblad::PAR_MIN_N { crate::par::with_team(integrate_all)? } else { integrate_all()? };
    if uses_rhs {
        istats.rhs_evals = istats.rhs_evals.max(compiled.as_ref().map_or(0, |r| r.evals));
    }
    if solver.physicality && !rec.phys.min_eigenvalue.is_empty() {
        let (k, worst) = rec.phys.min_eigenvalue.iter().enumerate().fold((0, f64::INFINITY), |a, (i, &v)| if v < a.1 { (i, v) } else { a });
        if worst < -1e-8 {
            warnings.push(format!("ρ(t) left the set of density matrices: smallest eigenvalue {worst:.3e} at t = {}", times[k]));
        }
        let drift = rec.phys.trace_drift.iter().cloned().fold(0.0, f64::max);
        if drift > 1e-6 {
            warnings.push(format!("trace drifted by up to {drift:.3e}"));
        }
    }
    let expect = observables
        .iter()
        .zip(rec.expect)
        .map(|((name, op), values)| {
            let real = herm && op.hermiticity_error() <= 1e-12 * op.max_abs().max(1.0);
            ExpectSeries { name: name.clone(), values, real }
        })
        .collect();
    let measures = measures_req.iter().map(|(s, _)| s.clone()).zip(rec.meas).collect();
    Ok(SolveResult {
        times: times.to_vec(),
        expect,
        measures,
        physicality: rec.phys,
        final_state: rec.last.expect("at least one output"),
        stats: RunStats {
            method: method.as_str().into(),
            method_reason: reason,
            integrator: istats,
            wall_s: crate::clock::now_s() - start,
            cp_min_eigenvalue: cp.min_eigenvalue,
            warnings,
            mpo: None,
            mc: None,
            sde: None,
        },
    })
}

/// A cheap upper bound of ‖𝓛‖ (used for Krylov's first step): 2‖G‖₁ + Σ|c|‖A‖₁‖B‖₁, with
/// ‖·‖₁ the max absolute column sum.
pub fn generator_norm_estimate(l: &Lindbladian) -> f64 {
    let mut s = 0.0;
    for h in &l.hamiltonian {
        s += 2.0 * h.coef.amp.norm() * h.op.norm1();
    }
    for d in &l.dissipators {
        s += d.rate.amp.norm() * 2.0 * d.a.norm1() * d.b.norm1();
    }
    s.max(1e-12)
}

/// The model's static analysis as JSON: dimensions, time dependence, Hermiticity preservation,
/// the complete-positivity report (smallest eigenvalue of the normalised Kossakowski matrix) and
/// the method `auto` would pick. Printed by `nestq check`; the same object in WASM.
pub fn check_report(model: &Model) -> Result<Value> {
    if !model.dense {
        return Ok(json!({
            "dims": model.dims,
            "sites": model.dims.len(),
            "method": "mpo",
            "method_reason": "too large for dense objects: TEBD on the vectorised MPO",
            "warnings": [],
        }));
    }
    let l = model.lindbladian()?;
    let cp = l.cp_report();
    let (m, reason) = choose_method(&l, &model.solver);
    Ok(json!({
        "dims": model.dims,
        "hilbert_dim": model.dim(),
        "time_independent": l.is_time_independent(),
        "hermiticity_preserving": l.is_hermiticity_preserving(),
        "cp_min_eigenvalue": cp.min_eigenvalue,
        "completely_positive": cp.min_eigenvalue >= -1e-12 && cp.hermitian,
        "method": m.as_str(),
        "method_reason": reason,
        "warnings": cp.warnings,
    }))
}

/// A density matrix carried forward in time step by step, for callers that change parameters
/// between steps (the NEST paper's `NESTBridge.evolve(t)`, Listing 1; the neural layer's
/// adaptive coupling γ(t) = γ₀e^(−β|V_i−V_k|)).
///
/// Each [`Evolver::evolve`] integrates from the current time with the model's solver options
/// (method, tolerances); parameters changed with [`Evolver::set_parameter`] take effect from the
/// next step on (piecewise-constant in time). Time-dependent modulations use absolute time.
#[derive(Clone, Debug)]
pub struct Evolver {
    model: Model,
    overrides: std::collections::BTreeMap<String, f64>,
    l: Lindbladian,
    rho: DMatrix<C64>,
    t: f64,
    last_stats: Option<RunStats>,
}

impl Evolver {
    /// Starts at the model's initial state and first output time.
    pub fn new(model: &Model) -> Result<Evolver> {
        let l = model.lindbladian()?;
        let t = model.times.first().copied().unwrap_or(0.0);
        Ok(Evolver { model: model.clone(), overrides: Default::default(), l, rho: model.initial.clone(), t, last_stats: None })
    }

    /// Current time.
    pub fn time(&self) -> f64 {
        self.t
    }

    /// Current density matrix (n × n, column-major, basis order of the model's `dims`).
    pub fn state(&self) -> &DMatrix<C64> {
        &self.rho
    }

    /// The model this evolver was built from.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Current value of a named parameter.
    pub fn parameter(&self, name: &str) -> Result<f64> {
        self.overrides.get(name).or_else(|| self.model.parameters.get(name)).copied().ok_or_else(|| {
            Error::arg(format!("parameters.{name}"), format!("unknown parameter '{name}'"))
        })
    }

    /// Sets a named parameter of the model (errors name unknown parameters and negative rates).
    pub fn set_parameter(&mut self, name: &str, value: f64) -> Result<()> {
        if !value.is_finite() {
            return Err(Error::arg(format!("parameters.{name}"), format!("value must be finite, got {value}")));
        }
        let mut o = self.overrides.clone();
        o.insert(name.to_string(), value);
        self.l = self.model.lindbladian_with(&o)?;
        self.overrides = o;
        Ok(())
    }

    /// Replaces the state (validated: square, dimension of the model, finite, Hermitian, trace 1,
    /// positive semidefinite within 1e-10, as the model file's `initial`).
    pub fn set_state(&mut self, rho: DMatrix<C64>) -> Result<()> {
        let n = self.l.dim();
        if rho.nrows() != n || rho.ncols() != n {
            return Err(Error::arg("rho", format!("state is {}×{} but the model has dimension {n}", rho.nrows(), rho.ncols())));
        }
        crate::model::validate_density_matrix(&rho, "rho")?;
        self.rho = rho;
        Ok(())
    }

    /// Integrates from the current time t to t + dt (dt > 0, finite).
    pub fn evolve(&mut self, dt: f64) -> Result<()> {
        if !(dt.is_finite() && dt > 0.0) {
            return Err(Error::arg("dt", format!("must be finite and > 0, got {dt}")));
        }
        let times = [self.t, self.t + dt];
        let mut solver = self.model.solver.clone();
        solver.physicality = false;
        let r = mesolve_lindbladian(&self.l, &self.rho, &times, &[], &[], &solver, None)?;
        self.rho = r.final_state;
        self.t += dt;
        self.last_stats = Some(r.stats);
        Ok(())
    }

    /// Statistics of the last [`Evolver::evolve`] call.
    pub fn last_stats(&self) -> Option<&RunStats> {
        self.last_stats.as_ref()
    }

    /// Tr(O ρ) of the current state for an operator on the model's full space.
    pub fn expect(&self, op: &Csr) -> Result<C64> {
        let n = self.l.dim();
        if op.nrows != n || op.ncols != n {
            return Err(Error::arg("op", format!("operator is {}×{} but the model has dimension {n}", op.nrows, op.ncols)));
        }
        Ok(measures::expect(op, &self.rho))
    }
}
