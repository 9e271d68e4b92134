//! Neurons and synapses of the network file (`docs/network-format.md`, "Neurons", "Groups",
//! "Synapses"): the parameters of a leaky integrate-and-fire neuron (Gerstner, Kistler, Naud &
//! Paninski, *Neuronal Dynamics*, 2014, eq. 1.5; the equations are in `neural/mod.rs`), their
//! parsing and checks for single neurons and groups, the resolution of neuron and group ids,
//! and delta synapses with their (constant, listed or seeded) weights.

use crate::neural::rng::Xoshiro256;
use super::fields::{nonneg, per_member, Dist};
use crate::error::{Error, Result};
use crate::json::{as_f64, as_str};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Parameters of one leaky integrate-and-fire neuron. Units: ms, mV, MΩ, nA (so R·I is in mV).
#[derive(Clone, Debug, PartialEq)]
pub struct LifParams {
    /// Membrane time constant τ_m (ms, > 0, ≥ 2·dt).
    pub tau_m: f64,
    /// Resting potential V_rest (mV).
    pub v_rest: f64,
    /// Reset potential V_reset (mV, < V_th).
    pub v_reset: f64,
    /// Threshold V_th (mV).
    pub v_th: f64,
    /// Membrane resistance R_m (MΩ, ≥ 0).
    pub r_m: f64,
    /// Refractory period t_ref (ms, ≥ 0); counted as `floor(t_ref/dt + 1e-3)` whole steps (Brian2's rule).
    pub t_ref: f64,
    /// Constant external current I_ext (nA).
    pub i_ext: f64,
    /// Initial potential V(0) (mV, < V_th); defaults to V_rest.
    pub v0: f64,
}

/// A delta synapse after expansion of generated connectivity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Synapse {
    /// Presynaptic neuron index.
    pub pre: u32,
    /// Postsynaptic neuron index.
    pub post: u32,
    /// Jump of the postsynaptic V (mV).
    pub weight: f64,
    /// Delay in steps, `round(delay/dt)` (0 = delivered in the spike's own step).
    pub delay_steps: u32,
}

pub(super) const LIF_KEYS: [&str; 8] = ["tau_m", "v_rest", "v_reset", "v_th", "r_m", "t_ref", "i_ext", "v0"];

/// LIF parameters of `n` members. Single neurons (`per_member = false`) take numbers only;
/// group fields may vary per member (see [`per_member`]). Errors name the member, e.g.
/// `$.groups[0].tau_m[17]`.
pub(super) fn parse_lif(o: &Map<String, Value>, path: &str, dt: f64, n: usize, allow_per_member: bool) -> Result<Vec<LifParams>> {
    let field = |key: &str, default: Option<f64>| -> Result<(Vec<f64>, bool)> {
        let kp = format!("{path}.{key}");
        match (o.get(key), default) {
            (None, Some(d)) => Ok((vec![d; n], false)),
            (None, None) => Err(Error::model(kp, "required field is missing")),
            (Some(v), _) if allow_per_member => per_member(v, &kp, n),
            (Some(v), _) => Ok((vec![as_f64(v, &kp)?; n], false)),
        }
    };
    let (tau_m, tau_v) = field("tau_m", None)?;
    let (v_rest, rest_v) = field("v_rest", None)?;
    let (v_reset, reset_v) = field("v_reset", None)?;
    let (v_th, th_v) = field("v_th", None)?;
    let (r_m, r_v) = field("r_m", None)?;
    let (t_ref, ref_v) = field("t_ref", Some(0.0))?;
    let (i_ext, _) = field("i_ext", Some(0.0))?;
    let (v0, v0_v) = match o.get("v0") {
        None => (v_rest.clone(), rest_v),
        Some(_) => field("v0", None)?,
    };
    let at = |key: &str, varies: bool, m: usize| if varies { format!("{path}.{key}[{m}]") } else { format!("{path}.{key}") };
    let mut out = Vec::with_capacity(n);
    for m in 0..n {
        let tau = tau_m[m];
        if tau <= 0.0 {
            return Err(Error::model(at("tau_m", tau_v, m), format!("must be positive, got {tau}")));
        }
        if dt > tau / 2.0 {
            return Err(Error::model(at("tau_m", tau_v, m), format!("tau_m = {tau} ms is shorter than 2·dt = {} ms: dt must be ≤ tau_m/2 to resolve the membrane dynamics and spike timing", 2.0 * dt)));
        }
        if v_reset[m] >= v_th[m] {
            let key = if reset_v || !th_v { "v_reset" } else { "v_th" };
            return Err(Error::model(at(key, reset_v || th_v, m), format!("v_reset ({} mV) must be below v_th ({} mV)", v_reset[m], v_th[m])));
        }
        nonneg(r_m[m], &at("r_m", r_v, m), "r_m")?;
        nonneg(t_ref[m], &at("t_ref", ref_v, m), "t_ref")?;
        if v0[m] >= v_th[m] {
            return Err(Error::model(at("v0", v0_v || th_v, m), format!("v0 ({} mV) must be below v_th ({} mV)", v0[m], v_th[m])));
        }
        out.push(LifParams { tau_m: tau, v_rest: v_rest[m], v_reset: v_reset[m], v_th: v_th[m], r_m: r_m[m], t_ref: t_ref[m], i_ext: i_ext[m], v0: v0[m] });
    }
    Ok(out)
}

/// Resolves a neuron or group name to neuron indices.
pub(super) struct Names {
    pub(super) map: HashMap<String, (Vec<usize>, bool)>,
}

impl Names {
    pub(super) fn resolve(&self, v: &Value, path: &str) -> Result<(&[usize], bool)> {
        let s = as_str(v, path)?;
        match self.map.get(s) {
            Some((ix, is_group)) => Ok((ix.as_slice(), *is_group)),
            None => Err(Error::model(path, format!("unknown neuron or group id '{s}'"))),
        }
    }
    pub(super) fn neuron(&self, v: &Value, path: &str) -> Result<usize> {
        let (ix, is_group) = self.resolve(v, path)?;
        if is_group {
            return Err(Error::model(path, format!("'{}' is a group; a single neuron id is required here", v.as_str().unwrap_or(""))));
        }
        Ok(ix[0])
    }
}

/// Synaptic weights of one `synapses` entry: a number, one per explicit pair, or drawn per created
/// synapse (in creation order) from a seeded distribution.
pub(super) enum Weights {
    Const(f64),
    List(Vec<f64>),
    Dist(Dist, Xoshiro256),
}

impl Weights {
    pub(super) fn get(&mut self, k: usize) -> f64 {
        match self {
            Weights::Const(w) => *w,
            Weights::List(w) => w[k],
            Weights::Dist(d, r) => d.sample(r),
        }
    }
}
