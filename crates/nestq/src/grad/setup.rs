//! What is fixed before the sweeps: the RK4 step grid (the one of `mesolve` with
//! `"method": "rk4"`: each output interval split into steps of `dt`, the last one shortened to
//! land on the output time), the default step [`default_dt`], the generator with the overrides,
//! the objective terms resolved to observables and step indices, and the parameter groups.

use super::params::{dependent_groups, DepGroup};
use super::{GradOptions, Objective, ObjectiveTime};
use crate::error::{Error, Result};
use crate::lindblad::Lindbladian;
use crate::model::Model;
use crate::sparse::Csr;

/// A step size for RK4 when neither the options nor the model give one: `0.02 / s` with `s`
/// a bound on the generator's rate scale, `s = Σ_H |c|·‖O‖ + Σ_D |c|·‖A‖‖B‖ + max |ω|`
/// (`‖·‖` the max of the 1- and ∞-norms, coefficient amplitudes at their modulation peak).
/// RK4's local error is then ~`(0.02)^5/120` relative per step.
pub fn default_dt(l: &Lindbladian) -> f64 {
    let norm = |o: &Csr| -> f64 {
        let mut rows = vec![0.0; o.nrows];
        let mut cols = vec![0.0; o.ncols];
        for (i, j, v) in o.triplets() {
            rows[i] += v.norm();
            cols[j] += v.norm();
        }
        rows.iter().chain(cols.iter()).cloned().fold(0.0, f64::max)
    };
    let peak = |c: &crate::Coef| -> f64 {
        match c.modulation {
            crate::Modulation::Exp { rate } if rate < 0.0 => f64::INFINITY,
            _ => c.amp.norm(),
        }
    };
    let mut s = 0.0;
    let mut omega: f64 = 0.0;
    for h in &l.hamiltonian {
        s += peak(&h.coef) * norm(&h.op);
        if let crate::Modulation::Cos { omega: w, .. } = h.coef.modulation {
            omega = omega.max(w.abs());
        }
    }
    for d in &l.dissipators {
        s += peak(&d.rate) * norm(&d.a) * norm(&d.b);
        if let crate::Modulation::Cos { omega: w, .. } = d.rate.modulation {
            omega = omega.max(w.abs());
        }
    }
    s += omega;
    if !(s.is_finite() && s > 0.0) {
        return 0.01;
    }
    0.02 / s
}

/// The RK4 step list `(t, h)` of `integrate::rk4` and the step index of every output time.
fn step_grid(times: &[f64], dt: f64, max_steps: u64) -> Result<(Vec<(f64, f64)>, Vec<usize>)> {
    let mut steps = Vec::new();
    let mut at = vec![0usize; times.len()];
    let mut t = times[0];
    for (k, &tout) in times.iter().enumerate().skip(1) {
        while t < tout {
            let mut h = dt;
            if t + h >= tout - 1e-12 * dt {
                h = tout - t;
            }
            steps.push((t, h));
            if steps.len() as u64 > max_steps {
                return Err(Error::model("$.solver.max_steps", format!("the gradient needs more than {max_steps} RK4 steps of dt = {dt}")));
            }
            t = if h == tout - t { tout } else { t + h };
        }
        at[k] = steps.len();
    }
    Ok((steps, at))
}

/// Everything fixed before the sweeps.
pub(super) struct Setup {
    pub(super) n: usize,
    pub(super) l: Lindbladian,
    pub(super) steps: Vec<(f64, f64)>,
    pub(super) dt: f64,
    /// Per term: (observable operator, state index, weight).
    pub(super) terms: Vec<(Csr, usize, f64)>,
    pub(super) names: Vec<String>,
    pub(super) dep: Vec<DepGroup>,
}

pub(super) fn setup(model: &Model, objective: &Objective, opts: &GradOptions) -> Result<Setup> {
    let l = model.lindbladian_with(&opts.overrides)?;
    let mut values = model.parameters.clone();
    values.extend(opts.overrides.iter().map(|(k, v)| (k.clone(), *v)));
    let names: Vec<String> = match &objective.parameters {
        None => model.parameters.keys().cloned().collect(),
        Some(ps) => {
            for (i, p) in ps.iter().enumerate() {
                if !model.parameters.contains_key(p) {
                    return Err(Error::model(format!("$.parameters[{i}]"), format!("unknown parameter '{p}' (the model defines: {})", list(model.parameters.keys()))));
                }
            }
            ps.clone()
        }
    };
    let dt = match opts.dt.or(model.solver.dt) {
        Some(dt) if dt.is_finite() && dt > 0.0 => dt,
        Some(dt) => return Err(Error::arg("dt", format!("must be finite and > 0, got {dt}"))),
        None => default_dt(&l),
    };
    let (steps, at) = step_grid(&model.times, dt, model.solver.max_steps)?;
    let t_last = *model.times.last().expect("times is non-empty");
    let mut terms = Vec::new();
    for (i, t) in objective.terms.iter().enumerate() {
        let p = format!("$.terms[{i}]");
        let obs = model.observables.iter().find(|(name, _, _)| *name == t.observable).ok_or_else(|| {
            Error::model(format!("{p}.observable"), format!("unknown observable '{}' (the model defines: {})", t.observable, if model.observables.is_empty() { "none".into() } else { list(model.observables.iter().map(|o| &o.0)) }))
        })?;
        let k = match t.time {
            ObjectiveTime::Final => model.times.len() - 1,
            ObjectiveTime::At(x) => model.times.iter().position(|&tk| (tk - x).abs() <= 1e-9 * x.abs().max(1.0)).ok_or_else(|| {
                Error::model(format!("{p}.time"), format!("time {x} is not one of the model's output times ({} points in [{}, {t_last}]); objective terms are evaluated at output times", model.times.len(), model.times[0]))
            })?,
        };
        if !t.weight.is_finite() {
            return Err(Error::model(format!("{p}.weight"), "must be finite"));
        }
        terms.push((obs.2.clone(), at[k], t.weight));
    }
    let dep = dependent_groups(model, &values, &names);
    Ok(Setup { n: model.dim(), l, steps, dt, terms, names, dep })
}

fn list<'a>(it: impl Iterator<Item = &'a String>) -> String {
    it.cloned().collect::<Vec<_>>().join(", ")
}
