//! Adjoint sensitivities of master-equation solves: the gradient of an objective built from
//! observables at output times with respect to every named parameter of a model file.
//!
//! # What is differentiated
//!
//! The forward solution is the classical fixed-step RK4 discretisation of `dρ/dt = 𝓛(t;θ)ρ`
//! (column-stacked `vec(ρ)`, `n² ` complex entries, `n` the Hilbert-space dimension) on the
//! same step grid as `mesolve` with `"method": "rk4"` (each output interval split into steps
//! of `dt`, the last one shortened to land on the output time). The objective is
//!
//! ```text
//! J(θ) = Σ_k w_k · Re Tr(O_k ρ_{s_k}(θ))
//! ```
//!
//! with `ρ_{s_k}` the RK4 state at output time `t_k`. nestq returns the exact gradient of this
//! *discretised* `J` — the **discrete adjoint of RK4** (reverse-mode differentiation of the
//! integrator; Sandu, "On the properties of Runge–Kutta discrete adjoints", ICCS 2006, and for
//! the checkpointed form Griewank & Walther, *Evaluating Derivatives*, 2nd ed., ch. 12) — so it
//! agrees with central finite differences of the same discretisation to ~1e-8 and with an RK4
//! unrolled under PyTorch autograd to rounding. The continuous-adjoint view (Cao, Li, Petzold &
//! Serban, SIAM J. Sci. Comput. 24 (2003) 1076) is its `dt → 0` limit:
//! `dJ/dθ = ∫ Re Tr(λ(t)† ∂𝓛/∂θ ρ(t)) dt` with `−dλ/dt = 𝓛(t)†λ` and jumps `λ += w_k O_k†`
//! at the objective times.
//!
//! # The adjoint step
//!
//! One RK4 step from `y` at `t` with step `h` uses stage inputs `u₁ = y`, `u₂ = y + h/2 k₁`,
//! `u₃ = y + h/2 k₂`, `u₄ = y + h k₃`, `k_i = A_i u_i` with `A₁ = 𝓛(t)`, `A₂ = A₃ = 𝓛(t+h/2)`,
//! `A₄ = 𝓛(t+h)`, and `y' = y + h/6 (k₁ + 2k₂ + 2k₃ + k₄)`. For the real inner product
//! `⟨X, Y⟩ = Re Tr(X†Y)` and `a = ∂J/∂y'` the reverse sweep is
//!
//! ```text
//! c₄ = h/6 a,              v₄ = A₄† c₄
//! c₃ = h/3 a + h v₄,       v₃ = A₃† c₃
//! c₂ = h/3 a + h/2 v₃,     v₂ = A₂† c₂
//! c₁ = h/6 a + h/2 v₂,     v₁ = A₁† c₁
//! ∂J/∂y = a + v₁ + v₂ + v₃ + v₄,     ∂J/∂θ += Σ_i Re Tr(c_i† (∂A_i/∂θ) u_i)
//! ```
//!
//! with `𝓛†` the Heisenberg-picture generator ([`crate::MatrixRhs::new_adjoint`]). `∂𝓛/∂θ`
//! is a sum over the generator terms that mention θ: a Hamiltonian term `c(t)·O` contributes
//! `∂c/∂θ · (−i[O, ·])`, a jump or cross term with rate `c(t)` contributes
//! `∂c/∂θ · (A·B† − ½{B†A, ·})` (a jump `L = √r·O` enters the dissipator linearly in `r`), and
//! `c(t) = amp·f(t)` is differentiated in the amplitude and in the parameters of `f`
//! (`cos(ωt+φ)`: `∂/∂ω = −t sin`, `∂/∂φ = −sin`; `exp(−rt)`: `∂/∂r = −t e^{−rt}`). With
//! `cp_completion` the completion terms `|amp|/2·f·(D[A] + D[B])` are differentiated too
//! (`∂|amp|/∂amp = sign(amp)`).
//!
//! For a Hermiticity-preserving generator the source of an observable is its Hermitian part
//! `(O + O†)/2` (exact, since ρ stays Hermitian) so that λ stays Hermitian and the fast
//! Hermitian right-hand side applies; otherwise the source is `O†`.
//!
//! # Checkpointing
//!
//! The forward sweep stores ρ at every `S`-th step (`S = ⌈N/K⌉` for `K` requested checkpoints,
//! default `K = 1` when all `4N` stage states fit in [`STAGE_MEMORY_DEFAULT`] (256 MiB), else
//! `K = ⌈√N⌉`; `⌈N/S⌉` are stored); the reverse sweep recomputes each segment from its
//! checkpoint, keeping the four stage inputs of its `≤ S` steps, and runs the adjoint through
//! it (the last segment's stages are kept by the forward sweep, so `K = 1` recomputes
//! nothing). Memory: `⌈N/S⌉` checkpoints + `4S` stage states + 10 work vectors of `n²`
//! ([`GradStats`] reports the first two); work: up to 12 right-hand-side evaluations per step
//! (forward, recomputation, adjoint; 4 for a plain solve) plus the parameter traces. The
//! recomputation is bit-identical to the forward sweep, so the gradient does not depend on `K`.
//!
//! # Files
//!
//! This one holds the options, the results and the entry points (the forward sweep, the
//! checkpointed reverse sweep of the adjoint step above); `objective.rs` the [`Objective`] and
//! its JSON form; `params.rs` the generator terms that depend on the differentiated parameters
//! (`∂c/∂θ`, the traces `Re Tr(c_i† ∂A_i/∂θ u_i)`); `setup.rs` the step grid, [`default_dt`]
//! and the set-up before the sweeps; `rk4.rs` the RK4 step shared by the sweeps.

mod objective;
mod params;
mod rk4;
mod setup;

pub use objective::{Objective, ObjectiveTerm, ObjectiveTime};
pub use setup::default_dt;

use crate::error::{Error, Result};
use crate::model::Model;
use crate::sparse::Csr;
use crate::C64;
use params::{expect_re, SharedPattern};
use rk4::{check_finite, rk4_step, symmetrize, vec_of};
use serde_json::{json, Value};
use setup::setup;
use std::collections::BTreeMap;

const ZERO: C64 = C64 { re: 0.0, im: 0.0 };

/// Memory for stored RK4 stage states below which [`mesolve_grad`] keeps all of them by default
/// (no recomputation: 8 instead of 12 right-hand-side evaluations per step): 256 MiB.
pub const STAGE_MEMORY_DEFAULT: u128 = 256 << 20;

/// Options of [`mesolve_grad`].
#[derive(Clone, Debug, Default)]
pub struct GradOptions {
    /// RK4 step (default: the model's `solver.dt`, else [`default_dt`]).
    pub dt: Option<f64>,
    /// Number of stored checkpoints `K` (clamped to `1..=N`). Default: `1` — every step's stage
    /// states kept by the forward sweep, nothing recomputed — when those `4N` states fit in
    /// [`STAGE_MEMORY_DEFAULT`]; otherwise `⌈√N⌉` for `N` steps.
    pub checkpoints: Option<usize>,
    /// Parameter values overriding the model's `parameters` (unknown names are an error).
    pub overrides: BTreeMap<String, f64>,
}

/// Counters of one gradient evaluation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GradStats {
    /// RK4 steps `N`.
    pub steps: usize,
    /// Nominal step `dt`.
    pub dt: f64,
    /// Checkpoints stored by the forward sweep (each one `n²` complex numbers): `⌈N/S⌉`.
    pub checkpoints: usize,
    /// Steps per segment `S`.
    pub segment_steps: usize,
    /// Stage states held while reversing one segment (`4·S`).
    pub segment_states: usize,
    /// Forward right-hand-side evaluations (forward sweep + recomputation).
    pub forward_evals: u64,
    /// Adjoint right-hand-side evaluations.
    pub adjoint_evals: u64,
    /// Groups of generator terms sharing one parameter-dependent coefficient.
    pub parameter_groups: usize,
    /// Wall time of the forward sweep, seconds.
    pub forward_s: f64,
    /// Wall time of the reverse sweep (recomputation + adjoint), seconds.
    pub backward_s: f64,
}

/// Result of [`mesolve_grad`].
#[derive(Clone, Debug)]
pub struct GradResult {
    /// `J = Σ_k w_k Re Tr(O_k ρ(t_k))`.
    pub value: f64,
    /// `Re Tr(O_k ρ(t_k))` of every term (unweighted).
    pub term_values: Vec<f64>,
    /// `dJ/dθ` for every differentiated parameter.
    pub gradient: BTreeMap<String, f64>,
    /// Counters.
    pub stats: GradStats,
}

impl GradResult {
    /// `{"value", "terms": [...], "gradient": {name: dJ/dθ}, "stats": {...}}`.
    pub fn to_json(&self) -> Value {
        let s = &self.stats;
        json!({
            "value": self.value,
            "terms": self.term_values,
            "gradient": self.gradient,
            "stats": {
                "method": "rk4 + discrete adjoint",
                "steps": s.steps,
                "dt": s.dt,
                "checkpoints": s.checkpoints,
                "segment_steps": s.segment_steps,
                "segment_states": s.segment_states,
                "forward_evals": s.forward_evals,
                "adjoint_evals": s.adjoint_evals,
                "parameter_groups": s.parameter_groups,
                "forward_s": s.forward_s,
                "backward_s": s.backward_s,
            }
        })
    }
}

// ------------------------------------------------------------------ public entry points

/// The objective `J` on the same RK4 discretisation as [`mesolve_grad`] (forward sweep only);
/// what finite differences of the gradient should be taken of.
pub fn objective_value(model: &Model, objective: &Objective, opts: &GradOptions) -> Result<f64> {
    Ok(objective_terms(model, objective, opts)?.iter().sum())
}

/// Each term's weighted value `w_k Re Tr(O_k ρ(t_k))`, in the objective's order, on the RK4
/// discretisation of [`mesolve_grad`] (forward sweep only). Used for callback-defined losses
/// `L(⟨O_1⟩(t_1), …)`: their gradient is [`mesolve_grad`] of the linear objective with weights
/// `∂L/∂⟨O_k⟩` (chain rule).
pub fn objective_terms(model: &Model, objective: &Objective, opts: &GradOptions) -> Result<Vec<f64>> {
    let s = setup(model, objective, opts)?;
    let n = s.n;
    let mut f = s.l.compile();
    let hermitian = f.is_hermiticity_preserving();
    f.set_input_projection(!hermitian);
    let mut y = vec_of(&model.initial);
    let mut k: [Vec<C64>; 5] = std::array::from_fn(|_| vec![ZERO; n * n]);
    let mut values = vec![0.0; s.terms.len()];
    let mut record = |y: &[C64], idx: usize| {
        for (q, (o, i, w)) in s.terms.iter().enumerate() {
            if *i == idx {
                values[q] = w * expect_re(o, y, n);
            }
        }
    };
    record(&y, 0);
    for (j, &(t, h)) in s.steps.iter().enumerate() {
        rk4_step(&mut f, t, h, &mut y, &mut k, None, true);
        if hermitian {
            symmetrize(&mut y, n);
        }
        if (j + 1) % 64 == 0 || j + 1 == s.steps.len() {
            check_finite(&y, t + h)?;
        }
        record(&y, j + 1);
    }
    Ok(values)
}

/// Value and gradient of `J(θ) = Σ_k w_k Re Tr(O_k ρ(t_k))` with respect to the model's
/// parameters, by the checkpointed discrete adjoint of RK4 (see the module docs for the
/// equations and their sources).
///
/// `ρ` is `n × n` (column-stacked internally), `O_k` are the model's `observables` by name,
/// `t_k` output times of the model; the step is `opts.dt`, else `model.solver.dt`, else
/// [`default_dt`]. Every parameter of the model (or each one listed in
/// `objective.parameters`) gets an entry — zero if no `coef`, `rate` or modulation uses it.
///
/// Errors: unknown observable (`$.terms[i].observable`), a time that is not an output time
/// (`$.terms[i].time`), an unknown parameter (`$.parameters[i]`, or `parameters.<name>` for an
/// override), a non-finite state (numerical).
pub fn mesolve_grad(model: &Model, objective: &Objective, opts: &GradOptions) -> Result<GradResult> {
    let s = setup(model, objective, opts)?;
    let n = s.n;
    let n2 = n * n;
    let nsteps = s.steps.len();
    let all_stages_bytes = 4 * nsteps as u128 * (n2 as u128) * std::mem::size_of::<C64>() as u128;
    let kdefault = if all_stages_bytes <= STAGE_MEMORY_DEFAULT { 1 } else { (nsteps as f64).sqrt().ceil() as usize };
    let kreq = opts.checkpoints.unwrap_or(kdefault).clamp(1, nsteps.max(1));
    if opts.checkpoints == Some(0) {
        return Err(Error::arg("checkpoints", "must be at least 1"));
    }
    let seg = nsteps.div_ceil(kreq).max(1);
    let nckpt = nsteps.div_ceil(seg).max(1);

    // ---- forward sweep: checkpoints and objective values
    let t0 = crate::clock::now_s();
    let mut f = s.l.compile();
    let hermitian = f.is_hermiticity_preserving();
    // as in `mesolve`: exact symmetrisation after every step instead of a per-evaluation
    // projection (both the forward and the adjoint vectors stay Hermitian)
    f.set_input_projection(!hermitian);
    let mut y = vec_of(&model.initial);
    let mut k: [Vec<C64>; 5] = std::array::from_fn(|_| vec![ZERO; n2]);
    let mut ckpts: Vec<Vec<C64>> = Vec::with_capacity(nckpt);
    let mut term_values = vec![0.0; s.terms.len()];
    let record = |y: &[C64], idx: usize, tv: &mut [f64]| {
        for (q, (o, i, _)) in s.terms.iter().enumerate() {
            if *i == idx {
                tv[q] = expect_re(o, y, n);
            }
        }
    };
    record(&y, 0, &mut term_values);
    // the stage inputs of the last segment are kept by the forward sweep (it is reversed first
    // and needs no recomputation; with K = 1 nothing is recomputed at all)
    let mut stages: Vec<Vec<C64>> = (0..4 * seg.min(nsteps)).map(|_| vec![ZERO; n2]).collect();
    let last_start = (nckpt - 1) * seg;
    for (j, &(t, h)) in s.steps.iter().enumerate() {
        if j % seg == 0 {
            check_finite(&y, t)?;
            ckpts.push(y.clone());
        }
        let st = if j >= last_start { Some(&mut stages[4 * (j - last_start)..4 * (j - last_start) + 4]) } else { None };
        rk4_step(&mut f, t, h, &mut y, &mut k, st, true);
        if hermitian {
            symmetrize(&mut y, n);
        }
        record(&y, j + 1, &mut term_values);
    }
    check_finite(&y, model.times[model.times.len() - 1])?;
    if ckpts.is_empty() {
        ckpts.push(y.clone());
    }
    let value: f64 = term_values.iter().zip(&s.terms).map(|(v, (_, _, w))| v * w).sum();
    let forward_s = crate::clock::now_s() - t0;

    // ---- sources: ∂J/∂ρ at each term's state index
    let source = |o: &Csr, w: f64, lam: &mut [C64]| {
        for (i, kk, v) in o.triplets() {
            if hermitian {
                lam[i + kk * n] += v * (0.5 * w);
                lam[kk + i * n] += v.conj() * (0.5 * w);
            } else {
                lam[kk + i * n] += v.conj() * w;
            }
        }
    };

    // ---- reverse sweep
    let t1 = crate::clock::now_s();
    let mut fa = s.l.compile_adjoint();
    fa.set_input_projection(!hermitian);
    let mut grad = vec![0.0; s.names.len()];
    let mut lam = vec![ZERO; n2];
    let mut lam_new = vec![ZERO; n2];
    let mut c = vec![ZERO; n2];
    let mut v = vec![ZERO; n2];
    let mut dbuf = Vec::new();
    let mut dep = s.dep.clone();
    let mut shared = if hermitian { Some(SharedPattern::new(&mut dep)) } else { None };
    for (b, ck) in ckpts.iter().enumerate().rev() {
        let s0 = b * seg;
        let s1 = ((b + 1) * seg).min(nsteps);
        if s0 >= s1 {
            continue;
        }
        // recompute the segment from its checkpoint, keeping the stage inputs (the last step's
        // end state is the next checkpoint and is not needed)
        if b + 1 < ckpts.len() {
            y.copy_from_slice(ck);
            for j in s0..s1 {
                let (t, h) = s.steps[j];
                let r = 4 * (j - s0);
                let advance = j + 1 < s1;
                rk4_step(&mut f, t, h, &mut y, &mut k, Some(&mut stages[r..r + 4]), advance);
                if hermitian && advance {
                    symmetrize(&mut y, n);
                }
            }
        }
        for j in (s0..s1).rev() {
            for (o, idx, w) in &s.terms {
                if *idx == j + 1 {
                    source(o, *w, &mut lam);
                }
            }
            let (t, h) = s.steps[j];
            let r = 4 * (j - s0);
            lam_new.copy_from_slice(&lam);
            // stages in reverse: (time, weight of a in c_i, weight of previous v in c_i)
            let plan = [(t + h, h / 6.0, 0.0, 3), (t + 0.5 * h, h / 3.0, h, 2), (t + 0.5 * h, h / 3.0, 0.5 * h, 1), (t, h / 6.0, 0.5 * h, 0)];
            for (q, &(ts, wa, wv, si)) in plan.iter().enumerate() {
                if q == 0 {
                    for i in 0..n2 {
                        c[i] = lam[i] * wa;
                    }
                } else {
                    for i in 0..n2 {
                        c[i] = lam[i] * wa + v[i] * wv;
                    }
                }
                fa.apply(ts, &c, &mut v);
                for i in 0..n2 {
                    lam_new[i] += v[i];
                }
                let u = &stages[r + si];
                if let Some(sp) = shared.as_mut() {
                    sp.update(&c, u, n);
                }
                for term in &dep {
                    term.derivs(ts, &mut dbuf);
                    if dbuf.is_empty() {
                        continue;
                    }
                    let tr = term.trace_with(&c, u, n, hermitian, shared.as_ref());
                    for &(p, d) in &dbuf {
                        grad[p] += (d * tr).re;
                    }
                }
            }
            std::mem::swap(&mut lam, &mut lam_new);
            if hermitian {
                // adjoint of the forward symmetrisation (a self-adjoint projection)
                symmetrize(&mut lam, n);
            }
        }
        check_finite(&lam, s.steps[s0].0)?;
    }
    let backward_s = crate::clock::now_s() - t1;
    let stats = GradStats {
        steps: nsteps,
        dt: s.dt,
        checkpoints: if nsteps == 0 { 0 } else { ckpts.len() },
        segment_steps: seg.min(nsteps),
        segment_states: stages.len(),
        forward_evals: f.evals,
        adjoint_evals: fa.evals,
        parameter_groups: s.dep.len(),
        forward_s,
        backward_s,
    };
    let gradient = s.names.iter().cloned().zip(grad).collect();
    Ok(GradResult { value, term_values, gradient, stats })
}
