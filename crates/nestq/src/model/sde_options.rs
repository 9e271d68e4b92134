//! The `$.solver` keys of the diffusive unravellings `ssesolve` and `smesolve`
//! (`docs/model-format.md`, *Diffusive trajectories*), with QuTiP 5's names where it has them
//! (`sc_ops`, `heterodyne`, `store_measurement`, `run_from_experiment`).

use super::solver::{Method, SDE_KEYS};
use crate::error::{Error, Result};
use crate::json::{as_f64, as_str, as_usize, kind};
use serde_json::{Map, Value};

/// Integration scheme of a stochastic differential equation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SdeMethod {
    /// Euler–Maruyama: strong order ½ (Kloeden & Platen, *Numerical Solution of Stochastic
    /// Differential Equations*, §10.2).
    Euler,
    /// Milstein for commutative noise: strong order 1 (Kloeden & Platen §10.3; QuTiP 5's
    /// `"milstein"`, which uses the same commutative-noise form for several operators).
    Milstein,
    /// Rouchon & Ralph, PRA 91, 012118 (2015), eq. (4), with the second-order Itô correction of
    /// QuTiP 5's `"rouchon"`: `ρ ← (MρM† + Σ_u C_u ρ C_u† dt)/Tr(…)`, a completely positive
    /// map at every step, so ρ stays a density matrix at any step size; strong order 1.
    Rouchon,
}

impl SdeMethod {
    /// Model-file name.
    pub fn as_str(self) -> &'static str {
        match self {
            SdeMethod::Euler => "euler",
            SdeMethod::Milstein => "milstein",
            SdeMethod::Rouchon => "rouchon",
        }
    }
}

/// When a measurement record samples the expectation value within its output interval
/// (QuTiP 5's `store_measurement`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreMeasurement {
    /// Not stored (default).
    No,
    /// `⟨m⟩` at the start of the interval.
    Start,
    /// The mean of `⟨m⟩` at its start and end.
    Middle,
    /// `⟨m⟩` at the end of the interval (QuTiP's `True`).
    End,
}

/// One monitored jump: `$.jumps[jump]`, detected with efficiency η.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScOp {
    /// Index into `$.jumps`.
    pub jump: usize,
    /// Detection efficiency η ∈ [0, 1]: the jump `L` (rate κ) is split into the monitored
    /// `√(ηκ)·L` and the unmonitored `√((1 − η)κ)·L` (Wiseman & Milburn, *Quantum Measurement
    /// and Control*, §4.8).
    pub efficiency: f64,
}

/// A measured record to filter (QuTiP 5's `run_from_experiment`): one trajectory driven by the
/// given noise instead of random draws.
#[derive(Clone, Debug, PartialEq)]
pub enum FromExperiment {
    /// Wiener increments `dW[channel][interval]`.
    Dw(Vec<Vec<f64>>),
    /// The measured currents `measurement[channel][interval]` = `⟨m⟩(t_k) + f·ΔW/Δt`, with the
    /// expectation taken at the start of the interval (QuTiP's convention for
    /// `run_from_experiment(…, measurement=True)`).
    Measurement(Vec<Vec<f64>>),
}

/// Options of `ssesolve` and `smesolve`. The step is `$.solver.dt` (default
/// [`DEFAULT_SDE_DT`]), the ensemble keys are [`super::McOptions`]'s.
#[derive(Clone, Debug, PartialEq)]
pub struct SdeOptions {
    /// Monitored jumps (`None`: every collapse operator, with efficiency 1).
    pub sc_ops: Option<Vec<ScOp>>,
    /// Heterodyne detection: each monitored operator `c` is split into `c/√2` and `−i·c/√2`, two
    /// records of `c + c†` and `−i(c − c†)` with noise factor √2 (QuTiP 5).
    pub heterodyne: bool,
    /// Scheme (default [`SdeMethod::Rouchon`]).
    pub method: SdeMethod,
    /// Return the measurement records and the Wiener increments of every trajectory.
    pub store_measurement: StoreMeasurement,
    /// Filter a measured record instead of sampling.
    pub from_experiment: Option<FromExperiment>,
}

impl Default for SdeOptions {
    fn default() -> Self {
        SdeOptions { sc_ops: None, heterodyne: false, method: SdeMethod::Rouchon, store_measurement: StoreMeasurement::No, from_experiment: None }
    }
}

/// The default SDE step, QuTiP 5's `dt` option (in the model's time unit).
pub const DEFAULT_SDE_DT: f64 = 1e-3;

fn channels(x: &Value, p: &str) -> Result<Vec<Vec<f64>>> {
    let rows = x.as_array().ok_or_else(|| Error::model(p, format!("expected an array of channels (arrays of numbers), got {}", kind(x))))?;
    let mut out = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let pi = format!("{p}[{i}]");
        let vals = r.as_array().ok_or_else(|| Error::model(&pi, format!("expected an array of numbers (one per output interval), got {}", kind(r))))?;
        let mut row = Vec::with_capacity(vals.len());
        for (k, v) in vals.iter().enumerate() {
            let pk = format!("{pi}[{k}]");
            let f = as_f64(v, &pk)?;
            if !f.is_finite() {
                return Err(Error::model(pk, format!("must be finite, got {f}")));
            }
            row.push(f);
        }
        out.push(row);
    }
    Ok(out)
}

/// Parses the `ssesolve`/`smesolve` keys of `$.solver`; keys given with another method are an
/// error naming the key.
pub(crate) fn parse_sde_options(o: &Map<String, Value>, method: Method) -> Result<SdeOptions> {
    let mut s = SdeOptions::default();
    for k in SDE_KEYS {
        if !method.is_sde() && o.contains_key(k) {
            return Err(Error::model(format!("$.solver.{k}"), "only used by methods \"ssesolve\" and \"smesolve\"".to_string()));
        }
    }
    if let Some(x) = o.get("sc_ops") {
        if method == Method::Ssesolve {
            return Err(Error::model("$.solver.sc_ops", "ssesolve monitors every collapse operator with efficiency 1 (a pure state stays pure only then); to monitor some jumps, or with η < 1, use smesolve"));
        }
        let arr = x.as_array().ok_or_else(|| Error::model("$.solver.sc_ops", format!("expected an array of jump indices or {{\"jump\", \"efficiency\"}} objects, got {}", kind(x))))?;
        let mut v: Vec<ScOp> = Vec::with_capacity(arr.len());
        for (i, e) in arr.iter().enumerate() {
            let p = format!("$.solver.sc_ops[{i}]");
            let op = match e {
                Value::Object(m) => {
                    crate::json::check_keys(m, &p, &["jump", "efficiency"])?;
                    let j = m.get("jump").ok_or_else(|| Error::model(&p, "missing \"jump\" (an index into $.jumps)"))?;
                    let jump = as_usize(j, &format!("{p}.jump"))?;
                    let efficiency = match m.get("efficiency") {
                        None => 1.0,
                        Some(y) => {
                            let pe = format!("{p}.efficiency");
                            let eta = as_f64(y, &pe)?;
                            if !(0.0..=1.0).contains(&eta) {
                                return Err(Error::model(pe, format!("a detection efficiency must be in [0, 1], got {eta}")));
                            }
                            eta
                        }
                    };
                    ScOp { jump, efficiency }
                }
                _ => ScOp { jump: as_usize(e, &p)?, efficiency: 1.0 },
            };
            if v.iter().any(|o| o.jump == op.jump) {
                return Err(Error::model(p, format!("jump {} is monitored twice", op.jump)));
            }
            v.push(op);
        }
        s.sc_ops = Some(v);
    }
    if let Some(x) = o.get("heterodyne") {
        s.heterodyne = x.as_bool().ok_or_else(|| Error::model("$.solver.heterodyne", format!("expected a boolean, got {}", kind(x))))?;
    }
    if let Some(x) = o.get("sde_method") {
        s.method = match as_str(x, "$.solver.sde_method")? {
            "euler" | "euler-maruyama" => SdeMethod::Euler,
            "milstein" => SdeMethod::Milstein,
            "rouchon" => SdeMethod::Rouchon,
            other => return Err(Error::model("$.solver.sde_method", format!("unknown SDE method '{other}' (euler, milstein, rouchon)"))),
        };
    }
    if let Some(x) = o.get("store_measurement") {
        s.store_measurement = match x {
            Value::Bool(true) => StoreMeasurement::End,
            Value::Bool(false) => StoreMeasurement::No,
            Value::String(t) if t == "start" => StoreMeasurement::Start,
            Value::String(t) if t == "middle" => StoreMeasurement::Middle,
            Value::String(t) if t == "end" => StoreMeasurement::End,
            _ => return Err(Error::model("$.solver.store_measurement", format!("expected true, false, \"start\", \"middle\" or \"end\", got {x}"))),
        };
    }
    if let Some(x) = o.get("from_experiment") {
        let m = x.as_object().ok_or_else(|| Error::model("$.solver.from_experiment", format!("expected {{\"dW\": …}} or {{\"measurement\": …}}, got {}", kind(x))))?;
        crate::json::check_keys(m, "$.solver.from_experiment", &["dW", "measurement"])?;
        s.from_experiment = Some(match (m.len(), m.get("dW"), m.get("measurement")) {
            (1, Some(d), None) => FromExperiment::Dw(channels(d, "$.solver.from_experiment.dW")?),
            (1, None, Some(r)) => FromExperiment::Measurement(channels(r, "$.solver.from_experiment.measurement")?),
            _ => return Err(Error::model("$.solver.from_experiment", "takes exactly one key: \"dW\" (Wiener increments) or \"measurement\" (measured currents), no comments beside it")),
        });
        if let Some(n) = o.get("ntraj") {
            if n.as_u64() != Some(1) {
                return Err(Error::model("$.solver.ntraj", format!("from_experiment filters one measured record: ntraj must be 1 or absent, got {n}")));
            }
        }
    }
    Ok(s)
}
