//! The TEBD propagator ([`Tebd`]; *Time evolution* in the `mpo` module documentation,
//! `mpo/mod.rs`): the Trotter layers (even bonds, odd bonds, long-range terms through swaps), the
//! gates `e^{τ𝓛_b}` (Padé, [`crate::integrate::expm::expm`], cached when time-independent), the
//! symmetric Strang step `S₂` and Suzuki's fourth-order `S₄` (Suzuki, Phys. Lett. A 146, 319
//! (1990); TeNPy's `TEBDEngine.suzuki_trotter_decomposition`), the fusion of adjacent
//! applications of a time-independent layer, and the sweeps that run a schedule.

use super::generator::{split_generator, LocalGen, Piece};
use super::state::Mpo;
use super::trunc::{Discarded, Trunc};
use super::ZERO;
use crate::error::Result;
use crate::model::{Model, MpoOptions};
use crate::C64;
use faer::Mat;
use std::collections::HashMap;

/// A layer of the Trotter product.
enum Layer {
    /// Gates on disjoint nearest-neighbour bonds (bond s = sites s, s+1).
    Bonds(Vec<(usize, LocalGen)>),
    /// A two-site term on non-neighbouring sites (a < b), applied through swaps.
    Long(usize, usize, LocalGen),
    /// One-site generators (only for a single-site chain).
    Single(LocalGen),
}

/// The TEBD propagator of a model: layers, gate cache and truncation settings.
pub struct Tebd {
    layers: Vec<Layer>,
    time_independent: bool,
    cache: HashMap<(usize, usize, u64), Mat<C64>>,
    /// Truncation of every SVD.
    pub trunc: Trunc,
    /// Trotter order (2 or 4).
    pub order: u8,
    /// Truncation error accumulated so far.
    pub discarded: Discarded,
    /// Gate applications so far (two-site gates and swaps).
    pub gates: u64,
    /// Largest bond dimension after any operation so far (gate layer or re-canonicalisation).
    pub max_bond: usize,
}

/// One operation of a Trotter schedule.
#[derive(Clone, Copy, Debug)]
enum Op {
    /// Apply layer `.0` for a time `.1` with coefficients at time `.2`.
    Layer(usize, f64, f64),
    /// Restore the exact B form (and truncate optimally).
    Canon,
}

/// Suzuki's p = 1/(4 − 4^{1/3}).
fn suzuki_p() -> f64 {
    1.0 / (4.0 - 4f64.powf(1.0 / 3.0))
}

impl Tebd {
    /// Builds the layers for a model (see the module documentation for the splitting).
    pub fn new(model: &Model, opts: &MpoOptions) -> Result<Tebd> {
        let sp = split_generator(model)?;
        let nsite = model.dims.len();
        let dims = &model.dims;
        // the largest gate: (d_a² d_b²)² entries, ~10 copies inside Padé
        let dmax = dims.iter().copied().max().unwrap_or(2) as u128;
        let p2 = dmax.pow(4);
        crate::error::check_budget("the two-site gates of method mpo (Padé needs ~10 dense copies of a d⁴×d⁴ superoperator)", p2 * p2 * 16 * 10, model.solver.memory_budget)?;
        let mut layers = Vec::new();
        if nsite == 1 {
            let g = sp.singles.get(&0).cloned().unwrap_or_default();
            layers.push(Layer::Single(g));
        } else {
            // nearest-neighbour bond generators with the shares of single-site terms
            let mut bonds: Vec<LocalGen> = (0..nsite - 1).map(|_| LocalGen::default()).collect();
            for (&s, g) in &sp.singles {
                let shares: Vec<(usize, f64, bool)> = if s == 0 {
                    vec![(0, 1.0, true)]
                } else if s == nsite - 1 {
                    vec![(nsite - 2, 1.0, false)]
                } else {
                    vec![(s - 1, 0.5, false), (s, 0.5, true)]
                };
                for (b, w, left) in shares {
                    let (da, db) = (dims[b], dims[b + 1]);
                    for p in &g.pieces {
                        // embed the one-site superoperator: S ⊗ 1 (site at the left of the bond) or 1 ⊗ S
                        let (pa, pb) = (da * da, db * db);
                        let mut m = Mat::<C64>::zeros(pa * pb, pa * pb);
                        for j in 0..p.sup.ncols() {
                            for i in 0..p.sup.nrows() {
                                let v = p.sup[(i, j)] * w;
                                if v == ZERO {
                                    continue;
                                }
                                if left {
                                    for k in 0..pb {
                                        m[(i + pa * k, j + pa * k)] = v;
                                    }
                                } else {
                                    for k in 0..pa {
                                        m[(k + pa * i, k + pa * j)] = v;
                                    }
                                }
                            }
                        }
                        bonds[b].pieces.push(Piece { coef: p.coef.clone(), sup: m });
                    }
                }
            }
            let mut long = Vec::new();
            for (&(a, b), g) in &sp.pairs {
                if b == a + 1 {
                    bonds[a].pieces.extend(g.pieces.iter().cloned());
                } else {
                    long.push((a, b, g.clone()));
                }
            }
            for g in bonds.iter_mut() {
                g.compact();
            }
            let mut even = Vec::new();
            let mut odd = Vec::new();
            for (b, g) in bonds.into_iter().enumerate() {
                if g.pieces.is_empty() {
                    continue;
                }
                if b % 2 == 0 {
                    even.push((b, g));
                } else {
                    odd.push((b, g));
                }
            }
            if !even.is_empty() {
                layers.push(Layer::Bonds(even));
            }
            if !odd.is_empty() {
                layers.push(Layer::Bonds(odd));
            }
            for (a, b, mut g) in long {
                g.compact();
                layers.push(Layer::Long(a, b, g));
            }
        }
        Ok(Tebd {
            layers,
            time_independent: sp.time_independent,
            cache: HashMap::new(),
            trunc: Trunc { chi_max: opts.chi_max, chi_min: opts.chi_min, cutoff: opts.cutoff },
            order: opts.order,
            discarded: Discarded::default(),
            gates: 0,
            max_bond: 1,
        })
    }

    /// `e^{τ𝓛(t)}` of item `item` of layer `layer`, cached when time-independent.
    fn gate(&mut self, layer: usize, item: usize, tau: f64, t: f64) -> Mat<C64> {
        let key = (layer, item, tau.to_bits());
        if self.time_independent {
            if let Some(g) = self.cache.get(&key) {
                return g.clone();
            }
        }
        let gen = match &self.layers[layer] {
            Layer::Bonds(v) => &v[item].1,
            Layer::Long(_, _, g) => g,
            Layer::Single(g) => g,
        };
        let l = gen.at(t);
        let n = l.nrows();
        let g = if n == 0 { Mat::zeros(0, 0) } else { crate::integrate::expm::expm(&Mat::from_fn(n, n, |i, j| l[(i, j)] * tau)) };
        if self.time_independent {
            self.cache.insert(key, g.clone());
        }
        g
    }

    fn apply_layer(&mut self, mpo: &mut Mpo, li: usize, tau: f64, t: f64) -> Result<()> {
        let tr = self.trunc;
        match &self.layers[li] {
            Layer::Bonds(v) => {
                let sites: Vec<usize> = v.iter().map(|(b, _)| *b).collect();
                let gates: Vec<Mat<C64>> = (0..sites.len()).map(|k| self.gate(li, k, tau, t)).collect();
                let items: Vec<(usize, &Mat<C64>)> = sites.iter().copied().zip(gates.iter()).collect();
                mpo.apply_layer(&items, &tr, &mut self.discarded)?;
                self.gates += items.len() as u64;
            }
            Layer::Long(a, b, _) => {
                let (a, b) = (*a, *b);
                let g = self.gate(li, 0, tau, t);
                for s in (a + 1..b).rev() {
                    self.discarded.add(mpo.swap(s, &tr)?);
                }
                self.discarded.add(mpo.apply_two_site(a, &g, &tr)?);
                for s in a + 1..b {
                    self.discarded.add(mpo.swap(s, &tr)?);
                }
                self.gates += 2 * (b - a - 1) as u64 + 1;
            }
            Layer::Single(g) => {
                if !g.pieces.is_empty() {
                    let gg = self.gate(li, 0, tau, t);
                    mpo.apply_one_site(0, &gg);
                    self.gates += 1;
                }
            }
        }
        Ok(())
    }

    /// Appends the operations of one symmetric second-order step `S₂(τ)` from time t
    /// (coefficients at t + τ/2); the MPO is re-canonicalised before the middle layer.
    fn push_strang(&self, ops: &mut Vec<Op>, tau: f64, t: f64) {
        let tm = t + 0.5 * tau;
        let k = self.layers.len();
        if k == 0 {
            return;
        }
        for li in 0..k - 1 {
            ops.push(Op::Layer(li, 0.5 * tau, tm));
        }
        ops.push(Op::Canon);
        ops.push(Op::Layer(k - 1, tau, tm));
        for li in (0..k - 1).rev() {
            ops.push(Op::Layer(li, 0.5 * tau, tm));
        }
    }

    /// Appends one Trotter step of size τ from time t (order 2 or 4).
    fn push_step(&self, ops: &mut Vec<Op>, tau: f64, t: f64) {
        if self.order == 4 {
            let p = suzuki_p();
            let mut tt = t;
            for c in [p, p, 1.0 - 4.0 * p, p, p] {
                self.push_strang(ops, c * tau, tt);
                tt += c * tau;
            }
        } else {
            self.push_strang(ops, tau, t);
        }
    }

    /// Runs a schedule; after each operation `report(k, n)` is told that k of its n operations
    /// are done and may return `false` to stop (then `Ok(false)`).
    fn run(&mut self, mpo: &mut Mpo, mut ops: Vec<Op>, report: &mut dyn FnMut(usize, usize) -> bool) -> Result<bool> {
        // Adjacent applications of the same time-independent layer merge exactly:
        // e^{a𝓛}e^{b𝓛} = e^{(a+b)𝓛} (the "first-same-as-last" fusion of Strang steps).
        if self.time_independent {
            let mut merged: Vec<Op> = Vec::with_capacity(ops.len());
            for op in ops.drain(..) {
                if let (Some(Op::Layer(l0, a, t0)), Op::Layer(l1, b, _)) = (merged.last().copied(), op) {
                    if l0 == l1 {
                        *merged.last_mut().unwrap() = Op::Layer(l0, a + b, t0);
                        continue;
                    }
                }
                merged.push(op);
            }
            ops = merged;
        }
        let n = ops.len();
        for (k, op) in ops.into_iter().enumerate() {
            match op {
                Op::Canon => mpo.canonicalize_into(&self.trunc, &mut self.discarded)?,
                Op::Layer(li, tau, t) => self.apply_layer(mpo, li, tau, t)?,
            }
            self.max_bond = self.max_bond.max(mpo.max_bond());
            if !report(k + 1, n) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// One Trotter step of size τ from time t (order 2 or 4).
    pub fn step(&mut self, mpo: &mut Mpo, tau: f64, t: f64) -> Result<()> {
        self.steps(mpo, tau, t, 1)
    }

    /// `n` Trotter steps of size τ from time t, with the half layers of consecutive steps fused
    /// when the generator is time-independent.
    pub fn steps(&mut self, mpo: &mut Mpo, tau: f64, t: f64, n: u64) -> Result<()> {
        self.steps_reporting(mpo, tau, t, n, &mut |_| true).map(|_| ())
    }

    /// [`Tebd::steps`] that calls `report(fraction of the n steps done)` after each operation
    /// of the fused schedule (a gate layer or a re-canonicalisation). The schedule — and so the
    /// result and the gate count — does not depend on `report`; it returns `Ok(false)` when
    /// `report` returned `false` (the MPO is then left between two operations).
    pub fn steps_reporting(&mut self, mpo: &mut Mpo, tau: f64, t: f64, n: u64, report: &mut dyn FnMut(f64) -> bool) -> Result<bool> {
        let mut ops = Vec::new();
        for k in 0..n {
            self.push_step(&mut ops, tau, t + tau * k as f64);
        }
        self.run(mpo, ops, &mut |k, len| report(k as f64 / len.max(1) as f64))
    }
}
