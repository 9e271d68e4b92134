//! The superoperator forms of the generator, column stacking `vec(AXB) = (Bᵀ ⊗ A) vec(X)`:
//! `spre`, `spost`, `sprepost`, the Lindblad dissipator `D[L]`, the sparse Liouvillian
//! `𝓛 = I⊗G + G'ᵀ⊗I + Σ c_k B̄_k ⊗ A_k` (the lecture slides' form
//! `−i I⊗H + i Hᵀ⊗I + Σ L̄⊗L − ½ I⊗L†L − ½ (L†L)ᵀ⊗I` for pure jumps; `G`, `G'` of the
//! [module docs](super)), its dense assembly, and [`SuperOp`], the time-dependent sparse 𝓛 of
//! the implicit integrator and the steady-state solver.

use super::{Lindbladian, ONE, ZERO};
use crate::coef::{Coef, ModKey, Modulation};
use crate::error::{check_budget, Result};
use crate::sparse::Csr;
use crate::C64;
use std::collections::BTreeMap;

impl Lindbladian {
    /// Writes the dense superoperator `𝓛(t)` (column stacking, `n² × n²`, column-major) into
    /// `out` — the same operator as [`Lindbladian::liouvillian`] and [`SuperOp`], assembled
    /// without sparse intermediates: `𝓛 = I⊗G + G'ᵀ⊗I + Σ c B̄⊗A`. `out` must hold `n⁴` entries.
    pub fn superop_dense_into(&self, t: f64, out: &mut [C64]) {
        let m = self.dim() * self.dim();
        assert_eq!(out.len(), m * m, "superop_dense_into: buffer of {} entries for a {m}×{m} superoperator", out.len());
        out.iter_mut().for_each(|v| *v = ZERO);
        self.superop_entries(t, |i, j, v| out[i + m * j] += v);
    }

    /// Calls `add(row, col, value)` for every contribution to the superoperator `𝓛(t)` (entries
    /// at the same position are to be summed): `I⊗G + G'ᵀ⊗I + Σ c B̄⊗A` term by term, with no
    /// allocation beyond the products `B†A`. Used by [`Lindbladian::superop_dense_into`] and the
    /// exact propagator.
    pub fn superop_entries(&self, t: f64, mut add: impl FnMut(usize, usize, C64)) {
        let n = self.dim();
        let add_g = |add: &mut dyn FnMut(usize, usize, C64), c: C64, gp: C64, op: &Csr| {
            // I⊗(c·op) and (gp·op)ᵀ⊗I
            for (i, j, v) in op.triplets() {
                let (a, b) = (c * v, gp * v);
                for k in 0..n {
                    add(k * n + i, k * n + j, a);
                    add(j * n + k, i * n + k, b);
                }
            }
        };
        for h in &self.hamiltonian {
            let c = h.coef.at(t);
            add_g(&mut add, c * C64::new(0.0, -1.0), c * C64::new(0.0, 1.0), &h.op);
        }
        for d in &self.dissipators {
            let c = d.rate.at(t);
            let bda = d.b.adjoint().matmul(&d.a);
            add_g(&mut add, c * -0.5, c * -0.5, &bda);
            for (ib, jb, vb) in d.b.triplets() {
                let cb = c * vb.conj();
                for (ia, ja, va) in d.a.triplets() {
                    add(ib * n + ia, jb * n + ja, cb * va);
                }
            }
        }
    }

    /// Number of nonzeros the sparse superoperator would have (an upper bound).
    pub fn liouvillian_nnz_bound(&self) -> u128 {
        let n = self.dim() as u128;
        let (g, _) = self.g_terms();
        let gnnz: u128 = g.iter().map(|(_, o)| o.nnz() as u128).sum();
        let snnz: u128 = self.dissipators.iter().map(|d| d.a.nnz() as u128 * d.b.nnz() as u128).sum();
        2 * gnnz * n + snnz
    }

    /// The sparse Liouvillian superoperator 𝓛(t) (`n² × n²`, column stacking), refusing before
    /// allocation if its storage exceeds `budget_bytes`.
    pub fn liouvillian(&self, t: f64, budget_bytes: u128) -> Result<Csr> {
        check_budget("the sparse Liouvillian", self.liouvillian_nnz_bound() * 24, budget_bytes)?;
        let n = self.dim();
        let id = Csr::identity(n);
        let mut trip: Vec<(usize, usize, C64)> = Vec::new();
        let (g, gp) = self.g_terms();
        for (c, op) in &g {
            let v = c.at(t);
            trip.extend(id.kron(op).triplets().map(|(i, j, x)| (i, j, v * x)));
        }
        for (c, op) in &gp {
            let v = c.at(t);
            trip.extend(op.transpose().kron(&id).triplets().map(|(i, j, x)| (i, j, v * x)));
        }
        for d in &self.dissipators {
            let v = d.rate.at(t);
            trip.extend(d.b.conj().kron(&d.a).triplets().map(|(i, j, x)| (i, j, v * x)));
        }
        Ok(Csr::from_triplets(n * n, n * n, trip))
    }
}

/// `spre(A) = I ⊗ A`: the superoperator of `X ↦ A X` (column stacking).
pub fn spre(a: &Csr) -> Csr {
    Csr::identity(a.ncols).kron(a)
}

/// `spost(A) = Aᵀ ⊗ I`: the superoperator of `X ↦ X A` (column stacking).
pub fn spost(a: &Csr) -> Csr {
    a.transpose().kron(&Csr::identity(a.nrows))
}

/// `sprepost(A, B) = Bᵀ ⊗ A`: the superoperator of `X ↦ A X B`.
pub fn sprepost(a: &Csr, b: &Csr) -> Csr {
    b.transpose().kron(a)
}

/// `D[L] = L̄⊗L − ½ I⊗L†L − ½ (L†L)ᵀ⊗I`, the Lindblad dissipator superoperator.
pub fn lindblad_dissipator(l: &Csr) -> Csr {
    let ldl = l.adjoint().matmul(l);
    let half = C64::new(-0.5, 0.0);
    sprepost(l, &l.adjoint()).add(ONE, &spre(&ldl), half).add(ONE, &spost(&ldl), half)
}

/// A sparse matrix whose values are `base + Σ_k f_k(t)·v_k` over one fixed sparsity pattern.
#[derive(Clone, Debug)]
pub(super) struct TdCsr {
    pub(super) pattern: Csr,
    base: Vec<C64>,
    terms: Vec<(Modulation, Vec<(usize, C64)>)>,
}

impl TdCsr {
    pub(super) fn new(n: usize, terms: &[(Coef, Csr)]) -> Self {
        let mut trip = Vec::new();
        for (_, op) in terms {
            trip.extend(op.triplets().map(|(i, j, _)| (i, j, ONE)));
        }
        let mut pattern = Csr::from_triplets(n, n, trip);
        // from_triplets drops exact zeros only; ones summed are never zero.
        let pos = |p: &Csr, i: usize, j: usize| -> usize {
            let row = &p.indices[p.indptr[i]..p.indptr[i + 1]];
            p.indptr[i] + row.binary_search(&j).expect("pattern contains entry")
        };
        let mut base = vec![ZERO; pattern.nnz()];
        let mut tdm: BTreeMap<ModKey, (Modulation, BTreeMap<usize, C64>)> = BTreeMap::new();
        for (c, op) in terms {
            if c.is_constant() {
                for (i, j, v) in op.triplets() {
                    base[pos(&pattern, i, j)] += c.amp * v;
                }
            } else {
                let e = tdm.entry(c.modulation.key()).or_insert_with(|| (c.modulation.clone(), BTreeMap::new()));
                for (i, j, v) in op.triplets() {
                    *e.1.entry(pos(&pattern, i, j)).or_insert(ZERO) += c.amp * v;
                }
            }
        }
        let terms = tdm.into_values().map(|(m, e)| (m, e.into_iter().collect())).collect();
        pattern.data.copy_from_slice(&base);
        TdCsr { pattern, base, terms }
    }

    pub(super) fn is_constant(&self) -> bool {
        self.terms.is_empty()
    }

    /// Sets `pattern.data` to the values at time `t`.
    pub(super) fn update(&mut self, t: f64) {
        if self.terms.is_empty() {
            return;
        }
        self.pattern.data.copy_from_slice(&self.base);
        for (m, entries) in &self.terms {
            let f = m.at(t);
            for &(p, v) in entries {
                self.pattern.data[p] += v * f;
            }
        }
    }
}


/// The sparse superoperator 𝓛(t) stored column-wise (CSC, i.e. the CSR of 𝓛ᵀ) over a fixed
/// pattern that always contains the diagonal, with cheap re-evaluation at any `t`. Used by the
/// implicit integrator and the steady-state solver (sparse LU through `faer`).
#[derive(Clone, Debug)]
pub struct SuperOp {
    td: TdCsr,
    diag: Vec<usize>,
}

impl SuperOp {
    /// Builds 𝓛 for `l`, refusing before allocation beyond `budget_bytes`.
    pub fn new(l: &Lindbladian, budget_bytes: u128) -> Result<Self> {
        check_budget("the sparse Liouvillian", l.liouvillian_nnz_bound() * 40, budget_bytes)?;
        let n = l.dim();
        let n2 = n * n;
        let id = Csr::identity(n);
        let (g, gp) = l.g_terms();
        // Terms of 𝓛ᵀ: (I⊗G)ᵀ = I⊗Gᵀ, (G'ᵀ⊗I)ᵀ = G'⊗I, (B̄⊗A)ᵀ = B†⊗Aᵀ.
        let mut terms: Vec<(Coef, Csr)> = Vec::new();
        terms.push((Coef::constant(ZERO), Csr::identity(n2)));
        for (c, op) in &g {
            terms.push((c.clone(), id.kron(&op.transpose())));
        }
        for (c, op) in &gp {
            terms.push((c.clone(), op.kron(&id)));
        }
        for d in &l.dissipators {
            terms.push((d.rate.clone(), d.b.adjoint().kron(&d.a.transpose())));
        }
        let td = TdCsr::new(n2, &terms);
        let p = &td.pattern;
        let diag = (0..n2)
            .map(|j| p.indptr[j] + p.indices[p.indptr[j]..p.indptr[j + 1]].binary_search(&j).expect("diagonal in pattern"))
            .collect();
        Ok(SuperOp { td, diag })
    }

    /// Dimension `n²`.
    pub fn size(&self) -> usize {
        self.td.pattern.nrows
    }

    /// True if 𝓛 does not depend on time.
    pub fn is_time_independent(&self) -> bool {
        self.td.is_constant()
    }

    /// Evaluates the stored values at time `t`.
    pub fn update(&mut self, t: f64) {
        self.td.update(t);
    }

    /// CSC parts `(col_ptr, row_idx, values)` of 𝓛 at the last [`SuperOp::update`].
    pub fn csc(&self) -> (&[usize], &[usize], &[C64]) {
        (&self.td.pattern.indptr, &self.td.pattern.indices, &self.td.pattern.data)
    }

    /// Positions of the diagonal entries in the value array.
    pub fn diag_positions(&self) -> &[usize] {
        &self.diag
    }

    /// `y = 𝓛 x` at the last update.
    pub fn matvec(&self, x: &[C64], y: &mut [C64]) {
        y.iter_mut().for_each(|v| *v = ZERO);
        let p = &self.td.pattern;
        for j in 0..p.nrows {
            let xj = x[j];
            if xj == ZERO {
                continue;
            }
            for q in p.indptr[j]..p.indptr[j + 1] {
                y[p.indices[q]] += p.data[q] * xj;
            }
        }
    }

    /// 𝓛 as a CSR matrix at the last update.
    pub fn to_csr(&self) -> Csr {
        let mut m = self.td.pattern.transpose();
        m.prune(0.0);
        m
    }
}
