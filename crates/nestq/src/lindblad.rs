//! The GKSL generator: Hamiltonian terms, Lindblad dissipators and Kossakowski cross terms,
//! compiled into a matrix-form right-hand side or assembled as a sparse superoperator.
//!
//! The master equation (Gorini–Kossakowski–Sudarshan–Lindblad form, Breuer & Petruccione §3.2):
//!
//! ```text
//! dρ/dt = −i[H(t), ρ] + Σ_k c_k(t) (A_k ρ B_k† − ½{B_k† A_k, ρ})
//! ```
//!
//! A Lindblad jump `L = √r·O` is the term `A = B = O`, `c = r`; the NEST paper's "modified
//! Lindblad" cross term γ_ik(σx⁽ⁱ⁾ρσx⁽ᵏ⁾ − ½{σx⁽ᵏ⁾σx⁽ⁱ⁾, ρ}) (NEST paper, §II, eq. for the
//! modified Lindbladian) is `A = σx⁽ⁱ⁾`, `B = σx⁽ᵏ⁾`, `c = γ_ik`.
//!
//! Writing `M(t) = Σ c_k B_k†A_k`, `G = −iH − ½M` and `G' = iH − ½M`, the right-hand side is
//! `Gρ + ρG' + Σ c_k A_k ρ B_k†`. When the generator preserves Hermiticity (`H` Hermitian, the
//! coefficient matrix Hermitian) `G' = G†` and `Gρ = (ρG†)†`, so only one sparse–dense product
//! is needed. The superoperator uses column stacking, `vec(AXB) = (Bᵀ ⊗ A) vec(X)`:
//! `𝓛 = I⊗G + G'ᵀ⊗I + Σ c_k B̄_k ⊗ A_k` (the lecture slides' form
//! `−i I⊗H + i Hᵀ⊗I + Σ L̄⊗L − ½ I⊗L†L − ½ (L†L)ᵀ⊗I` for pure jumps).

use crate::coef::{Coef, ModKey, Modulation};
use crate::error::{check_budget, Error, Result};
use crate::sparse::{as_f64, as_f64_mut, caxpy, Csr};
use crate::C64;
use nalgebra::DMatrix;
use std::collections::BTreeMap;

const ZERO: C64 = C64 { re: 0.0, im: 0.0 };
const ONE: C64 = C64 { re: 1.0, im: 0.0 };

/// One Hamiltonian term `coef(t) · op`.
#[derive(Clone, Debug)]
pub struct HamiltonianTerm {
    /// Coefficient.
    pub coef: Coef,
    /// Full-space operator.
    pub op: Csr,
    /// Where it came from (JSON path or a description), for messages.
    pub label: String,
}

/// One dissipative term `c(t)·(AρB† − ½{B†A, ρ})`.
#[derive(Clone, Debug)]
pub struct DissipatorTerm {
    /// Rate `c(t)`; for a Lindblad jump this is the (non-negative) rate.
    pub rate: Coef,
    /// Left operator `A`.
    pub a: Csr,
    /// Right operator `B` (equal to `A` for a Lindblad jump).
    pub b: Csr,
    /// Where it came from, for messages.
    pub label: String,
}

/// A GKSL generator over a Hilbert space of dimension `n`.
#[derive(Clone, Debug)]
pub struct Lindbladian {
    /// Local dimensions (site 0 leftmost).
    pub dims: Vec<usize>,
    /// Hamiltonian terms.
    pub hamiltonian: Vec<HamiltonianTerm>,
    /// Dissipative terms (jumps and cross terms).
    pub dissipators: Vec<DissipatorTerm>,
}

/// Result of the complete-positivity analysis of the dissipative part.
#[derive(Clone, Debug)]
pub struct CpReport {
    /// Smallest eigenvalue of Ĝ^{1/2} Γ Ĝ^{1/2} (see `docs/model-format.md`); ≥ 0 means CP.
    pub min_eigenvalue: f64,
    /// Whether Γ is Hermitian (needed for Hermiticity preservation).
    pub hermitian: bool,
    /// Number of distinct operators in Γ.
    pub n_ops: usize,
    /// Human-readable warnings (empty when CP and Hermitian).
    pub warnings: Vec<String>,
}

impl Lindbladian {
    /// An empty generator on the given sites.
    pub fn new(dims: Vec<usize>) -> Self {
        Lindbladian { dims, hamiltonian: vec![], dissipators: vec![] }
    }

    /// Hilbert-space dimension.
    pub fn dim(&self) -> usize {
        self.dims.iter().product()
    }

    /// Adds `coef · op` to the Hamiltonian.
    pub fn add_hamiltonian(&mut self, coef: Coef, op: Csr, label: impl Into<String>) {
        self.hamiltonian.push(HamiltonianTerm { coef, op, label: label.into() });
    }

    /// Adds the Lindblad jump `rate · D[op]` (i.e. `L = √rate · op`).
    pub fn add_jump(&mut self, rate: Coef, op: Csr, label: impl Into<String>) {
        self.dissipators.push(DissipatorTerm { rate, a: op.clone(), b: op, label: label.into() });
    }

    /// Adds the cross term `rate · (AρB† − ½{B†A, ρ})`.
    pub fn add_cross(&mut self, rate: Coef, a: Csr, b: Csr, label: impl Into<String>) {
        self.dissipators.push(DissipatorTerm { rate, a, b, label: label.into() });
    }

    /// True if no coefficient depends on time.
    pub fn is_time_independent(&self) -> bool {
        self.hamiltonian.iter().all(|h| h.coef.is_constant()) && self.dissipators.iter().all(|d| d.rate.is_constant())
    }

    /// Checks that `H(t)` is Hermitian for all t: terms sharing a time profile must sum to a
    /// Hermitian operator with a real-valued profile. Errors name the first offending term.
    pub fn check_hamiltonian_hermitian(&self) -> Result<()> {
        let n = self.dim();
        let mut groups: BTreeMap<ModKey, (Csr, String)> = BTreeMap::new();
        for t in &self.hamiltonian {
            let e = groups.entry(t.modulation_key()).or_insert_with(|| (Csr::zeros(n, n), t.label.clone()));
            e.0 = e.0.add(ONE, &t.op, t.coef.amp);
        }
        for (_, (h, label)) in groups {
            let scale = h.max_abs().max(1e-300);
            let err = h.hermiticity_error();
            if err > 1e-12 * scale.max(1.0) {
                return Err(Error::model(label, format!(
                    "the Hamiltonian is not Hermitian (terms with this time profile sum to an operator with max |H − H†| = {err:.3e}); give a complex coefficient's conjugate partner term, e.g. c·SP0 SM1 with conj(c)·SM0 SP1")));
            }
        }
        Ok(())
    }

    /// Distinct dissipator operators and the Kossakowski matrix Γ over them, with modulation
    /// factors set to 1.
    pub fn kossakowski(&self) -> (Vec<Csr>, DMatrix<C64>) {
        let mut ops: Vec<Csr> = Vec::new();
        let idx = |op: &Csr, ops: &mut Vec<Csr>| -> usize {
            if let Some(k) = ops.iter().position(|o| o == op) {
                k
            } else {
                ops.push(op.clone());
                ops.len() - 1
            }
        };
        let mut entries = Vec::new();
        for d in &self.dissipators {
            let a = idx(&d.a, &mut ops);
            let b = idx(&d.b, &mut ops);
            entries.push((a, b, d.rate.amp));
        }
        let mut g = DMatrix::zeros(ops.len(), ops.len());
        for (a, b, v) in entries {
            g[(a, b)] += v;
        }
        (ops, g)
    }

    /// Complete-positivity and Hermiticity-preservation analysis of the dissipative part.
    ///
    /// CP ⇔ Γ is positive semidefinite on the traceless parts of its operators: nestq reports the
    /// smallest eigenvalue of Ĝ^{1/2} Γ_H Ĝ^{1/2} with Ĝ_ab = Tr(Ã_a†Ã_b)/D (Gram matrix of the
    /// traceless parts, normalised by the dimension D) and Γ_H the Hermitian part of Γ.
    pub fn cp_report(&self) -> CpReport {
        let (ops, gamma) = self.kossakowski();
        let m = ops.len();
        let mut warnings = Vec::new();
        if m == 0 {
            return CpReport { min_eigenvalue: 0.0, hermitian: true, n_ops: 0, warnings };
        }
        let scale = gamma.iter().map(|v| v.norm()).fold(0.0, f64::max).max(1e-300);
        let herm_err = (&gamma - gamma.adjoint()).iter().map(|v| v.norm()).fold(0.0, f64::max);
        let hermitian = herm_err <= 1e-12 * scale;
        if !hermitian {
            warnings.push(format!(
                "the coefficient (Kossakowski) matrix is not Hermitian (max |Γ − Γ†| = {herm_err:.3e}): the generator does not preserve Hermiticity, so ρ(t) need not stay a Hermitian matrix; add each cross entry's (b, a) partner with the conjugate rate"));
        }
        let d = self.dim() as f64;
        let traces: Vec<C64> = ops.iter().map(|o| o.trace()).collect();
        let gram = DMatrix::from_fn(m, m, |a, b| {
            (ops[a].hs_inner(&ops[b]) - traces[a].conj() * traces[b] / d) / d
        });
        let gram_h = (&gram + gram.adjoint()) * C64::new(0.5, 0.0);
        let sqrt_g = match crate::measures::eigh(&gram_h) {
            Ok((ev, u)) => crate::measures::from_eigh(&ev.iter().map(|l| l.max(0.0).sqrt()).collect::<Vec<_>>(), &u),
            Err(e) => {
                warnings.push(format!("complete-positivity check skipped: {e}"));
                return CpReport { min_eigenvalue: f64::NAN, hermitian, n_ops: m, warnings };
            }
        };
        let gh = (&gamma + gamma.adjoint()) * C64::new(0.5, 0.0);
        let k = &sqrt_g * gh * &sqrt_g;
        let k = (&k + k.adjoint()) * C64::new(0.5, 0.0);
        let min_eigenvalue = crate::measures::hermitian_eigenvalues(&k).iter().cloned().fold(f64::INFINITY, f64::min);
        if min_eigenvalue < -1e-12 * scale {
            let labels: Vec<String> = self
                .dissipators
                .iter()
                .filter(|t| t.a != t.b)
                .map(|t| t.label.clone())
                .collect();
            warnings.push(format!(
                "not completely positive: the Kossakowski matrix has eigenvalue {min_eigenvalue:.6e} < 0 (cross terms: {}); populations or correlations can leave the physical range (e.g. ⟨X0 X1⟩ < −1). Set \"cp_completion\": true for the CP completion",
                if labels.is_empty() { "none".into() } else { labels.join(", ") }));
        }
        CpReport { min_eigenvalue, hermitian, n_ops: m, warnings }
    }

    /// Applies the CP (Gershgorin) completion: for every cross entry `(A, B)` with rate
    /// `c(t) = amp·f(t)`, adds `|amp|/2 · f(t) · (D[A] + D[B])`; for a Hermitian pair
    /// `(A,B) + (B,A)` with rate γ this gives γ·D[A+B]. Requires a Hermitian Γ and non-negative
    /// time profiles (no `cos`).
    pub fn apply_cp_completion(&mut self) -> Result<()> {
        let rep = self.cp_report();
        if !rep.hermitian {
            return Err(Error::model("$.cp_completion", "the CP completion needs a Hermitian coefficient matrix: give every cross entry (a, b) its (b, a) partner with the conjugate rate"));
        }
        let mut extra = Vec::new();
        for t in &self.dissipators {
            if t.a == t.b {
                continue;
            }
            if matches!(t.rate.modulation, Modulation::Cos { .. }) {
                return Err(Error::model(t.label.clone(), "cp_completion is not defined for a cos-modulated cross rate (the completion rate would have to be |cos|)"));
            }
            let half = Coef { amp: C64::new(t.rate.amp.norm() / 2.0, 0.0), modulation: t.rate.modulation.clone() };
            extra.push(DissipatorTerm { rate: half.clone(), a: t.a.clone(), b: t.a.clone(), label: format!("{} (cp completion, A)", t.label) });
            extra.push(DissipatorTerm { rate: half, a: t.b.clone(), b: t.b.clone(), label: format!("{} (cp completion, B)", t.label) });
        }
        self.dissipators.extend(extra);
        Ok(())
    }

    /// Whether the generator maps Hermitian matrices to Hermitian matrices (checked per group of
    /// terms sharing a time profile; `H` is assumed Hermitian, see
    /// [`Lindbladian::check_hamiltonian_hermitian`]).
    pub fn is_hermiticity_preserving(&self) -> bool {
        // Γ Hermitian within every group of terms sharing a time profile (the same test as
        // `cp_report().hermitian`, without the Gram matrix and eigenvalues)
        let mut groups: BTreeMap<ModKey, Vec<&DissipatorTerm>> = BTreeMap::new();
        for d in &self.dissipators {
            if d.a != d.b || d.rate.amp.im != 0.0 {
                groups.entry(d.rate.modulation.key()).or_default().push(d);
            }
        }
        for (_, terms) in groups {
            let mut ops: Vec<&Csr> = Vec::new();
            let mut entries = Vec::with_capacity(terms.len());
            fn idx<'a>(ops: &mut Vec<&'a Csr>, op: &'a Csr) -> usize {
                match ops.iter().position(|o| *o == op) {
                    Some(k) => k,
                    None => {
                        ops.push(op);
                        ops.len() - 1
                    }
                }
            }
            for d in &terms {
                let a = idx(&mut ops, &d.a);
                let b = idx(&mut ops, &d.b);
                entries.push((a, b, d.rate.amp));
            }
            let m = ops.len();
            let mut g = vec![ZERO; m * m];
            for (a, b, v) in entries {
                g[a + m * b] += v;
            }
            let scale = g.iter().map(|v| v.norm()).fold(0.0, f64::max).max(1e-300);
            let err = (0..m).flat_map(|a| (0..m).map(move |b| (a, b))).map(|(a, b)| (g[a + m * b] - g[b + m * a].conj()).norm()).fold(0.0, f64::max);
            if err > 1e-12 * scale {
                return false;
            }
        }
        true
    }

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

    /// The left and right operators `G(t) = −iH − ½M` and `G'(t) = iH − ½M` as (coefficient,
    /// operator) term lists.
    fn g_terms(&self) -> (Vec<(Coef, Csr)>, Vec<(Coef, Csr)>) {
        let mut g = Vec::new();
        let mut gp = Vec::new();
        for h in &self.hamiltonian {
            g.push((scaled(&h.coef, C64::new(0.0, -1.0)), h.op.clone()));
            gp.push((scaled(&h.coef, C64::new(0.0, 1.0)), h.op.clone()));
        }
        for d in &self.dissipators {
            let bda = d.b.adjoint().matmul(&d.a);
            g.push((scaled(&d.rate, C64::new(-0.5, 0.0)), bda.clone()));
            gp.push((scaled(&d.rate, C64::new(-0.5, 0.0)), bda));
        }
        (g, gp)
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

    /// Compiles the matrix-form right-hand side.
    pub fn compile(&self) -> MatrixRhs {
        MatrixRhs::new(self)
    }

    /// Compiles the adjoint right-hand side `X ↦ 𝓛(t)† X` (see [`MatrixRhs::new_adjoint`]).
    pub fn compile_adjoint(&self) -> MatrixRhs {
        MatrixRhs::new_adjoint(self)
    }
}

impl HamiltonianTerm {
    fn modulation_key(&self) -> ModKey {
        self.coef.modulation.key()
    }
}

fn scaled(c: &Coef, s: C64) -> Coef {
    Coef { amp: c.amp * s, modulation: c.modulation.clone() }
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
struct TdCsr {
    pattern: Csr,
    base: Vec<C64>,
    terms: Vec<(Modulation, Vec<(usize, C64)>)>,
}

impl TdCsr {
    fn new(n: usize, terms: &[(Coef, Csr)]) -> Self {
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

    fn is_constant(&self) -> bool {
        self.terms.is_empty()
    }

    /// Sets `pattern.data` to the values at time `t`.
    fn update(&mut self, t: f64) {
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

/// One compiled sandwich term `c(t) · A X B†`.
#[derive(Clone, Debug)]
struct Sandwich {
    coef: Coef,
    a: Csr,
    b: Csr,
    /// Fast path when A and B have at most one entry per row and column: the nonzero rows
    /// `(i, column, value)` of A and of B.
    mono: Option<(Vec<(usize, usize, C64)>, Vec<(usize, usize, C64)>)>,
    /// The same with real values, when every entry of A and B is real.
    mono_real: Option<(Vec<(usize, usize, f64)>, Vec<(usize, usize, f64)>)>,
}

fn row_monomial(m: &Csr) -> Option<Vec<(usize, usize, C64)>> {
    if !m.is_monomial() {
        return None;
    }
    Some(m.triplets().collect())
}

/// The compiled matrix-form right-hand side `X ↦ 𝓛(t) X` acting on column-major `n × n`
/// buffers (equivalently on `vec(X)`), never building the superoperator.
#[derive(Clone, Debug)]
pub struct MatrixRhs {
    n: usize,
    g: TdCsr,
    /// `G'ᵀ` as CSR (only used when not Hermiticity preserving).
    gpt: Option<TdCsr>,
    sandwiches: Vec<Sandwich>,
    scratch: Vec<C64>,
    /// Second work buffer (Hermitian path with non-monomial sandwiches only; allocated lazily).
    scratch2: Vec<C64>,
    coefs: Vec<C64>,
    /// Hermitian part of the input (fast path only).
    xh: Vec<C64>,
    hermitian: bool,
    /// Project the input on its Hermitian part in the fast path (see [`MatrixRhs::apply`]).
    project: bool,
    /// Number of evaluations so far.
    pub evals: u64,
}

impl MatrixRhs {
    fn new(l: &Lindbladian) -> Self {
        let (g, gp) = l.g_terms();
        let sandwiches: Vec<(Coef, Csr, Csr)> = l.dissipators.iter().map(|d| (d.rate.clone(), d.a.clone(), d.b.clone())).collect();
        MatrixRhs::from_parts(l.dim(), &g, &gp, &sandwiches, l.is_hermiticity_preserving())
    }

    /// The right-hand side `X ↦ G X + X G' + Σ c_k A_k X B_k†` from its parts; `hermitian`
    /// selects the fast path, valid only when `G' = G†` and the sandwiches preserve Hermiticity.
    fn from_parts(n: usize, g: &[(Coef, Csr)], gp: &[(Coef, Csr)], sandwiches: &[(Coef, Csr, Csr)], hermitian: bool) -> Self {
        let gpt = if hermitian {
            None
        } else {
            let gpt_terms: Vec<(Coef, Csr)> = gp.iter().map(|(c, o)| (c.clone(), o.transpose())).collect();
            Some(TdCsr::new(n, &gpt_terms))
        };
        let sandwiches = sandwiches
            .iter()
            .map(|(coef, a, b)| {
                let mono = match (row_monomial(a), row_monomial(b)) {
                    (Some(a), Some(b)) => Some((a, b)),
                    _ => None,
                };
                let real = |v: &Vec<(usize, usize, C64)>| -> Option<Vec<(usize, usize, f64)>> {
                    v.iter().map(|&(i, j, z)| if z.im == 0.0 { Some((i, j, z.re)) } else { None }).collect()
                };
                let mono_real = mono.as_ref().and_then(|(a, b)| Some((real(a)?, real(b)?)));
                Sandwich { coef: coef.clone(), a: a.clone(), b: b.clone(), mono, mono_real }
            })
            .collect();
        let xh = if hermitian { vec![ZERO; n * n] } else { vec![] };
        MatrixRhs { n, g: TdCsr::new(n, g), gpt, sandwiches, scratch: vec![ZERO; n * n], scratch2: Vec::new(), coefs: Vec::new(), xh, hermitian, project: true, evals: 0 }
    }

    /// The adjoint generator `X ↦ 𝓛(t)† X` of `l` with respect to the Hilbert–Schmidt inner
    /// product `⟨X, Y⟩ = Tr(X†Y)` (the Heisenberg-picture generator):
    ///
    /// ```text
    /// 𝓛†X = i[H, X] + Σ_k conj(c_k(t)) (A_k† X B_k − ½{A_k† B_k, X}),
    /// ```
    ///
    /// i.e. `G† X + X G'† + Σ conj(c_k) A_k† X (B_k†)†` with `G`, `G'` of the module docs (for a
    /// jump `L = √r·O`: `𝓛†X = i[H,X] + r(O†XO − ½{O†O, X})`, Breuer & Petruccione §3.2.3).
    /// Modulations `f(t)` are real, so `conj(amp·f) = conj(amp)·f`. It preserves Hermiticity
    /// exactly when `𝓛` does, and then uses the same fast path (input projected on its
    /// Hermitian part). Used by the adjoint sensitivities of [`crate::grad`].
    pub fn new_adjoint(l: &Lindbladian) -> Self {
        let (g, gp) = l.g_terms();
        let adj = |terms: &[(Coef, Csr)]| -> Vec<(Coef, Csr)> {
            terms.iter().map(|(c, o)| (Coef { amp: c.amp.conj(), modulation: c.modulation.clone() }, o.adjoint())).collect()
        };
        let sandwiches: Vec<(Coef, Csr, Csr)> = l
            .dissipators
            .iter()
            .map(|d| (Coef { amp: d.rate.amp.conj(), modulation: d.rate.modulation.clone() }, d.a.adjoint(), d.b.adjoint()))
            .collect();
        MatrixRhs::from_parts(l.dim(), &adj(&g), &adj(&gp), &sandwiches, l.is_hermiticity_preserving())
    }

    /// Hilbert-space dimension `n` (the state has `n²` entries).
    pub fn n(&self) -> usize {
        self.n
    }

    /// Turns the input projection of the Hermitian fast path on (default) or off. Only callers
    /// that keep their vectors Hermitian themselves (the RK integrators symmetrise ρ after
    /// every step) may turn it off; it saves one pass over ρ per evaluation.
    pub fn set_input_projection(&mut self, on: bool) {
        self.project = on;
    }

    /// Whether the fast Hermitian path is used.
    pub fn is_hermiticity_preserving(&self) -> bool {
        self.hermitian
    }

    /// True if the generator does not depend on time.
    pub fn is_time_independent(&self) -> bool {
        self.g.is_constant()
            && self.gpt.as_ref().map_or(true, |g| g.is_constant())
            && self.sandwiches.iter().all(|s| s.coef.is_constant())
    }

    /// `out = 𝓛(t) x` for column-major `n × n` buffers.
    ///
    /// When the generator preserves Hermiticity the fast path computes `𝓛((x + x†)/2)`: exact
    /// for Hermitian `x` (every density matrix and every integrator stage built from one), and
    /// it annihilates the ~1e-16 anti-Hermitian rounding noise that `X G† + (X G†)†` would
    /// otherwise propagate with a wrong, possibly growing, generator (Arnoldi amplifies it).
    ///
    /// For `n ≥ PAR_MIN_N` and more than one rayon thread, each phase runs column-parallel.
    pub fn apply(&mut self, t: f64, x: &[C64], out: &mut [C64]) {
        let n = self.n;
        debug_assert_eq!(x.len(), n * n);
        let par = self.prepare(t, x);
        if self.hermitian {
            self.hermitian_k(x, par);
            let k = &self.scratch;
            for_columns(par, out, n, |j0, chunk| plus_adjoint_cols(k, n, j0, chunk, 1.0));
            return;
        }
        let sandwiches = &self.sandwiches;
        let coefs = &self.coefs;
        let g = &self.g.pattern;
        let gpt = &self.gpt.as_ref().expect("general path has G'ᵀ").pattern;
        let x: &[C64] = if self.hermitian && self.project { &self.xh } else { x };
        for_columns(par, out, n, |j0, chunk| {
            chunk.iter_mut().for_each(|v| *v = ZERO);
            let m = chunk.len() / n;
            for c in 0..m {
                let j = j0 + c;
                g.matvec_acc(ONE, &x[j * n..(j + 1) * n], &mut chunk[c * n..(c + 1) * n]);
            }
            right_mul_cols(ONE, x, gpt, n, j0, chunk);
            mono_sandwiches_cols(sandwiches, coefs, 1.0, x, n, j0, chunk);
        });
        // general (non-monomial) sandwiches: out += Σ c A X B†
        general_sandwiches(sandwiches, coefs, 1.0, x, n, par, &mut self.scratch, out);
    }

    /// `𝓛(t) x` handed to `consume(start, part)` in column blocks of at most [`PART_COLS`]
    /// columns (`start` = first entry of the block in the column-major buffer), in parallel on
    /// the calling thread's team when large: on the Hermitian fast path the final `K + K†` pass
    /// writes each block to a small per-task buffer that `consume` reads while it is in L1, so
    /// `𝓛x` is never stored whole (the Chebyshev recurrence uses this). The block boundaries are
    /// multiples of [`PART_COLS`] columns whatever the thread count. `buf` (`n²`) is work space.
    /// Otherwise as [`MatrixRhs::apply`] followed by one call per block.
    pub fn apply_parts(&mut self, t: f64, x: &[C64], buf: &mut [C64], consume: &(dyn Fn(usize, &[C64]) + Sync)) {
        let n = self.n;
        if !self.hermitian {
            self.apply(t, x, buf);
            let b: &[C64] = buf;
            let par = parallel_ok(n);
            let blocks = n.div_ceil(PART_COLS);
            if par {
                crate::par::for_each_index(blocks, |q| consume(q * PART_COLS * n, &b[q * PART_COLS * n..((q + 1) * PART_COLS).min(n) * n]));
            } else {
                (0..blocks).for_each(|q| consume(q * PART_COLS * n, &b[q * PART_COLS * n..((q + 1) * PART_COLS).min(n) * n]));
            }
            return;
        }
        let par = self.prepare(t, x);
        self.hermitian_k(x, par);
        let k = &self.scratch;
        for_columns(par, buf, n, |j0, chunk| {
            let mut part = vec![ZERO; PART_COLS.min(n) * n];
            let m = chunk.len() / n;
            for c0 in (0..m).step_by(PART_COLS) {
                let cols = PART_COLS.min(m - c0);
                let p = &mut part[..cols * n];
                plus_adjoint_cols(k, n, j0 + c0, p, 1.0);
                consume((j0 + c0) * n, p);
            }
        });
    }

    /// Per-evaluation set-up: counts the evaluation, updates the time-dependent coefficients,
    /// projects the input on its Hermitian part (fast path with projection on, into `xh`).
    /// Returns whether the loops run in parallel.
    fn prepare(&mut self, t: f64, x: &[C64]) -> bool {
        let n = self.n;
        debug_assert_eq!(x.len(), n * n);
        self.evals += 1;
        self.g.update(t);
        if let Some(g) = self.gpt.as_mut() {
            g.update(t);
        }
        self.coefs.clear();
        self.coefs.extend(self.sandwiches.iter().map(|s| s.coef.at(t)));
        let par = parallel_ok(n);
        if self.hermitian && self.project {
            for_columns(par, &mut self.xh, n, |j0, chunk| plus_adjoint_cols(x, n, j0, chunk, 0.5));
        }
        par
    }

    /// The fast path's `K = X G† + ½ Σ c A X B†` into `scratch`; `𝓛X = K + K†` for Hermitian
    /// `X`, exactly Hermitian in floating point (entry (j,i) is the conjugate of entry (i,j) bit
    /// for bit), so integrators that keep their vectors Hermitian stay so without projection.
    /// `x` is the evaluation's input (its Hermitian part, prepared in `xh`, is used when the
    /// projection is on).
    fn hermitian_k(&mut self, x: &[C64], par: bool) {
        let n = self.n;
        let x: &[C64] = if self.project { &self.xh } else { x };
        let sandwiches = &self.sandwiches;
        let coefs = &self.coefs;
        let g = &self.g.pattern;
        for_columns(par, &mut self.scratch, n, |j0, chunk| {
            // a few columns at a time, so each K column is still in L1 when the sandwiches add
            // to it (n = 256: 16 KiB per block); the product writes (no zeroing pass)
            let cols = (4096 / n).clamp(1, 16);
            for (b, sub) in chunk.chunks_mut(cols * n).enumerate() {
                let j = j0 + b * cols;
                right_mul_adj_cols_into(x, g, n, j, sub);
                mono_sandwiches_cols(sandwiches, coefs, 0.5, x, n, j, sub);
            }
        });
        // general (non-monomial) sandwiches: K += ½ Σ c A X B†
        if sandwiches.iter().zip(coefs.iter()).any(|(s, &c)| s.mono.is_none() && c != ZERO) && self.scratch2.len() != n * n {
            self.scratch2 = vec![ZERO; n * n];
        }
        general_sandwiches(sandwiches, coefs, 0.5, x, n, par, &mut self.scratch2, &mut self.scratch);
    }
}

/// Column-block width of [`MatrixRhs::apply_parts`] (n = 256: 16 KiB per block, in L1).
pub const PART_COLS: usize = 4;

/// The non-monomial sandwiches `target += scale · Σ c A X B†`, each as `T = X B†` (in `tmp`,
/// n×n) then `target += scale·c·A T`, column-parallel when `par`.
#[allow(clippy::too_many_arguments)]
fn general_sandwiches(sandwiches: &[Sandwich], coefs: &[C64], scale: f64, x: &[C64], n: usize, par: bool, tmp: &mut [C64], target: &mut [C64]) {
    for (s, &c) in sandwiches.iter().zip(coefs.iter()) {
        if s.mono.is_some() || c == ZERO {
            continue;
        }
        let b = &s.b;
        for_columns(par, tmp, n, |j0, chunk| {
            chunk.iter_mut().for_each(|v| *v = ZERO);
            right_mul_adj_cols(ONE, x, b, n, j0, chunk);
        });
        let t: &[C64] = tmp;
        let a = &s.a;
        let cs = c * scale;
        for_columns(par, target, n, |j0, chunk| {
            let m = chunk.len() / n;
            for cc in 0..m {
                let j = j0 + cc;
                a.matvec_acc(cs, &t[j * n..(j + 1) * n], &mut chunk[cc * n..(cc + 1) * n]);
            }
        });
    }
}

/// Smallest Hilbert-space dimension for which the right-hand side runs column-parallel.
pub const PAR_MIN_N: usize = 128;

fn parallel_ok(n: usize) -> bool {
    n >= PAR_MIN_N && crate::par::threads() > 1
}

/// Runs `f(first_column, chunk)` over column blocks of a column-major `n × n` buffer, in
/// parallel when `par` (on the calling thread's [`crate::par`] team if it leads one, else on
/// rayon's pool), else as one block.
fn for_columns<F>(par: bool, buf: &mut [C64], n: usize, f: F)
where
    F: Fn(usize, &mut [C64]) + Sync + Send,
{
    if par {
        let cols = n.div_ceil(crate::par::threads() * 4).max(8).next_multiple_of(PART_COLS);
        crate::par::for_chunks_mut(buf, cols * n, |b, chunk| f(b * cols, chunk));
        return;
    }
    f(0, buf)
}

/// Monomial sandwiches `scale·c·A X B†` restricted to output columns `j0 ..` of `chunk`.
fn mono_sandwiches_cols(sandwiches: &[Sandwich], coefs: &[C64], scale: f64, x: &[C64], n: usize, j0: usize, chunk: &mut [C64]) {
    let j1 = j0 + chunk.len() / n;
    for (s, &c) in sandwiches.iter().zip(coefs) {
        if c == ZERO {
            continue;
        }
        let c = c * scale;
        let Some((ra, rb)) = &s.mono else { continue };
        // rb is sorted by row j of B (= output column)
        let lo = rb.partition_point(|e| e.0 < j0);
        let hi = rb.partition_point(|e| e.0 < j1);
        if let Some((ra_re, rb_re)) = &s.mono_real {
            if c.im == 0.0 {
                // real operators and rate (σ±, a, a†, Pauli X/Z strings): real scale factors
                for &(j, pbj, vbj) in &rb_re[lo..hi] {
                    let cj = c.re * vbj;
                    let xc = &x[pbj * n..(pbj + 1) * n];
                    let oc = &mut chunk[(j - j0) * n..(j - j0 + 1) * n];
                    for &(i, pai, vai) in ra_re {
                        oc[i] += xc[pai] * (cj * vai);
                    }
                }
                continue;
            }
        }
        for &(j, pbj, vbj) in &rb[lo..hi] {
            let cj = c * vbj.conj();
            let xc = &x[pbj * n..(pbj + 1) * n];
            let oc = &mut chunk[(j - j0) * n..(j - j0 + 1) * n];
            for &(i, pai, vai) in ra {
                oc[i] += cj * vai * xc[pai];
            }
        }
    }
}

/// `out += α · X · G†` for column-major `n × n` `X`, using `G`'s CSR rows: column `j` of the
/// product is `Σ_k X[:,k] conj(G_jk)`. Up to four nonzeros of a row are fused into one pass
/// over the output column (one store per element instead of one per nonzero).
pub fn right_mul_adj_acc(alpha: C64, x: &[C64], g: &Csr, n: usize, out: &mut [C64]) {
    right_mul_adj_cols(alpha, x, g, n, 0, out)
}

/// [`right_mul_adj_acc`] for the output columns `j0 .. j0 + chunk.len()/n` held in `chunk`.
pub fn right_mul_adj_cols(alpha: C64, x: &[C64], g: &Csr, n: usize, j0: usize, chunk: &mut [C64]) {
    right_mul_adj_impl::<true>(alpha, x, g, n, j0, chunk)
}

/// `chunk = X · G†` for the output columns `j0 ..` (overwrites, no zeroing pass needed).
fn right_mul_adj_cols_into(x: &[C64], g: &Csr, n: usize, j0: usize, chunk: &mut [C64]) {
    right_mul_adj_impl::<false>(ONE, x, g, n, j0, chunk)
}

fn right_mul_adj_impl<const ACC: bool>(alpha: C64, x: &[C64], g: &Csr, n: usize, j0: usize, chunk: &mut [C64]) {
    let ncols = chunk.len() / n;
    // Every output column is one pass over whole columns of X. (Blocking the rows to keep a
    // slab of X in L2 was measured slower at n = 256: 46.5 s vs 38 s on the N = 8 Ising chain.)
    for c in 0..ncols {
        let j = j0 + c;
        let oc = as_f64_mut(&mut chunk[c * n..(c + 1) * n]);
        let (start, end) = (g.indptr[j], g.indptr[j + 1]);
        if !ACC && start == end {
            oc.iter_mut().for_each(|v| *v = 0.0);
        }
        let mut p = start;
        while p < end {
            let take = (end - p).min(4);
            let mut cr = [0.0f64; 4];
            let mut ci = [0.0f64; 4];
            let mut xs: [&[f64]; 4] = [&[]; 4];
            for q in 0..take {
                let cc = alpha * g.data[p + q].conj();
                cr[q] = cc.re;
                ci[q] = cc.im;
                let k = g.indices[p + q];
                xs[q] = as_f64(&x[k * n..(k + 1) * n]);
            }
            if ACC || p > start {
                fused_caxpy::<true>(oc, &xs[..take], &cr, &ci);
            } else {
                fused_caxpy::<false>(oc, &xs[..take], &cr, &ci);
            }
            p += take;
        }
    }
}

/// `o += Σ_q (cr_q + i ci_q) · xs_q` (`ACC`) or `o = Σ_q …` for up to four interleaved complex
/// vectors, one pass.
#[inline]
fn fused_caxpy<const ACC: bool>(oc: &mut [f64], xs: &[&[f64]], cr: &[f64; 4], ci: &[f64; 4]) {
    let o2 = oc.chunks_exact_mut(2);
    // the sums are formed first and added to o last, so both variants round alike
    let put = |o: &mut [f64], re: f64, im: f64| {
        if ACC {
            o[0] += re;
            o[1] += im;
        } else {
            o[0] = re;
            o[1] = im;
        }
    };
    match xs.len() {
        1 => {
            for (o, a) in o2.zip(xs[0].chunks_exact(2)) {
                put(o, cr[0] * a[0] - ci[0] * a[1], cr[0] * a[1] + ci[0] * a[0]);
            }
        }
        2 => {
            for ((o, a), b) in o2.zip(xs[0].chunks_exact(2)).zip(xs[1].chunks_exact(2)) {
                put(o, (cr[0] * a[0] - ci[0] * a[1]) + (cr[1] * b[0] - ci[1] * b[1]), (cr[0] * a[1] + ci[0] * a[0]) + (cr[1] * b[1] + ci[1] * b[0]));
            }
        }
        3 => {
            for (((o, a), b), c) in o2.zip(xs[0].chunks_exact(2)).zip(xs[1].chunks_exact(2)).zip(xs[2].chunks_exact(2)) {
                put(
                    o,
                    (cr[0] * a[0] - ci[0] * a[1]) + (cr[1] * b[0] - ci[1] * b[1]) + (cr[2] * c[0] - ci[2] * c[1]),
                    (cr[0] * a[1] + ci[0] * a[0]) + (cr[1] * b[1] + ci[1] * b[0]) + (cr[2] * c[1] + ci[2] * c[0]),
                );
            }
        }
        _ => {
            for ((((o, a), b), c), d) in o2.zip(xs[0].chunks_exact(2)).zip(xs[1].chunks_exact(2)).zip(xs[2].chunks_exact(2)).zip(xs[3].chunks_exact(2)) {
                put(
                    o,
                    (cr[0] * a[0] - ci[0] * a[1]) + (cr[1] * b[0] - ci[1] * b[1]) + (cr[2] * c[0] - ci[2] * c[1]) + (cr[3] * d[0] - ci[3] * d[1]),
                    (cr[0] * a[1] + ci[0] * a[0]) + (cr[1] * b[1] + ci[1] * b[0]) + (cr[2] * c[1] + ci[2] * c[0]) + (cr[3] * d[1] + ci[3] * d[0]),
                );
            }
        }
    }
}

/// Columns `j0 ..` of `scale·(x + x†)` for a column-major `n × n` `x`, written to `chunk`
/// (blocked so the transposed reads stay in cache). `scale = ½` gives the Hermitian part,
/// `scale = 1` the fast path's `K + K†`.
fn plus_adjoint_cols(x: &[C64], n: usize, j0: usize, chunk: &mut [C64], scale: f64) {
    const B: usize = 32;
    let m = chunk.len() / n;
    for ib in (0..n).step_by(B) {
        for c in 0..m {
            let j = j0 + c;
            for i in ib..(ib + B).min(n) {
                chunk[i + c * n] = (x[i + j * n] + x[j + i * n].conj()) * scale;
            }
        }
    }
}

/// `out += α · X · R` for the output columns in `chunk`, with `Rᵀ` stored as CSR `rt`.
fn right_mul_cols(alpha: C64, x: &[C64], rt: &Csr, n: usize, j0: usize, chunk: &mut [C64]) {
    let m = chunk.len() / n;
    for c in 0..m {
        let j = j0 + c;
        let oc = &mut chunk[c * n..(c + 1) * n];
        for p in rt.indptr[j]..rt.indptr[j + 1] {
            let k = rt.indices[p];
            caxpy(alpha * rt.data[p], &x[k * n..(k + 1) * n], oc);
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
