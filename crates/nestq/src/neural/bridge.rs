//! Runtime state of a NEST bridge: the two-qubit density matrix, its generator split as
//! `𝓛(γ) = 𝓛₀ + γ·𝓛₁` (exact, since every coupling form is linear in γ), the per-step advance
//! and the spike kick.

use super::spec::{BridgeMethod, BridgeSpec, Coupling, Readout};
use crate::coef::Coef;
use crate::error::{Error, Result};
use crate::integrate::{self, Collect, Rhs};
use crate::lindblad::Lindbladian;
use crate::measures;
use crate::ops::OpContext;
use crate::C64;
use faer::Mat;
use nalgebra::DMatrix;
use std::sync::Arc;

const Z: C64 = C64 { re: 0.0, im: 0.0 };
/// Memory budget passed to `Lindbladian::liouvillian` (a 16×16 superoperator needs a few KiB).
const BUDGET: u128 = 1 << 30;

/// Non-zeros of a 4×4 column-major read-out operator as `(index of ρ_ji, O_ij)`, so that
/// `Tr(O ρ) = Σ O_ij ρ_ji` runs over them only (σx⊗1 and σz⊗1 have 4 non-zeros each).
fn readout_terms(o: &[C64; 16]) -> Vec<(u8, C64)> {
    let mut t = Vec::new();
    for i in 0..4 {
        for j in 0..4 {
            let v = o[i + 4 * j];
            if v != Z {
                t.push(((j + 4 * i) as u8, v));
            }
        }
    }
    t
}

/// `Re Tr(O ρ)` from [`readout_terms`].
#[inline]
fn readout(terms: &[(u8, C64)], rho: &[C64; 16]) -> f64 {
    terms.iter().map(|&(k, v)| (v * rho[(k & 15) as usize]).re).sum()
}

fn dense4(m: &DMatrix<C64>) -> [C64; 16] {
    let mut a = [Z; 16];
    a.copy_from_slice(m.as_slice());
    a
}

/// Dense `n² × n²` superoperator of a generator, column-major, from the engine's sparse
/// Liouvillian (column stacking, `lindblad.rs`).
fn superop(l: &Lindbladian) -> Result<Vec<C64>> {
    let s = l.liouvillian(0.0, BUDGET)?;
    let m = s.nrows;
    let mut d = vec![Z; m * m];
    for (i, j, v) in s.triplets() {
        d[i + m * j] += v;
    }
    Ok(d)
}

/// `dy/dt = A y` for a dense 16×16 A (the RK4 path).
struct DenseRhs<'a> {
    a: &'a [C64],
}

impl Rhs for DenseRhs<'_> {
    fn len(&self) -> usize {
        16
    }
    fn eval(&mut self, _t: f64, y: &[C64], dy: &mut [C64]) {
        for (i, d) in dy.iter_mut().enumerate() {
            let mut s = Z;
            for j in 0..16 {
                s += self.a[i + 16 * j] * y[j];
            }
            *d = s;
        }
    }
}

/// The generators of a bridge for a given coupling, built with the engine's [`Lindbladian`].
pub(crate) struct Generators {
    /// γ-independent part: `H₀ = ω_i σz⁽⁰⁾ + ω_k σz⁽¹⁾`, jumps `√κ σ−` on both qubits.
    pub l0: Lindbladian,
    /// Coupling part at γ = 1.
    pub l1: Lindbladian,
}

/// Builds `𝓛₀` and `𝓛₁` (and the full generator at γ = γ₀ for the CP report).
pub(crate) fn generators(b: &BridgeSpec, gamma: f64) -> Result<(Generators, Lindbladian)> {
    let ctx = OpContext::new(vec![2, 2]);
    let op = |e: &str| ctx.build(e).map_err(|m| Error::numerical(format!("internal: operator {e}: {m}")));
    let (z0, z1, x0, x1, sm0, sm1) = (op("Z0")?, op("Z1")?, op("X0")?, op("X1")?, op("SM0")?, op("SM1")?);
    let mut l0 = Lindbladian::new(vec![2, 2]);
    l0.add_hamiltonian(Coef::real(b.omega[0]), z0, "omega[0]");
    l0.add_hamiltonian(Coef::real(b.omega[1]), z1, "omega[1]");
    l0.add_jump(Coef::real(b.kappa[0]), sm0, "kappa[0]");
    l0.add_jump(Coef::real(b.kappa[1]), sm1, "kappa[1]");
    let coupling = |g: f64| -> Result<Lindbladian> {
        let mut l = Lindbladian::new(vec![2, 2]);
        match b.coupling {
            Coupling::Hamiltonian => l.add_hamiltonian(Coef::real(g), x0.matmul(&x1), "gamma X0 X1"),
            Coupling::Paper | Coupling::Cp => {
                l.add_cross(Coef::real(g), x0.clone(), x1.clone(), "gamma (X0, X1)");
                l.add_cross(Coef::real(g), x1.clone(), x0.clone(), "gamma (X1, X0)");
                if b.coupling == Coupling::Cp {
                    l.apply_cp_completion()?;
                }
            }
        }
        Ok(l)
    };
    let l1 = coupling(1.0)?;
    let lc = coupling(gamma)?;
    let mut full = l0.clone();
    full.hamiltonian.extend(lc.hamiltonian);
    full.dissipators.extend(lc.dissipators);
    Ok((Generators { l0, l1 }, full))
}

/// The precomputed factors of the `split` step,
/// `e^((𝓛₀+γ𝓛₁)dt) ≈ e^(𝓛₀dt/2) e^(γ𝓛₁dt) e^(𝓛₀dt/2)` (Strang splitting, G. Strang, SIAM J.
/// Numer. Anal. 5, 506 (1968); local error O(dt³‖[𝓛₀, 𝓛₁]‖), global O(dt²)).
///
/// - `e^(𝓛₀dt/2)` is the 16×16 Padé exponential of the γ-independent generator, stored sparse:
///   `𝓛₀ = 𝓛₀⁽⁰⁾ ⊗ 1 + 1 ⊗ 𝓛₀⁽¹⁾` is a sum of commuting single-qubit generators
///   (`−iω[σz, ·] + κD[σ−]`, phase covariant), so the propagator is a product of two
///   single-qubit channels with 5 non-zeros each, 25 in all (entries below 10⁻¹⁶ of the largest,
///   rounding noise of the Padé evaluation, are dropped).
/// - `𝓛₁` (γ = 1) is diagonal in the σx⊗σx eigenbasis for all three couplings: with
///   `ρ̃ = W ρ W`, `W = H ⊗ H` (Hadamards), `(𝓛₁ρ)~_mn = c_mn ρ̃_mn` where, for X-eigenvalues
///   x⁽⁰⁾, x⁽¹⁾ ∈ {±1}, `hamiltonian`: `c = −i(x⁽⁰⁾_m x⁽¹⁾_m − x⁽⁰⁾_n x⁽¹⁾_n)`, `paper`:
///   `c = −(x⁽⁰⁾_m − x⁽⁰⁾_n)(x⁽¹⁾_m − x⁽¹⁾_n)`, `cp`: `c = −½(x⁽⁰⁾_m + x⁽¹⁾_m − x⁽⁰⁾_n − x⁽¹⁾_n)²`.
///   The coefficients are read off the engine's own superoperator (checked diagonal), so
///   `e^(γ𝓛₁dt)` is an entrywise multiplication by `e^(γ dt c_mn)`, exact for any γ·dt.
pub(crate) struct SplitStep {
    /// Non-zeros `(col, value)` of `e^(𝓛₀dt/2)` (acts on vec ρ, column stacking), row by row,
    /// columns ascending within a row; row i is `half[rows[i]..rows[i + 1]]`.
    half: Vec<(u8, C64)>,
    /// Row offsets into `half`.
    rows: [u16; 17],
    /// Distinct non-zero values of `c_mn`, and for each the index of its complex conjugate in
    /// the list if it precedes it (then `e^(γdt c̄) = conj(e^(γdt c))` is not recomputed).
    values: Vec<(C64, Option<usize>)>,
    /// For each entry of ρ̃ (column-major), its value's index in `values`, or `NONE` for c = 0.
    which: [usize; 16],
}

/// `x ← W x W` for the unnormalised Walsh–Hadamard matrix `W = [[1,1],[1,−1]]⊗[[1,1],[1,−1]]`
/// (so `W/2 = H⊗H`), 4×4 column-major.
#[inline]
fn wht2(x: &mut [C64; 16]) {
    #[inline]
    fn wht4(v: [C64; 4]) -> [C64; 4] {
        let (a, b, c, d) = (v[0] + v[1], v[0] - v[1], v[2] + v[3], v[2] - v[3]);
        [a + c, b + d, a - c, b - d]
    }
    for j in 0..4 {
        let c = wht4([x[4 * j], x[4 * j + 1], x[4 * j + 2], x[4 * j + 3]]);
        x[4 * j..4 * j + 4].copy_from_slice(&c);
    }
    for i in 0..4 {
        let r = wht4([x[i], x[i + 4], x[i + 8], x[i + 12]]);
        for (j, v) in r.into_iter().enumerate() {
            x[i + 4 * j] = v;
        }
    }
}

/// `which` marker of an entry with `c_mn = 0` (left unchanged by the coupling factor).
const NONE: usize = usize::MAX;

/// `x ← E x` for a sparse 16×16 `E` stored by rows (`rows`, `e` as in [`SplitStep`]). Each row
/// is summed in a register from zero, columns ascending — the same floating-point operations,
/// in the same order, as scattering the column-major non-zeros into a zeroed vector, without the
/// store-to-load chains of the scatter.
#[inline]
fn apply_sparse(x: &mut [C64; 16], rows: &[u16; 17], e: &[(u8, C64)]) {
    let src = *x;
    for (i, y) in x.iter_mut().enumerate() {
        let mut s = Z;
        for &(j, v) in &e[rows[i] as usize..rows[i + 1] as usize] {
            s += v * src[(j & 15) as usize];
        }
        *y = s;
    }
}

impl SplitStep {
    fn new(l0: &[C64], l1: &[C64], dt: f64) -> Result<SplitStep> {
        let e = integrate::expm::expm(&Mat::from_fn(16, 16, |i, j| l0[i + 16 * j] * (0.5 * dt)));
        let emax = (0..16).flat_map(|j| (0..16).map(move |i| (i, j))).fold(0.0f64, |m, (i, j)| m.max(e[(i, j)].norm()));
        let mut half = Vec::new();
        let mut rows = [0u16; 17];
        for i in 0..16 {
            for j in 0..16 {
                if e[(i, j)].norm() > 1e-16 * emax {
                    half.push((j as u8, e[(i, j)]));
                }
            }
            rows[i + 1] = half.len() as u16;
        }
        // c = diag(T 𝓛₁ T) with T = (W ⊗ W)/4 = vec-space form of ρ ↦ (H⊗H) ρ (H⊗H); T² = 1.
        let w = |i: usize, j: usize| -> f64 { if (i & j).count_ones() % 2 == 0 { 0.5 } else { -0.5 } };
        let t = |p: usize, q: usize| w(p % 4, q % 4) * w(p / 4, q / 4);
        let mut which = [0usize; 16];
        let mut values: Vec<(C64, Option<usize>)> = Vec::new();
        let scale = l1.iter().fold(0.0f64, |m, z| m.max(z.norm())).max(1.0);
        // A = 𝓛₁ T, then D = T A (two 16³ products)
        let mut am = [Z; 256];
        for k in 0..16 {
            for q in 0..16 {
                am[k + 16 * q] = (0..16).map(|m| l1[k + 16 * m] * t(m, q)).sum();
            }
        }
        for p in 0..16 {
            for q in 0..16 {
                let s: C64 = (0..16).map(|k| am[k + 16 * q] * t(p, k)).sum();
                if p != q && s.norm() > 1e-12 * scale {
                    return Err(Error::numerical(format!("internal: coupling generator not diagonal in the σx⊗σx basis (entry {p},{q} = {s})")));
                }
                if p == q {
                    which[p] = if s.norm() <= 1e-12 * scale {
                        NONE
                    } else {
                        match values.iter().position(|(v, _)| (v - s).norm() <= 1e-12 * scale) {
                            Some(k) => k,
                            None => {
                                let conj = values.iter().position(|(v, _)| (v.conj() - s).norm() <= 1e-12 * scale);
                                values.push((s, conj));
                                values.len() - 1
                            }
                        }
                    };
                }
            }
        }
        if values.len() > 8 {
            return Err(Error::numerical(format!("internal: coupling generator has {} distinct eigenvalues (at most 8 expected)", values.len())));
        }
        Ok(SplitStep { half, rows, values, which })
    }

    /// ρ ← e^(𝓛₀dt/2) e^(γ𝓛₁dt) e^(𝓛₀dt/2) ρ.
    #[inline]
    fn step(&self, rho: &mut [C64; 16], gamma: f64, dt: f64) {
        apply_sparse(rho, &self.rows, &self.half);
        wht2(rho);
        // (W ρ̃ W)/16 undoes the two unnormalised transforms
        let mut f = [Z; 8];
        for (k, (c, conj)) in self.values.iter().enumerate() {
            f[k] = match conj {
                Some(j) => f[*j].conj(),
                None => (c * (gamma * dt)).exp() * (1.0 / 16.0),
            };
        }
        for (r, &k) in rho.iter_mut().zip(&self.which) {
            *r *= if k == NONE { C64::new(1.0 / 16.0, 0.0) } else { f[k] };
        }
        wht2(rho);
        apply_sparse(rho, &self.rows, &self.half);
    }
}

/// One bridge while the network runs.
pub(crate) struct BridgeState {
    pub neurons: [usize; 2],
    gamma0: f64,
    beta: f64,
    pub alpha: [f64; 2],
    /// `U = e^(−iθσx/2)` on qubit 0 and on qubit 1 (None when θ = 0).
    kick: Option<[DMatrix<C64>; 2]>,
    l0: Vec<C64>,
    l1: Vec<C64>,
    m_ops: [Vec<(u8, C64)>; 2],
    /// vec(ρ), column stacking (= ρ column-major).
    pub rho: [C64; 16],
    method: BridgeMethod,
    dt: f64,
    cache: Option<(u64, Mat<C64>)>,
    /// Split factors, shared by all bridges with the same ω, κ and coupling.
    split: Option<Arc<SplitStep>>,
    /// ⟨M⁽⁰⁾⟩, ⟨M⁽¹⁾⟩ at the current time.
    pub m: [f64; 2],
    /// γ over the current step.
    pub gamma: f64,
    pub rec_expect: [Vec<f64>; 2],
    pub rec_gamma: Vec<f64>,
    pub rec_conc: Vec<f64>,
    pub propagators: u64,
    pub rhs_evals: u64,
}

/// Split factors already built in a run, keyed by the bits of (ω_i, ω_k, κ_i, κ_k) and the
/// coupling — everything `𝓛₀` and `𝓛₁` depend on.
pub(crate) type SplitCache = Vec<(([u64; 4], Coupling), Arc<SplitStep>)>;

impl BridgeState {
    /// The state of bridge `b` at t = 0; `split` collects the split factors of the run's bridges
    /// so that bridges with equal generators share one copy.
    pub fn new(b: &BridgeSpec, method: BridgeMethod, dt: f64, splits: &mut SplitCache) -> Result<BridgeState> {
        let (g, _) = generators(b, b.gamma0)?;
        let m_local = match b.measure {
            Readout::X => crate::ops::sigmax(),
            Readout::Z => crate::ops::sigmaz(),
        };
        let id = crate::ops::qeye(2);
        let m_ops = [readout_terms(&dense4(&crate::ops::tensor(&[m_local.clone(), id.clone()]))), readout_terms(&dense4(&crate::ops::tensor(&[id.clone(), m_local])))];
        let kick = if b.spike_kick != 0.0 {
            let (c, s) = ((b.spike_kick / 2.0).cos(), (b.spike_kick / 2.0).sin());
            // e^(−iθσx/2) = cos(θ/2) I − i sin(θ/2) σx
            let u = DMatrix::from_row_slice(2, 2, &[C64::new(c, 0.0), C64::new(0.0, -s), C64::new(0.0, -s), C64::new(c, 0.0)]);
            Some([crate::ops::tensor(&[u.clone(), id.clone()]), crate::ops::tensor(&[id, u])])
        } else {
            None
        };
        let l1 = superop(&g.l1)?;
        let l0 = superop(&g.l0)?;
        let split = if method == BridgeMethod::Split {
            let key = ([b.omega[0].to_bits(), b.omega[1].to_bits(), b.kappa[0].to_bits(), b.kappa[1].to_bits()], b.coupling);
            match splits.iter().find(|(k, _)| *k == key) {
                Some((_, sp)) => Some(Arc::clone(sp)),
                None => {
                    let sp = Arc::new(SplitStep::new(&l0, &l1, dt)?);
                    splits.push((key, Arc::clone(&sp)));
                    Some(sp)
                }
            }
        } else {
            None
        };
        Ok(BridgeState {
            neurons: b.neurons,
            gamma0: b.gamma0,
            beta: b.beta,
            alpha: b.alpha,
            kick,
            l0,
            l1,
            m_ops,
            rho: dense4(&b.initial),
            method,
            dt,
            cache: None,
            split,
            m: [0.0; 2],
            gamma: b.gamma0,
            rec_expect: [vec![], vec![]],
            rec_gamma: vec![],
            rec_conc: vec![],
            propagators: 0,
            rhs_evals: 0,
        })
    }

    /// Step phases (1) and (2): ⟨M⟩ from ρ(t_n) and γ from the potentials `vi`, `vk` of the
    /// bridge's two neurons at t_n.
    pub fn observe(&mut self, vi: f64, vk: f64) {
        self.m = [readout(&self.m_ops[0], &self.rho), readout(&self.m_ops[1], &self.rho)];
        let dv = (vi - vk).abs();
        self.gamma = if self.beta == 0.0 { self.gamma0 } else { self.gamma0 * (-self.beta * dv).exp() };
    }

    pub fn density_matrix(&self) -> DMatrix<C64> {
        DMatrix::from_column_slice(4, 4, &self.rho)
    }

    /// Appends ⟨M⟩, γ and the concurrence at the current time to the record.
    pub fn record(&mut self) -> Result<()> {
        self.rec_expect[0].push(self.m[0]);
        self.rec_expect[1].push(self.m[1]);
        self.rec_gamma.push(self.gamma);
        self.rec_conc.push(measures::concurrence_4x4(&self.rho)?);
        Ok(())
    }

    /// Step phase (3): ρ(t_n) → ρ(t_n + dt) with γ held at `self.gamma`.
    pub fn advance(&mut self, t: f64) -> Result<()> {
        let g = self.gamma;
        let dt = self.dt;
        match self.method {
            BridgeMethod::Split => {
                let sp = self.split.as_ref().ok_or_else(|| Error::numerical("internal: split bridge without precomputed factors"))?;
                sp.step(&mut self.rho, g, dt);
            }
            BridgeMethod::Expm => {
                let hit = matches!(&self.cache, Some((bits, _)) if *bits == g.to_bits());
                if !hit {
                    // into the bridge's propagator buffer, with the thread's Padé scratch: no allocation
                    let mut p = match self.cache.take() {
                        Some((_, p)) => p,
                        None => Mat::zeros(16, 16),
                    };
                    let (l0, l1) = (&self.l0, &self.l1);
                    integrate::expm::with_scratch(16, |s| {
                        let a = &mut s.mats[0];
                        for j in 0..16 {
                            for i in 0..16 {
                                a[(i, j)] = (l0[i + 16 * j] + l1[i + 16 * j] * g) * dt;
                            }
                        }
                        integrate::expm::expm_into(a.as_ref(), &mut s.work, &mut p);
                    });
                    self.cache = Some((g.to_bits(), p));
                    self.propagators += 1;
                }
                let p = &self.cache.as_ref().expect("cached").1;
                let rho = self.rho;
                self.rho = std::array::from_fn(|i| (0..16).map(|j| p[(i, j)] * rho[j]).sum());
            }
            BridgeMethod::Rk4 => {
                let a: Vec<C64> = (0..256).map(|k| self.l0[k] + self.l1[k] * g).collect();
                let mut rhs = DenseRhs { a: &a };
                let mut out = Collect::default();
                let st = integrate::rk4(&mut rhs, &self.rho, &[0.0, dt], dt, &mut out, None)?;
                self.rhs_evals += st.rhs_evals;
                self.rho.copy_from_slice(&out.states.pop().expect("rk4 output"));
            }
        }
        if self.rho.iter().any(|z| !z.re.is_finite() || !z.im.is_finite()) {
            return Err(Error::numerical(format!("bridge between neurons {} and {}: non-finite state at t = {}", self.neurons[0], self.neurons[1], t + dt)));
        }
        self.symmetrize();
        Ok(())
    }

    /// ρ ← (ρ + ρ†)/2 (removes rounding-level anti-Hermitian parts; exact for the generators here,
    /// which all preserve Hermiticity).
    fn symmetrize(&mut self) {
        for j in 0..4 {
            for i in 0..=j {
                let h = (self.rho[i + 4 * j] + self.rho[j + 4 * i].conj()) * 0.5;
                self.rho[i + 4 * j] = h;
                self.rho[j + 4 * i] = h.conj();
            }
        }
    }

    /// Spike kick on qubit `q` (0 or 1): ρ ← UρU†.
    pub fn kick(&mut self, q: usize) {
        if let Some(k) = &self.kick {
            let r = &k[q] * self.density_matrix() * k[q].adjoint();
            self.rho.copy_from_slice(r.as_slice());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(coupling: Coupling) -> BridgeSpec {
        BridgeSpec {
            neurons: [0, 1],
            omega: [1.0, 1.1],
            gamma0: 0.1,
            beta: 0.1,
            kappa: [0.05, 0.07],
            alpha: [0.3, 0.3],
            coupling,
            measure: Readout::X,
            initial: crate::ops::tensor(&[
                DMatrix::from_row_slice(2, 2, &[C64::new(0.5, 0.0), C64::new(0.5, 0.0), C64::new(0.5, 0.0), C64::new(0.5, 0.0)]),
                DMatrix::from_row_slice(2, 2, &[C64::new(1.0, 0.0), Z, Z, Z]),
            ]),
            spike_kick: 0.0,
        }
    }

    /// Timing of the per-step kernels (not a check): `cargo test --release -p nestq --lib
    /// bridge_kernel_timing -- --ignored --nocapture`. Best of many short repetitions, so that
    /// other processes on the machine inflate it little.
    #[test]
    #[ignore]
    fn bridge_kernel_timing() {
        let mut splits = SplitCache::new();
        let mut b = BridgeState::new(&spec(Coupling::Hamiltonian), BridgeMethod::Split, 0.1, &mut splits).unwrap();
        let v = [-60.0, -55.0];
        let reps = 2000;
        let mut best = f64::INFINITY;
        for _ in 0..200 {
            let t0 = crate::clock::now_s();
            for k in 0..reps {
                b.observe(v[0], v[1]);
                b.advance(k as f64).unwrap();
            }
            best = best.min(crate::clock::now_s() - t0);
        }
        println!("split observe+advance: {:.1} ns", best / reps as f64 * 1e9);
        let mut best = f64::INFINITY;
        let mut acc = 0.0;
        for _ in 0..200 {
            let t0 = crate::clock::now_s();
            for _ in 0..200 {
                acc += measures::concurrence_4x4(std::hint::black_box(&b.rho)).unwrap();
            }
            best = best.min(crate::clock::now_s() - t0);
        }
        println!("concurrence_4x4: {:.1} ns ({acc})", best / 200.0 * 1e9);
    }
}
