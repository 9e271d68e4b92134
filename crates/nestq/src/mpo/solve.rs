//! The solver of method `mpo` ([`mesolve_mpo`]: TEBD from the initial MPO, observables and
//! measures at the output times, the Trotter-error estimate by step doubling and the accumulated
//! truncation error described in the `mpo` module documentation, `mpo/mod.rs`, warnings and the
//! result) and the parse-time check of a model for method `mpo` ([`validate_model`]).

use super::generator::{local_factors, split_generator, term_scales};
use super::state::{initial_mpo, Mpo};
use super::tebd::Tebd;
use super::ONE;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Measure, Method, Model};
use crate::result::{ExpectSeries, MpoStats, Physicality, Progress, RunStats, SolveResult};
use crate::C64;
use nalgebra::DMatrix;
use std::collections::BTreeMap;

/// Largest number of Trotter-error checkpoints per solve.
const CHECKPOINTS: u64 = 4;

/// Checks a model for method `mpo` at parse time: term supports (≤ 2 sites), rates, Hermitian
/// H, supported measures (errors name `$.hamiltonian[k].ops`, `$.measures[k]`, …).
pub(crate) fn validate_model(model: &Model) -> Result<()> {
    split_generator(model)?;
    for (k, (name, m)) in model.measures.iter().enumerate() {
        match m {
            Measure::Entropy | Measure::Fidelity => {
                return Err(Error::model(format!("$.measures[{k}]"), format!("'{name}' needs the full state; method mpo supports purity, trace, entropy:i, mutual_info:i,j, concurrence:i,j, negativity:i,j, log_negativity:i,j")));
            }
            _ => {}
        }
    }
    if model.initial_product.is_none() && !model.dense {
        return Err(Error::model("$.initial", "method mpo on this chain needs a 'basis' or 'product' initial state"));
    }
    Ok(())
}

/// Solves a model with method `mpo` (called by [`crate::mesolve`] when `solver.method` is
/// `"mpo"`): TEBD from the initial MPO, observables and the supported measures at the output
/// times, `trace_drift` as the only physicality diagnostic, and the final state when it fits
/// the memory budget (else a 0×0 matrix and `stats.mpo.final_state_omitted`).
pub fn mesolve_mpo(model: &Model, mut progress: Option<Progress>) -> Result<SolveResult> {
    let start = crate::clock::now_s();
    if model.solver.method != Method::Mpo {
        return Err(Error::model("$.solver.method", "mesolve_mpo needs method \"mpo\""));
    }
    validate_model(model)?;
    let opts = &model.solver.mpo;
    let dt = model.solver.dt.ok_or_else(|| Error::model("$.solver.dt", "method mpo needs a time step dt > 0"))?;
    crate::integrate::check_times(&model.times)?;
    let scales = term_scales(model, model.times[0], model.times[model.times.len() - 1])?;
    let scales: Vec<crate::guard::TermScale<'_>> = scales.iter().map(|(p, n)| crate::guard::TermScale { path: p, norm: *n }).collect();
    crate::guard::check_scale(&scales, &model.times)?;
    let mut tebd = Tebd::new(model, opts)?;
    let split_herm = split_generator(model)?.hermiticity_preserving;
    let mut mpo = initial_mpo(model)?;
    let obs: Vec<(String, Vec<(usize, DMatrix<C64>)>)> = model
        .observables
        .iter()
        .map(|(name, expr, _)| Ok((name.clone(), local_factors(model, expr, &format!("$.observables.{name}"))?)))
        .collect::<Result<_>>()?;
    let mut expect: Vec<Vec<C64>> = vec![Vec::with_capacity(model.times.len()); obs.len()];
    let mut meas: Vec<Vec<f64>> = vec![Vec::with_capacity(model.times.len()); model.measures.len()];
    let mut phys = Physicality::default();
    let mut stats = MpoStats { dt, order: opts.order, renormalized: model.solver.renormalize, ..Default::default() };
    let mut warnings = Vec::new();
    // total steps for progress and Trotter checkpoints
    let steps_in = |a: f64, b: f64| -> u64 { (((b - a) / dt) - 1e-9).ceil().max(1.0) as u64 };
    let total: u64 = model.times.windows(2).map(|w| steps_in(w[0], w[1])).fold(0u64, |a, b| a.saturating_add(b));
    if total > model.solver.max_steps {
        return Err(Error::model("$.solver.dt", format!("dt = {dt} needs {total} Trotter steps over the output times, more than max_steps = {}", model.solver.max_steps)));
    }
    let check_every = total.div_ceil(CHECKPOINTS).max(1);
    let mut trotter = 0.0;
    let q = opts.order as i32;
    let mut done: u64 = 0;
    let record = |mpo: &Mpo, expect: &mut Vec<Vec<C64>>, meas: &mut Vec<Vec<f64>>, phys: &mut Physicality| -> Result<()> {
        for (k, (_, f)) in obs.iter().enumerate() {
            expect[k].push(mpo.expect_product(f)?);
        }
        for (k, (_, m)) in model.measures.iter().enumerate() {
            let two = |a: usize, b: usize| -> Result<DMatrix<C64>> { mpo.rdm2(a, b) };
            let v = match m {
                Measure::Purity => mpo.purity(),
                Measure::Trace => mpo.trace().re,
                Measure::EntropyOf(s) => crate::measures::entropy_vn(&mpo.rdm1(*s)?),
                Measure::MutualInfo(a, b) => crate::measures::mutual_information(&two(*a, *b)?, &[model.dims[*a], model.dims[*b]], 0, 1)?,
                Measure::Concurrence(a, b) => crate::measures::concurrence(&two(*a, *b)?, &[model.dims[*a], model.dims[*b]], 0, 1)?,
                Measure::Negativity(a, b) => crate::measures::negativity(&two(*a, *b)?, &[model.dims[*a], model.dims[*b]], 0, 1)?,
                Measure::LogNegativity(a, b) => crate::measures::log_negativity(&two(*a, *b)?, &[model.dims[*a], model.dims[*b]], 0, 1)?,
                Measure::Entropy | Measure::Fidelity => return Err(Error::model(format!("$.measures[{k}]"), "not supported by method mpo")),
            };
            meas[k].push(v);
        }
        if model.solver.physicality {
            phys.trace_drift.push((mpo.trace() - ONE).norm());
        }
        Ok(())
    };
    record(&mpo, &mut expect, &mut meas, &mut phys)?;
    stats.bond_dims.push(mpo.bond_dims());
    stats.cumulative_truncation_error.push(tebd.discarded.weight);
    tebd.max_bond = mpo.max_bond();
    // Progress is reported from inside the fused schedules, at most about once per percent: the
    // schedule (chunks end only at Trotter checkpoints and output times) never depends on
    // whether a progress callback is given, so results and gate counts do not either.
    let mut next_report = 0.0;
    let mut aborted_at = None;
    let deadline = crate::guard::Deadline::start(model.solver.timeout)?;
    let mut timed_out = false;
    for w in model.times.windows(2) {
        let n = steps_in(w[0], w[1]);
        let h = (w[1] - w[0]) / n as f64;
        let mut k = 0;
        while k < n {
            let t = w[0] + h * k as f64;
            if opts.trotter_check && done % check_every == 0 {
                let mut one = mpo.clone();
                let mut two = mpo.clone();
                let saved = (tebd.discarded, tebd.gates, tebd.max_bond);
                tebd.step(&mut one, h, t)?;
                tebd.step(&mut two, 0.5 * h, t)?;
                tebd.step(&mut two, 0.5 * h, t + 0.5 * h)?;
                (tebd.discarded, tebd.gates, tebd.max_bond) = saved;
                let local = one.distance(&two)? / (1.0 - 2f64.powi(-q));
                trotter += local * (check_every.min(total - done)) as f64;
            }
            // run up to the next checkpoint or the end of the interval in one fused schedule
            let mut len = n - k;
            if opts.trotter_check {
                len = len.min(check_every - done % check_every);
            }
            if model.solver.renormalize {
                len = 1;
            }
            let finished = match progress.as_mut() {
                None => tebd.steps_reporting(&mut mpo, h, t, len, &mut |f| {
                    if deadline.passed() {
                        aborted_at = Some(t + f * h * len as f64);
                        timed_out = true;
                        return false;
                    }
                    true
                })?,
                Some(p) => tebd.steps_reporting(&mut mpo, h, t, len, &mut |f| {
                    if deadline.passed() {
                        aborted_at = Some(t + f * h * len as f64);
                        timed_out = true;
                        return false;
                    }
                    let frac = (done as f64 + f * len as f64) / total.max(1) as f64;
                    if frac < next_report && f < 1.0 {
                        return true;
                    }
                    next_report = frac + 0.01;
                    if p(frac) {
                        return true;
                    }
                    aborted_at = Some(t + f * h * len as f64);
                    false
                })?,
            };
            if !finished {
                let at = aborted_at.unwrap_or(t);
                if timed_out {
                    let recorded = stats.bond_dims.len();
                    return Err(deadline.error(&format!("at t ≈ {at}, after {recorded} recorded output times and {done} of {total} Trotter steps")));
                }
                return Err(Error::new(ErrorCode::Aborted, format!("aborted by the caller at t ≈ {at}")));
            }
            done += len;
            k += len;
            if model.solver.renormalize {
                let tr = mpo.trace();
                if tr.norm() == 0.0 || !tr.re.is_finite() {
                    return Err(Error::numerical(format!("MPO: the trace vanished at t = {}", t + h)));
                }
                stats.max_renormalization = stats.max_renormalization.max((tr - ONE).norm());
                mpo.scale(ONE / tr);
            }
        }
        record(&mpo, &mut expect, &mut meas, &mut phys)?;
        stats.bond_dims.push(mpo.bond_dims());
        stats.cumulative_truncation_error.push(tebd.discarded.weight);
    }
    stats.max_bond = tebd.max_bond;
    stats.steps = done;
    stats.truncation_error = tebd.discarded.weight;
    stats.truncation_norm_error = tebd.discarded.norm;
    stats.trotter_error = if opts.trotter_check { Some(trotter) } else { None };
    if model.solver.renormalize {
        warnings.push(format!("renormalize is on: the MPO was divided by its trace after every step (largest correction |Tr ρ − 1| = {:.3e}); this hides truncation error", stats.max_renormalization));
    }
    if stats.max_bond >= opts.chi_max && stats.truncation_error > 1e-6 {
        warnings.push(format!("bond dimension saturated at chi_max = {} with accumulated truncation error {:.3e}; raise chi_max", opts.chi_max, stats.truncation_error));
    }
    if stats.truncation_norm_error > 1e-2 {
        warnings.push(format!(
            "truncations may have moved ρ by up to {:.3e} in relative Frobenius norm (sum of √discarded weight); raise chi_max or lower cutoff",
            stats.truncation_norm_error
        ));
    }
    if let Some(&drift) = phys.trace_drift.iter().max_by(|a, b| a.total_cmp(b)) {
        if drift > 1e-6 && !model.solver.renormalize {
            warnings.push(format!("trace drifted by up to {drift:.3e}"));
        }
    }
    let final_state = if model.dense {
        match mpo.to_dense(model.solver.memory_budget) {
            Ok(r) => r,
            Err(_) => {
                stats.final_state_omitted = true;
                DMatrix::zeros(0, 0)
            }
        }
    } else {
        stats.final_state_omitted = true;
        DMatrix::zeros(0, 0)
    };
    if stats.final_state_omitted {
        warnings.push("final_state omitted: the dense density matrix exceeds the memory budget".into());
    }
    let expect = obs
        .iter()
        .zip(expect)
        .map(|((name, f), values)| {
            let herm_op = {
                let mut per_site: BTreeMap<usize, DMatrix<C64>> = BTreeMap::new();
                for (s, o) in f {
                    let e = per_site.entry(*s).or_insert_with(|| DMatrix::identity(o.nrows(), o.nrows()));
                    *e = &*e * o;
                }
                per_site.values().all(|m| (m - m.adjoint()).iter().all(|z| z.norm() <= 1e-12 * m.iter().map(|x| x.norm()).fold(1.0, f64::max)))
            };
            ExpectSeries { name: name.clone(), values, real: herm_op && split_herm }
        })
        .collect();
    let measures = model.measures.iter().map(|(s, _)| s.clone()).zip(meas).collect();
    Ok(SolveResult {
        times: model.times.clone(),
        expect,
        measures,
        physicality: phys,
        final_state,
        stats: RunStats {
            method: "mpo".into(),
            method_reason: format!("requested: TEBD on the vectorised MPO, order {}, dt {h:.6}, chi_max {}, cutoff {:e}", opts.order, opts.chi_max, opts.cutoff, h = dt),
            integrator: crate::integrate::Stats { steps: stats.steps, rejected: 0, rhs_evals: tebd.gates, factorizations: 0, error_estimate: stats.trotter_error.unwrap_or(0.0) + stats.truncation_norm_error },
            wall_s: crate::clock::now_s() - start,
            cp_min_eigenvalue: if model.dense { model.lindbladian()?.cp_report().min_eigenvalue } else { f64::NAN },
            warnings,
            mpo: Some(stats),
            mc: None,
            sde: None,
        },
    })
}
