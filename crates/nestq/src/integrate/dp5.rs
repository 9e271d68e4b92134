//! Dormand–Prince 5(4) one step at a time, with Hairer's continuous extension of order 4
//! (Hairer, Nørsett & Wanner, *Solving ODEs I*, §II.6, and the `CONTD5` routine of `DOPRI5`).
//!
//! [`super::dopri5`] integrates to a list of output times; [`Dp5Stepper`] hands control back
//! after every accepted step and can interpolate anywhere inside it, which event location
//! needs: the trajectory solver ([`crate::mcsolve`]) finds the time at which the norm of the
//! unnormalised state decays to its random target inside a step, then restarts from there.
//! Same tableau, error norm and PI step-size controller as [`super::dopri5`].

use super::{combine, err_norm, Rhs, Stats, Tolerances};
use crate::error::{Error, ErrorCode, Result};
use crate::C64;

const ZERO: C64 = C64 { re: 0.0, im: 0.0 };

/// The Dormand–Prince 5(4) tableau, the coefficients of its error estimate and of Hairer's
/// dense output, and the step-size controller's constants (shared with [`super::dopri5`]).
pub(crate) mod tableau {
    pub(crate) const C2: f64 = 1.0 / 5.0;
    pub(crate) const C3: f64 = 3.0 / 10.0;
    pub(crate) const C4: f64 = 4.0 / 5.0;
    pub(crate) const C5: f64 = 8.0 / 9.0;
    pub(crate) const A21: f64 = 1.0 / 5.0;
    pub(crate) const A31: f64 = 3.0 / 40.0;
    pub(crate) const A32: f64 = 9.0 / 40.0;
    pub(crate) const A41: f64 = 44.0 / 45.0;
    pub(crate) const A42: f64 = -56.0 / 15.0;
    pub(crate) const A43: f64 = 32.0 / 9.0;
    pub(crate) const A51: f64 = 19372.0 / 6561.0;
    pub(crate) const A52: f64 = -25360.0 / 2187.0;
    pub(crate) const A53: f64 = 64448.0 / 6561.0;
    pub(crate) const A54: f64 = -212.0 / 729.0;
    pub(crate) const A61: f64 = 9017.0 / 3168.0;
    pub(crate) const A62: f64 = -355.0 / 33.0;
    pub(crate) const A63: f64 = 46732.0 / 5247.0;
    pub(crate) const A64: f64 = 49.0 / 176.0;
    pub(crate) const A65: f64 = -5103.0 / 18656.0;
    pub(crate) const A71: f64 = 35.0 / 384.0;
    pub(crate) const A73: f64 = 500.0 / 1113.0;
    pub(crate) const A74: f64 = 125.0 / 192.0;
    pub(crate) const A75: f64 = -2187.0 / 6784.0;
    pub(crate) const A76: f64 = 11.0 / 84.0;
    pub(crate) const E1: f64 = 71.0 / 57600.0;
    pub(crate) const E3: f64 = -71.0 / 16695.0;
    pub(crate) const E4: f64 = 71.0 / 1920.0;
    pub(crate) const E5: f64 = -17253.0 / 339200.0;
    pub(crate) const E6: f64 = 22.0 / 525.0;
    pub(crate) const E7: f64 = -1.0 / 40.0;
    pub(crate) const BETA: f64 = 0.04;
    pub(crate) const SAFE: f64 = 0.9;
    pub(crate) const FAC1: f64 = 0.2;
    pub(crate) const FAC2: f64 = 10.0;
    pub(crate) const D1: f64 = -12715105075.0 / 11282082432.0;
    pub(crate) const D3: f64 = 87487479700.0 / 32700410799.0;
    pub(crate) const D4: f64 = -10690763975.0 / 1880347072.0;
    pub(crate) const D5: f64 = 701980252875.0 / 199316789632.0;
    pub(crate) const D6: f64 = -1453857185.0 / 822651844.0;
    pub(crate) const D7: f64 = 69997945.0 / 29380423.0;
}
use tableau::*;

/// An adaptive Dormand–Prince 5(4) integrator of `dy/dt = f(t, y)` advanced one accepted step
/// at a time, with dense output over the last accepted step.
///
/// Use: [`Dp5Stepper::start`] at `(t, y)`, then [`Dp5Stepper::step`] up to a stop time (steps
/// are clipped to land on it exactly), reading [`Dp5Stepper::y`] / [`Dp5Stepper::t`] and
/// interpolating with [`Dp5Stepper::dense`]. After changing the state discontinuously (a
/// quantum jump) call `start` again: the step size carries over.
pub struct Dp5Stepper {
    k: Vec<Vec<C64>>,
    y: Vec<C64>,
    ynew: Vec<C64>,
    tmp: Vec<C64>,
    err: Vec<C64>,
    zeros: Vec<C64>,
    /// Coefficients of the continuous extension over the last accepted step.
    rcont: [Vec<C64>; 5],
    t: f64,
    t_old: f64,
    h_old: f64,
    h: f64,
    facold: f64,
    last_rejected: bool,
    tol: Tolerances,
    attempts: u64,
    /// Counters (accepted and rejected steps, right-hand-side evaluations).
    pub stats: Stats,
}

impl Dp5Stepper {
    /// A stepper for states of length `n` with the given tolerances (error norm: RMS over
    /// entries of `|e_i| / (atol + rtol·max(|y_i|, |y_new_i|))`, as [`super::dopri5`]).
    pub fn new(n: usize, tol: Tolerances) -> Self {
        let v = || vec![ZERO; n];
        Dp5Stepper {
            k: (0..7).map(|_| v()).collect(),
            y: v(),
            ynew: v(),
            tmp: v(),
            err: v(),
            zeros: v(),
            rcont: [v(), v(), v(), v(), v()],
            t: 0.0,
            t_old: 0.0,
            h_old: 0.0,
            h: 0.0,
            facold: 1e-4,
            last_rejected: false,
            tol,
            attempts: 0,
            stats: Stats::default(),
        }
    }

    /// Current time.
    pub fn t(&self) -> f64 {
        self.t
    }

    /// Current state.
    pub fn y(&self) -> &[C64] {
        &self.y
    }

    /// Start of the last accepted step (its end is [`Dp5Stepper::t`]).
    pub fn t_old(&self) -> f64 {
        self.t_old
    }

    /// (Re)starts at `(t, y)`. The first start chooses the initial step by Hairer's heuristic
    /// (bounded by `t_end − t`); later starts keep the current step size.
    pub fn start(&mut self, f: &mut dyn Rhs, t: f64, y: &[C64], t_end: f64) {
        self.y.copy_from_slice(y);
        self.t = t;
        self.t_old = t;
        self.h_old = 0.0;
        f.eval(t, &self.y, &mut self.k[0]);
        self.stats.rhs_evals += 1;
        if self.h > 0.0 {
            return;
        }
        let n = y.len();
        let tol = self.tol;
        let sk: Vec<f64> = self.y.iter().map(|v| tol.atol + tol.rtol * v.norm()).collect();
        let rms = |v: &[C64]| (v.iter().zip(&sk).map(|(a, s)| (a.norm() / s).powi(2)).sum::<f64>() / n as f64).sqrt();
        let dnf = rms(&self.k[0]);
        let dny = rms(&self.y);
        let span = (t_end - t).max(0.0);
        let mut h0 = if dnf <= 1e-5 || dny <= 1e-5 { 1e-6 } else { 0.01 * dny / dnf };
        if span > 0.0 {
            h0 = h0.min(span);
        }
        combine(&mut self.tmp, &self.y, h0, &[(1.0, &self.k[0])]);
        f.eval(t + h0, &self.tmp, &mut self.k[1]);
        self.stats.rhs_evals += 1;
        let diff: Vec<C64> = self.k[1].iter().zip(&self.k[0]).map(|(a, b)| a - b).collect();
        let der2 = rms(&diff) / h0;
        let der12 = der2.max(dnf);
        let h1 = if der12 <= 1e-15 { (h0 * 1e-3).max(1e-6) } else { (0.01 / der12).powf(1.0 / 5.0) };
        self.h = (100.0 * h0).min(h1);
        if span > 0.0 {
            self.h = self.h.min(span);
        }
    }

    /// Takes one accepted step, not beyond `t_stop` (> [`Dp5Stepper::t`]); a step that would
    /// pass it is shortened to end on it exactly. Errors: more than `max_steps` attempts in the
    /// stepper's life, step-size underflow, a non-finite error estimate.
    pub fn step(&mut self, f: &mut dyn Rhs, t_stop: f64) -> Result<()> {
        loop {
            self.attempts += 1;
            if self.attempts > self.tol.max_steps {
                return Err(Error::new(ErrorCode::Numerical, format!(
                    "dopri5 exceeded max_steps = {} at t = {} (raise solver.max_steps or loosen rtol/atol)", self.tol.max_steps, self.t)));
            }
            let t = self.t;
            let h_prop = self.h;
            let clipped = t + self.h >= t_stop - 1e-14 * t_stop.abs().max(1.0);
            let h = if clipped { t_stop - t } else { self.h };
            if h <= 1e-14 * t.abs().max(1.0) {
                return Err(Error::new(ErrorCode::Numerical, format!("dopri5 step size underflow at t = {t} (h = {h:e})")));
            }
            let y = &self.y;
            let (k0, rest) = self.k.split_at_mut(1);
            let k0 = &k0[0];
            let tmp = &mut self.tmp;
            combine(tmp, y, h, &[(A21, k0)]);
            f.eval(t + C2 * h, tmp, &mut rest[0]);
            combine(tmp, y, h, &[(A31, k0), (A32, &rest[0])]);
            f.eval(t + C3 * h, tmp, &mut rest[1]);
            combine(tmp, y, h, &[(A41, k0), (A42, &rest[0]), (A43, &rest[1])]);
            f.eval(t + C4 * h, tmp, &mut rest[2]);
            combine(tmp, y, h, &[(A51, k0), (A52, &rest[0]), (A53, &rest[1]), (A54, &rest[2])]);
            f.eval(t + C5 * h, tmp, &mut rest[3]);
            combine(tmp, y, h, &[(A61, k0), (A62, &rest[0]), (A63, &rest[1]), (A64, &rest[2]), (A65, &rest[3])]);
            f.eval(t + h, tmp, &mut rest[4]);
            combine(&mut self.ynew, y, h, &[(A71, k0), (A73, &rest[1]), (A74, &rest[2]), (A75, &rest[3]), (A76, &rest[4])]);
            f.eval(t + h, &self.ynew, &mut rest[5]);
            self.stats.rhs_evals += 6;
            combine(&mut self.err, &self.zeros, h, &[(E1, k0), (E3, &rest[1]), (E4, &rest[2]), (E5, &rest[3]), (E6, &rest[4]), (E7, &rest[5])]);
            let e = err_norm(&self.err, y, &self.ynew, &self.tol);
            if !e.is_finite() {
                return Err(Error::new(ErrorCode::Numerical, format!("dopri5: non-finite error estimate at t = {t}")));
            }
            let fac11 = e.powf(0.2 - BETA * 0.75);
            let mut fac = fac11 / self.facold.powf(BETA);
            fac = (1.0 / FAC2).max((1.0 / FAC1).min(fac / SAFE));
            let mut hnew = h / fac;
            if e > 1.0 {
                self.h = h / (1.0 / FAC1).min(fac11 / SAFE);
                self.last_rejected = true;
                self.stats.rejected += 1;
                continue;
            }
            self.facold = e.max(1e-4);
            self.stats.steps += 1;
            // Hairer's CONTD5 coefficients over [t, t + h]
            let k = &self.k;
            for i in 0..y.len() {
                let dy = self.ynew[i] - y[i];
                let bspl = k[0][i] * h - dy;
                self.rcont[0][i] = y[i];
                self.rcont[1][i] = dy;
                self.rcont[2][i] = bspl;
                self.rcont[3][i] = dy - k[6][i] * h - bspl;
                self.rcont[4][i] = (k[0][i] * D1 + k[2][i] * D3 + k[3][i] * D4 + k[4][i] * D5 + k[5][i] * D6 + k[6][i] * D7) * h;
            }
            self.t_old = t;
            self.h_old = h;
            self.t = if clipped { t_stop } else { t + h };
            std::mem::swap(&mut self.y, &mut self.ynew);
            let (a, b) = self.k.split_at_mut(6);
            std::mem::swap(&mut a[0], &mut b[0]);
            if self.y.iter().any(|v| !v.re.is_finite() || !v.im.is_finite()) {
                return Err(Error::new(ErrorCode::Numerical, format!("non-finite state at t = {}", self.t)));
            }
            if self.last_rejected {
                hnew = hnew.min(h);
            }
            self.last_rejected = false;
            // a step shortened only to hit the stop time does not shrink the next one
            self.h = if clipped && hnew >= h { h_prop.max(hnew) } else { hnew };
            return Ok(());
        }
    }

    /// The continuous extension at `t` in the last accepted step `[t_old, t]` (order 4), into
    /// `out`. Before any step it returns the current state.
    pub fn dense(&self, t: f64, out: &mut [C64]) {
        if self.h_old == 0.0 {
            out.copy_from_slice(&self.y);
            return;
        }
        let s = (t - self.t_old) / self.h_old;
        let s1 = 1.0 - s;
        let r = &self.rcont;
        for i in 0..out.len() {
            out[i] = r[0][i] + (r[1][i] + (r[2][i] + (r[3][i] + r[4][i] * s1) * s) * s1) * s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// y' = λ y with complex λ: steps land on the stop time, the state matches e^{λt}, and the
    /// dense output matches it inside steps to the order-4 interpolation's accuracy.
    struct Scalar(C64);
    impl Rhs for Scalar {
        fn len(&self) -> usize {
            1
        }
        fn eval(&mut self, _t: f64, y: &[C64], dy: &mut [C64]) {
            dy[0] = self.0 * y[0];
        }
    }

    #[test]
    fn steps_and_dense_output_follow_the_exponential() {
        let lam = C64::new(-0.7, 3.0);
        let mut f = Scalar(lam);
        let tol = Tolerances { rtol: 1e-9, atol: 1e-12, max_steps: 100_000 };
        let mut s = Dp5Stepper::new(1, tol);
        s.start(&mut f, 0.0, &[C64::new(1.0, 0.0)], 2.0);
        let mut worst_dense: f64 = 0.0;
        let mut out = [ZERO];
        while s.t() < 2.0 {
            s.step(&mut f, 2.0).unwrap();
            let exact = (lam * s.t()).exp();
            assert!((s.y()[0] - exact).norm() < 1e-7, "t = {}: {} vs {exact}", s.t(), s.y()[0]);
            let tm = 0.5 * (s.t_old() + s.t());
            s.dense(tm, &mut out);
            worst_dense = worst_dense.max((out[0] - (lam * tm).exp()).norm());
        }
        assert_eq!(s.t(), 2.0);
        assert!(worst_dense < 1e-7, "dense output error {worst_dense:e}");
        assert!(s.stats.steps > 5 && s.stats.rhs_evals >= 6 * s.stats.steps);
    }

    #[test]
    fn restart_keeps_the_step_and_max_steps_is_enforced() {
        let mut f = Scalar(C64::new(-1.0, 0.0));
        let tol = Tolerances { rtol: 1e-6, atol: 1e-9, max_steps: 3 };
        let mut s = Dp5Stepper::new(1, tol);
        s.start(&mut f, 0.0, &[C64::new(1.0, 0.0)], 100.0);
        s.step(&mut f, 100.0).unwrap();
        s.start(&mut f, s.t(), &[C64::new(0.5, 0.0)], 100.0);
        assert_eq!(s.y()[0], C64::new(0.5, 0.0));
        let mut failed = false;
        for _ in 0..10 {
            if let Err(e) = s.step(&mut f, 100.0) {
                assert!(e.to_string().contains("max_steps"), "{e}");
                failed = true;
                break;
            }
        }
        assert!(failed, "max_steps = 3 must stop a 100-unit integration");
    }
}
