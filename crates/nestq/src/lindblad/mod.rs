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
//!
//! Files: this one holds the terms, the [`Lindbladian`] and its complete-positivity analysis;
//! `superop.rs` the superoperator forms (`spre`/`spost`/`sprepost`, the sparse and dense
//! Liouvillian, [`SuperOp`]); `rhs.rs` the compiled matrix-form right-hand side
//! [`MatrixRhs`]; `kernels.rs` its column kernels.

mod kernels;
mod rhs;
mod superop;

pub use kernels::{right_mul_adj_acc, right_mul_adj_cols, PAR_MIN_N, PART_COLS};
pub use rhs::MatrixRhs;
pub use superop::{lindblad_dissipator, spost, spre, sprepost, SuperOp};

use crate::coef::{Coef, ModKey, Modulation};
use crate::error::{Error, Result};
use crate::sparse::Csr;
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
