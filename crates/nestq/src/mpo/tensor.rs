//! Site tensors of the vectorised MPO (shape `(χ_l, d², χ_r)`, column-major with `l` fastest;
//! *Representation* in the `mpo` module documentation, `mpo/mod.rs`) and the two-site TEBD
//! update in B form (Vidal 2004; Hastings, J. Math. Phys. 50, 095207 (2009); TeNPy's
//! `TEBDEngine.update_bond`), whose truncation keeps the trace ([`truncate_right`]).

use super::trunc::{mul, truncate_right, RightBasis, Trunc};
use super::ZERO;
use crate::error::Result;
use crate::C64;
use faer::{Mat, MatRef};

/// One site tensor of shape `(chi_l, p, chi_r)` with `p = d²`, column-major with `l` fastest:
/// `data[l + chi_l·(q + p·r)]`.
#[derive(Clone, Debug)]
pub struct SiteTensor {
    /// Left bond dimension.
    pub chi_l: usize,
    /// Physical (vectorised) dimension d².
    pub p: usize,
    /// Right bond dimension.
    pub chi_r: usize,
    /// Entries.
    pub data: Vec<C64>,
}

impl SiteTensor {
    pub(super) fn at(&self, l: usize, q: usize, r: usize) -> C64 {
        self.data[l + self.chi_l * (q + self.p * r)]
    }
    /// `Σ_lr left[l] A[l, q, r] right[r]`: the tensor at physical index q between a left and a
    /// right environment vector.
    pub(super) fn close(&self, left: &[C64], q: usize, right: &[C64]) -> C64 {
        let mut acc = ZERO;
        for (r, &w) in right.iter().enumerate().take(self.chi_r) {
            let base = self.chi_l * (q + self.p * r);
            let a: C64 = left.iter().zip(&self.data[base..base + self.chi_l]).map(|(x, y)| x * y).sum();
            acc += a * w;
        }
        acc
    }
    /// `Σ_{i,r} A[l, (i,i), r] env[r]`: contracts the site with `vec(I)` and a right
    /// environment, giving the environment one bond further left (length `chi_l`).
    pub(super) fn trace_left(&self, env: &[C64]) -> Vec<C64> {
        let d = (self.p as f64).sqrt().round() as usize;
        let mut next = vec![ZERO; self.chi_l];
        for (r, &e) in env.iter().enumerate().take(self.chi_r) {
            for i in 0..d {
                let base = self.chi_l * ((i + d * i) + self.p * r);
                for (l, nx) in next.iter_mut().enumerate() {
                    *nx += self.data[base + l] * e;
                }
            }
        }
        next
    }
    /// View as the `(chi_l·p) × chi_r` matrix (rows `l + chi_l·q`).
    pub(super) fn as_left(&self) -> MatRef<'_, C64> {
        MatRef::from_column_major_slice(&self.data, self.chi_l * self.p, self.chi_r)
    }
    /// View as the `chi_l × (p·chi_r)` matrix (columns `q + p·r`).
    pub(super) fn as_right(&self) -> MatRef<'_, C64> {
        MatRef::from_column_major_slice(&self.data, self.chi_l, self.p * self.chi_r)
    }
    pub(super) fn from_mat(m: &Mat<C64>, chi_l: usize, p: usize, chi_r: usize) -> SiteTensor {
        debug_assert_eq!(m.nrows() * m.ncols(), chi_l * p * chi_r);
        let mut data = Vec::with_capacity(chi_l * p * chi_r);
        for j in 0..m.ncols() {
            data.extend_from_slice(m.col_as_slice(j));
        }
        SiteTensor { chi_l, p, chi_r, data }
    }
}

/// The two-site update of TEBD in B form (Hastings' trick; TeNPy `TEBDEngine.update_bond`):
/// θ = B_a·B_b, θ' = G·θ (or the swap of the two physical legs), SVD of `diag(s_left)·θ'`,
/// B_b' = V† (right-orthonormal), B_a' = θ'·V (no inverse of singular values).
/// `right_env` (length χ of the bond right of b) is the trace contraction of the sites right
/// of the pair; with it the truncation keeps `Tr ρ` (see [`truncate_right`]), without it the
/// truncation is the plain Frobenius-optimal one.
/// Returns `(B_a', B_b', normalised singular values, discarded weight)`.
pub(super) fn bond_update(a: &SiteTensor, b: &SiteTensor, s_left: &[f64], gate: Option<&Mat<C64>>, right_env: Option<&[C64]>, tr: &Trunc) -> Result<(SiteTensor, SiteTensor, Vec<f64>, f64)> {
    let (cl, p1, p2, cr) = (a.chi_l, a.p, b.p, b.chi_r);
    let theta = mul(a.as_left(), b.as_right()); // (cl·p1) × (p2·cr)
    let th = theta.as_ref();
    // θ' in layout (l, q1, q2, r) with the new p1' (= p2 after a swap).
    let (np1, np2) = if gate.is_some() { (p1, p2) } else { (p2, p1) };
    let mut out = Mat::<C64>::zeros(cl * np1, np2 * cr);
    match gate {
        Some(g) => {
            // for each r: X_r (cl × p1p2) ↦ X_r·Gᵀ
            let gt = g.transpose();
            for r in 0..cr {
                let mut xr = Mat::<C64>::zeros(cl, p1 * p2);
                for q2 in 0..p2 {
                    for q1 in 0..p1 {
                        let col = th.col(q2 + p2 * r);
                        for l in 0..cl {
                            xr[(l, q1 + p1 * q2)] = col[l + cl * q1];
                        }
                    }
                }
                let y = mul(xr.as_ref(), gt);
                for q2 in 0..p2 {
                    for q1 in 0..p1 {
                        for l in 0..cl {
                            out[(l + cl * q1, q2 + p2 * r)] = y[(l, q1 + p1 * q2)];
                        }
                    }
                }
            }
        }
        None => {
            for r in 0..cr {
                for q2 in 0..p2 {
                    for q1 in 0..p1 {
                        for l in 0..cl {
                            // new (q1' = q2, q2' = q1)
                            out[(l + cl * q2, q1 + p1 * r)] = th[(l + cl * q1, q2 + p2 * r)];
                        }
                    }
                }
            }
        }
    }
    let weighted = Mat::from_fn(cl * np1, np2 * cr, |i, j| out[(i, j)] * s_left[i % cl]);
    // the right trace vector of the pair's right half: vec(I) of the new right site ⊗ right_env
    let keep = right_env.map(|env| right_trace_vector(np2, env));
    let RightBasis { v, s, disc, .. } = truncate_right(weighted.as_ref(), keep.as_deref(), tr, false)?;
    let k = s.len();
    let vh = v.adjoint().to_owned(); // k × (np2·cr)
    let new_a = mul(out.as_ref(), v.as_ref()); // (cl·np1) × k
    let nrm = s.iter().map(|x| x * x).sum::<f64>().sqrt();
    let s: Vec<f64> = if nrm > 0.0 { s.iter().map(|x| x / nrm).collect() } else { vec![1.0; k] };
    Ok((SiteTensor::from_mat(&new_a, cl, np1, k), SiteTensor::from_mat(&vh, k, np2, cr), s, disc))
}

/// `vec(I_d) ⊗ env` over the index `q + d²·r` of a site tensor's right matricisation
/// (`p = d²` physical entries, `env` over the right bond).
pub(super) fn right_trace_vector(p: usize, env: &[C64]) -> Vec<C64> {
    let d = (p as f64).sqrt().round() as usize;
    let mut out = vec![ZERO; p * env.len()];
    for (r, &e) in env.iter().enumerate() {
        for i in 0..d {
            out[(i + d * i) + p * r] = e;
        }
    }
    out
}
