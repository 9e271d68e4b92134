//! The generator of method `mpo` split into local Liouvillians (*Time evolution* in the `mpo`
//! module documentation, `mpo/mod.rs`): the model's Hamiltonian (`−i[H, ·]`), jump
//! (`LρL† − ½{L†L, ρ}`) and cross terms (`AρB† − ½{B†A, ρ}`) as one- and two-site superoperators
//! in the MPO's vectorised basis (`q_a + d_a² q_b`, `q = i + d j`) with their time profiles,
//! grouped by support; the Hermiticity checks of H; the local factors of operator expressions;
//! and the per-term bounds on ‖𝓛‖ for [`crate::guard::check_scale`].

use super::ONE;
use crate::coef::{Coef, ModKey};
use crate::error::{Error, Result};
use crate::model::{ModSpec, Model, Scalar};
use crate::C64;
use faer::Mat;
use nalgebra::DMatrix;
use std::collections::BTreeMap;

/// One local piece of the generator: `coef(t)·𝓛_piece` on one site or a pair of sites.
#[derive(Clone, Debug)]
pub(super) struct Piece {
    pub(super) coef: Coef,
    /// Superoperator in the local vectorised basis of the support (index `q_a + d_a² q_b`).
    pub(super) sup: Mat<C64>,
}

/// Terms on a support (one site, or an ordered pair `(a, b)`, `a < b`).
#[derive(Clone, Debug, Default)]
pub(super) struct LocalGen {
    pub(super) pieces: Vec<Piece>,
}

impl LocalGen {
    fn is_constant(&self) -> bool {
        self.pieces.iter().all(|p| p.coef.is_constant())
    }
    pub(super) fn at(&self, t: f64) -> Mat<C64> {
        let n = self.pieces.first().map(|p| p.sup.nrows()).unwrap_or(0);
        let mut m = Mat::<C64>::zeros(n, n);
        for p in &self.pieces {
            let c = p.coef.at(t);
            for j in 0..n {
                for i in 0..n {
                    m[(i, j)] += c * p.sup[(i, j)];
                }
            }
        }
        m
    }
    /// Merges constant pieces into one.
    pub(super) fn compact(&mut self) {
        let n = match self.pieces.first() {
            Some(p) => p.sup.nrows(),
            None => return,
        };
        let mut konst = Mat::<C64>::zeros(n, n);
        let mut any = false;
        let mut rest = Vec::new();
        for p in self.pieces.drain(..) {
            if p.coef.is_constant() {
                any = true;
                let c = p.coef.amp;
                for j in 0..n {
                    for i in 0..n {
                        konst[(i, j)] += c * p.sup[(i, j)];
                    }
                }
            } else {
                rest.push(p);
            }
        }
        if any {
            rest.push(Piece { coef: Coef::real(1.0), sup: konst });
        }
        self.pieces = rest;
    }
}

/// Superoperator of `X ↦ f(X)` on operators of a support with local dims `ds` (1 or 2 sites),
/// in the MPO index order (`q_a + d_a² q_b`, `q = i + d j`).
fn superop_of(ds: &[usize], f: impl Fn(&DMatrix<C64>) -> DMatrix<C64>) -> Mat<C64> {
    let dd: usize = ds.iter().product();
    let ps: Vec<usize> = ds.iter().map(|d| d * d).collect();
    let np: usize = ps.iter().product();
    // MPO index → (row, col) of the support operator
    let rc = |q: usize| -> (usize, usize) {
        if ds.len() == 1 {
            (q % ds[0], q / ds[0])
        } else {
            let (qa, qb) = (q % ps[0], q / ps[0]);
            let (xa, ya) = (qa % ds[0], qa / ds[0]);
            let (xb, yb) = (qb % ds[1], qb / ds[1]);
            (xa * ds[1] + xb, ya * ds[1] + yb)
        }
    };
    let mut m = Mat::<C64>::zeros(np, np);
    for col in 0..np {
        let (i, j) = rc(col);
        let mut x = DMatrix::zeros(dd, dd);
        x[(i, j)] = ONE;
        let y = f(&x);
        for row in 0..np {
            let (k, l) = rc(row);
            m[(row, col)] = y[(k, l)];
        }
    }
    m
}

/// A term as local operators on its support.
struct LocalTerm {
    /// Sorted support (empty: identity).
    sites: Vec<usize>,
    /// The operator on the support (site order as in `sites`).
    op: DMatrix<C64>,
}

fn local_term(model: &Model, expr: &str, path: &str) -> Result<LocalTerm> {
    let factors = crate::ops::parse_expr(expr).map_err(|m| Error::model(path, m))?;
    let mut sites: Vec<usize> = factors.iter().map(|f| f.site).collect();
    sites.sort_unstable();
    sites.dedup();
    if sites.len() > 2 {
        return Err(Error::model(path, format!("'{expr}' acts on {} sites ({:?}); method mpo supports terms on at most two sites", sites.len(), sites)));
    }
    let ds: Vec<usize> = sites.iter().map(|&s| model.dims[s]).collect();
    let dd: usize = ds.iter().product();
    let mut op = DMatrix::<C64>::identity(dd, dd);
    for f in &factors {
        let loc = model.ctx.local(&f.name, f.site).map_err(|m| Error::model(path, m))?;
        let emb = if sites.len() == 1 {
            loc
        } else if f.site == sites[0] {
            loc.kronecker(&DMatrix::identity(ds[1], ds[1]))
        } else {
            DMatrix::identity(ds[0], ds[0]).kronecker(&loc)
        };
        op *= emb;
    }
    Ok(LocalTerm { sites, op })
}

/// Embeds a local term into a (larger or equal) support `into` (sorted, 1 or 2 sites).
fn embed_into(t: &LocalTerm, into: &[usize], dims: &[usize]) -> DMatrix<C64> {
    if t.sites.len() == into.len() {
        return t.op.clone();
    }
    let ds: Vec<usize> = into.iter().map(|&s| dims[s]).collect();
    if t.sites.is_empty() {
        let dd: usize = ds.iter().product();
        return DMatrix::identity(dd, dd);
    }
    if t.sites[0] == into[0] {
        t.op.kronecker(&DMatrix::identity(ds[1], ds[1]))
    } else {
        DMatrix::identity(ds[0], ds[0]).kronecker(&t.op)
    }
}

/// The generator split by support: single sites and pairs (ordered, a < b).
pub(super) struct Split {
    pub(super) singles: BTreeMap<usize, LocalGen>,
    pub(super) pairs: BTreeMap<(usize, usize), LocalGen>,
    pub(super) time_independent: bool,
    pub(super) hermiticity_preserving: bool,
}

fn scalar_val(model: &Model, s: &Scalar) -> C64 {
    match s {
        Scalar::Num(c) => *c,
        Scalar::Param(p) => C64::new(model.parameters.get(p).copied().unwrap_or(0.0), 0.0),
    }
}

fn coef_of(model: &Model, amp: C64, m: &ModSpec) -> Coef {
    use crate::coef::Modulation;
    let modulation = match m {
        ModSpec::None => Modulation::None,
        ModSpec::Cos { omega, phase } => Modulation::Cos { omega: scalar_val(model, omega).re, phase: scalar_val(model, phase).re },
        ModSpec::Exp { rate } => Modulation::Exp { rate: scalar_val(model, rate).re },
    };
    Coef { amp, modulation }
}

/// Bounds of each model term's contribution to ‖𝓛‖ over `[t0, t1]` (for
/// [`crate::guard::check_scale`]): `2|c|·max|f|·Π‖O_s‖₁` for a Hamiltonian term and
/// `2|rate|·max|f|·‖A‖₁‖B‖₁` for a jump or cross term, with local 1-norms.
pub(super) fn term_scales(model: &Model, t0: f64, t1: f64) -> Result<Vec<(String, f64)>> {
    let norm1 = |expr: &str, path: &str| -> Result<f64> {
        let fs = local_factors(model, expr, path)?;
        Ok(fs
            .iter()
            .map(|(_, m)| (0..m.ncols()).map(|j| (0..m.nrows()).map(|i| m[(i, j)].norm()).sum::<f64>()).fold(0.0, f64::max))
            .product())
    };
    let fmax = |amp: C64, m: &ModSpec| crate::guard::modulation_max(&coef_of(model, amp, m).modulation, t0, t1);
    let mut out = Vec::new();
    for t in &model.hamiltonian {
        let c = scalar_val(model, &t.coef);
        out.push((format!("{}.coef", t.path), 2.0 * c.norm() * fmax(c, &t.modulation) * norm1(&t.ops, &format!("{}.ops", t.path))?));
    }
    for t in &model.jumps {
        let c = scalar_val(model, &t.coef);
        let a = norm1(&t.ops, &format!("{}.ops", t.path))?;
        out.push((format!("{}.rate", t.path), 2.0 * c.norm() * fmax(c, &t.modulation) * a * a));
    }
    for t in &model.cross {
        let c = scalar_val(model, &t.rate);
        let (a, b) = (norm1(&t.a, &format!("{}.a", t.path))?, norm1(&t.b, &format!("{}.b", t.path))?);
        out.push((format!("{}.rate", t.path), 2.0 * c.norm() * fmax(c, &t.modulation) * a * b));
    }
    Ok(out)
}

pub(super) fn split_generator(model: &Model) -> Result<Split> {
    let mut singles: BTreeMap<usize, LocalGen> = BTreeMap::new();
    let mut pairs: BTreeMap<(usize, usize), LocalGen> = BTreeMap::new();
    if model.cp_completion {
        return Err(Error::model("$.cp_completion", "cp_completion is not supported by method mpo (write the completing jumps explicitly)"));
    }
    let mut push = |sites: &[usize], piece: Piece| {
        if sites.len() == 1 {
            singles.entry(sites[0]).or_default().pieces.push(piece);
        } else {
            pairs.entry((sites[0], sites[1])).or_default().pieces.push(piece);
        }
    };
    // Hamiltonian: check Hermiticity per (support, time profile) group.
    let mut hgroups: BTreeMap<(Vec<usize>, ModKey), (DMatrix<C64>, String)> = BTreeMap::new();
    for t in &model.hamiltonian {
        let lt = local_term(model, &t.ops, &format!("{}.ops", t.path))?;
        if lt.sites.is_empty() {
            continue; // multiple of the identity: no dynamics
        }
        let coef = coef_of(model, scalar_val(model, &t.coef), &t.modulation);
        let key = (lt.sites.clone(), coef.modulation.key());
        let e = hgroups.entry(key).or_insert_with(|| (DMatrix::zeros(lt.op.nrows(), lt.op.nrows()), t.path.clone()));
        e.0 += &lt.op * coef.amp;
        let ds: Vec<usize> = lt.sites.iter().map(|&s| model.dims[s]).collect();
        let h = lt.op.clone();
        let sup = superop_of(&ds, |x| (&h * x - x * &h) * C64::new(0.0, -1.0));
        push(&lt.sites, Piece { coef, sup });
    }
    for ((_, _), (h, path)) in &hgroups {
        let err = (h - h.adjoint()).iter().map(|z| z.norm()).fold(0.0, f64::max);
        let scale = h.iter().map(|z| z.norm()).fold(0.0, f64::max).max(1e-300);
        if err > 1e-10 * scale.max(1.0) {
            return Err(Error::model(format!("{path}.coef"), format!("the Hamiltonian terms on this support sum to a non-Hermitian operator (max |H − H†| = {err:.3e})")));
        }
    }
    let mut herm = true;
    for t in &model.jumps {
        let r = scalar_val(model, &t.coef).re;
        if r < 0.0 || !r.is_finite() {
            return Err(Error::model(format!("{}.rate", t.path), format!("negative rate {r} (rates must be ≥ 0; L = √rate·ops)")));
        }
        let lt = local_term(model, &t.ops, &format!("{}.ops", t.path))?;
        if lt.sites.is_empty() {
            continue; // D[I] = 0
        }
        let ds: Vec<usize> = lt.sites.iter().map(|&s| model.dims[s]).collect();
        let l = lt.op.clone();
        let ldl = l.adjoint() * &l;
        let sup = superop_of(&ds, |x| &l * x * l.adjoint() - (&ldl * x + x * &ldl) * C64::new(0.5, 0.0));
        push(&lt.sites, Piece { coef: coef_of(model, C64::new(r, 0.0), &t.modulation), sup });
    }
    // Cross terms c·(AρB† − ½{B†A, ρ}); Hermiticity preservation needs the partner (B, A, c̄).
    let mut cross_keys: Vec<(String, String, C64)> = Vec::new();
    for c in &model.cross {
        let la = local_term(model, &c.a, &format!("{}.a", c.path))?;
        let lb = local_term(model, &c.b, &format!("{}.b", c.path))?;
        let mut sites: Vec<usize> = la.sites.iter().chain(lb.sites.iter()).copied().collect();
        sites.sort_unstable();
        sites.dedup();
        if sites.len() > 2 {
            return Err(Error::model(c.path.clone(), format!("a = '{}' and b = '{}' together act on {} sites ({:?}); method mpo supports cross terms on at most two sites", c.a, c.b, sites.len(), sites)));
        }
        let rate = scalar_val(model, &c.rate);
        cross_keys.push((c.a.clone(), c.b.clone(), rate));
        if sites.is_empty() {
            continue;
        }
        let ds: Vec<usize> = sites.iter().map(|&s| model.dims[s]).collect();
        let a = embed_into(&la, &sites, &model.dims);
        let b = embed_into(&lb, &sites, &model.dims);
        let bda = b.adjoint() * &a;
        let sup = superop_of(&ds, |x| &a * x * b.adjoint() - (&bda * x + x * &bda) * C64::new(0.5, 0.0));
        push(&sites, Piece { coef: coef_of(model, rate, &c.modulation), sup });
    }
    for (a, b, r) in &cross_keys {
        if !cross_keys.iter().any(|(a2, b2, r2)| a2 == b && b2 == a && (*r2 - r.conj()).norm() <= 1e-12 * r.norm().max(1.0)) {
            herm = false;
        }
    }
    let time_independent = singles.values().chain(pairs.values()).all(|g| g.is_constant());
    for g in singles.values_mut().chain(pairs.values_mut()) {
        g.compact();
    }
    Ok(Split { singles, pairs, time_independent, hermiticity_preserving: herm })
}

pub(super) fn local_factors(model: &Model, expr: &str, path: &str) -> Result<Vec<(usize, DMatrix<C64>)>> {
    let fs = crate::ops::parse_expr(expr).map_err(|m| Error::model(path, m))?;
    fs.iter().map(|f| Ok((f.site, model.ctx.local(&f.name, f.site).map_err(|m| Error::model(path, m))?))).collect()
}
