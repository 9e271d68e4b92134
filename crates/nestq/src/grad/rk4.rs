//! The classical RK4 step `y ← y + h/6(k₁+2k₂+2k₃+k₄)` of the forward and recomputation
//! sweeps (the discretisation that is differentiated, see the [module docs](super)), recording
//! the stage inputs `u₁..u₄` of the adjoint step, and the symmetrisation and finiteness check
//! applied as `mesolve` applies them.

use crate::error::{Error, Result};
use crate::lindblad::MatrixRhs;
use crate::C64;

/// One RK4 step `y ← y + h/6(k₁+2k₂+2k₃+k₄)`; if `stages` is given, the stage inputs
/// `u₁..u₄` are written to it. With `advance = false` only the stages are computed (`y` is
/// left unchanged and `k₄` is not evaluated).
pub(super) fn rk4_step(f: &mut MatrixRhs, t: f64, h: f64, y: &mut [C64], k: &mut [Vec<C64>; 5], stages: Option<&mut [Vec<C64>]>, advance: bool) {
    let [k1, k2, k3, k4, tmp] = k;
    f.apply(t, y, k1);
    axpy_into(tmp, y, 0.5 * h, k1);
    let mut st = stages;
    if let Some(s) = st.as_deref_mut() {
        s[0].copy_from_slice(y);
        s[1].copy_from_slice(tmp);
    }
    f.apply(t + 0.5 * h, tmp, k2);
    axpy_into(tmp, y, 0.5 * h, k2);
    if let Some(s) = st.as_deref_mut() {
        s[2].copy_from_slice(tmp);
    }
    f.apply(t + 0.5 * h, tmp, k3);
    axpy_into(tmp, y, h, k3);
    if let Some(s) = st.as_deref_mut() {
        s[3].copy_from_slice(tmp);
    }
    if !advance {
        return;
    }
    f.apply(t + h, tmp, k4);
    let h6 = h / 6.0;
    let h3 = h / 3.0;
    for i in 0..y.len() {
        y[i] += k1[i] * h6 + k2[i] * h3 + k3[i] * h3 + k4[i] * h6;
    }
}

/// `out = y + a·k`.
fn axpy_into(out: &mut [C64], y: &[C64], a: f64, k: &[C64]) {
    for i in 0..out.len() {
        out[i] = y[i] + k[i] * a;
    }
}

/// `y ← (y + y†)/2` exactly as `mesolve` does after every RK step (Hermitian fast path).
pub(super) fn symmetrize(y: &mut [C64], n: usize) {
    for j in 0..n {
        for i in 0..=j {
            let h = (y[i + j * n] + y[j + i * n].conj()) * 0.5;
            y[i + j * n] = h;
            y[j + i * n] = h.conj();
        }
    }
}

pub(super) fn check_finite(y: &[C64], t: f64) -> Result<()> {
    if y.iter().any(|v| !v.re.is_finite() || !v.im.is_finite()) {
        return Err(Error::numerical(format!("the state became non-finite at t = {t} (RK4 step too large for this model? set a smaller dt)")));
    }
    Ok(())
}

pub(super) fn vec_of(rho: &nalgebra::DMatrix<C64>) -> Vec<C64> {
    rho.as_slice().to_vec()
}
