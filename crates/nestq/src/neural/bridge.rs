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
        Ok(BridgeState {
            neurons: b.neurons,
            gamma0: b.gamma0,
            beta: b.beta,
            alpha: b.alpha,
            kick,
            l0: superop(&g.l0)?,
            l1: superop(&g.l1)?,
            m_ops,
            rho: dense4(&b.initial),
            method,
            dt,
            cache: None,
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
