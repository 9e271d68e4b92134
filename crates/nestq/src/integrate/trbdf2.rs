//! TR-BDF2: a trapezoidal stage followed by BDF2, L-stable and second order (Bank, Coughran,
//! Fichtner, Grosse, Rose & Smith, IEEE Trans. CAD 4 (1985)); written as the ESDIRK of Hosea &
//! Shampine ("Analysis and implementation of TR-BDF2", Appl. Numer. Math. 20 (1996)) with their
//! third-order embedded estimate, filtered through `(I − h d 𝓛)⁻¹` for stiff components.
//! Linear stage equations are solved by sparse LU (`faer`), refactored only when `h` or `𝓛(t)`
//! changes.

use super::{check_times, Observer, Projection, Stats, Tolerances};
use crate::error::{Error, ErrorCode, Result};
use crate::lindblad::SuperOp;
use crate::C64;
use faer::linalg::solvers::Solve;
use faer::sparse::linalg::solvers::{Lu, SymbolicLu};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};

const ZERO: C64 = C64 { re: 0.0, im: 0.0 };

struct Factor {
    sym: SymbolicLu<usize>,
    vals: Vec<C64>,
    lu: Option<Lu<usize, C64>>,
    key: Option<(u64, u64)>,
}

impl Factor {
    /// Factorizes `I − c·𝓛` (𝓛 at its last update); cached on `(c, t)`.
    fn factor(&mut self, l: &SuperOp, c: f64, t: f64, st: &mut Stats) -> Result<()> {
        let key = (c.to_bits(), if l.is_time_independent() { 0 } else { t.to_bits() });
        if self.key == Some(key) {
            return Ok(());
        }
        let (cp, ri, v) = l.csc();
        for (o, x) in self.vals.iter_mut().zip(v) {
            *o = -c * x;
        }
        for &p in l.diag_positions() {
            self.vals[p] += 1.0;
        }
        let n = l.size();
        let sym = SymbolicSparseColMatRef::new_checked(n, n, cp, None, ri);
        let mat = SparseColMatRef::new(sym, &self.vals);
        let lu = Lu::try_new_with_symbolic(self.sym.clone(), mat)
            .map_err(|e| Error::new(ErrorCode::Numerical, format!("trbdf2: LU factorization of I − h·d·𝓛 failed ({e:?})")))?;
        self.lu = Some(lu);
        self.key = Some(key);
        st.factorizations += 1;
        Ok(())
    }

    fn solve(&self, b: &mut [C64]) {
        let n = b.len();
        let m = faer::MatMut::from_column_major_slice_mut(b, n, 1);
        self.lu.as_ref().expect("factorized").solve_in_place(m);
    }
}

fn err_norm(e: &[C64], y0: &[C64], y1: &[C64], tol: &Tolerances) -> f64 {
    let s: f64 = e
        .iter()
        .zip(y0.iter().zip(y1))
        .map(|(e, (a, b))| (e.norm() / (tol.atol + tol.rtol * a.norm().max(b.norm()))).powi(2))
        .sum();
    (s / e.len() as f64).sqrt()
}

/// Integrates `dy/dt = 𝓛(t) y` with adaptive TR-BDF2.
pub fn propagate(l: &mut SuperOp, y0: &[C64], times: &[f64], tol: Tolerances, obs: &mut dyn Observer, proj: Projection) -> Result<Stats> {
    check_times(times)?;
    let gam = 2.0 - std::f64::consts::SQRT_2;
    let d = gam / 2.0;
    let w = std::f64::consts::SQRT_2 / 4.0;
    let bh = [(1.0 - w) / 3.0, (3.0 * w + 1.0) / 3.0, d / 3.0];
    let eb = [w - bh[0], w - bh[1], d - bh[2]];
    let n = l.size();
    let mut st = Stats::default();
    let (cp, ri, _) = l.csc();
    let sym = SymbolicLu::try_new(SymbolicSparseColMatRef::new_checked(n, n, cp, None, ri))
        .map_err(|e| Error::new(ErrorCode::Numerical, format!("trbdf2: symbolic LU failed ({e:?})")))?;
    let nnz = ri.len();
    let mut fac = Factor { sym, vals: vec![ZERO; nnz], lu: None, key: None };
    let mut y = y0.to_vec();
    let (mut k1, mut k2, mut k3) = (vec![ZERO; n], vec![ZERO; n], vec![ZERO; n]);
    let (mut y2, mut y3, mut est) = (vec![ZERO; n], vec![ZERO; n], vec![ZERO; n]);
    let mut t = times[0];
    obs.output(0, t, &y)?;
    let t_end = *times.last().unwrap();
    l.update(t);
    l.matvec(&y, &mut k1);
    st.rhs_evals += 1;
    let mut h = {
        let ky: f64 = k1.iter().map(|v| v.norm_sqr()).sum::<f64>().sqrt();
        let yy: f64 = y.iter().map(|v| v.norm_sqr()).sum::<f64>().sqrt();
        let h0 = if ky > 0.0 { 0.01 * (yy.max(tol.atol) / ky) } else { (t_end - t) * 1e-3 };
        h0.min((t_end - t).max(1e-300))
    };
    let mut attempts = 0u64;
    for (kk, &tout) in times.iter().enumerate().skip(1) {
        while t < tout {
            attempts += 1;
            if attempts > tol.max_steps {
                return Err(Error::new(ErrorCode::Numerical, format!("trbdf2 exceeded max_steps = {} at t = {t}", tol.max_steps)));
            }
            let clipped = t + h >= tout - 1e-14 * tout.abs().max(1.0);
            let h_prop = h;
            if clipped {
                h = tout - t;
            }
            if h <= 1e-14 * t.abs().max(1.0) {
                return Err(Error::new(ErrorCode::Numerical, format!("trbdf2 step size underflow at t = {t}")));
            }
            // stage 2 at t + γh
            l.update(t + gam * h);
            fac.factor(l, h * d, t + gam * h, &mut st)?;
            for i in 0..n {
                y2[i] = y[i] + k1[i] * (h * d);
            }
            fac.solve(&mut y2);
            l.matvec(&y2, &mut k2);
            // stage 3 at t + h
            l.update(t + h);
            fac.factor(l, h * d, t + h, &mut st)?;
            for i in 0..n {
                y3[i] = y[i] + (k1[i] + k2[i]) * (h * w);
            }
            fac.solve(&mut y3);
            l.matvec(&y3, &mut k3);
            st.rhs_evals += 2;
            for i in 0..n {
                est[i] = (k1[i] * eb[0] + k2[i] * eb[1] + k3[i] * eb[2]) * h;
            }
            fac.solve(&mut est);
            let e = err_norm(&est, &y, &y3, &tol);
            if !e.is_finite() {
                return Err(Error::new(ErrorCode::Numerical, format!("trbdf2: non-finite error estimate at t = {t}")));
            }
            let ratio = (0.9 * e.max(1e-10).powf(-1.0 / 3.0)).clamp(0.2, 5.0);
            if e <= 1.0 {
                st.steps += 1;
                t = if clipped { tout } else { t + h };
                std::mem::swap(&mut y, &mut y3);
                if let Some((p, _)) = proj {
                    p(&mut y);
                    l.matvec(&y, &mut k1);
                    st.rhs_evals += 1;
                } else {
                    std::mem::swap(&mut k1, &mut k3);
                }
                // keep h (and the factorization) unless the change is worth a refactorization
                let hn = if ratio > 1.25 || ratio < 1.0 { h * ratio } else { h };
                h = if clipped && hn >= h { h_prop.max(hn) } else { hn };
                obs.step(t)?;
            } else {
                st.rejected += 1;
                h *= ratio.min(0.9);
            }
        }
        obs.output(kk, tout, &y)?;
    }
    Ok(st)
}
