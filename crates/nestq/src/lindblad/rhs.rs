//! The compiled matrix-form right-hand side `X ↦ 𝓛(t) X` ([`MatrixRhs`]) and its adjoint
//! `X ↦ 𝓛(t)† X`: `Gρ + ρG' + Σ c_k A_k ρ B_k†` with `G = −iH − ½M`, `G' = iH − ½M`,
//! `M = Σ c_k B_k†A_k` (GKSL form, Breuer & Petruccione §3.2, and its Heisenberg-picture
//! adjoint, §3.2.3; see the [module docs](super)), with the Hermitian fast path `K + K†`.

use super::kernels::{for_columns, general_sandwiches, mono_sandwiches_cols, parallel_ok, plus_adjoint_cols, right_mul_adj_cols_into, right_mul_cols, PART_COLS};
use super::superop::TdCsr;
use super::{Lindbladian, ONE, ZERO};
use crate::coef::Coef;
use crate::sparse::Csr;
use crate::C64;

/// One compiled sandwich term `c(t) · A X B†`.
#[derive(Clone, Debug)]
pub(super) struct Sandwich {
    coef: Coef,
    pub(super) a: Csr,
    pub(super) b: Csr,
    /// Fast path when A and B have at most one entry per row and column: the nonzero rows
    /// `(i, column, value)` of A and of B.
    pub(super) mono: Option<(Vec<(usize, usize, C64)>, Vec<(usize, usize, C64)>)>,
    /// The same with real values, when every entry of A and B is real.
    pub(super) mono_real: Option<(Vec<(usize, usize, f64)>, Vec<(usize, usize, f64)>)>,
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
    pub(super) fn new(l: &Lindbladian) -> Self {
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
