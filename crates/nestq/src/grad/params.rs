//! Parameter dependence of the generator: the terms of `Model::lindbladian_with` whose
//! coefficient `c(t) = amp·f(t)` depends on a differentiated parameter θ, grouped by
//! coefficient, with `∂c/∂θ(t)` (`cos(ωt+φ)`: `∂/∂ω = −t sin`, `∂/∂φ = −sin`; `exp(−rt)`:
//! `∂/∂r = −t e^{−rt}`; CP completion `|amp|/2·f`: `∂|amp|/∂amp = sign(amp)`) and the traces
//! `Tr(c† ∂𝓛/∂θ u)` of the reverse sweep's `∂J/∂θ += Σ_i Re Tr(c_i† (∂A_i/∂θ) u_i)` (the adjoint
//! step of the [module docs](super)), plus `Re Tr(O ρ)` of the objective terms.

use super::ZERO;
use crate::model::{ModSpec, Model, Scalar};
use crate::sparse::Csr;
use crate::C64;
use std::collections::BTreeMap;

/// A real scalar: value and, if it names a parameter, its index among the differentiated ones.
#[derive(Clone, Copy, Debug)]
struct PVal {
    v: C64,
    p: Option<usize>,
}

#[derive(Clone, Debug)]
enum PMod {
    None,
    Cos { omega: PVal, phase: PVal },
    Exp { rate: PVal },
}

/// Sparse operator as `(row, column, value)` triplets.
type Trips = Vec<(usize, usize, C64)>;

/// The generator terms that share one coefficient `c(t)` depending on a differentiated
/// parameter (hence the same `∂c/∂θ(t)`), merged: `G = −i[H_g, ·] + Σ A·B† − ½{M_g, ·}` with
/// `H_g = Σ O` over the Hamiltonian terms and `M_g = Σ B†A` over the dissipative ones.
#[derive(Clone, Debug)]
pub(super) struct DepGroup {
    amp: PVal,
    /// Coefficient `|amp|/2·f(t)` (CP-completion terms) instead of `amp·f(t)`.
    abs_half: bool,
    modulation: PMod,
    ham: Option<Csr>,
    anti: Option<Csr>,
    sandwiches: Vec<(Csr, Csr)>,
    /// Compiled forms: triplets and Hermiticity of `H_g` and `M_g`, sandwich triplets.
    ham_t: (Trips, bool),
    anti_t: (Trips, bool),
    sand_t: Vec<(Trips, Trips)>,
    /// Monomial sandwiches merged by the permutations of `A` and `B`.
    mono: Vec<MonoClass>,
    /// Hermitian mode with a shared pattern ([`SharedPattern`]): `(index, value)` of the
    /// entries of `H_g` and `M_g` (empty when not used).
    ham_s: Vec<(usize, C64)>,
    anti_s: Vec<(usize, C64)>,
}

/// The union `U` of the patterns of every group's Hermitian `H_g` and `M_g`, for which
/// `R_ik = Σ_j conj(c_ij) u_kj` is computed once per stage, so that every group's
/// `Tr(c† O u) = Σ_{(i,k)∈O} O_ik R_ik` costs `nnz(O)` instead of `nnz(O)·n`.
pub(super) struct SharedPattern {
    /// Entries `(i, k)` of `U`.
    entries: Vec<(usize, usize)>,
    /// `R` at the entries.
    r: Vec<C64>,
}

impl SharedPattern {
    /// Builds `U` and points the groups' `ham_s`/`anti_s` into it (Hermitian operators only).
    pub(super) fn new(groups: &mut [DepGroup]) -> SharedPattern {
        let mut index: BTreeMap<(usize, usize), usize> = BTreeMap::new();
        let mut entries = Vec::new();
        let mut slot = |i: usize, k: usize| -> usize {
            *index.entry((i, k)).or_insert_with(|| {
                entries.push((i, k));
                entries.len() - 1
            })
        };
        for g in groups.iter_mut() {
            if g.ham_t.1 {
                g.ham_s = g.ham_t.0.iter().map(|&(i, k, v)| (slot(i, k), v)).collect();
            }
            if g.anti_t.1 {
                g.anti_s = g.anti_t.0.iter().map(|&(i, k, v)| (slot(i, k), v)).collect();
            }
        }
        let r = vec![ZERO; entries.len()];
        SharedPattern { entries, r }
    }

    /// Computes `R` for the stage pair `(c, u)`.
    pub(super) fn update(&mut self, c: &[C64], u: &[C64], n: usize) {
        self.r.iter_mut().for_each(|x| *x = ZERO);
        for j in 0..n {
            let cc = &c[j * n..(j + 1) * n];
            let uc = &u[j * n..(j + 1) * n];
            for (e, &(i, k)) in self.r.iter_mut().zip(&self.entries) {
                let (a, b) = (cc[i], uc[k]);
                e.re += a.re * b.re + a.im * b.im;
                e.im += a.re * b.im - a.im * b.re;
            }
        }
    }
}

/// Monomial sandwiches `A_m u B_m†` sharing the nonzero pattern `A_{i,πA(i)}`, `B_{j,πB(j)}`:
/// `Σ_m Tr(c† A_m u B_m†) = Σ_{i,j} conj(c_ij) W_ij u_{πA(i),πB(j)}` with
/// `W_ij = Σ_m A_m[i,πA(i)] conj(B_m[j,πB(j)])` (one pass for, e.g., all dephasing jumps).
#[derive(Clone, Debug)]
struct MonoClass {
    /// Nonzero rows `(i, πA(i))` of A.
    ra: Vec<(usize, usize)>,
    /// Nonzero rows `(j, πB(j))` of B.
    rb: Vec<(usize, usize)>,
    /// `W`, column-major `n × n`.
    w: Vec<C64>,
}

impl DepGroup {
    /// Pushes `(parameter, ∂c/∂θ(t))` for every parameter the coefficient depends on.
    pub(super) fn derivs(&self, t: f64, out: &mut Vec<(usize, C64)>) {
        out.clear();
        let amp = if self.abs_half { C64::new(self.amp.v.norm() / 2.0, 0.0) } else { self.amp.v };
        let f = match &self.modulation {
            PMod::None => 1.0,
            PMod::Cos { omega, phase } => (omega.v.re * t + phase.v.re).cos(),
            PMod::Exp { rate } => (-rate.v.re * t).exp(),
        };
        if let Some(p) = self.amp.p {
            let d = if self.abs_half { C64::new(0.5 * self.amp.v.re.signum(), 0.0) } else { C64::new(1.0, 0.0) };
            out.push((p, d * f));
        }
        match &self.modulation {
            PMod::None => {}
            PMod::Cos { omega, phase } => {
                let s = (omega.v.re * t + phase.v.re).sin();
                if let Some(p) = omega.p {
                    out.push((p, amp * (-t * s)));
                }
                if let Some(p) = phase.p {
                    out.push((p, amp * (-s)));
                }
            }
            PMod::Exp { rate } => {
                if let Some(p) = rate.p {
                    out.push((p, amp * (-t * (-rate.v.re * t).exp())));
                }
            }
        }
    }

    fn compile(&mut self) {
        let trips = |o: &Csr| -> Trips { o.triplets().filter(|e| e.2 != ZERO).collect() };
        let herm = |o: &Csr| o.hermiticity_error() == 0.0;
        if let Some(h) = &self.ham {
            self.ham_t = (trips(h), herm(h));
        }
        if let Some(m) = &self.anti {
            self.anti_t = (trips(m), herm(m));
        }
        self.sand_t.clear();
        self.mono.clear();
        for (a, b) in &self.sandwiches {
            if a.is_monomial() && b.is_monomial() {
                let rows = |o: &Csr| -> Vec<(usize, usize)> { (0..o.nrows).filter(|&i| o.indptr[i + 1] > o.indptr[i]).map(|i| (i, o.indices[o.indptr[i]])).collect() };
                let (ra, rb) = (rows(a), rows(b));
                let n = a.nrows;
                let k = match self.mono.iter().position(|m| m.ra == ra && m.rb == rb) {
                    Some(k) => k,
                    None => {
                        self.mono.push(MonoClass { ra: ra.clone(), rb: rb.clone(), w: vec![ZERO; n * n] });
                        self.mono.len() - 1
                    }
                };
                let w = &mut self.mono[k].w;
                for &(i, _) in &ra {
                    let av = a.data[a.indptr[i]];
                    for &(j, _) in &rb {
                        w[i + j * n] += av * b.data[b.indptr[j]].conj();
                    }
                }
            } else {
                self.sand_t.push((trips(a), trips(b)));
            }
        }
    }

    /// `Tr(c† G u)` for column-major `n × n` `c`, `u`. With `hermitian` (both `c` and `u`
    /// Hermitian) `Tr(c†uO) = conj Tr(c†Ou)` for Hermitian `O`, which halves the work.
    pub(super) fn trace_with(&self, c: &[C64], u: &[C64], n: usize, hermitian: bool, shared: Option<&SharedPattern>) -> C64 {
        let mut s = ZERO;
        let sum = |es: &[(usize, C64)], r: &[C64]| -> C64 { es.iter().map(|&(e, v)| v * r[e]).sum() };
        let (ht, hh) = &self.ham_t;
        if let (Some(sp), true, true) = (shared, hermitian && *hh, !self.ham_s.is_empty()) {
            s += C64::new(2.0 * sum(&self.ham_s, &sp.r).im, 0.0);
        } else if !ht.is_empty() {
            let z = tr_left(c, ht, u, n);
            s += if hermitian && *hh { C64::new(2.0 * z.im, 0.0) } else { C64::new(0.0, -1.0) * (z - tr_right(c, u, ht, n)) };
        }
        let (mt, mh) = &self.anti_t;
        if let (Some(sp), true, true) = (shared, hermitian && *mh, !self.anti_s.is_empty()) {
            s -= C64::new(sum(&self.anti_s, &sp.r).re, 0.0);
        } else if !mt.is_empty() {
            let z = tr_left(c, mt, u, n);
            s -= if hermitian && *mh { C64::new(z.re, 0.0) } else { (z + tr_right(c, u, mt, n)) * 0.5 };
        }
        for (at, bt) in &self.sand_t {
            s += tr_sandwich(c, at, u, bt, n);
        }
        for m in &self.mono {
            let mut acc = ZERO;
            for &(j, l) in &m.rb {
                let cc = &c[j * n..(j + 1) * n];
                let wc = &m.w[j * n..(j + 1) * n];
                let uc = &u[l * n..(l + 1) * n];
                for &(i, k) in &m.ra {
                    acc += cc[i].conj() * (wc[i] * uc[k]);
                }
            }
            s += acc;
        }
        s
    }
}

/// `Tr(c† O u)` = Σ_j Σ_{(i,k)∈O} conj(c_ij) O_ik u_kj.
fn tr_left(c: &[C64], o: &Trips, u: &[C64], n: usize) -> C64 {
    let mut acc = ZERO;
    for j in 0..n {
        let cc = &c[j * n..(j + 1) * n];
        let uc = &u[j * n..(j + 1) * n];
        for &(i, k, v) in o {
            acc += cc[i].conj() * (v * uc[k]);
        }
    }
    acc
}

/// `Tr(c† u O)` = Σ_{(k,j)∈O} O_kj ⟨c_{:,j}, u_{:,k}⟩.
fn tr_right(c: &[C64], u: &[C64], o: &Trips, n: usize) -> C64 {
    let mut acc = ZERO;
    for &(k, j, v) in o {
        let cc = &c[j * n..(j + 1) * n];
        let uc = &u[k * n..(k + 1) * n];
        let mut d = ZERO;
        for i in 0..n {
            d += cc[i].conj() * uc[i];
        }
        acc += v * d;
    }
    acc
}

/// `Tr(c† A u B†)` = Σ_{(j,l)∈B} conj(B_jl) Σ_{(i,k)∈A} A_ik conj(c_ij) u_kl.
fn tr_sandwich(c: &[C64], a: &Trips, u: &[C64], b: &Trips, n: usize) -> C64 {
    let mut acc = ZERO;
    for &(j, l, bv) in b {
        let cc = &c[j * n..(j + 1) * n];
        let uc = &u[l * n..(l + 1) * n];
        let mut s = ZERO;
        for &(i, k, av) in a {
            s += cc[i].conj() * (av * uc[k]);
        }
        acc += bv.conj() * s;
    }
    acc
}

/// `Re Tr(O ρ)` for column-major `ρ`.
pub(super) fn expect_re(o: &Csr, rho: &[C64], n: usize) -> f64 {
    let mut acc = ZERO;
    for i in 0..o.nrows {
        for p in o.indptr[i]..o.indptr[i + 1] {
            acc += o.data[p] * rho[o.indices[p] + i * n];
        }
    }
    acc.re
}

/// Groups the generator terms that depend on the parameters `names` by coefficient (the
/// terms of `Model::lindbladian_with`: Hamiltonian, jumps, cross terms, CP-completion terms).
pub(super) fn dependent_groups(model: &Model, values: &BTreeMap<String, f64>, names: &[String]) -> Vec<DepGroup> {
    let pv = |s: &Scalar| -> PVal {
        match s {
            Scalar::Num(c) => PVal { v: *c, p: None },
            Scalar::Param(name) => PVal { v: C64::new(values[name], 0.0), p: names.iter().position(|x| x == name) },
        }
    };
    let pm = |m: &ModSpec| -> PMod {
        match m {
            ModSpec::None => PMod::None,
            ModSpec::Cos { omega, phase } => PMod::Cos { omega: pv(omega), phase: pv(phase) },
            ModSpec::Exp { rate } => PMod::Exp { rate: pv(rate) },
        }
    };
    let depends = |amp: &PVal, m: &PMod| -> bool {
        amp.p.is_some()
            || match m {
                PMod::None => false,
                PMod::Cos { omega, phase } => omega.p.is_some() || phase.p.is_some(),
                PMod::Exp { rate } => rate.p.is_some(),
            }
    };
    let mut groups: Vec<DepGroup> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut group = |amp: PVal, abs_half: bool, m: PMod| -> Option<usize> {
        if !depends(&amp, &m) {
            return None;
        }
        let key = format!("{amp:?}{abs_half}{m:?}");
        Some(*index.entry(key).or_insert_with(|| {
            groups.push(DepGroup {
                amp,
                abs_half,
                modulation: m,
                ham: None,
                anti: None,
                sandwiches: vec![],
                ham_t: (vec![], false),
                anti_t: (vec![], false),
                sand_t: vec![],
                mono: vec![],
                ham_s: vec![],
                anti_s: vec![],
            });
            groups.len() - 1
        }))
    };
    let add = |slot: &mut Option<Csr>, o: &Csr| {
        *slot = Some(match slot.take() {
            None => o.clone(),
            Some(s) => s.add(C64::new(1.0, 0.0), o, C64::new(1.0, 0.0)),
        });
    };
    let mut diss: Vec<(PVal, bool, PMod, Csr, Csr)> = Vec::new();
    let mut ham: Vec<(usize, Csr)> = Vec::new();
    for t in &model.hamiltonian {
        if let Some(g) = group(pv(&t.coef), false, pm(&t.modulation)) {
            ham.push((g, t.op.clone()));
        }
    }
    for t in &model.jumps {
        diss.push((pv(&t.coef), false, pm(&t.modulation), t.op.clone(), t.op.clone()));
    }
    for c in &model.cross {
        diss.push((pv(&c.rate), false, pm(&c.modulation), c.op_a.clone(), c.op_b.clone()));
    }
    if model.cp_completion {
        for c in &model.cross {
            if c.op_a != c.op_b {
                for op in [&c.op_a, &c.op_b] {
                    diss.push((pv(&c.rate), true, pm(&c.modulation), op.clone(), op.clone()));
                }
            }
        }
    }
    let mut dis: Vec<(usize, Csr, Csr)> = Vec::new();
    for (amp, half, m, a, b) in diss {
        if let Some(g) = group(amp, half, m) {
            dis.push((g, a, b));
        }
    }
    for (g, o) in ham {
        add(&mut groups[g].ham, &o);
    }
    for (g, a, b) in dis {
        add(&mut groups[g].anti, &b.adjoint().matmul(&a));
        groups[g].sandwiches.push((a, b));
    }
    for g in &mut groups {
        g.compile();
    }
    groups
}
