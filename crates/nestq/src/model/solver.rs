//! The `solver` object of the model file (`docs/model-format.md`, *Solver* and *MPO solver*):
//! the method, tolerances, limits and the options of method `mpo`, parsed with errors that
//! name the JSON path.

use crate::error::{Error, Result};
use crate::json::{as_f64, as_obj, as_str, as_usize, check_keys, kind};
use serde_json::{Map, Value};
pub use super::sde_options::{FromExperiment, ScOp, SdeMethod, SdeOptions, StoreMeasurement};

/// Integration method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Pick automatically.
    Auto,
    /// Fixed-step RK4.
    Rk4,
    /// Adaptive Dormand–Prince 5(4).
    Dopri5,
    /// Exact propagator by Padé.
    Expm,
    /// Krylov exp(𝓛t)v.
    Krylov,
    /// Chebyshev expansion of e^(𝓛τ) (see [`crate::integrate::cheby`]).
    Cheby,
    /// TR-BDF2 (stiff).
    Trbdf2,
    /// Matrix-product-operator TEBD (see [`crate::mpo`]).
    Mpo,
    /// Quantum-jump (Monte Carlo wave-function) trajectories (see [`crate::mcsolve`]).
    Mcsolve,
    /// Diffusive pure-state trajectories: the stochastic Schrödinger equation of homodyne or
    /// heterodyne detection of every collapse operator (see [`crate::stochastic`]).
    Ssesolve,
    /// Diffusive density-matrix trajectories: the stochastic master equation of homodyne or
    /// heterodyne detection of chosen jumps (see [`crate::stochastic`]).
    Smesolve,
}

impl Method {
    /// Model-file name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Auto => "auto",
            Method::Rk4 => "rk4",
            Method::Dopri5 => "dopri5",
            Method::Expm => "expm",
            Method::Krylov => "krylov",
            Method::Cheby => "cheby",
            Method::Trbdf2 => "trbdf2",
            Method::Mpo => "mpo",
            Method::Mcsolve => "mcsolve",
            Method::Ssesolve => "ssesolve",
            Method::Smesolve => "smesolve",
        }
    }

    /// True for the trajectory methods (`mcsolve`, `ssesolve`, `smesolve`), which read the
    /// ensemble keys `ntraj`, `seed`, `target_tol`, `keep_runs_results`.
    pub fn is_ensemble(self) -> bool {
        matches!(self, Method::Mcsolve | Method::Ssesolve | Method::Smesolve)
    }

    /// True for the diffusive unravellings (`ssesolve`, `smesolve`).
    pub fn is_sde(self) -> bool {
        matches!(self, Method::Ssesolve | Method::Smesolve)
    }
}

/// `solver` options.
#[derive(Clone, Debug)]
pub struct SolverOptions {
    /// Method.
    pub method: Method,
    /// Relative tolerance (default 1e-6).
    pub rtol: f64,
    /// Absolute tolerance (default 1e-8).
    pub atol: f64,
    /// RK4 step.
    pub dt: Option<f64>,
    /// Step limit.
    pub max_steps: u64,
    /// Renormalise and symmetrise after every step (off by default).
    pub renormalize: bool,
    /// Memory budget for dense objects, bytes.
    pub memory_budget: u128,
    /// Arnoldi dimension for `krylov`.
    pub krylov_dim: usize,
    /// Compute trace drift, Hermiticity error and smallest eigenvalue at output times.
    pub physicality: bool,
    /// Options of method `mpo` (`chi_max`, `chi_min`, `cutoff`, `order`, `trotter_check`).
    pub mpo: MpoOptions,
    /// Ensemble options of the trajectory methods (`ntraj`, `seed`, `target_tol`,
    /// `keep_runs_results`; for `mcsolve` also `improved_sampling`, `norm_tol`).
    pub mc: McOptions,
    /// Options of methods `ssesolve` and `smesolve` (`sc_ops`, `heterodyne`, `sde_method`,
    /// `store_measurement`, `from_experiment`; the step is `dt`).
    pub sde: SdeOptions,
    /// Wall-clock limit of one solve in seconds (`None`: no limit). A solve that reaches it
    /// fails with [`ErrorCode::Timeout`], naming the time it had reached.
    pub timeout: Option<f64>,
}

impl Default for SolverOptions {
    fn default() -> Self {
        SolverOptions {
            method: Method::Auto,
            rtol: 1e-6,
            atol: 1e-8,
            dt: None,
            max_steps: 10_000_000,
            renormalize: false,
            memory_budget: 2048 * 1024 * 1024,
            krylov_dim: 16,
            physicality: true,
            mpo: MpoOptions::default(),
            mc: McOptions::default(),
            sde: SdeOptions::default(),
            timeout: None,
        }
    }
}

/// Options of method `mpo` (`$.solver` keys `chi_max`, `chi_min`, `cutoff`, `order`,
/// `trotter_check`; the time step is `$.solver.dt`, trace renormalisation
/// `$.solver.renormalize`).
#[derive(Clone, Debug, PartialEq)]
pub struct MpoOptions {
    /// Largest bond dimension kept (default 64, ≥ 1).
    pub chi_max: usize,
    /// Smallest bond dimension kept when available (default 1, ≤ `chi_max`).
    pub chi_min: usize,
    /// Largest discarded weight `Σ_discarded s² / Σ s²` per truncation (default 1e-10, ≥ 0;
    /// TeNPy's `trunc_cut`).
    pub cutoff: f64,
    /// Trotter order, 2 (default) or 4.
    pub order: u8,
    /// Estimate the Trotter error by step doubling (default true; costs ≈ 3 extra steps at each
    /// of up to 4 checkpoints).
    pub trotter_check: bool,
}

impl Default for MpoOptions {
    fn default() -> Self {
        MpoOptions { chi_max: 64, chi_min: 1, cutoff: 1e-10, order: 2, trotter_check: true }
    }
}

/// Options of method `mcsolve` (`$.solver` keys; QuTiP 5 `mcsolve` names and defaults). The
/// integration tolerances are `$.solver.rtol`/`atol`, the step limit per trajectory
/// `$.solver.max_steps`, the wall-clock limit `$.solver.timeout`.
#[derive(Clone, Debug, PartialEq)]
pub struct McOptions {
    /// Number of trajectories (default 500, ≥ 1); the most run when `target_tol` is given.
    pub ntraj: usize,
    /// Seed of the ensemble (trajectory k draws from the stream
    /// [`crate::rng::stream_seed`]`(seed, k)`); `None`: drawn from the clock and reported in the
    /// result, so every run can be repeated.
    pub seed: Option<u64>,
    /// Stop once every expectation's standard error is at most `atol + rtol·|mean|`
    /// (`target_tol` as a number `atol`, or `[atol, rtol]`).
    pub target_tol: Option<(f64, f64)>,
    /// Abdelhafez, Schuster & Koch, PRA 99, 052327 (2019): the no-jump trajectory is computed
    /// once and weighted by its probability; the others are conditioned on at least one jump.
    pub improved_sampling: bool,
    /// Return every trajectory's expectation values (QuTiP's `keep_runs_results`).
    pub keep_runs_results: bool,
    /// Relative accuracy of the jump times: a jump is placed where the squared norm is within
    /// `norm_tol` (relative) of its random target (default 1e-4, QuTiP's `norm_tol`).
    pub norm_tol: f64,
}

impl Default for McOptions {
    fn default() -> Self {
        McOptions { ntraj: 500, seed: None, target_tol: None, improved_sampling: false, keep_runs_results: false, norm_tol: 1e-4 }
    }
}

/// `$.solver` keys of the trajectory methods (`mcsolve`, `ssesolve`, `smesolve`).
pub(crate) const ENSEMBLE_KEYS: [&str; 4] = ["ntraj", "seed", "target_tol", "keep_runs_results"];

/// `$.solver` keys of method `mcsolve` alone.
pub(crate) const MC_KEYS: [&str; 2] = ["improved_sampling", "norm_tol"];

/// `$.solver` keys of methods `ssesolve` and `smesolve`.
pub(crate) const SDE_KEYS: [&str; 5] = ["sc_ops", "heterodyne", "sde_method", "store_measurement", "from_experiment"];

/// Parses the ensemble keys of `$.solver` (`o` is the solver object); keys given with a method
/// that does not read them are an error naming the key.
pub(crate) fn parse_mc_options(o: &Map<String, Value>, method: Method) -> Result<McOptions> {
    let mut m = McOptions::default();
    for k in ENSEMBLE_KEYS {
        if !method.is_ensemble() && o.contains_key(k) {
            return Err(Error::model(format!("$.solver.{k}"), "only used by the trajectory methods \"mcsolve\", \"ssesolve\" and \"smesolve\"".to_string()));
        }
    }
    for k in MC_KEYS {
        if method != Method::Mcsolve && o.contains_key(k) {
            return Err(Error::model(format!("$.solver.{k}"), "only used by method \"mcsolve\"".to_string()));
        }
    }
    if let Some(x) = o.get("ntraj") {
        if x.as_i64().is_some_and(|v| v < 1) || x.as_f64().is_some_and(|v| v < 1.0) {
            return Err(Error::model("$.solver.ntraj", format!("must be at least 1, got {x}")));
        }
        m.ntraj = as_usize(x, "$.solver.ntraj")?;
    }
    if let Some(x) = o.get("seed") {
        m.seed = Some(x.as_u64().ok_or_else(|| Error::model("$.solver.seed", format!("expected a non-negative integer, got {x}")))?);
    }
    let tol = |x: &Value, p: &str| -> Result<f64> {
        let v = as_f64(x, p)?;
        if !(v >= 0.0) || !v.is_finite() {
            return Err(Error::model(p, format!("must be finite and ≥ 0, got {v}")));
        }
        Ok(v)
    };
    if let Some(x) = o.get("target_tol") {
        let (a, r) = match x {
            Value::Array(v) if v.len() == 2 => (tol(&v[0], "$.solver.target_tol[0]")?, tol(&v[1], "$.solver.target_tol[1]")?),
            Value::Array(v) => return Err(Error::model("$.solver.target_tol", format!("expected a number (absolute tolerance) or [atol, rtol], got an array of {}", v.len()))),
            _ => (tol(x, "$.solver.target_tol")?, 0.0),
        };
        if a == 0.0 && r == 0.0 {
            return Err(Error::model("$.solver.target_tol", "atol and rtol are both 0: no ensemble reaches a zero standard error"));
        }
        m.target_tol = Some((a, r));
    }
    if let Some(x) = o.get("norm_tol") {
        let v = as_f64(x, "$.solver.norm_tol")?;
        if !(v > 0.0 && v < 1.0) {
            return Err(Error::model("$.solver.norm_tol", format!("must be in (0, 1), got {v}")));
        }
        m.norm_tol = v;
    }
    for (k, slot) in [("improved_sampling", &mut m.improved_sampling), ("keep_runs_results", &mut m.keep_runs_results)] {
        if let Some(x) = o.get(k) {
            *slot = x.as_bool().ok_or_else(|| Error::model(format!("$.solver.{k}"), format!("expected a boolean, got {}", kind(x))))?;
        }
    }
    Ok(m)
}

/// Parses the MPO keys of `$.solver` (`o` is the solver object). Keys given with another
/// method are an error naming the key; method `mpo` requires `dt > 0`.
pub(crate) fn parse_mpo_options(o: &Map<String, Value>, is_mpo: bool, dt: Option<f64>) -> Result<MpoOptions> {
    let mut m = MpoOptions::default();
    for k in ["chi_max", "chi_min", "cutoff", "order", "trotter_check"] {
        if !is_mpo && o.contains_key(k) {
            return Err(Error::model(format!("$.solver.{k}"), "only used by method \"mpo\"".to_string()));
        }
    }
    if !is_mpo {
        return Ok(m);
    }
    if dt.is_none() {
        return Err(Error::model("$.solver.dt", "method mpo needs a time step dt > 0"));
    }
    let int = |k: &str| -> Result<Option<usize>> {
        match o.get(k) {
            None => Ok(None),
            Some(x) => {
                let p = format!("$.solver.{k}");
                if let Some(v) = x.as_i64() {
                    if v < 1 {
                        return Err(Error::model(p, format!("must be at least 1, got {v}")));
                    }
                }
                Ok(Some(as_usize(x, &p)?))
            }
        }
    };
    if let Some(v) = int("chi_max")? {
        m.chi_max = v;
    }
    if let Some(v) = int("chi_min")? {
        m.chi_min = v;
    }
    if m.chi_min > m.chi_max {
        return Err(Error::model("$.solver.chi_min", format!("chi_min ({}) exceeds chi_max ({})", m.chi_min, m.chi_max)));
    }
    if let Some(x) = o.get("cutoff") {
        let v = as_f64(x, "$.solver.cutoff")?;
        if !(v >= 0.0) || !v.is_finite() {
            return Err(Error::model("$.solver.cutoff", format!("must be finite and ≥ 0, got {v}")));
        }
        m.cutoff = v;
    }
    if let Some(x) = o.get("order") {
        m.order = match x.as_u64() {
            Some(2) => 2,
            Some(4) => 4,
            _ => return Err(Error::model("$.solver.order", format!("must be 2 or 4, got {x}"))),
        };
    }
    if let Some(x) = o.get("trotter_check") {
        m.trotter_check = x.as_bool().ok_or_else(|| Error::model("$.solver.trotter_check", format!("expected a boolean, got {}", kind(x))))?;
    }
    Ok(m)
}

pub(crate) fn parse_solver(v: Option<&Value>) -> Result<SolverOptions> {
    let mut s = SolverOptions::default();
    let Some(v) = v else { return Ok(s) };
    let o = as_obj(v, "$.solver")?;
    check_keys(o, "$.solver", &[
        "method", "rtol", "atol", "dt", "max_steps", "renormalize", "memory_budget_mb", "krylov_dim", "physicality", "chi_max", "chi_min", "cutoff",
        "order", "trotter_check", "timeout", "ntraj", "seed", "target_tol", "improved_sampling", "keep_runs_results", "norm_tol", "sc_ops",
        "heterodyne", "sde_method", "store_measurement", "from_experiment",
    ])?;
    if let Some(m) = o.get("method") {
        s.method = match as_str(m, "$.solver.method")? {
            "auto" => Method::Auto,
            "rk4" => Method::Rk4,
            "dopri5" => Method::Dopri5,
            "expm" => Method::Expm,
            "krylov" => Method::Krylov,
            "cheby" | "chebyshev" => Method::Cheby,
            "trbdf2" | "stiff" => Method::Trbdf2,
            "mpo" => Method::Mpo,
            "mcsolve" => Method::Mcsolve,
            "ssesolve" => Method::Ssesolve,
            "smesolve" => Method::Smesolve,
            other => return Err(Error::model("$.solver.method", format!("unknown method '{other}' (auto, rk4, dopri5, expm, krylov, cheby, trbdf2, mpo, mcsolve, ssesolve, smesolve)"))),
        };
    }
    let pos = |k: &str| -> Result<Option<f64>> {
        match o.get(k) {
            None => Ok(None),
            Some(x) => {
                let p = format!("$.solver.{k}");
                let v = as_f64(x, &p)?;
                if !(v > 0.0) || !v.is_finite() {
                    return Err(Error::model(p, format!("must be positive, got {v}")));
                }
                Ok(Some(v))
            }
        }
    };
    // ρ's entries are at most 1 in modulus: a tolerance of 1 or more controls nothing
    if let Some(x) = pos("rtol")? {
        if x >= 1.0 {
            return Err(Error::model("$.solver.rtol", format!("must be below 1 (a relative tolerance of 1 or more controls nothing), got {x:e}")));
        }
        s.rtol = x;
    }
    if let Some(x) = o.get("atol") {
        let v = as_f64(x, "$.solver.atol")?;
        if !(0.0..1.0).contains(&v) {
            return Err(Error::model("$.solver.atol", format!("must be ≥ 0 and below 1 (the entries of ρ are at most 1 in modulus), got {v:e}")));
        }
        s.atol = v;
    }
    s.timeout = pos("timeout")?;
    s.dt = pos("dt")?;
    if let Some(x) = o.get("max_steps") {
        s.max_steps = as_usize(x, "$.solver.max_steps")? as u64;
    }
    if let Some(x) = pos("memory_budget_mb")? {
        s.memory_budget = (x * 1048576.0) as u128;
    }
    if let Some(x) = o.get("krylov_dim") {
        let k = as_usize(x, "$.solver.krylov_dim")?;
        if k < 2 {
            return Err(Error::model("$.solver.krylov_dim", format!("must be at least 2, got {k}")));
        }
        s.krylov_dim = k;
    }
    for (k, slot) in [("renormalize", &mut s.renormalize), ("physicality", &mut s.physicality)] {
        if let Some(x) = o.get(k) {
            *slot = x.as_bool().ok_or_else(|| Error::model(format!("$.solver.{k}"), format!("expected a boolean, got {}", kind(x))))?;
        }
    }
    if s.method == Method::Rk4 && s.dt.is_none() {
        return Err(Error::model("$.solver.dt", "method rk4 needs a step size dt"));
    }
    s.mpo = parse_mpo_options(o, s.method == Method::Mpo, s.dt)?;
    s.mc = parse_mc_options(o, s.method)?;
    s.sde = super::sde_options::parse_sde_options(o, s.method)?;
    Ok(s)
}

