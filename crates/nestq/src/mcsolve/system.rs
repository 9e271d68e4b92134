//! The pure-state system a jump unravelling integrates, built from a GKSL generator:
//! collapse operators `C_j(t)` and the effective non-Hermitian Hamiltonian
//! `H_eff(t) = H(t) − (i/2) Σ_j C_j†(t) C_j(t)`, so that between jumps
//! `dψ/dt = −i H_eff ψ = G(t) ψ` (Dalibard, Castin & Mølmer, PRL 68, 580 (1992); Plenio &
//! Knight, RMP 70, 101 (1998), §III).
//!
//! The model's dissipators `Σ_ab Γ_ab (A_a ρ A_b† − ½{A_b†A_a, ρ})` (Lindblad jumps and the
//! NEST paper's cross terms, [`crate::lindblad`]) are turned into collapse operators per group
//! of terms that share a time profile `f(t)`: a group of plain jumps gives `C = √(r f(t))·A`
//! directly; a group with cross terms is diagonalised, `Γ = Σ_j λ_j u_j u_j†`, giving
//! `C_j = √(λ_j f(t)) Σ_a (u_j)_a A_a`. That needs `Γ ⪰ 0` and `f(t) ≥ 0` — a completely positive
//! generator. The NEST paper's bare cross term is not (see `docs/model-format.md`); it is
//! refused with a pointer to `"cp_completion": true` or to `mesolve`, since no unravelling into
//! pure-state trajectories exists for it.

use crate::coef::{Coef, ModKey, Modulation};
use crate::error::{Error, Result};
use crate::integrate::Rhs;
use crate::lindblad::Lindbladian;
use crate::sparse::Csr;
use crate::C64;
use nalgebra::DMatrix;
use std::collections::BTreeMap;

/// One collapse operator `C(t) = √f(t) · op`.
#[derive(Clone, Debug)]
pub struct Collapse {
    /// `op` (the rate's amplitude, or the Kossakowski eigenvalue, is folded in).
    pub op: Csr,
    /// Time profile `f(t)` of the rate (`f ≥ 0`).
    pub modulation: Modulation,
    /// Where it came from (the model's JSON path, or the cross terms it diagonalises).
    pub label: String,
}

/// `G(t) = −i H(t) − ½ Σ_j C_j†C_j(t)` as a static sparse part plus time-dependent parts,
/// and the collapse operators.
#[derive(Clone, Debug)]
pub struct McSystem {
    /// Hilbert-space dimension.
    pub n: usize,
    /// Static part of `G`.
    pub g0: Csr,
    /// Time-dependent parts `c(t) · op` of `G`.
    pub td: Vec<(Coef, Csr)>,
    /// Collapse operators.
    pub collapses: Vec<Collapse>,
    /// `Σ_j ‖C_j†C_j‖₁` (rate profiles at 1): a bound on the jump rate.
    pub jump_bound: f64,
}

/// Relative size below which a Kossakowski eigenvalue counts as zero (no collapse operator).
const EIG_TOL: f64 = 1e-12;

impl McSystem {
    /// Builds the system from a generator whose rates are non-negative over `[t0, t1]`.
    /// Errors (at the offending term's path): a negative or complex jump rate, a group of cross
    /// terms whose Kossakowski matrix is not Hermitian or not positive semidefinite, a rate
    /// profile `cos(ωt + φ)` (negative somewhere).
    pub fn build(l: &Lindbladian) -> Result<McSystem> {
        let n = l.dim();
        let mut g0 = Csr::zeros(n, n);
        let mut td: Vec<(Coef, Csr)> = Vec::new();
        let minus_i = C64::new(0.0, -1.0);
        let one = C64::new(1.0, 0.0);
        for h in &l.hamiltonian {
            if h.coef.is_constant() {
                g0 = g0.add(one, &h.op, minus_i * h.coef.amp);
            } else {
                td.push((Coef { amp: minus_i * h.coef.amp, modulation: h.coef.modulation.clone() }, h.op.clone()));
            }
        }
        // group the dissipators by time profile, in order of first appearance
        let mut order: Vec<ModKey> = Vec::new();
        let mut groups: BTreeMap<ModKey, Vec<usize>> = BTreeMap::new();
        for (k, d) in l.dissipators.iter().enumerate() {
            let key = d.rate.modulation.key();
            if !groups.contains_key(&key) {
                order.push(key);
            }
            groups.entry(key).or_default().push(k);
        }
        let mut collapses = Vec::new();
        let mut jump_bound = 0.0;
        for key in order {
            let idx = &groups[&key];
            let first = &l.dissipators[idx[0]];
            if let Modulation::Cos { .. } = first.rate.modulation {
                return Err(Error::model(first.label.clone(), "mcsolve needs rates that stay non-negative: a cos(ωt + φ) rate profile changes sign, which no unravelling into quantum jumps can represent; use mesolve"));
            }
            let modulation = first.rate.modulation.clone();
            // plain jumps whose operator no cross term of the group uses are collapse operators
            // as they stand (their labels stay the model's paths); the rest are diagonalised
            let crossed: Vec<&Csr> = idx.iter().map(|&k| &l.dissipators[k]).filter(|d| d.a != d.b).flat_map(|d| [&d.a, &d.b]).collect();
            let (plain, mixed): (Vec<usize>, Vec<usize>) = idx.iter().partition(|&&k| {
                let d = &l.dissipators[k];
                d.a == d.b && !crossed.iter().any(|o| **o == d.a)
            });
            let mut group = Vec::new();
            for &k in &plain {
                let d = &l.dissipators[k];
                if d.rate.amp.im != 0.0 || d.rate.amp.re < 0.0 {
                    return Err(Error::model(d.label.clone(), format!("mcsolve needs a real non-negative jump rate, got {}", d.rate.amp)));
                }
                if d.rate.amp.re > 0.0 {
                    group.push(Collapse { op: d.a.scale(C64::new(d.rate.amp.re.sqrt(), 0.0)), modulation: modulation.clone(), label: d.label.clone() });
                }
            }
            if !mixed.is_empty() {
                group.extend(diagonalise(l, &mixed, &modulation)?);
            }
            for c in group {
                let cdc = c.op.adjoint().matmul(&c.op);
                jump_bound += cdc.norm1();
                if modulation.is_constant() {
                    g0 = g0.add(one, &cdc, C64::new(-0.5, 0.0));
                } else {
                    td.push((Coef { amp: C64::new(-0.5, 0.0), modulation: modulation.clone() }, cdc));
                }
                collapses.push(c);
            }
        }
        g0.prune(0.0);
        Ok(McSystem { n, g0, td, collapses, jump_bound })
    }

    /// `out = G(t) ψ`.
    pub fn apply(&self, t: f64, psi: &[C64], out: &mut [C64]) {
        out.iter_mut().for_each(|v| *v = C64::new(0.0, 0.0));
        self.g0.matvec_acc(C64::new(1.0, 0.0), psi, out);
        for (c, op) in &self.td {
            op.matvec_acc(c.at(t), psi, out);
        }
    }

    /// The rate profile `f_j(t)` of collapse operator `j`, checked non-negative (a host callback
    /// may return anything).
    pub fn profile(&self, j: usize, t: f64) -> Result<f64> {
        let c = &self.collapses[j];
        let f = c.modulation.at(t);
        if !(f >= 0.0) || !f.is_finite() {
            return Err(Error::model(c.label.clone(), format!("the rate profile of this collapse operator is {f} at t = {t}: mcsolve needs finite non-negative rates")));
        }
        Ok(f)
    }
}

/// Collapse operators of a group of dissipators sharing one time profile, at least one of them
/// a cross term: the eigen-decomposition of the group's Kossakowski matrix.
fn diagonalise(l: &Lindbladian, idx: &[usize], modulation: &Modulation) -> Result<Vec<Collapse>> {
    let mut ops: Vec<&Csr> = Vec::new();
    fn slot<'a>(ops: &mut Vec<&'a Csr>, op: &'a Csr) -> usize {
        ops.iter().position(|o| *o == op).unwrap_or_else(|| {
            ops.push(op);
            ops.len() - 1
        })
    }
    let mut entries = Vec::new();
    for &k in idx {
        let d = &l.dissipators[k];
        let a = slot(&mut ops, &d.a);
        let b = slot(&mut ops, &d.b);
        entries.push((a, b, d.rate.amp));
    }
    let m = ops.len();
    let mut gamma = DMatrix::<C64>::zeros(m, m);
    for (a, b, v) in entries {
        gamma[(a, b)] += v;
    }
    let labels: Vec<String> = idx.iter().map(|&k| l.dissipators[k].label.clone()).collect();
    // errors point at the group's first cross term
    let at = idx.iter().map(|&k| &l.dissipators[k]).find(|d| d.a != d.b).map_or_else(|| labels[0].clone(), |d| d.label.clone());
    let scale = gamma.iter().map(|v| v.norm()).fold(0.0, f64::max).max(1e-300);
    let herm_err = (&gamma - gamma.adjoint()).iter().map(|v| v.norm()).fold(0.0, f64::max);
    if herm_err > 1e-12 * scale {
        return Err(Error::model(at, format!("mcsolve needs a Hermitian coefficient (Kossakowski) matrix, max |Γ − Γ†| = {herm_err:.3e}: give every cross entry (a, b) its (b, a) partner with the conjugate rate")));
    }
    let (ev, u) = crate::measures::eigh(&gamma)?;
    if ev[0] < -EIG_TOL * scale {
        return Err(Error::model(at, format!(
            "mcsolve needs a completely positive generator, but the coefficient (Kossakowski) matrix of these terms ({}) has eigenvalue {:.6e} < 0: there are no quantum-jump trajectories for it. Set \"cp_completion\": true (the CP completion) or use a density-matrix method",
            labels.join(", "), ev[0])));
    }
    let mut out = Vec::new();
    for (j, &lam) in ev.iter().enumerate() {
        if lam <= EIG_TOL * scale {
            continue;
        }
        let mut c = Csr::zeros(ops[0].nrows, ops[0].ncols);
        for (a, op) in ops.iter().enumerate() {
            let w = u[(a, j)] * lam.sqrt();
            if w.norm() > 0.0 {
                c = c.add(C64::new(1.0, 0.0), op, w);
            }
        }
        c.prune(1e-15 * lam.sqrt());
        out.push(Collapse { op: c, modulation: modulation.clone(), label: format!("eigenmode {j} of the Kossakowski matrix of {}", labels.join(", ")) });
    }
    Ok(out)
}

/// `dψ/dt = (G(t) + i·E)ψ` as an [`Rhs`] for the integrators, with a real energy shift `E` that
/// only changes the global phase of ψ (so neither normalised expectations, nor the norm that
/// decides the jumps, nor `|ψ⟩⟨ψ|`). [`EffRhs::recentre`] sets `E = ⟨H⟩` of the current state at
/// every Dormand–Prince (re)start: the integrator then follows the state's motion relative to its mean energy
/// instead of a fast global phase `e^{−i⟨H⟩t}` (on the dissipative Ising chain, ⟨H⟩ ≈ 300 makes
/// the unshifted phase cost 34 % more Dormand–Prince steps per trajectory at N = 6).
pub(crate) struct EffRhs<'a> {
    sys: &'a McSystem,
    shift: f64,
    buf: Vec<C64>,
}

impl<'a> EffRhs<'a> {
    pub(crate) fn new(sys: &'a McSystem) -> Self {
        EffRhs { sys, shift: 0.0, buf: vec![C64::new(0.0, 0.0); sys.n] }
    }

    /// Sets the shift to `⟨H(t)⟩ = −Im⟨ψ|G(t)ψ⟩/⟨ψ|ψ⟩` of `psi` (the anti-Hermitian part of `G`
    /// is `−iH`, its Hermitian part `−½ΣC†C` has a real expectation).
    pub(crate) fn recentre(&mut self, t: f64, psi: &[C64]) {
        self.sys.apply(t, psi, &mut self.buf);
        let mut num = C64::new(0.0, 0.0);
        let mut den = 0.0;
        for (p, g) in psi.iter().zip(&self.buf) {
            num += p.conj() * g;
            den += p.norm_sqr();
        }
        self.shift = if den > 0.0 { -num.im / den } else { 0.0 };
    }
}

impl Rhs for EffRhs<'_> {
    fn len(&self) -> usize {
        self.sys.n
    }
    fn eval(&mut self, t: f64, y: &[C64], dy: &mut [C64]) {
        self.sys.apply(t, y, dy);
        if self.shift != 0.0 {
            let s = C64::new(0.0, self.shift);
            for (d, v) in dy.iter_mut().zip(y) {
                *d += s * v;
            }
        }
    }
}
