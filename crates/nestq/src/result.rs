//! The results every solver returns: time series of observables and measures, the
//! physicality report, run statistics (one [`Progress`] callback type for all solvers), and the
//! result file built from them (`docs/model-format.md`, *Result file*). The TypeScript facade
//! receives this file whole.

use crate::integrate::Stats;
use crate::C64;
use nalgebra::DMatrix;
use serde_json::{json, Value};

/// Time series of one observable.
#[derive(Clone, Debug)]
pub struct ExpectSeries {
    /// Name.
    pub name: String,
    /// Values `Tr(O ρ(t))`.
    pub values: Vec<C64>,
    /// True when the values are real by construction (Hermitian O, Hermiticity-preserving 𝓛).
    pub real: bool,
}

/// Diagnostics of how physical ρ(t) stayed.
#[derive(Clone, Debug, Default)]
pub struct Physicality {
    /// |Tr ρ − 1|.
    pub trace_drift: Vec<f64>,
    /// max |ρ − ρ†|.
    pub hermiticity_error: Vec<f64>,
    /// Smallest eigenvalue of (ρ + ρ†)/2.
    pub min_eigenvalue: Vec<f64>,
}

/// Run statistics.
#[derive(Clone, Debug, Default)]
pub struct RunStats {
    /// Method used.
    pub method: String,
    /// Why it was chosen.
    pub method_reason: String,
    /// Integrator counters.
    pub integrator: Stats,
    /// Wall time of the solve, seconds.
    pub wall_s: f64,
    /// Smallest eigenvalue of the (normalised) Kossakowski matrix; < 0 means not CP.
    pub cp_min_eigenvalue: f64,
    /// Warnings (not completely positive, renormalisation on, physicality violations, …).
    pub warnings: Vec<String>,
    /// Method `mpo` only: truncation and Trotter errors, bond dimension (see [`crate::mpo`]).
    pub mpo: Option<MpoStats>,
    /// Method `mcsolve` only: the ensemble (see [`crate::mcsolve`]).
    pub mc: Option<McStats>,
    /// Methods `ssesolve` and `smesolve` only: the ensemble and its records (see
    /// [`crate::stochastic`]).
    pub sde: Option<SdeStats>,
}

/// Result of [`mesolve`].
#[derive(Clone, Debug)]
pub struct SolveResult {
    /// Output times.
    pub times: Vec<f64>,
    /// Observables.
    pub expect: Vec<ExpectSeries>,
    /// Measures `(name, values)`.
    pub measures: Vec<(String, Vec<f64>)>,
    /// Diagnostics (empty vectors if disabled).
    pub physicality: Physicality,
    /// ρ at the last output time.
    pub final_state: DMatrix<C64>,
    /// Statistics.
    pub stats: RunStats,
}

/// Progress callback: receives the fraction of the time span done (0..1); return `false` to
/// abort the solve (it then fails with [`ErrorCode::Aborted`]).
pub type Progress<'a> = &'a mut (dyn FnMut(f64) -> bool + 'a);

/// Statistics of an MPO run (in the result file as `stats.truncation_error`, `stats.max_bond`,
/// `stats.trotter_error`, `stats.mpo`).
#[derive(Clone, Debug, Default)]
pub struct MpoStats {
    /// Summed discarded weight of all truncations (relative, Frobenius norm squared; see module
    /// docs): TeNPy's measure, small by construction (each term is at most `cutoff` unless χ
    /// saturated).
    pub truncation_error: f64,
    /// Summed square roots of the discarded weights: a bound on the accumulated relative
    /// Frobenius-norm error `‖Δρ‖_F/‖ρ‖_F` that the truncations introduced (triangle
    /// inequality over the truncations, before propagation). It is the figure to compare with
    /// observable errors; `truncation_error` (a sum of squares) understates them.
    pub truncation_norm_error: f64,
    /// Largest bond dimension reached (after any gate layer or re-canonicalisation, so it can
    /// exceed every entry of `bond_dims`).
    pub max_bond: usize,
    /// Bond dimensions at each output time: `bond_dims[k][b]` is χ of the bond between sites b
    /// and b+1 at `times[k]` (N−1 entries per time, none for a single site).
    pub bond_dims: Vec<Vec<usize>>,
    /// Summed discarded weight of all truncations up to each output time (`[0] = 0` for an
    /// exact initial MPO; the last entry is `truncation_error`).
    pub cumulative_truncation_error: Vec<f64>,
    /// Step-doubling estimate of the global Trotter error in ‖·‖_F (`None` if disabled).
    pub trotter_error: Option<f64>,
    /// Trotter steps taken.
    pub steps: u64,
    /// Time step used (≤ `dt`: each output interval is divided into whole steps).
    pub dt: f64,
    /// Trotter order.
    pub order: u8,
    /// True when the trace was renormalised to 1 after every step.
    pub renormalized: bool,
    /// Largest |Tr ρ − 1| divided out by renormalisation (0 without it).
    pub max_renormalization: f64,
    /// True when the final state was not materialised (beyond the memory budget).
    pub final_state_omitted: bool,
}

/// The ensemble of an `mcsolve` run (in the result file as `std_expect` and `trajectories`).
#[derive(Clone, Debug, Default)]
pub struct McStats {
    /// Trajectories run (≤ `ntraj`; fewer when `target_tol` was reached), counting the no-jump
    /// trajectory of improved sampling.
    pub ntraj: usize,
    /// The ensemble's seed (given or drawn from the clock).
    pub seed: u64,
    /// Standard error of each observable's mean at each output time (same order as `expect`;
    /// for a complex series, of its real and imaginary parts together):
    /// `sqrt(Var/(m − 1))` over the m sampled trajectories (with improved sampling, times the
    /// weight `1 − p₀` of the jump trajectories).
    pub std_expect: Vec<Vec<f64>>,
    /// Jump times of each trajectory (QuTiP's `col_times`).
    pub col_times: Vec<Vec<f64>>,
    /// Which collapse operator jumped, index into `collapse_ops` (QuTiP's `col_which`).
    pub col_which: Vec<Vec<usize>>,
    /// Labels of the collapse operators (JSON paths, or the cross terms they diagonalise).
    pub collapse_ops: Vec<String>,
    /// Improved sampling: the probability p₀ of no jump over the whole span.
    pub no_jump_probability: Option<f64>,
    /// With `keep_runs_results`: `runs_expect[k][i][t]`, trajectory k, observable i, time t.
    pub runs_expect: Option<Vec<Vec<Vec<C64>>>>,
    /// `target_tol` given and met.
    pub target_tol_reached: Option<bool>,
    /// True when the averaged final state was not formed (beyond the memory budget).
    pub final_state_omitted: bool,
}

/// The ensemble of an `ssesolve`/`smesolve` run (in the result file as `std_expect` and
/// `trajectories`).
#[derive(Clone, Debug, Default)]
pub struct SdeStats {
    /// Trajectories run (fewer than `ntraj` when `target_tol` was reached; 1 for
    /// `from_experiment`).
    pub ntraj: usize,
    /// The ensemble's seed (given or drawn from the clock).
    pub seed: u64,
    /// Scheme: `euler`, `milstein` or `rouchon`.
    pub sde_method: String,
    /// Largest step used (each output interval is divided into equal steps ≤ `solver.dt`).
    pub dt: f64,
    /// Heterodyne detection (two channels per monitored operator).
    pub heterodyne: bool,
    /// The trajectory was driven by a given record (`from_experiment`), not sampled.
    pub from_experiment: bool,
    /// Labels of the measurement channels, in record order (heterodyne: the `C + C†` and
    /// `−i(C − C†)` quadratures of each monitored jump, in turn).
    pub channels: Vec<String>,
    /// Noise factor of each channel's current: 1 (homodyne), √2 (heterodyne).
    pub noise_factors: Vec<f64>,
    /// Standard error of each observable's mean at each output time (as [`McStats`]).
    pub std_expect: Vec<Vec<f64>>,
    /// With `keep_runs_results`: `runs_expect[k][i][t]`.
    pub runs_expect: Option<Vec<Vec<Vec<C64>>>>,
    /// With `store_measurement`: `measurement[k][i][j]`, trajectory k, channel i, output
    /// interval j: `f_i·(⟨s_i + s_i†⟩ + ΔW_ij/Δt_j)` (QuTiP 5's `measurement`).
    pub measurement: Option<Vec<Vec<Vec<f64>>>>,
    /// With `store_measurement`: the Wiener increments `dW[k][i][j]` summed over interval j
    /// (QuTiP 5's `dW`).
    pub dw: Option<Vec<Vec<Vec<f64>>>>,
    /// `target_tol` given and met.
    pub target_tol_reached: Option<bool>,
    /// True when the averaged final state was not formed (beyond the memory budget).
    pub final_state_omitted: bool,
}

fn complex_json(v: C64) -> Value {
    json!([v.re, v.im])
}

impl SolveResult {
    /// Trajectory methods (`mcsolve`, `ssesolve`, `smesolve`): the result file's `std_expect`
    /// (observable → standard errors) and `trajectories` objects (see `docs/model-format.md`,
    /// *Trajectories* and *Diffusive trajectories*); `None` otherwise.
    pub fn trajectories_json(&self) -> Option<(Value, Value)> {
        let (std_expect, runs_expect) = match (&self.stats.mc, &self.stats.sde) {
            (Some(m), _) => (&m.std_expect, &m.runs_expect),
            (None, Some(s)) => (&s.std_expect, &s.runs_expect),
            (None, None) => return None,
        };
        let mut se = serde_json::Map::new();
        for (e, v) in self.expect.iter().zip(std_expect) {
            se.insert(e.name.clone(), json!(v));
        }
        let runs = runs_expect.as_ref().map(|r| {
            let per: Vec<Value> = r
                .iter()
                .map(|traj| {
                    let mut o = serde_json::Map::new();
                    for (e, v) in self.expect.iter().zip(traj) {
                        let vals: Value = if e.real { json!(v.iter().map(|z| z.re).collect::<Vec<_>>()) } else { Value::Array(v.iter().map(|z| complex_json(*z)).collect()) };
                        o.insert(e.name.clone(), vals);
                    }
                    Value::Object(o)
                })
                .collect();
            Value::Array(per)
        });
        let traj = if let Some(m) = &self.stats.mc {
            json!({
                "ntraj": m.ntraj,
                "seed": m.seed,
                "collapse_ops": m.collapse_ops,
                "col_times": m.col_times,
                "col_which": m.col_which,
                "no_jump_probability": m.no_jump_probability,
                "target_tol_reached": m.target_tol_reached,
                "final_state_omitted": m.final_state_omitted,
                "runs_expect": runs,
            })
        } else {
            let s = self.stats.sde.as_ref()?;
            json!({
                "ntraj": s.ntraj,
                "seed": s.seed,
                "sde_method": s.sde_method,
                "dt": s.dt,
                "heterodyne": s.heterodyne,
                "from_experiment": s.from_experiment,
                "channels": s.channels,
                "noise_factors": s.noise_factors,
                "target_tol_reached": s.target_tol_reached,
                "final_state_omitted": s.final_state_omitted,
                "runs_expect": runs,
                "measurement": s.measurement,
                "dW": s.dw,
            })
        };
        Some((Value::Object(se), traj))
    }

    /// The result file (see `docs/model-format.md`).
    pub fn to_json(&self) -> Value {
        let mut expect = serde_json::Map::new();
        for e in &self.expect {
            let v: Value = if e.real {
                Value::Array(e.values.iter().map(|z| json!(z.re)).collect())
            } else {
                Value::Array(e.values.iter().map(|z| complex_json(*z)).collect())
            };
            expect.insert(e.name.clone(), v);
        }
        let mut meas = serde_json::Map::new();
        for (k, v) in &self.measures {
            meas.insert(k.clone(), json!(v));
        }
        let n = self.final_state.nrows();
        let fs: Vec<Value> = (0..n).map(|i| Value::Array((0..n).map(|j| complex_json(self.final_state[(i, j)])).collect())).collect();
        let st = &self.stats;
        let mut out = json!({
            "times": self.times,
            "expect": expect,
            "measures": meas,
            "physicality": {
                "trace_drift": self.physicality.trace_drift,
                "hermiticity_error": self.physicality.hermiticity_error,
                "min_eigenvalue": self.physicality.min_eigenvalue,
            },
            "final_state": fs,
            "stats": {
                "method": st.method,
                "method_reason": st.method_reason,
                "steps": st.integrator.steps,
                "rejected_steps": st.integrator.rejected,
                "rhs_evals": st.integrator.rhs_evals,
                "factorizations": st.integrator.factorizations,
                "error_estimate": st.integrator.error_estimate,
                "wall_s": st.wall_s,
                "cp_min_eigenvalue": st.cp_min_eigenvalue,
                "warnings": st.warnings,
            }
        });
        if let Some(m) = &st.mpo {
            let o = out["stats"].as_object_mut().expect("stats object");
            o.insert("truncation_error".into(), json!(m.truncation_error));
            o.insert("truncation_norm_error".into(), json!(m.truncation_norm_error));
            o.insert("max_bond".into(), json!(m.max_bond));
            o.insert("trotter_error".into(), json!(m.trotter_error));
            o.insert("mpo".into(), json!({
                "dt": m.dt,
                "order": m.order,
                "steps": m.steps,
                "renormalized": m.renormalized,
                "max_renormalization": m.max_renormalization,
                "final_state_omitted": m.final_state_omitted,
                "bond_dims": m.bond_dims,
                "cumulative_truncation_error": m.cumulative_truncation_error,
            }));
        }
        if let Some((se, traj)) = self.trajectories_json() {
            let o = out.as_object_mut().expect("result object");
            o.insert("std_expect".into(), se);
            o.insert("trajectories".into(), traj);
        }
        out
    }
}

