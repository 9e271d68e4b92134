//! SVD truncation of the MPO's bonds and its bookkeeping: the truncation rule ([`Trunc`], TeNPy's
//! `truncation.truncate` with `trunc_cut`), the accumulated discarded weight ([`Discarded`],
//! TeNPy's `TruncationError.eps` added up), the trace-keeping truncation of a right space
//! ([`truncate_right`]) and the dense kernels they use (faer matrix product, thin SVD, thin QR).
//! The equations are in the *Truncation* section of the `mpo` module documentation
//! (`mpo/mod.rs`).

use super::{ONE, ZERO};
use crate::error::{Error, Result};
use crate::C64;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};

/// Truncation parameters of one SVD.
#[derive(Clone, Copy, Debug)]
pub struct Trunc {
    /// Largest bond dimension kept.
    pub chi_max: usize,
    /// Smallest bond dimension kept (when that many singular values exist).
    pub chi_min: usize,
    /// Largest relative discarded weight.
    pub cutoff: f64,
}

impl Trunc {
    /// No truncation (only exactly zero singular values are dropped).
    pub const EXACT: Trunc = Trunc { chi_max: usize::MAX, chi_min: 1, cutoff: 0.0 };

    /// Number of singular values to keep (descending `s`) and the discarded weight (relative).
    /// Follows TeNPy's `truncate`: minimal χ with discarded weight ≤ cutoff, then clamped.
    pub fn keep(&self, s: &[f64]) -> (usize, f64) {
        let total: f64 = s.iter().map(|x| x * x).sum();
        if s.is_empty() {
            return (0, 0.0);
        }
        if total <= 0.0 || !total.is_finite() {
            return (1, 0.0);
        }
        // tail[k] = Σ_{i≥k} s_i²
        let mut k = s.len();
        let mut tail = 0.0;
        while k > 1 {
            let w = s[k - 1] * s[k - 1];
            if (tail + w) / total > self.cutoff {
                break;
            }
            tail += w;
            k -= 1;
        }
        let k = k.max(self.chi_min.min(s.len())).min(self.chi_max).max(1);
        let disc: f64 = s[k..].iter().map(|x| x * x).sum::<f64>() / total;
        (k, disc)
    }
}

/// Accumulated truncation error of a run: the summed discarded weights (TeNPy's
/// `TruncationError.eps` added up) and the summed square roots, which bound the accumulated
/// relative Frobenius-norm error (each truncation moves ρ by `√weight·‖ρ‖_F`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Discarded {
    /// `Σ weight`.
    pub weight: f64,
    /// `Σ √weight`.
    pub norm: f64,
}

impl Discarded {
    /// Adds one truncation's relative discarded weight.
    pub fn add(&mut self, weight: f64) {
        self.weight += weight;
        self.norm += weight.max(0.0).sqrt();
    }
}

pub(super) fn mul(a: MatRef<'_, C64>, b: MatRef<'_, C64>) -> Mat<C64> {
    let mut c = Mat::zeros(a.nrows(), b.ncols());
    matmul(c.as_mut(), Accum::Replace, a, b, ONE, Par::Seq);
    c
}

/// Thin SVD `m = U·diag(s)·V†` without truncation (`U` is 0×0 unless `want_u`).
fn svd_full(m: MatRef<'_, C64>, want_u: bool) -> Result<(Mat<C64>, Vec<f64>, Mat<C64>)> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::svd::{svd, svd_scratch, ComputeSvdVectors};
    if m.col_iter().any(|c| c.iter().any(|z| !z.re.is_finite() || !z.im.is_finite())) {
        return Err(Error::numerical("MPO: non-finite entries before an SVD (the evolution diverged; reduce dt)"));
    }
    let (nr, nc) = m.shape();
    let size = nr.min(nc);
    let mut u = Mat::<C64>::zeros(if want_u { nr } else { 0 }, if want_u { size } else { 0 });
    let mut v = Mat::<C64>::zeros(nc, size);
    let mut sd = faer::diag::Diag::<C64>::zeros(size);
    let cu = if want_u { ComputeSvdVectors::Thin } else { ComputeSvdVectors::No };
    let mut buf = MemBuffer::new(svd_scratch::<C64>(nr, nc, cu, ComputeSvdVectors::Thin, Par::Seq, Default::default()));
    svd(m, sd.as_mut(), if want_u { Some(u.as_mut()) } else { None }, Some(v.as_mut()), Par::Seq, MemStack::new(&mut buf), Default::default())
        .map_err(|e| Error::numerical(format!("MPO: SVD did not converge ({e:?})")))?;
    let sc = sd.column_vector();
    let s: Vec<f64> = (0..size).map(|i| sc[i].re).collect();
    Ok((u, s, v))
}

/// A truncated right basis of `w` (rows × cols): the truncation replaces `w` by `w·V·V†`.
pub(super) struct RightBasis {
    /// `V` (cols × k), orthonormal columns.
    pub(super) v: Mat<C64>,
    /// Singular values of `w·V` (descending; these are the new bond weights before
    /// normalisation).
    pub(super) s: Vec<f64>,
    /// `U_k·diag(s)` = `w·V` when the plain SVD was kept and `want_us` was asked (saves a product).
    pub(super) us: Option<Mat<C64>>,
    /// Discarded weight `(‖w‖²_F − ‖w·V‖²_F)/‖w‖²_F`.
    pub(super) disc: f64,
}

/// Truncates the right space of `w` by `tr` **preserving the trace**: the kept space always
/// contains `keep` (the right trace vector of the bond: the contraction of everything right of
/// the cut with `vec(I)`), so `Tr ρ` is the same before and after the truncation up to rounding.
///
/// A plain Frobenius-optimal truncation (Zwolak & Vidal 2004) does not keep the trace: the
/// identity direction carries a small share of ‖ρ‖_F (`‖vec I‖_F = √(Π d)`), so a discarded
/// weight ε can move `Tr ρ` by up to `√(ε Π d)·‖ρ‖_F`, and over thousands of truncations this
/// drifts (1.5 % on a 32-site chain at χ = 64). Here, when anything is discarded, `w` is split
/// into its component along `k̂ = keep/‖keep‖` and the rest `w⊥ = w − (w k̂) k̂†`; `w⊥` is
/// truncated with χ_max − 1 vectors `V⊥` by the usual rule, and the kept basis is
/// `Q = orth[k̂, V⊥]`; a final SVD of `w·Q = X Σ Y†` (k columns) rotates it to `V = Q Y` so that
/// the bond weights stay diagonal (the B form). Without `keep` (or with a zero one) this is the
/// plain truncated SVD.
pub(super) fn truncate_right(w: MatRef<'_, C64>, keep: Option<&[C64]>, tr: &Trunc, want_us: bool) -> Result<RightBasis> {
    let knorm = keep.map_or(0.0, |kv| kv.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt());
    let Some(kv) = keep.filter(|_| knorm > 0.0 && knorm.is_finite()) else {
        let (u, s, v) = svd_full(w, want_us)?;
        let (k, disc) = tr.keep(&s);
        let us = if want_us { Some(Mat::from_fn(u.nrows(), k, |i, j| u[(i, j)] * s[j])) } else { None };
        return Ok(RightBasis { v: v.get(.., ..k).to_owned(), s: s[..k].to_vec(), us, disc });
    };
    let (nr, nc) = w.shape();
    let mut total = 0.0;
    for j in 0..nc {
        for i in 0..nr {
            total += w[(i, j)].norm_sqr();
        }
    }
    if !total.is_finite() {
        return Err(Error::numerical("MPO: non-finite entries before an SVD (the evolution diverged; reduce dt)"));
    }
    let khat: Vec<C64> = kv.iter().map(|z| z / knorm).collect();
    // w⊥ = w − (w k̂) k̂†
    let wk: Vec<C64> = (0..nr).map(|i| (0..nc).map(|j| w[(i, j)] * khat[j]).sum()).collect();
    let wperp = Mat::from_fn(nr, nc, |i, j| w[(i, j)] - wk[i] * khat[j].conj());
    let (_, sp, vp) = svd_full(wperp.as_ref(), false)?;
    // TeNPy's rule on w⊥'s values, relative to w's total weight: the fewest vectors whose
    // discarded tail is at most `cutoff`, then 1 + kp clamped to [chi_min, chi_max]
    let mut kp = sp.len();
    let mut tail = 0.0;
    while kp > 0 && (tail + sp[kp - 1] * sp[kp - 1]) / total <= tr.cutoff {
        tail += sp[kp - 1] * sp[kp - 1];
        kp -= 1;
    }
    let kp = kp.max(tr.chi_min.saturating_sub(1).min(sp.len())).min(tr.chi_max.saturating_sub(1)).min(nc.saturating_sub(1));
    // Q = orth[k̂, V⊥_kp] by modified Gram–Schmidt (V⊥ is already orthogonal to k̂ up to
    // rounding; columns that vanish after projection are dropped)
    let mut cols: Vec<Vec<C64>> = vec![khat];
    for j in 0..kp {
        let mut c: Vec<C64> = (0..nc).map(|i| vp[(i, j)]).collect();
        for _ in 0..2 {
            for q in &cols {
                let d: C64 = q.iter().zip(&c).map(|(a, b)| a.conj() * b).sum();
                for (ci, qi) in c.iter_mut().zip(q) {
                    *ci -= d * qi;
                }
            }
        }
        let n = c.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
        if n > 1e-8 {
            cols.push(c.into_iter().map(|z| z / n).collect());
        }
    }
    let q = Mat::from_fn(nc, cols.len(), |i, j| cols[j][i]);
    let wq = mul(w, q.as_ref());
    let (_, sig, y) = svd_full(wq.as_ref(), false)?;
    let v = mul(q.as_ref(), y.as_ref());
    // w − w·V·V† = w⊥ − w⊥·V⊥·V⊥† (V⊥ ⊥ k̂): the discarded weight is w⊥'s dropped tail
    let dropped: f64 = sp[kp..].iter().map(|x| x * x).sum();
    let disc = if total > 0.0 { dropped / total } else { 0.0 };
    Ok(RightBasis { v, s: sig, us: None, disc })
}

/// Thin QR `m = Q·R` with R explicitly upper trapezoidal.
pub(super) fn qr(m: MatRef<'_, C64>) -> (Mat<C64>, Mat<C64>) {
    let f = m.qr();
    let q = f.compute_thin_Q();
    let r0 = f.thin_R();
    let r = Mat::from_fn(r0.nrows(), r0.ncols(), |i, j| if i <= j { r0[(i, j)] } else { ZERO });
    (q, r)
}
