//! One quantum-jump trajectory (Dalibard, Castin & Mølmer, PRL 68, 580 (1992); the waiting-time
//! form of Plenio & Knight, RMP 70, 101 (1998), §III.B, as QuTiP's `mcsolve`):
//!
//! 1. draw a target `r ~ U(0, 1)`;
//! 2. integrate the unnormalised `dψ/dt = −i H_eff ψ` until `‖ψ‖² = r` — by Krylov steps
//!    ([`crate::integrate::krylov::ArnoldiStepper`]) when `H_eff` is time-independent and large
//!    or oscillation-dominated ([`super::KRYLOV_MIN_DIM`]), else by
//!    adaptive Dormand–Prince 5(4) ([`crate::integrate::dp5`]) — and locate that time inside the
//!    step by the Illinois method on the step's continuous solution (the Krylov coefficients,
//!    or the order-4 dense output), to `|‖ψ‖² − r| ≤ norm_tol·r`;
//! 3. jump there with `C_j` chosen with probability `∝ f_j(t)‖C_j ψ‖²`, normalise, go to 1.
//!
//! Expectation values at output times are those of the normalised state. The squared norm
//! is kept as a product `‖y‖²·scale` and `y` rescaled when it falls below 10⁻³, so tolerances
//! stay relative to the state even on long no-jump stretches (improved sampling's no-jump
//! trajectory can decay to 10⁻²⁰).

use super::system::{EffRhs, McSystem};
use crate::error::{Error, ErrorCode, Result};
use crate::guard::Deadline;
use crate::integrate::dp5::Dp5Stepper;
use crate::integrate::krylov::ArnoldiStepper;
use crate::integrate::{Stats, Tolerances};
use crate::rng::Xoshiro256;
use crate::sparse::Csr;
use crate::C64;

const ZERO: C64 = C64 { re: 0.0, im: 0.0 };

/// Which normalised states a trajectory hands back for averaging into ρ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keep {
    /// None.
    Nothing,
    /// The state at the last output time.
    Last,
    /// The states at every output time.
    All,
}

/// How the first jump target is drawn.
#[derive(Clone, Copy, Debug)]
pub(crate) enum FirstTarget {
    /// `r ~ U(0, 1)`.
    Uniform,
    /// `r ~ U(p₀, 1)`: conditioned on at least one jump in the span (improved sampling).
    Above(f64),
    /// No jump at all (improved sampling's no-jump trajectory).
    Never,
}

/// What the ensemble needs from one trajectory's run.
pub(crate) struct Setup<'a> {
    pub sys: &'a McSystem,
    /// Integrate with Krylov steps (time-independent systems) instead of Dormand–Prince.
    pub krylov: Option<KrylovParams>,
    pub observables: &'a [Csr],
    pub times: &'a [f64],
    pub tol: Tolerances,
    pub norm_tol: f64,
    pub keep: Keep,
    pub deadline: Deadline,
}

/// Arnoldi dimension, tolerance per unit time and norm estimate of the Krylov integrator.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KrylovParams {
    pub m: usize,
    pub tol: f64,
    pub anorm: f64,
}

/// One trajectory's record.
pub(crate) struct Trajectory {
    /// `expect[i][k]`: observable i at output time k, of the normalised state.
    pub expect: Vec<Vec<C64>>,
    /// Normalised states kept ([`Keep`]), in output order.
    pub states: Vec<Vec<C64>>,
    /// Jump times.
    pub jump_times: Vec<f64>,
    /// Which collapse operator jumped.
    pub jump_which: Vec<usize>,
    /// Squared norm of the unnormalised state at the end (the no-jump probability for
    /// [`FirstTarget::Never`]).
    pub final_norm2: f64,
    /// Integrator counters.
    pub stats: Stats,
}

fn norm2(y: &[C64]) -> f64 {
    y.iter().map(|v| v.norm_sqr()).sum()
}

fn first_target(first: FirstTarget, rng: &mut Xoshiro256) -> f64 {
    match first {
        FirstTarget::Uniform => rng.uniform(),
        FirstTarget::Above(p0) => p0 + (1.0 - p0) * rng.uniform(),
        FirstTarget::Never => -1.0,
    }
}

/// Runs one trajectory from the normalised `psi0` with random numbers from `rng`.
pub(crate) fn run(s: &Setup, psi0: &[C64], rng: &mut Xoshiro256, first: FirstTarget) -> Result<Trajectory> {
    match s.krylov {
        Some(k) => run_krylov(s, k, psi0, rng, first),
        None => run_dp5(s, psi0, rng, first),
    }
}

fn new_record(s: &Setup) -> Trajectory {
    Trajectory {
        expect: vec![Vec::with_capacity(s.times.len()); s.observables.len()],
        states: Vec::new(),
        jump_times: Vec::new(),
        jump_which: Vec::new(),
        final_norm2: 1.0,
        stats: Stats::default(),
    }
}

/// Illinois (modified regula falsi) for the root of a decreasing `g` on `[a, b]` with
/// `g(a) > 0 ≥ g(b)`, to `|g| ≤ tol` or an interval of relative width 1e-13.
fn illinois(mut a: f64, mut ga: f64, mut b: f64, mut gb: f64, tol: f64, mut g: impl FnMut(f64) -> f64) -> f64 {
    let mut side = 0i32;
    let mut root = b;
    for _ in 0..60 {
        if gb.abs() <= tol || (b - a).abs() <= 1e-13 * b.abs().max(1.0) {
            return b;
        }
        let c = (a * gb - b * ga) / (gb - ga);
        let gc = g(c);
        root = c;
        if gc.abs() <= tol {
            break;
        }
        if gc * gb > 0.0 {
            b = c;
            gb = gc;
            if side == 1 {
                ga *= 0.5;
            }
            side = 1;
        } else {
            a = c;
            ga = gc;
            if side == -1 {
                gb *= 0.5;
            }
            side = -1;
        }
    }
    root
}

/// The trajectory on Krylov steps (time-independent `G`): each Arnoldi step spans many output
/// times and the norm is followed inside it exactly in the Krylov basis.
fn run_krylov(s: &Setup, kp: KrylovParams, psi0: &[C64], rng: &mut Xoshiro256, first: FirstTarget) -> Result<Trajectory> {
    let sys = s.sys;
    let n = sys.n;
    let times = s.times;
    let t_end = times[times.len() - 1];
    let mut f = EffRhs::new(sys);
    let mut st = ArnoldiStepper::new(n, kp.m, kp.tol, kp.anorm, s.tol.max_steps)?.with_rejections(40, 0.5);
    let mut out = new_record(s);
    let mut target = first_target(first, rng);
    let mut scale = 1.0f64;
    let mut y = psi0.to_vec();
    let mut t = times[0];
    let mut tmp = vec![ZERO; n];
    let mut y_at = vec![ZERO; n];
    let mut k = 0;
    // no energy recentring here: a shift iE·I leaves the Krylov space and the error estimate
    // unchanged, it would only cost a product per restart
    while k < times.len() && times[k] <= t {
        record(s, &mut out, k, &y, &mut tmp);
        k += 1;
    }
    while k < times.len() {
        let tau = st.step(&mut f, &y, t_end - t, t)?;
        let t0 = t;
        s.deadline.check(|| format!("in a trajectory at t = {t0}"))?;
        let c2 = |c: &[C64]| c.iter().map(|z| z.norm_sqr()).sum::<f64>() * scale;
        let now = c2(st.end_coeffs());
        let jump_at = if now <= target {
            let start = norm2(&y) * scale;
            Some(illinois(0.0, start - target, tau, now - target, s.norm_tol * target, |x| c2(&st.coeffs(x)) - target))
        } else {
            None
        };
        let reach = jump_at.map_or(t0 + tau, |sj| t0 + sj);
        while k < times.len() && times[k] <= reach {
            let c = if jump_at.is_none() && times[k] >= t0 + tau { st.end_coeffs().to_vec() } else { st.coeffs(times[k] - t0) };
            st.state(&c, &mut y_at);
            record(s, &mut out, k, &y_at, &mut tmp);
            k += 1;
        }
        match jump_at {
            Some(sj) => {
                st.state(&st.coeffs(sj), &mut y_at);
                let tj = t0 + sj;
                let which = jump(sys, tj, &mut y_at, &mut tmp, rng)?;
                out.jump_times.push(tj);
                out.jump_which.push(which);
                target = rng.uniform();
                scale = 1.0;
                y.copy_from_slice(&tmp);
                t = tj;
            }
            None => {
                st.state(st.end_coeffs(), &mut y);
                t = t0 + tau;
                if y.iter().any(|z| !z.re.is_finite() || !z.im.is_finite()) {
                    return Err(Error::new(ErrorCode::Numerical, format!("non-finite state at t = {t}")));
                }
                let nrm = norm2(&y);
                if nrm < 1e-3 {
                    // keep the state O(1): the true squared norm is ‖y‖²·scale
                    let c = 1.0 / nrm.sqrt();
                    y.iter_mut().for_each(|v| *v *= c);
                    scale *= nrm;
                }
                if tau == 0.0 && t < t_end {
                    return Err(Error::new(ErrorCode::Numerical, format!("the trajectory's state vanished at t = {t}")));
                }
            }
        }
    }
    out.final_norm2 = norm2(&y) * scale;
    out.stats = st.stats.clone();
    Ok(out)
}

/// The trajectory on Dormand–Prince steps (any `G(t)`).
fn run_dp5(s: &Setup, psi0: &[C64], rng: &mut Xoshiro256, first: FirstTarget) -> Result<Trajectory> {
    let sys = s.sys;
    let n = sys.n;
    let times = s.times;
    let t_end = times[times.len() - 1];
    let mut f = EffRhs::new(sys);
    let mut st = Dp5Stepper::new(n, s.tol);
    let mut out = new_record(s);
    let mut target = first_target(first, rng);
    // true squared norm = ‖y‖² · scale
    let mut scale = 1.0f64;
    let mut prev = norm2(psi0);
    f.recentre(times[0], psi0);
    st.start(&mut f, times[0], psi0, t_end);
    let mut tmp = vec![ZERO; n];
    let mut y_at = vec![ZERO; n];
    let mut k = 0;
    let mut steps_since_check = 0u32;
    while k < times.len() {
        if st.t() >= times[k] {
            record(s, &mut out, k, st.y(), &mut tmp);
            k += 1;
            continue;
        }
        st.step(&mut f, times[k])?;
        steps_since_check += 1;
        if steps_since_check >= 64 {
            steps_since_check = 0;
            let t = st.t();
            s.deadline.check(|| format!("in a trajectory at t = {t}"))?;
        }
        let now = norm2(st.y()) * scale;
        if now > target {
            prev = now;
            if now < 1e-3 * scale {
                // rescale so that the tolerances stay relative to the state
                let c = 1.0 / (now / scale).sqrt();
                y_at.copy_from_slice(st.y());
                y_at.iter_mut().for_each(|v| *v *= c);
                scale = now;
                let t = st.t();
                f.recentre(t, &y_at);
                st.start(&mut f, t, &y_at, t_end);
            }
            continue;
        }
        // the norm crossed the target inside [t_old, t]: Illinois on g(τ) = ‖y(τ)‖²·scale − r
        let tj = illinois(st.t_old(), prev - target, st.t(), now - target, s.norm_tol * target, |x| {
            st.dense(x, &mut y_at);
            norm2(&y_at) * scale - target
        });
        st.dense(tj, &mut y_at);
        let which = jump(sys, tj, &mut y_at, &mut tmp, rng)?;
        out.jump_times.push(tj);
        out.jump_which.push(which);
        target = rng.uniform();
        scale = 1.0;
        prev = 1.0;
        f.recentre(tj, &tmp);
        st.start(&mut f, tj, &tmp, t_end);
    }
    out.final_norm2 = norm2(st.y()) * scale;
    out.stats = st.stats.clone();
    Ok(out)
}

/// Applies a jump to `psi` at `t`: picks `C_j` with probability `∝ f_j(t)‖C_j ψ‖²` and writes
/// the normalised `C_j ψ` to `out`. Returns j.
fn jump(sys: &McSystem, t: f64, psi: &mut [C64], out: &mut [C64], rng: &mut Xoshiro256) -> Result<usize> {
    let m = sys.collapses.len();
    let mut w = Vec::with_capacity(m);
    for j in 0..m {
        out.iter_mut().for_each(|v| *v = ZERO);
        sys.collapses[j].op.matvec_acc(C64::new(1.0, 0.0), psi, out);
        w.push(sys.profile(j, t)? * norm2(out));
    }
    let total: f64 = w.iter().sum();
    if !(total > 0.0) || !total.is_finite() {
        return Err(Error::new(ErrorCode::Numerical, format!("a jump was due at t = {t} but every collapse operator annihilates the state (Σ f_j‖C_jψ‖² = {total:e})")));
    }
    let u = rng.uniform() * total;
    let mut acc = 0.0;
    let mut which = m - 1;
    for (j, wj) in w.iter().enumerate() {
        acc += wj;
        if u < acc {
            which = j;
            break;
        }
    }
    while w[which] == 0.0 {
        which -= 1;
    }
    out.iter_mut().for_each(|v| *v = ZERO);
    sys.collapses[which].op.matvec_acc(C64::new(1.0, 0.0), psi, out);
    let c = 1.0 / norm2(out).sqrt();
    out.iter_mut().for_each(|v| *v *= c);
    Ok(which)
}

/// Records output `k` of the normalised `y`.
fn record(s: &Setup, out: &mut Trajectory, k: usize, y: &[C64], tmp: &mut [C64]) {
    let nrm = norm2(y);
    for (i, op) in s.observables.iter().enumerate() {
        tmp.iter_mut().for_each(|v| *v = ZERO);
        op.matvec_acc(C64::new(1.0, 0.0), y, tmp);
        let mut e = ZERO;
        for (a, b) in y.iter().zip(tmp.iter()) {
            e += a.conj() * b;
        }
        out.expect[i].push(e / nrm);
    }
    let keep = match s.keep {
        Keep::Nothing => false,
        Keep::Last => k + 1 == s.times.len(),
        Keep::All => true,
    };
    if keep {
        let c = 1.0 / nrm.sqrt();
        out.states.push(y.iter().map(|v| v * c).collect());
    }
}
