//! The density matrix as a vectorised MPO in B form ([`Mpo`]; *Representation* in the `mpo`
//! module documentation, `mpo/mod.rs`): product and dense constructors and the initial state of a
//! model, the dense ρ, re-canonicalisation (a QR sweep and a trace-keeping SVD sweep), trace,
//! expectation values of product operators, one- and two-site reduced density matrices, purity
//! and Hilbert–Schmidt inner products, and the application of one- and two-site gates, swaps and
//! gate layers.

use super::tensor::{bond_update, right_trace_vector, SiteTensor};
use super::trunc::{mul, qr, truncate_right, Discarded, RightBasis, Trunc};
use super::{ONE, ZERO};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::C64;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};
use nalgebra::DMatrix;

/// A density matrix as a vectorised MPO in B form (see the module documentation).
#[derive(Clone, Debug)]
pub struct Mpo {
    /// Local Hilbert-space dimension of each site (in the current site order).
    pub dims: Vec<usize>,
    /// Site tensors, shape `(χ_s, d_s², χ_{s+1})`.
    pub tensors: Vec<SiteTensor>,
    /// Bond weights: `svals[b]` for the bond left of site b (`svals[0] = svals[N] = [1]`),
    /// normalised to unit 2-norm.
    pub svals: Vec<Vec<f64>>,
}

/// Local vectorisation weight of an operator O: `w[i + d·j] = Tr(O·|i⟩⟨j|) = O[j, i]`.
fn trace_weight(o: &DMatrix<C64>) -> Vec<C64> {
    let d = o.nrows();
    let mut w = vec![ZERO; d * d];
    for j in 0..d {
        for i in 0..d {
            w[i + d * j] = o[(j, i)];
        }
    }
    w
}

impl Mpo {
    /// Product state `⊗_s ρ_s` (each `ρ_s` a `d_s × d_s` matrix), bond dimension 1.
    pub fn product(rhos: &[DMatrix<C64>]) -> Mpo {
        let dims: Vec<usize> = rhos.iter().map(|r| r.nrows()).collect();
        let tensors = rhos.iter().map(|r| SiteTensor { chi_l: 1, p: r.nrows() * r.nrows(), chi_r: 1, data: r.as_slice().to_vec() }).collect();
        Mpo { svals: vec![vec![1.0]; dims.len() + 1], dims, tensors }
    }

    /// Product of pure states `⊗_s |ψ_s⟩⟨ψ_s|`.
    pub fn product_kets(kets: &[Vec<C64>]) -> Mpo {
        let rhos: Vec<DMatrix<C64>> = kets
            .iter()
            .map(|k| {
                let v = nalgebra::DVector::from_column_slice(k);
                &v * v.adjoint()
            })
            .collect();
        Mpo::product(&rhos)
    }

    /// Converts a dense `n × n` ρ (`n = Π dims`, column-major, site 0 leftmost) by successive
    /// SVDs (exact up to `tr`); the result is in exact B form. Cost O(n⁴) — small N only.
    pub fn from_dense(rho: &DMatrix<C64>, dims: &[usize], tr: &Trunc) -> Result<(Mpo, f64)> {
        let n: usize = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or_else(|| Error::arg("dims", "dimension overflows"))?;
        if dims.is_empty() || rho.nrows() != n || rho.ncols() != n {
            return Err(Error::arg("rho", format!("state is {}×{} but dims {:?} give dimension {n}", rho.nrows(), rho.ncols(), dims)));
        }
        // array with p_0 fastest: index p_0 + P_0·(p_1 + P_1·(…))
        let nsite = dims.len();
        let mut arr = vec![ZERO; n * n];
        for j in 0..n {
            for i in 0..n {
                let (mut ii, mut jj) = (i, j);
                let mut idx = 0usize;
                // decompose from the last site (least significant)
                let mut digits = vec![0usize; nsite];
                for s in (0..nsite).rev() {
                    let d = dims[s];
                    digits[s] = (ii % d) + d * (jj % d);
                    ii /= d;
                    jj /= d;
                }
                for s in (0..nsite).rev() {
                    idx = idx * dims[s] * dims[s] + digits[s];
                }
                arr[idx] = rho[(i, j)];
            }
        }
        let mut tensors = Vec::with_capacity(nsite);
        let mut chi = 1usize;
        let mut rest = n * n;
        for s in 0..nsite - 1 {
            let p = dims[s] * dims[s];
            rest /= p;
            let m = MatRef::from_column_major_slice(&arr, chi * p, rest);
            let (q, r) = qr(m);
            let k = q.ncols();
            tensors.push(SiteTensor::from_mat(&q, chi, p, k));
            arr = Vec::with_capacity(k * rest);
            for jcol in 0..r.ncols() {
                arr.extend_from_slice(r.col_as_slice(jcol));
            }
            chi = k;
        }
        let p = dims[nsite - 1] * dims[nsite - 1];
        tensors.push(SiteTensor { chi_l: chi, p, chi_r: 1, data: arr });
        let mut mpo = Mpo { dims: dims.to_vec(), tensors, svals: vec![vec![1.0]; nsite + 1] };
        let disc = mpo.canonicalize(tr)?;
        Ok((mpo, disc))
    }

    /// Number of sites.
    pub fn len(&self) -> usize {
        self.dims.len()
    }

    /// True for an MPO without sites (never produced by the constructors).
    pub fn is_empty(&self) -> bool {
        self.dims.is_empty()
    }

    /// Largest bond dimension.
    pub fn max_bond(&self) -> usize {
        self.tensors.iter().map(|t| t.chi_r).max().unwrap_or(1)
    }

    /// Bond dimensions `[χ_1, …, χ_{N−1}]`: entry b is the bond between sites b and b+1.
    pub fn bond_dims(&self) -> Vec<usize> {
        self.tensors.iter().take(self.len().saturating_sub(1)).map(|t| t.chi_r).collect()
    }

    /// The dense ρ (`n × n`); refused when `16·n²` bytes exceed `budget_bytes`.
    pub fn to_dense(&self, budget_bytes: u128) -> Result<DMatrix<C64>> {
        let n: usize = self.dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).unwrap_or(usize::MAX);
        crate::error::check_budget("the dense density matrix of the MPO", (n as u128).saturating_mul(n as u128).saturating_mul(32), budget_bytes)?;
        // X: rows = (p_0 … p_s) with p_0 fastest, cols = χ
        let mut x = Mat::<C64>::from_fn(1, 1, |_, _| ONE);
        for t in &self.tensors {
            // new rows (prev_rows, q) with prev fastest: X'[(a + R·q), r] = Σ_l X[a, l] T[l, q, r]
            let rows = x.nrows();
            let mut nx = Mat::<C64>::zeros(rows * t.p, t.chi_r);
            for q in 0..t.p {
                let tq = Mat::from_fn(t.chi_l, t.chi_r, |l, r| t.at(l, q, r));
                let y = mul(x.as_ref(), tq.as_ref());
                for r in 0..t.chi_r {
                    for a in 0..rows {
                        nx[(a + rows * q, r)] = y[(a, r)];
                    }
                }
            }
            x = nx;
        }
        let nsite = self.dims.len();
        let mut rho = DMatrix::zeros(n, n);
        for j in 0..n {
            for i in 0..n {
                let (mut ii, mut jj) = (i, j);
                let mut digits = vec![0usize; nsite];
                for s in (0..nsite).rev() {
                    let d = self.dims[s];
                    digits[s] = (ii % d) + d * (jj % d);
                    ii /= d;
                    jj /= d;
                }
                let mut idx = 0usize;
                for s in (0..nsite).rev() {
                    idx = idx * self.dims[s] * self.dims[s] + digits[s];
                }
                rho[(i, j)] = x[(idx, 0)];
            }
        }
        Ok(rho)
    }

    /// Restores the exact B form: a left-to-right QR sweep, then a right-to-left SVD sweep that
    /// truncates with `tr` (optimal, the left part being orthonormal). Returns the summed
    /// discarded weight.
    pub fn canonicalize(&mut self, tr: &Trunc) -> Result<f64> {
        let mut acc = Discarded::default();
        self.canonicalize_into(tr, &mut acc)?;
        Ok(acc.weight)
    }

    /// [`Mpo::canonicalize`] adding each truncation's discarded weight to `acc`.
    pub(super) fn canonicalize_into(&mut self, tr: &Trunc, acc: &mut Discarded) -> Result<()> {
        let nsite = self.len();
        for s in 0..nsite.saturating_sub(1) {
            let t = &self.tensors[s];
            let (q, r) = qr(t.as_left());
            let k = q.ncols();
            let (cl, p) = (t.chi_l, t.p);
            self.tensors[s] = SiteTensor::from_mat(&q, cl, p, k);
            let nb = &self.tensors[s + 1];
            let m = mul(r.as_ref(), nb.as_right());
            self.tensors[s + 1] = SiteTensor::from_mat(&m, k, nb.p, nb.chi_r);
        }
        // trace contraction of the sites right of s (already in B form), kept by every truncation
        let mut env = vec![ONE];
        for s in (1..nsite).rev() {
            let t = &self.tensors[s];
            let (cr, p) = (t.chi_r, t.p);
            let keep = right_trace_vector(p, &env);
            let RightBasis { v, s: sv, us, disc: d } = truncate_right(t.as_right(), Some(&keep), tr, true)?;
            acc.add(d);
            let k = sv.len();
            let us = match us {
                Some(us) => us,
                None => mul(t.as_right(), v.as_ref()),
            };
            self.tensors[s] = SiteTensor::from_mat(&v.adjoint().to_owned(), k, p, cr);
            env = self.tensors[s].trace_left(&env);
            let left = &self.tensors[s - 1];
            let m = mul(left.as_left(), us.as_ref());
            self.tensors[s - 1] = SiteTensor::from_mat(&m, left.chi_l, left.p, k);
            let nrm = sv.iter().map(|x| x * x).sum::<f64>().sqrt();
            self.svals[s] = if nrm > 0.0 { sv.iter().map(|x| x / nrm).collect() } else { vec![1.0; k] };
        }
        self.svals[0] = vec![1.0];
        self.svals[nsite] = vec![1.0];
        Ok(())
    }

    /// Contracts with one weight vector per site (`None` = the trace weight `vec(I)`):
    /// `Σ_p Π_s w_s[p_s] B[s]_{p_s}`.
    fn contract_weights(&self, w: &[Option<Vec<C64>>]) -> C64 {
        let mut env = vec![ONE];
        for (s, t) in self.tensors.iter().enumerate() {
            let d = self.dims[s];
            let mut next = vec![ZERO; t.chi_r];
            match &w[s] {
                Some(ws) => {
                    for r in 0..t.chi_r {
                        let mut acc = ZERO;
                        for q in 0..t.p {
                            if ws[q] == ZERO {
                                continue;
                            }
                            let base = t.chi_l * (q + t.p * r);
                            let mut a = ZERO;
                            for l in 0..t.chi_l {
                                a += env[l] * t.data[base + l];
                            }
                            acc += a * ws[q];
                        }
                        next[r] = acc;
                    }
                }
                None => {
                    for r in 0..t.chi_r {
                        let mut acc = ZERO;
                        for i in 0..d {
                            let base = t.chi_l * ((i + d * i) + t.p * r);
                            for l in 0..t.chi_l {
                                acc += env[l] * t.data[base + l];
                            }
                        }
                        next[r] = acc;
                    }
                }
            }
            env = next;
        }
        env[0]
    }

    /// Tr ρ.
    pub fn trace(&self) -> C64 {
        self.contract_weights(&vec![None; self.len()])
    }

    /// `Tr(O ρ)` for `O = Π_s O_s`, a product of local operators given as `(site, d×d matrix)`
    /// factors; factors on the same site multiply left to right (as in operator expressions).
    pub fn expect_product(&self, factors: &[(usize, DMatrix<C64>)]) -> Result<C64> {
        let w = self.product_weights(factors)?;
        Ok(self.contract_weights(&w))
    }

    fn product_weights(&self, factors: &[(usize, DMatrix<C64>)]) -> Result<Vec<Option<Vec<C64>>>> {
        let mut local: Vec<Option<DMatrix<C64>>> = vec![None; self.len()];
        for (s, o) in factors {
            if *s >= self.len() || o.nrows() != self.dims[*s] || o.ncols() != self.dims[*s] {
                return Err(Error::arg("factors", format!("factor on site {s} has shape {}×{} (dims {:?})", o.nrows(), o.ncols(), self.dims)));
            }
            local[*s] = Some(match local[*s].take() {
                None => o.clone(),
                Some(m) => m * o,
            });
        }
        Ok(local.into_iter().map(|o| o.map(|m| trace_weight(&m))).collect())
    }

    /// Right environments of the trace: `right[s]` (length χ_{s+1}) contracts sites s+1..N with vec(I).
    fn right_trace_envs(&self) -> Vec<Vec<C64>> {
        let nsite = self.len();
        let mut right = vec![Vec::new(); nsite];
        let mut env = vec![ONE];
        for s in (0..nsite).rev() {
            let next = self.tensors[s].trace_left(&env);
            right[s] = std::mem::replace(&mut env, next);
        }
        right
    }

    /// The trace contraction of sites `s..N` (length χ_s; `[1]` for `s ≥ N`).
    fn right_trace_env(&self, s: usize) -> Vec<C64> {
        let mut env = vec![ONE];
        for t in self.tensors.iter().skip(s).rev() {
            env = t.trace_left(&env);
        }
        env
    }

    /// Left trace environment up to (excluding) site `s`.
    fn left_trace_env(&self, s: usize) -> Vec<C64> {
        let mut env = vec![ONE];
        for (k, t) in self.tensors.iter().enumerate().take(s) {
            let d = self.dims[k];
            let mut next = vec![ZERO; t.chi_r];
            for r in 0..t.chi_r {
                for i in 0..d {
                    let base = t.chi_l * ((i + d * i) + t.p * r);
                    for l in 0..t.chi_l {
                        next[r] += env[l] * t.data[base + l];
                    }
                }
            }
            env = next;
        }
        env
    }

    /// Reduced density matrix of site `i` (`d_i × d_i`, not renormalised: its trace is Tr ρ).
    pub fn rdm1(&self, i: usize) -> Result<DMatrix<C64>> {
        if i >= self.len() {
            return Err(Error::arg("site", format!("site {i} out of range ({} sites)", self.len())));
        }
        let left = self.left_trace_env(i);
        let right = &self.right_trace_envs()[i];
        let t = &self.tensors[i];
        let d = self.dims[i];
        let mut m = DMatrix::zeros(d, d);
        for q in 0..t.p {
            m[(q % d, q / d)] = t.close(&left, q, right);
        }
        Ok(m)
    }

    /// Reduced density matrix of sites `(a, b)`, `a ≠ b`, with site `a` the left tensor factor
    /// (`d_a d_b × d_a d_b`; not renormalised).
    pub fn rdm2(&self, a: usize, b: usize) -> Result<DMatrix<C64>> {
        if a >= self.len() || b >= self.len() || a == b {
            return Err(Error::arg("sites", format!("sites ({a}, {b}) must differ and lie in 0..{}", self.len())));
        }
        let (i, j) = if a < b { (a, b) } else { (b, a) };
        let left = self.left_trace_env(i);
        let right = &self.right_trace_envs()[j];
        let ti = &self.tensors[i];
        let (di, dj) = (self.dims[i], self.dims[j]);
        let (pi, pj) = (di * di, dj * dj);
        // M[q_i] : vector over χ after site i
        let mut ms: Vec<Vec<C64>> = (0..pi)
            .map(|q| {
                (0..ti.chi_r)
                    .map(|r| {
                        let base = ti.chi_l * (q + ti.p * r);
                        (0..ti.chi_l).map(|l| left[l] * ti.data[base + l]).sum()
                    })
                    .collect()
            })
            .collect();
        for s in i + 1..j {
            let t = &self.tensors[s];
            let d = self.dims[s];
            for m in ms.iter_mut() {
                let mut next = vec![ZERO; t.chi_r];
                for (r, nx) in next.iter_mut().enumerate() {
                    for k in 0..d {
                        let base = t.chi_l * ((k + d * k) + t.p * r);
                        for l in 0..t.chi_l {
                            *nx += m[l] * t.data[base + l];
                        }
                    }
                }
                *m = next;
            }
        }
        let tj = &self.tensors[j];
        let mut v = vec![ZERO; pi * pj]; // v[qi + pi·qj]
        for (qi, m) in ms.iter().enumerate() {
            for qj in 0..pj {
                v[qi + pi * qj] = tj.close(m, qj, right);
            }
        }
        // ρ_ab[(x_a d_b + x_b), (y_a d_b + y_b)]
        let (da, db) = (self.dims[a], self.dims[b]);
        let mut rho = DMatrix::zeros(da * db, da * db);
        for ya in 0..da {
            for xa in 0..da {
                for yb in 0..db {
                    for xb in 0..db {
                        let qa = xa + da * ya;
                        let qb = xb + db * yb;
                        let (qi, qj) = if a < b { (qa, qb) } else { (qb, qa) };
                        rho[(xa * db + xb, ya * db + yb)] = v[qi + pi * qj];
                    }
                }
            }
        }
        Ok(rho)
    }

    /// `Σ_p f(a[p]) · b[σ(p)]` contracted site by site, with `f = conj` or identity and σ the
    /// per-site transposition `i + d j ↦ j + d i` or identity.
    fn pair_contract(a: &Mpo, b: &Mpo, conj_a: bool, transpose: bool) -> C64 {
        let mut env = Mat::<C64>::from_fn(1, 1, |_, _| ONE);
        for s in 0..a.len() {
            let (ta, tb) = (&a.tensors[s], &b.tensors[s]);
            let d = a.dims[s];
            let mut next = Mat::<C64>::zeros(ta.chi_r, tb.chi_r);
            for q in 0..ta.p {
                let qb = if transpose { (q / d) + d * (q % d) } else { q };
                let am = Mat::from_fn(ta.chi_l, ta.chi_r, |l, r| {
                    let z = ta.at(l, q, r);
                    if conj_a {
                        z.conj()
                    } else {
                        z
                    }
                });
                let bm = Mat::from_fn(tb.chi_l, tb.chi_r, |l, r| tb.at(l, qb, r));
                let t = mul(env.as_ref(), bm.as_ref());
                matmul(next.as_mut(), Accum::Add, am.transpose(), t.as_ref(), ONE, Par::Seq);
            }
            env = next;
        }
        env[(0, 0)]
    }

    /// Tr ρ² (exact for any ρ: `Σ_{ij} ρ_ij ρ_ji`).
    pub fn purity(&self) -> f64 {
        Mpo::pair_contract(self, self, false, true).re
    }

    /// Hilbert–Schmidt inner product `Tr(A† B) = ⟨vec A, vec B⟩`.
    pub fn inner(&self, other: &Mpo) -> Result<C64> {
        if self.dims != other.dims {
            return Err(Error::arg("other", "MPOs over different sites"));
        }
        Ok(Mpo::pair_contract(self, other, true, false))
    }

    /// `‖A − B‖_F` from inner products (absolute floor ≈ 1e−8·‖A‖_F).
    pub fn distance(&self, other: &Mpo) -> Result<f64> {
        let aa = self.inner(self)?.re;
        let bb = other.inner(other)?.re;
        let ab = self.inner(other)?.re;
        Ok((aa + bb - 2.0 * ab).max(0.0).sqrt())
    }

    /// Multiplies ρ by a scalar.
    pub fn scale(&mut self, c: C64) {
        for z in self.tensors[0].data.iter_mut() {
            *z *= c;
        }
    }

    /// Applies the one-site superoperator `g` (`d² × d²`, acting on the vectorised index) to
    /// site `s` (no truncation needed).
    pub fn apply_one_site(&mut self, s: usize, g: &Mat<C64>) {
        let t = &mut self.tensors[s];
        let mut out = vec![ZERO; t.data.len()];
        for r in 0..t.chi_r {
            for q in 0..t.p {
                for q0 in 0..t.p {
                    let gv = g[(q, q0)];
                    if gv == ZERO {
                        continue;
                    }
                    for l in 0..t.chi_l {
                        out[l + t.chi_l * (q + t.p * r)] += gv * t.data[l + t.chi_l * (q0 + t.p * r)];
                    }
                }
            }
        }
        t.data = out;
    }

    /// Applies a two-site gate (`d_s²d_{s+1}² × d_s²d_{s+1}²`, index `q_s + d_s²·q_{s+1}`) to
    /// sites (s, s+1) and truncates (keeping the trace, see [`truncate_right`]); returns the
    /// discarded weight.
    pub fn apply_two_site(&mut self, s: usize, g: &Mat<C64>, tr: &Trunc) -> Result<f64> {
        let env = self.right_trace_env(s + 2);
        let (a, b, sv, d) = bond_update(&self.tensors[s], &self.tensors[s + 1], &self.svals[s], Some(g), Some(&env), tr)?;
        self.tensors[s] = a;
        self.tensors[s + 1] = b;
        self.svals[s + 1] = sv;
        Ok(d)
    }

    /// Swaps the sites at positions s and s+1 (their dims too) and truncates (keeping the
    /// trace).
    pub fn swap(&mut self, s: usize, tr: &Trunc) -> Result<f64> {
        let env = self.right_trace_env(s + 2);
        let (a, b, sv, d) = bond_update(&self.tensors[s], &self.tensors[s + 1], &self.svals[s], None, Some(&env), tr)?;
        self.tensors[s] = a;
        self.tensors[s + 1] = b;
        self.svals[s + 1] = sv;
        self.dims.swap(s, s + 1);
        Ok(d)
    }

    /// Applies gates on disjoint bonds `(s, s+1)` — in parallel with feature `parallel`. The
    /// right trace environments are taken once before the layer: a trace-preserving gate with a
    /// trace-preserving truncation leaves the trace contraction of its pair unchanged, so the
    /// environments stay valid while the layer's other gates are applied.
    pub(super) fn apply_layer(&mut self, items: &[(usize, &Mat<C64>)], tr: &Trunc, acc: &mut Discarded) -> Result<()> {
        let envs = self.right_trace_envs();
        let run = |&(s, g): &(usize, &Mat<C64>)| bond_update(&self.tensors[s], &self.tensors[s + 1], &self.svals[s], Some(g), Some(&envs[s + 1]), tr);
        #[cfg(feature = "parallel")]
        let results: Vec<_> = {
            use rayon::prelude::*;
            if items.len() > 1 {
                items.par_iter().map(run).collect()
            } else {
                items.iter().map(run).collect()
            }
        };
        #[cfg(not(feature = "parallel"))]
        let results: Vec<_> = items.iter().map(run).collect();
        for (&(s, _), res) in items.iter().zip(results) {
            let (a, b, sv, d) = res?;
            self.tensors[s] = a;
            self.tensors[s + 1] = b;
            self.svals[s + 1] = sv;
            acc.add(d);
        }
        Ok(())
    }
}

/// The initial MPO of a model: the exact product state for `basis`/`product`, otherwise the
/// dense ρ converted without truncation.
pub fn initial_mpo(model: &Model) -> Result<Mpo> {
    match &model.initial_product {
        Some(k) => Ok(Mpo::product_kets(k)),
        None => Ok(Mpo::from_dense(&model.initial, &model.dims, &Trunc::EXACT)?.0),
    }
}
