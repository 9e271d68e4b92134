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

const Z: C64 = C64 { re: 0.0, im: 0.0 };
/// Memory budget passed to `Lindbladian::liouvillian` (a 16×16 superoperator needs a few KiB).
const BUDGET: u128 = 1 << 30;

/// `Tr(O ρ)` for 4×4 column-major `o` and `rho`.
#[inline]
fn trace_prod(o: &[C64; 16], rho: &[C64; 16]) -> C64 {
    let mut s = Z;
    for i in 0..4 {
        for j in 0..4 {
            s += o[i + 4 * j] * rho[j + 4 * i];
        }
    }
    s
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

/// Index of entry `(row, col)` of a 4×4 column-major matrix for qubit indices
/// `row = 2a₀ + a₁`, `col = 2b₀ + b₁` (qubit 0 leftmost).
const fn idx(a0: usize, a1: usize, b0: usize, b1: usize) -> usize {
    (2 * a0 + a1) + 4 * (2 * b0 + b1)
}

/// For qubit q, the four groups of entries of ρ that a channel on q mixes: `LOCAL[q][g][l]` is
/// the global index of local vec index `l = a + 2b` (column stacking of the qubit's 2×2 block)
/// in group `g` (the other qubit's `(a', b')`).
const LOCAL: [[[usize; 4]; 4]; 2] = {
    let mut t = [[[0usize; 4]; 4]; 2];
    let mut g = 0;
    while g < 4 {
        let (ao, bo) = (g % 2, g / 2);
        let mut l = 0;
        while l < 4 {
            let (a, b) = (l % 2, l / 2);
            t[0][g][l] = idx(a, ao, b, bo);
            t[1][g][l] = idx(ao, a, bo, b);
            l += 1;
        }
        g += 1;
    }
    t
};

/// The precomputed factors of the `split` step,
/// `e^((𝓛₀+γ𝓛₁)dt) ≈ e^(𝓛₀dt/2) e^(γ𝓛₁dt) e^(𝓛₀dt/2)` (Strang splitting, G. Strang, SIAM J.
/// Numer. Anal. 5, 506 (1968); local error O(dt³‖[𝓛₀, 𝓛₁]‖), global O(dt²)).
///
/// - `𝓛₀ = 𝓛₀⁽⁰⁾ ⊗ 1 + 1 ⊗ 𝓛₀⁽¹⁾` is a sum of commuting single-qubit generators
///   (`−iω[σz, ·] + κD[σ−]`), so `e^(𝓛₀dt/2)` is exactly the product of two single-qubit channels,
///   each a 4×4 Padé exponential acting on one qubit's column-stacked 2×2 blocks.
/// - `𝓛₁` (γ = 1) is diagonal in the σx⊗σx eigenbasis for all three couplings: with
///   `ρ̃ = W ρ W`, `W = H ⊗ H` (Hadamards), `(𝓛₁ρ)~_mn = c_mn ρ̃_mn` where, for X-eigenvalues
///   x⁽⁰⁾, x⁽¹⁾ ∈ {±1}, `hamiltonian`: `c = −i(x⁽⁰⁾_m x⁽¹⁾_m − x⁽⁰⁾_n x⁽¹⁾_n)`, `paper`:
///   `c = −(x⁽⁰⁾_m − x⁽⁰⁾_n)(x⁽¹⁾_m − x⁽¹⁾_n)`, `cp`: `c = −½(x⁽⁰⁾_m + x⁽¹⁾_m − x⁽⁰⁾_n − x⁽¹⁾_n)²`.
///   The coefficients are read off the engine's own superoperator (checked diagonal), so
///   `e^(γ𝓛₁dt)` is an entrywise multiplication by `e^(γ dt c_mn)`, exact for any γ·dt.
struct SplitStep {
    /// `e^(𝓛₀⁽q⁾ dt/2)`, 4×4 column-major, on qubit q's local vec (index `a + 2b`).
    half: [[C64; 16]; 2],
    /// Distinct values of `c_mn`.
    values: Vec<C64>,
    /// For each entry of ρ̃ (column-major), its value's index in `values`.
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

/// Applies the single-qubit superoperator `e` (4×4 column-major) to qubit `q` of ρ.
#[inline]
fn apply_local(rho: &mut [C64; 16], e: &[C64; 16], q: usize) {
    for g in &LOCAL[q] {
        let v = [rho[g[0]], rho[g[1]], rho[g[2]], rho[g[3]]];
        for (i, &k) in g.iter().enumerate() {
            rho[k] = e[i] * v[0] + e[i + 4] * v[1] + e[i + 8] * v[2] + e[i + 12] * v[3];
        }
    }
}

impl SplitStep {
    fn new(b: &BridgeSpec, l1: &[C64], dt: f64) -> Result<SplitStep> {
        let ctx = OpContext::new(vec![2]);
        let op = |e: &str| ctx.build(e).map_err(|m| Error::numerical(format!("internal: operator {e}: {m}")));
        let mut half = [[Z; 16]; 2];
        for q in 0..2 {
            let mut l = Lindbladian::new(vec![2]);
            l.add_hamiltonian(Coef::real(b.omega[q]), op("Z0")?, "omega");
            l.add_jump(Coef::real(b.kappa[q]), op("SM0")?, "kappa");
            let s = superop(&l)?;
            let e = integrate::expm::expm(&Mat::from_fn(4, 4, |i, j| s[i + 4 * j] * (0.5 * dt)));
            for j in 0..4 {
                for i in 0..4 {
                    half[q][i + 4 * j] = e[(i, j)];
                }
            }
        }
        // c = diag(T 𝓛₁ T) with T = (W ⊗ W)/4 = vec-space form of ρ ↦ (H⊗H) ρ (H⊗H); T² = 1.
        let w = |i: usize, j: usize| -> f64 { if (i & j).count_ones() % 2 == 0 { 0.5 } else { -0.5 } };
        let t = |p: usize, q: usize| w(p % 4, q % 4) * w(p / 4, q / 4);
        let mut which = [0usize; 16];
        let mut values: Vec<C64> = Vec::new();
        let scale = l1.iter().fold(0.0f64, |m, z| m.max(z.norm())).max(1.0);
        for p in 0..16 {
            for q in 0..16 {
                let mut s = Z;
                for k in 0..16 {
                    let tk = t(p, k);
                    for m in 0..16 {
                        s += l1[k + 16 * m] * (tk * t(m, q));
                    }
                }
                if p != q && s.norm() > 1e-12 * scale {
                    return Err(Error::numerical(format!("internal: coupling generator not diagonal in the σx⊗σx basis (entry {p},{q} = {s})")));
                }
                if p == q {
                    which[p] = match values.iter().position(|v| (v - s).norm() <= 1e-12 * scale) {
                        Some(k) => k,
                        None => {
                            values.push(s);
                            values.len() - 1
                        }
                    };
                }
            }
        }
        if values.len() > 8 {
            return Err(Error::numerical(format!("internal: coupling generator has {} distinct eigenvalues (at most 8 expected)", values.len())));
        }
        Ok(SplitStep { half, values, which })
    }

    /// ρ ← e^(𝓛₀dt/2) e^(γ𝓛₁dt) e^(𝓛₀dt/2) ρ.
    #[inline]
    fn step(&self, rho: &mut [C64; 16], gamma: f64, dt: f64) {
        apply_local(rho, &self.half[0], 0);
        apply_local(rho, &self.half[1], 1);
        wht2(rho);
        // (W ρ̃ W)/16 undoes the two unnormalised transforms
        let mut f = [Z; 8];
        for (k, c) in self.values.iter().enumerate() {
            f[k] = (c * (gamma * dt)).exp() * (1.0 / 16.0);
        }
        for (r, &k) in rho.iter_mut().zip(&self.which) {
            *r *= f[k];
        }
        wht2(rho);
        apply_local(rho, &self.half[0], 0);
        apply_local(rho, &self.half[1], 1);
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
    m_ops: [[C64; 16]; 2],
    /// vec(ρ), column stacking (= ρ column-major).
    pub rho: [C64; 16],
    method: BridgeMethod,
    dt: f64,
    cache: Option<(u64, Mat<C64>)>,
    split: Option<SplitStep>,
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

impl BridgeState {
    pub fn new(b: &BridgeSpec, method: BridgeMethod, dt: f64) -> Result<BridgeState> {
        let (g, _) = generators(b, b.gamma0)?;
        let m_local = match b.measure {
            Readout::X => crate::ops::sigmax(),
            Readout::Z => crate::ops::sigmaz(),
        };
        let id = crate::ops::qeye(2);
        let m_ops = [dense4(&crate::ops::tensor(&[m_local.clone(), id.clone()])), dense4(&crate::ops::tensor(&[id.clone(), m_local]))];
        let kick = if b.spike_kick != 0.0 {
            let (c, s) = ((b.spike_kick / 2.0).cos(), (b.spike_kick / 2.0).sin());
            // e^(−iθσx/2) = cos(θ/2) I − i sin(θ/2) σx
            let u = DMatrix::from_row_slice(2, 2, &[C64::new(c, 0.0), C64::new(0.0, -s), C64::new(0.0, -s), C64::new(c, 0.0)]);
            Some([crate::ops::tensor(&[u.clone(), id.clone()]), crate::ops::tensor(&[id, u])])
        } else {
            None
        };
        let l1 = superop(&g.l1)?;
        let split = if method == BridgeMethod::Split { Some(SplitStep::new(b, &l1, dt)?) } else { None };
        Ok(BridgeState {
            neurons: b.neurons,
            gamma0: b.gamma0,
            beta: b.beta,
            alpha: b.alpha,
            kick,
            l0: superop(&g.l0)?,
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

    /// Step phases (1) and (2): ⟨M⟩ from ρ(t_n) and γ from V(t_n).
    pub fn observe(&mut self, v: &[f64]) {
        self.m = [trace_prod(&self.m_ops[0], &self.rho).re, trace_prod(&self.m_ops[1], &self.rho).re];
        let dv = (v[self.neurons[0]] - v[self.neurons[1]]).abs();
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
        self.rec_conc.push(measures::concurrence(&self.density_matrix(), &[2, 2], 0, 1)?);
        Ok(())
    }

    /// Step phase (3): ρ(t_n) → ρ(t_n + dt) with γ held at `self.gamma`.
    pub fn advance(&mut self, t: f64) -> Result<()> {
        let g = self.gamma;
        let dt = self.dt;
        if let Some(sp) = &self.split {
            sp.step(&mut self.rho, g, dt);
            if self.rho.iter().any(|z| !z.re.is_finite() || !z.im.is_finite()) {
                return Err(Error::numerical(format!("bridge between neurons {} and {}: non-finite state at t = {}", self.neurons[0], self.neurons[1], t + dt)));
            }
            self.symmetrize();
            return Ok(());
        }
        let y: Vec<C64> = match self.method {
            BridgeMethod::Expm => {
                let hit = matches!(&self.cache, Some((bits, _)) if *bits == g.to_bits());
                if !hit {
                    let a = Mat::from_fn(16, 16, |i, j| (self.l0[i + 16 * j] + self.l1[i + 16 * j] * g) * dt);
                    self.cache = Some((g.to_bits(), integrate::expm::expm(&a)));
                    self.propagators += 1;
                }
                let p = &self.cache.as_ref().expect("cached").1;
                (0..16).map(|i| (0..16).map(|j| p[(i, j)] * self.rho[j]).sum()).collect()
            }
            BridgeMethod::Split => return Err(Error::numerical("internal: split bridge without precomputed factors")),
            BridgeMethod::Rk4 => {
                let a: Vec<C64> = (0..256).map(|k| self.l0[k] + self.l1[k] * g).collect();
                let mut rhs = DenseRhs { a: &a };
                let mut out = Collect::default();
                let st = integrate::rk4(&mut rhs, &self.rho, &[0.0, dt], dt, &mut out, None)?;
                self.rhs_evals += st.rhs_evals;
                out.states.pop().expect("rk4 output")
            }
        };
        if y.iter().any(|z| !z.re.is_finite() || !z.im.is_finite()) {
            return Err(Error::numerical(format!("bridge between neurons {} and {}: non-finite state at t = {}", self.neurons[0], self.neurons[1], t + dt)));
        }
        self.rho.copy_from_slice(&y);
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
