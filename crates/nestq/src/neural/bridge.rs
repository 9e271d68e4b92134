//! Runtime state of a NEST bridge: the two-qubit density matrix, its generator split as
//! `𝓛(γ) = 𝓛₀ + γ·𝓛₁` (exact, since every coupling form is linear in γ), the per-step advance
//! and the spike kick. `expm` and `rk4` bridges carry vec ρ (complex, column stacking); `split`
//! bridges carry `σ = e^(𝓛₀dt/2)ρ` in real Pauli coordinates ([`SplitStep`]).

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

/// `which` marker of an entry with `c_mn = 0` (left unchanged by the coupling factor).
const NONE: usize = usize::MAX;

/// Pauli-string index `4a + b` of `σ_a ⊗ σ_b` (a on qubit 0, a, b ∈ {I, X, Y, Z} = 0..4), the
/// convention of `train::bloch`. The real coordinates of a Hermitian 4×4 matrix are
/// `r_p = Tr(P_p ρ)`, `ρ = ¼ Σ_p r_p P_p`.
fn pauli_string(p: usize) -> [C64; 16] {
    let one = C64::new(1.0, 0.0);
    let i = C64::new(0.0, 1.0);
    // 2×2 column-major
    let s = |a: usize| -> [C64; 4] {
        match a {
            0 => [one, Z, Z, one],
            1 => [Z, one, one, Z],
            2 => [Z, i, -i, Z],
            _ => [one, Z, Z, -one],
        }
    };
    let (a, b) = (s(p / 4), s(p % 4));
    // (A ⊗ B)_(2r+u, 2c+v) = A_rc B_uv, column-major 4×4
    std::array::from_fn(|k| {
        let (row, col) = (k % 4, k / 4);
        a[row / 2 + 2 * (col / 2)] * b[row % 2 + 2 * (col % 2)]
    })
}

/// `r_p = Re Tr(P_p ρ)` for a column-major 4×4 ρ (the anti-Hermitian part, if any, is dropped).
fn rho_to_pauli(rho: &[C64; 16]) -> [f64; 16] {
    std::array::from_fn(|p| {
        let m = pauli_string(p);
        // Tr(P ρ) = Σ_ij P_ji ρ_ij
        (0..4).flat_map(|i| (0..4).map(move |j| (i, j))).map(|(i, j)| (m[j + 4 * i] * rho[i + 4 * j]).re).sum()
    })
}

/// `ρ = ¼ Σ_p r_p P_p`, column-major. Qubit 1 first: the 2×2 blocks `B_a = ¼ Σ_b r_ab σ_b`, then
/// `ρ = Σ_a σ_a ⊗ B_a` block by block (32 complex additions instead of 64 products).
fn pauli_to_rho(r: &[f64; 16]) -> [C64; 16] {
    // B_a column-major: [[I+Z, X−iY], [X+iY, I−Z]]/4 with (I, X, Y, Z) = r[4a..4a+4]
    let blk = |a: usize| -> [C64; 4] {
        let (i, x, y, z) = (r[4 * a], r[4 * a + 1], r[4 * a + 2], r[4 * a + 3]);
        [C64::new(0.25 * (i + z), 0.0), C64::new(0.25 * x, 0.25 * y), C64::new(0.25 * x, -0.25 * y), C64::new(0.25 * (i - z), 0.0)]
    };
    let (bi, bx, by, bz) = (blk(0), blk(1), blk(2), blk(3));
    let mi = C64::new(0.0, -1.0);
    // blocks (row, col) of ρ: (0,0) = B_I + B_Z, (1,0) = B_X + iB_Y, (0,1) = B_X − iB_Y, (1,1) = B_I − B_Z
    let blocks: [[C64; 4]; 4] = [
        std::array::from_fn(|k| bi[k] + bz[k]),
        std::array::from_fn(|k| bx[k] - mi * by[k]),
        std::array::from_fn(|k| bx[k] + mi * by[k]),
        std::array::from_fn(|k| bi[k] - bz[k]),
    ];
    std::array::from_fn(|k| {
        let (row, col) = (k % 4, k / 4);
        blocks[row / 2 + 2 * (col / 2)][row % 2 + 2 * (col % 2)]
    })
}

/// Real Pauli-basis form `S_P[p, q] = ¼ Tr(P_p S(P_q))` (row-major) of a Hermiticity-preserving
/// superoperator given as a dense column-major 16×16 matrix on column-stacked vec ρ.
fn pauli_superop(s: &[C64], what: &str) -> Result<[f64; 256]> {
    let basis: Vec<[C64; 16]> = (0..16).map(pauli_string).collect();
    let scale = s.iter().fold(0.0f64, |m, z| m.max(z.norm())).max(1.0);
    let mut out = [0.0; 256];
    for q in 0..16 {
        let w: Vec<C64> = (0..16).map(|i| (0..16).map(|j| s[i + 16 * j] * basis[q][j]).sum()).collect();
        for p in 0..16 {
            let m = &basis[p];
            let v: C64 = (0..4).flat_map(|i| (0..4).map(move |j| (i, j))).map(|(i, j)| m[j + 4 * i] * w[i + 4 * j]).sum::<C64>() * 0.25;
            if v.im.abs() > 1e-12 * scale {
                return Err(Error::numerical(format!("internal: {what} is not Hermiticity-preserving (Pauli entry {p},{q} = {v})")));
            }
            out[16 * p + q] = v.re;
        }
    }
    Ok(out)
}

/// A phase-covariant single-qubit map in Pauli coordinates (I, X, Y, Z):
/// `I' = ii·I, X' = xx·X + xy·Y, Y' = yx·X + yy·Y, Z' = zi·I + zz·Z` — the form of
/// `e^(t(−iω[σz, ·] + κD[σ−]))` for every t (a rotation and contraction of the equatorial
/// components, an affine decay of z, trace kept).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Local {
    ii: f64,
    xx: f64,
    xy: f64,
    yx: f64,
    yy: f64,
    zi: f64,
    zz: f64,
}

impl Local {
    /// Row-major 4×4 Pauli-basis matrix.
    fn dense(&self) -> [f64; 16] {
        let Local { ii, xx, xy, yx, yy, zi, zz } = *self;
        [ii, 0.0, 0.0, 0.0, 0.0, xx, xy, 0.0, 0.0, yx, yy, 0.0, zi, 0.0, 0.0, zz]
    }

    /// `(I, X, Y, Z) ↦ (I', X', Y', Z')`.
    #[inline(always)]
    fn map(&self, [i, x, y, z]: [f64; 4]) -> [f64; 4] {
        [self.ii * i, self.xx * x + self.xy * y, self.yx * x + self.yy * y, self.zi * i + self.zz * z]
    }
}

/// `M⁽⁰⁾ ⊗ M⁽¹⁾` of two [`Local`] maps acting on two-qubit Pauli coordinates (p = 4a + b): 56
/// multiplications and additions, no indexing.
#[derive(Clone, Copy, Debug)]
struct Product([Local; 2]);

impl Product {
    #[inline(always)]
    fn apply(&self, s: &[f64; 16]) -> [f64; 16] {
        let mut t = [0.0; 16];
        for a in 0..4 {
            let r = self.0[1].map([s[4 * a], s[4 * a + 1], s[4 * a + 2], s[4 * a + 3]]);
            t[4 * a..4 * a + 4].copy_from_slice(&r);
        }
        let mut u = [0.0; 16];
        for b in 0..4 {
            let r = self.0[0].map([t[b], t[4 + b], t[8 + b], t[12 + b]]);
            for (a, v) in r.into_iter().enumerate() {
                u[4 * a + b] = v;
            }
        }
        u
    }

    /// Row-major 16×16 matrix (Kronecker product).
    fn dense(&self) -> [f64; 256] {
        let (m0, m1) = (self.0[0].dense(), self.0[1].dense());
        std::array::from_fn(|k| {
            let (p, q) = (k / 16, k % 16);
            m0[4 * (p / 4) + q / 4] * m1[4 * (p % 4) + q % 4]
        })
    }
}

/// `e^(t𝓛₀⁽q⁾)` of qubit q of bridge `b` (`𝓛₀⁽q⁾ = −iω_q[σz, ·] + κ_q D[σ−]`, built with the
/// engine's [`Lindbladian`] like [`generators`]) in Pauli coordinates, checked phase covariant.
fn local_channel(b: &BridgeSpec, q: usize, t: f64) -> Result<Local> {
    let ctx = OpContext::new(vec![2]);
    let op = |e: &str| ctx.build(e).map_err(|m| Error::numerical(format!("internal: operator {e}: {m}")));
    let mut l = Lindbladian::new(vec![2]);
    l.add_hamiltonian(Coef::real(b.omega[q]), op("Z0")?, "omega");
    l.add_jump(Coef::real(b.kappa[q]), op("SM0")?, "kappa");
    let s = superop(&l)?;
    let e = integrate::expm::expm(&Mat::from_fn(4, 4, |i, j| s[i + 4 * j] * t));
    // S_P[a, c] = ½ Tr(σ_a S(σ_c)), σ column-major
    let sig: [[C64; 4]; 4] = std::array::from_fn(|a| {
        // σ_a is the upper-left 2×2 block of σ_I ⊗ σ_a
        let m = pauli_string(a);
        [m[0], m[1], m[4], m[5]]
    });
    let mut m = [0.0; 16];
    let mut imag = 0.0f64;
    for c in 0..4 {
        let w: [C64; 4] = std::array::from_fn(|i| (0..4).map(|j| e[(i, j)] * sig[c][j]).sum());
        for a in 0..4 {
            // Tr(σ_a W) = Σ_ij (σ_a)_ji W_ij
            let v: C64 = (0..2).flat_map(|i| (0..2).map(move |j| (i, j))).map(|(i, j)| sig[a][j + 2 * i] * w[i + 2 * j]).sum::<C64>() * 0.5;
            imag = imag.max(v.im.abs());
            m[4 * a + c] = v.re;
        }
    }
    // Trace preservation makes the I row exactly (1, 0, 0, 0) (a GKSL generator's I row is
    // ½Tr(𝓛(σ_c)) = 0): set to 1 the `ii` that the Padé evaluation returns within rounding, so
    // that the trace does not drift by that rounding every step.
    let loc = Local { ii: 1.0, xx: m[5], xy: m[6], yx: m[9], yy: m[10], zi: m[12], zz: m[15] };
    let max = m.iter().fold(0.0f64, |x, v| x.max(v.abs()));
    let off = loc.dense().iter().zip(&m).fold(0.0f64, |x, (a, b)| x.max((a - b).abs()));
    if imag > 1e-14 * max || off > 1e-14 * max {
        return Err(Error::numerical(format!("internal: e^(𝓛₀t) of qubit {q} is not a phase-covariant channel (off-pattern {off:e}, imaginary {imag:e})")));
    }
    Ok(loc)
}

/// `(sin x, cos x)`. For |x| ≤ 1/8 by their Taylor polynomials through x⁹ and x¹⁰: the series
/// alternate with decreasing terms, so the truncation error is below the first omitted term,
/// |x|¹¹/11! ≤ 2.3·10⁻¹⁷·|x| for sin (relative to |sin x| ≥ 0.997|x|: < 2⁻⁵⁵) and
/// |x|¹²/12! < 3·10⁻²⁰ for cos (≥ 0.99); with the Horner rounding (the corrections are at most
/// x²/6 ≤ 0.3 % of the leading term) the result is within one ulp, like the libm routines it
/// replaces (`f64::sin`, `f64::cos`, used beyond 1/8). `γ·dt` is far below 1/8 in practice.
#[inline]
fn sin_cos(x: f64) -> (f64, f64) {
    if x.abs() <= 0.125 {
        let x2 = x * x;
        // 1/3!, 1/5!, … and 1/2!, 1/4!, …
        let s = x + x * x2 * (-1.0 / 6.0 + x2 * (1.0 / 120.0 + x2 * (-1.0 / 5040.0 + x2 * (1.0 / 362880.0))));
        let c = 1.0 + x2 * (-0.5 + x2 * (1.0 / 24.0 + x2 * (-1.0 / 720.0 + x2 * (1.0 / 40320.0 + x2 * (-1.0 / 3628800.0)))));
        (s, c)
    } else {
        (x.sin(), x.cos())
    }
}

/// How one factor `e^(zλ)` of the coupling step is obtained (`z = γ·dt`).
#[derive(Clone, Copy, Debug, PartialEq)]
enum ExpPlan {
    /// `e^(z Re λ)·(cos(z Im λ) + i sin(z Im λ))`, skipping the exp or the sine/cosine when that
    /// part of λ is zero.
    Direct,
    /// `(e^(zλ_b))^(2^s)` for an earlier factor b with `λ = 2^s λ_b` (s squarings).
    Square(usize, u32),
    /// `1/e^(zλ_b)` for an earlier real factor with `λ = −λ_b`.
    Recip(usize),
}

/// Length of the factor array `f` of [`SplitStep`]: 1 + two per representative eigenvalue, at
/// most 3 of them (the couplings here have 1 or 2), a power of two so that indices are masked,
/// not checked.
const NF: usize = 8;


/// The precomputed factors of the `split` step, `ρₙ₊₁ = A C(γₙ) A ρₙ` with `A = e^(𝓛₀dt/2)`,
/// `C(γ) = e^(γ𝓛₁dt)` (Strang splitting, G. Strang, SIAM J. Numer. Anal. 5, 506 (1968); local
/// error O(dt³‖[𝓛₀, 𝓛₁]‖), global O(dt²)), carried in the **half-step frame**: the bridge
/// stores `σₙ = A ρₙ`, so that the two half steps of consecutive steps merge into one,
///
/// ```text
/// σₙ₊₁ = E C(γₙ) σₙ,   E = e^(𝓛₀dt) = A²,
/// ```
///
/// one product with `E` per step instead of two with `A`. Everything that needs ρ itself
/// unfolds it, `ρₙ = A⁻¹σₙ` with `A⁻¹ = e^(−𝓛₀dt/2)`: the read-out ⟨M⟩ = Tr(M ρₙ) is a fixed
/// linear functional of σₙ (two terms for σx or σz), and recording, spike kicks
/// (`σ ← A U(A⁻¹σ)U†`) and the final state unfold explicitly. The states are those of the
/// unmerged scheme up to rounding (tested against it with dense Padé factors).
///
/// All maps act on the **real Pauli coordinates** `r_p = Tr(P_p ρ)` (`P_p = σ_a ⊗ σ_b`,
/// p = 4a + b; [`pauli_superop`]): every generator here preserves Hermiticity, so their
/// matrices are real, the state is Hermitian by construction (no symmetrisation) and a step is
/// real arithmetic on 16 numbers.
///
/// - `E`, `A`, `A⁻¹`: `𝓛₀ = 𝓛₀⁽⁰⁾ ⊗ 1 + 1 ⊗ 𝓛₀⁽¹⁾` is a sum of commuting single-qubit
///   generators (`−iω[σz, ·] + κD[σ−]`, phase covariant), so `e^(t𝓛₀) = e^(t𝓛₀⁽⁰⁾) ⊗ e^(t𝓛₀⁽¹⁾)`
///   exactly; each factor is the 4×4 Padé exponential of the single-qubit superoperator in Pauli
///   coordinates, a [`Local`] map with 7 non-zeros (checked), applied as a [`Product`]. The
///   product is checked against the 16×16 Padé exponential of the two-qubit `𝓛₀` (to 10⁻¹⁴).
/// - `𝓛₁` (γ = 1) is diagonal in the σx⊗σx eigenbasis for all three couplings: with
///   `ρ̃ = W ρ W`, `W = H ⊗ H` (Hadamards), `(𝓛₁ρ)~_mn = c_mn ρ̃_mn` where, for X-eigenvalues
///   x⁽⁰⁾, x⁽¹⁾ ∈ {±1}, `hamiltonian`: `c = −i(x⁽⁰⁾_m x⁽¹⁾_m − x⁽⁰⁾_n x⁽¹⁾_n)` ∈ {0, ±2i}, `paper`:
///   `c = −(x⁽⁰⁾_m − x⁽⁰⁾_n)(x⁽¹⁾_m − x⁽¹⁾_n)` ∈ {0, ±4}, `cp`:
///   `c = −½(x⁽⁰⁾_m + x⁽¹⁾_m − x⁽⁰⁾_n − x⁽¹⁾_n)²` ∈ {0, −2, −8}. The coefficients are read off the
///   engine's own superoperator (checked diagonal). Hence `C(γ) = Σ_λ e^(γdtλ) Π_λ` with the
///   spectral projectors Π_λ, and in Pauli coordinates, pairing conjugate eigenvalues,
///   `C = Π₀ + Σ_λ [Re e^(zλ) R_λ + Im e^(zλ) I_λ]` with real `R_λ = Π_λ + Π_λ̄`,
///   `I_λ = i(Π_λ − Π_λ̄)`. In Pauli coordinates C is block diagonal with blocks of size ≤ 2
///   (checked): `hamiltonian` rotates 4 pairs by 2γdt and leaves the 8 coordinates that commute
///   with σx⊗σx alone, `paper` mixes 2 pairs, `cp` damps 8 coordinates and mixes 2 pairs. This is
///   exact for any γ·dt; the only transcendental functions per step are one sine/cosine pair
///   (`hamiltonian`, [`sin_cos`]) or one exp (`paper`, `cp`: the other factor follows exactly by
///   a reciprocal or two squarings, [`ExpPlan`]).
pub(crate) struct SplitStep {
    /// `E = e^(𝓛₀dt)`.
    full: Product,
    /// `A = e^(𝓛₀dt/2)` (into the half-step frame).
    half: Product,
    /// `A⁻¹ = e^(−𝓛₀dt/2)` (out of it).
    unhalf: Product,
    /// Read-out functionals `⟨M⁽q⁾⟩ = Σ c·σ_p` (rows of A⁻¹), `[X, Z][qubit]`, two `(p, c)` each.
    read: [[[(u8, f64); 2]; 2]; 2],
    /// Representative eigenvalues λ of 𝓛₁ (one per conjugate pair, |λ| ascending) and how
    /// `e^(zλ)` is computed; factor r gives `f[1 + 2r] = Re e^(zλ)`, `f[2 + 2r] = Im e^(zλ)`,
    /// `f[0] = 1`.
    reps: Vec<(C64, ExpPlan)>,
    /// 2×2 blocks `(i, j, [e_ii, e_ij, e_ji, e_jj])`: `(σ_i, σ_j) ← [[e_ii, e_ij], [e_ji, e_jj]] (σ_i, σ_j)`.
    pairs: Vec<(u8, u8, [Entry; 4])>,
    /// 1×1 blocks `(i, e)`: `σ_i ← e σ_i`. Coordinates in no block are left unchanged.
    singles: Vec<(u8, Entry)>,
}

/// An entry of the coupling factor, `c₀·f[k₀] + c₁·f[k₁]` (one or two terms: every entry of the
/// three couplings' factors has at most two; a single term has `c₁ = 0`, which adds an exact
/// +0). Evaluated in registers, per block, so that no entry goes through memory.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Entry {
    k: [u8; 2],
    c: [f64; 2],
}

impl Entry {
    fn new(terms: &[(u8, f64)]) -> Result<Entry> {
        match *terms {
            [] => Ok(Entry { k: [0, 0], c: [0.0, 0.0] }),
            [(k, c)] => Ok(Entry { k: [k, 0], c: [c, 0.0] }),
            [(k0, c0), (k1, c1)] => Ok(Entry { k: [k0, k1], c: [c0, c1] }),
            _ => Err(Error::numerical(format!("internal: an entry of the coupling factor has {} terms (at most 2 expected)", terms.len()))),
        }
    }

    #[inline(always)]
    fn value(&self, f: &[f64; NF]) -> f64 {
        self.c[0] * f[self.k[0] as usize & (NF - 1)] + self.c[1] * f[self.k[1] as usize & (NF - 1)]
    }
}

impl SplitStep {
    fn new(b: &BridgeSpec, l0: &[C64], l1: &[C64], dt: f64) -> Result<SplitStep> {
        let product = |t: f64| -> Result<Product> { Ok(Product([local_channel(b, 0, t)?, local_channel(b, 1, t)?])) };
        let full = product(dt)?;
        let half = product(0.5 * dt)?;
        let unhalf = product(-0.5 * dt)?;
        {
            // the product form against the two-qubit generator
            let e = integrate::expm::expm(&Mat::from_fn(16, 16, |i, j| l0[i + 16 * j] * dt));
            let d: Vec<C64> = (0..256).map(|k| e[(k % 16, k / 16)]).collect();
            let two = pauli_superop(&d, "e^(𝓛₀dt)")?;
            let err = two.iter().zip(full.dense().iter()).fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            if err > 1e-14 {
                return Err(Error::numerical(format!("internal: e^(𝓛₀dt) is not the product of the single-qubit channels ({err:e})")));
            }
        }
        // ⟨M⁽⁰⁾⟩ = Σ_c A⁻¹⁽⁰⁾[m, c] A⁻¹⁽¹⁾[I, I] σ_(4c): row m of a Local has two entries
        let (u0, u1) = (unhalf.0[0], unhalf.0[1]);
        let read = [
            [[(4, u1.ii * u0.xx), (8, u1.ii * u0.xy)], [(1, u0.ii * u1.xx), (2, u0.ii * u1.xy)]],
            [[(0, u1.ii * u0.zi), (12, u1.ii * u0.zz)], [(0, u0.ii * u1.zi), (3, u0.ii * u1.zz)]],
        ];

        // c = diag(T 𝓛₁ T) with T = (W ⊗ W)/4 = vec-space form of ρ ↦ (H⊗H) ρ (H⊗H); T² = 1.
        let w = |i: usize, j: usize| -> f64 { if (i & j).count_ones() % 2 == 0 { 0.5 } else { -0.5 } };
        let t = |p: usize, q: usize| w(p % 4, q % 4) * w(p / 4, q / 4);
        let mut which = [NONE; 16];
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
        // vec-space spectral projector onto the entries with `which == k`: T diag(1[k]) T
        let proj = |k: usize| -> Vec<C64> {
            let mut m = vec![Z; 256];
            for p in 0..16 {
                for q in 0..16 {
                    let s: f64 = (0..16).filter(|&m| which[m] == k).map(|m| t(p, m) * t(m, q)).sum();
                    m[p + 16 * q] = C64::new(s, 0.0);
                }
            }
            m
        };
        // representatives (no conjugate earlier in the list), |λ| ascending
        let mut order: Vec<usize> = (0..values.len()).filter(|&k| values[k].1.is_none()).collect();
        order.sort_by(|&a, &b| values[a].0.norm().total_cmp(&values[b].0.norm()));
        if order.len() > (NF - 1) / 2 {
            return Err(Error::numerical(format!("internal: coupling generator has {} distinct eigenvalue pairs (at most {} expected)", order.len(), (NF - 1) / 2)));
        }
        // pieces: (factor index, real Pauli matrix)
        let mut pieces: Vec<(usize, [f64; 256])> = vec![(0, pauli_superop(&proj(NONE), "the coupling's kernel projector")?)];
        let mut reps: Vec<(C64, ExpPlan)> = Vec::new();
        for (r, &k) in order.iter().enumerate() {
            let lam = values[k].0;
            let close = |a: C64, b: C64| (a - b).norm() <= 1e-12 * a.norm().max(b.norm());
            let mut plan = ExpPlan::Direct;
            for (b, &(lb, _)) in reps.iter().enumerate() {
                if let Some(s) = (1..=3u32).find(|&s| close(lam, lb * f64::from(1u32 << s))) {
                    plan = ExpPlan::Square(b, s);
                    break;
                }
                if lam.im == 0.0 && lb.im == 0.0 && close(lam, -lb) {
                    plan = ExpPlan::Recip(b);
                    break;
                }
            }
            reps.push((lam, plan));
            let pk = proj(k);
            match values.iter().position(|(_, c)| *c == Some(k)) {
                Some(kc) => {
                    // e^(zλ)Π + e^(zλ̄)Π̄ = Re e^(zλ) (Π + Π̄) + Im e^(zλ) i(Π − Π̄)
                    let pc = proj(kc);
                    let re: Vec<C64> = pk.iter().zip(&pc).map(|(a, b)| a + b).collect();
                    let im: Vec<C64> = pk.iter().zip(&pc).map(|(a, b)| (a - b) * C64::new(0.0, 1.0)).collect();
                    pieces.push((1 + 2 * r, pauli_superop(&re, "the coupling's projector pair")?));
                    pieces.push((2 + 2 * r, pauli_superop(&im, "the coupling's projector pair")?));
                }
                None if lam.im == 0.0 => pieces.push((1 + 2 * r, pauli_superop(&pk, "the coupling's projector")?)),
                None => return Err(Error::numerical(format!("internal: complex coupling eigenvalue {lam} without its conjugate"))),
            }
        }
        // entries of C(z) = Σ f_k · piece_k, and the blocks they form
        let entry = |i: usize, j: usize| -> Vec<(u8, f64)> { pieces.iter().map(|(f, m)| (*f as u8, m[16 * i + j])).filter(|(_, v)| v.abs() > 1e-12).collect() };
        let mut partner = [None::<usize>; 16];
        for (i, part) in partner.iter_mut().enumerate() {
            for j in (0..16).filter(|&j| j != i) {
                if !(entry(i, j).is_empty() && entry(j, i).is_empty()) {
                    if part.is_some_and(|p| p != j) {
                        return Err(Error::numerical("internal: the coupling factor is not block diagonal with blocks of size ≤ 2 in Pauli coordinates"));
                    }
                    *part = Some(j);
                }
            }
        }
        let (mut pairs, mut singles) = (Vec::new(), Vec::new());
        for (i, part) in partner.iter().enumerate() {
            match *part {
                Some(j) if j > i => {
                    let e = [Entry::new(&entry(i, i))?, Entry::new(&entry(i, j))?, Entry::new(&entry(j, i))?, Entry::new(&entry(j, j))?];
                    pairs.push((i as u8, j as u8, e));
                }
                Some(_) => {}
                None => {
                    let e = entry(i, i);
                    if e != [(0, 1.0)] {
                        singles.push((i as u8, Entry::new(&e)?));
                    }
                }
            }
        }
        Ok(SplitStep { full, half, unhalf, read, reps, pairs, singles })
    }

    /// `f` of [`SplitStep::reps`] at `z = γ·dt`.
    #[inline]
    fn factors(&self, z: f64) -> [f64; NF] {
        let mut f = [0.0; NF];
        f[0] = 1.0;
        let mut w = [Z; 4];
        for (r, &(lam, plan)) in self.reps.iter().enumerate() {
            let e = match plan {
                ExpPlan::Direct => {
                    let (x, y) = (z * lam.re, z * lam.im);
                    let m = if x == 0.0 { 1.0 } else { x.exp() };
                    if y == 0.0 {
                        C64::new(m, 0.0)
                    } else {
                        let (s, c) = sin_cos(y);
                        C64::new(m * c, m * s)
                    }
                }
                ExpPlan::Square(b, s) => {
                    let mut e = w[b & 3];
                    for _ in 0..s {
                        e = e * e;
                    }
                    e
                }
                ExpPlan::Recip(b) => C64::new(1.0 / w[b & 3].re, 0.0),
            };
            w[r & 3] = e;
            f[(1 + 2 * r) & (NF - 1)] = e.re;
            f[(2 + 2 * r) & (NF - 1)] = e.im;
        }
        f
    }

    /// σ ← C(γ) σ.
    #[inline]
    fn couple(&self, s: &mut [f64; 16], z: f64) {
        let f = self.factors(z);
        for (i, j, e) in &self.pairs {
            let (i, j) = (*i as usize & 15, *j as usize & 15);
            let (x, y) = (s[i], s[j]);
            s[i] = e[0].value(&f) * x + e[1].value(&f) * y;
            s[j] = e[2].value(&f) * x + e[3].value(&f) * y;
        }
        for (i, e) in &self.singles {
            s[*i as usize & 15] *= e.value(&f);
        }
    }

    /// σ ← E C(γ) σ (one step in the half-step frame).
    #[inline]
    fn step(&self, s: &mut [f64; 16], gamma: f64, dt: f64) {
        self.couple(s, gamma * dt);
        *s = self.full.apply(s);
    }

    /// ⟨M⁽q⁾⟩ of read-out `r` (0: σx, 1: σz) from σ.
    #[inline]
    fn readout(&self, r: usize, q: usize, s: &[f64; 16]) -> f64 {
        let [(p0, c0), (p1, c1)] = self.read[r & 1][q & 1];
        c0 * s[p0 as usize & 15] + c1 * s[p1 as usize & 15]
    }
}

/// One bridge while the network runs. `repr(C)` keeps the fields a `split` step touches in the
/// first four cache lines.
#[repr(C)]
pub(crate) struct BridgeState {
    pub neurons: [usize; 2],
    gamma0: f64,
    beta: f64,
    /// ⟨M⁽⁰⁾⟩, ⟨M⁽¹⁾⟩ at the current time.
    pub m: [f64; 2],
    /// γ over the current step.
    pub gamma: f64,
    dt: f64,
    /// `split`: `σ = e^(𝓛₀dt/2) ρ` in Pauli coordinates (see [`SplitStep`]).
    sigma: [f64; 16],
    /// Split factors, shared by all bridges with the same ω, κ and coupling.
    split: Option<Arc<SplitStep>>,
    /// `split`: read-out operator (0: σx, 1: σz), see [`SplitStep::readout`].
    read: u8,
    method: BridgeMethod,
    pub alpha: [f64; 2],
    /// Everything a `split` step does not touch, out of line so that the bridges of a chunk
    /// lie close together.
    pub cold: Box<Cold>,
}

/// The rarely used part of a [`BridgeState`].
pub(crate) struct Cold {
    /// `expm`, `rk4`: vec(ρ), column stacking (= ρ column-major).
    rho: [C64; 16],
    /// `U = e^(−iθσx/2)` on qubit 0 and on qubit 1 (None when θ = 0).
    kick: Option<[DMatrix<C64>; 2]>,
    l0: Vec<C64>,
    l1: Vec<C64>,
    m_ops: [Vec<(u8, C64)>; 2],
    cache: Option<(u64, Mat<C64>)>,
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
        let (m_local, read) = match b.measure {
            Readout::X => (crate::ops::sigmax(), 0u8),
            Readout::Z => (crate::ops::sigmaz(), 1u8),
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
                    let sp = Arc::new(SplitStep::new(b, &l0, &l1, dt)?);
                    splits.push((key, Arc::clone(&sp)));
                    Some(sp)
                }
            }
        } else {
            None
        };
        let rho = dense4(&b.initial);
        let sigma = match &split {
            Some(sp) => sp.half.apply(&rho_to_pauli(&rho)),
            None => [0.0; 16],
        };
        let mut state = BridgeState {
            neurons: b.neurons,
            gamma0: b.gamma0,
            beta: b.beta,
            m: [0.0; 2],
            gamma: b.gamma0,
            dt,
            sigma,
            split,
            read,
            method,
            alpha: b.alpha,
            cold: Box::new(Cold {
                rho,
                kick,
                l0,
                l1,
                m_ops,
                cache: None,
                propagators: 0,
                rhs_evals: 0,
            }),
        };
        state.read_out();
        Ok(state)
    }

    /// ⟨M⁽⁰⁾⟩, ⟨M⁽¹⁾⟩ of the current state into `m` (after construction, every advance and every
    /// kick, so that step phase (1) reads them without touching the state).
    #[inline]
    fn read_out(&mut self) {
        self.m = match &self.split {
            Some(sp) => [sp.readout(self.read as usize, 0, &self.sigma), sp.readout(self.read as usize, 1, &self.sigma)],
            None => [readout(&self.cold.m_ops[0], &self.cold.rho), readout(&self.cold.m_ops[1], &self.cold.rho)],
        };
    }

    /// Step phase (2): γ from the potentials `vi`, `vk` of the bridge's two neurons at t_n.
    #[inline]
    pub fn couple(&mut self, vi: f64, vk: f64) {
        let dv = (vi - vk).abs();
        self.gamma = if self.beta == 0.0 { self.gamma0 } else { self.gamma0 * (-self.beta * dv).exp() };
    }

    /// ρ at the current time, column-major (unfolded from the half-step frame for `split`).
    fn rho_now(&self) -> [C64; 16] {
        match &self.split {
            Some(sp) => pauli_to_rho(&sp.unhalf.apply(&self.sigma)),
            None => self.cold.rho,
        }
    }

    pub fn density_matrix(&self) -> DMatrix<C64> {
        DMatrix::from_column_slice(4, 4, &self.rho_now())
    }

    /// The recorded sample at the current time: ⟨M⁽⁰⁾⟩, ⟨M⁽¹⁾⟩, γ (set by [`BridgeState::couple`])
    /// and the concurrence.
    pub fn record(&self) -> Result<[f64; 4]> {
        Ok([self.m[0], self.m[1], self.gamma, measures::concurrence_4x4(&self.rho_now())?])
    }

    /// Step phase (3): ρ(t_n) → ρ(t_n + dt) with γ held at `self.gamma`, and ⟨M⟩ of the new state.
    #[inline]
    pub fn advance(&mut self, t: f64) -> Result<()> {
        let g = self.gamma;
        let dt = self.dt;
        if let Some(sp) = &self.split {
            sp.step(&mut self.sigma, g, dt);
            if self.sigma.iter().any(|x| !x.is_finite()) {
                return Err(self.non_finite(t));
            }
            self.read_out();
            return Ok(());
        }
        match self.method {
            BridgeMethod::Split => return Err(Error::numerical("internal: split bridge without precomputed factors")),
            BridgeMethod::Expm => {
                let hit = matches!(&self.cold.cache, Some((bits, _)) if *bits == g.to_bits());
                if !hit {
                    // into the bridge's propagator buffer, with the thread's Padé scratch: no allocation
                    let mut p = match self.cold.cache.take() {
                        Some((_, p)) => p,
                        None => Mat::zeros(16, 16),
                    };
                    let (l0, l1) = (&self.cold.l0, &self.cold.l1);
                    integrate::expm::with_scratch(16, |s| {
                        let a = &mut s.mats[0];
                        for j in 0..16 {
                            for i in 0..16 {
                                a[(i, j)] = (l0[i + 16 * j] + l1[i + 16 * j] * g) * dt;
                            }
                        }
                        integrate::expm::expm_into(a.as_ref(), &mut s.work, &mut p);
                    });
                    self.cold.cache = Some((g.to_bits(), p));
                    self.cold.propagators += 1;
                }
                let p = &self.cold.cache.as_ref().expect("cached").1;
                let rho = self.cold.rho;
                self.cold.rho = std::array::from_fn(|i| (0..16).map(|j| p[(i, j)] * rho[j]).sum());
            }
            BridgeMethod::Rk4 => {
                let a: Vec<C64> = (0..256).map(|k| self.cold.l0[k] + self.cold.l1[k] * g).collect();
                let mut rhs = DenseRhs { a: &a };
                let mut out = Collect::default();
                let st = integrate::rk4(&mut rhs, &self.cold.rho, &[0.0, dt], dt, &mut out, None)?;
                self.cold.rhs_evals += st.rhs_evals;
                self.cold.rho.copy_from_slice(&out.states.pop().expect("rk4 output"));
            }
        }
        if self.cold.rho.iter().any(|z| !z.re.is_finite() || !z.im.is_finite()) {
            return Err(self.non_finite(t));
        }
        self.symmetrize();
        self.read_out();
        Ok(())
    }

    fn non_finite(&self, t: f64) -> Error {
        Error::numerical(format!("bridge between neurons {} and {}: non-finite state at t = {}", self.neurons[0], self.neurons[1], t + self.dt))
    }

    /// ρ ← (ρ + ρ†)/2 (removes rounding-level anti-Hermitian parts; exact for the generators here,
    /// which all preserve Hermiticity). Not needed for `split`, whose state is real Pauli
    /// coordinates.
    fn symmetrize(&mut self) {
        for j in 0..4 {
            for i in 0..=j {
                let h = (self.cold.rho[i + 4 * j] + self.cold.rho[j + 4 * i].conj()) * 0.5;
                self.cold.rho[i + 4 * j] = h;
                self.cold.rho[j + 4 * i] = h.conj();
            }
        }
    }

    /// Spike kick on qubit `q` (0 or 1): ρ ← UρU† (`split`: unfolded from and folded back into
    /// the half-step frame, σ ← A U(A⁻¹σ)U†).
    pub fn kick(&mut self, q: usize) {
        if let Some(k) = &self.cold.kick {
            let r = &k[q] * self.density_matrix() * k[q].adjoint();
            match &self.split {
                Some(sp) => {
                    let mut rho = [Z; 16];
                    rho.copy_from_slice(r.as_slice());
                    self.sigma = sp.half.apply(&rho_to_pauli(&rho));
                }
                None => self.cold.rho.copy_from_slice(r.as_slice()),
            }
            self.read_out();
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

    fn random_rho(r: &mut crate::neural::rng::Xoshiro256) -> [C64; 16] {
        // Ψ Ψ† / Tr for a random 4×4 Ψ
        let psi: Vec<C64> = (0..16).map(|_| C64::new(r.uniform() - 0.5, r.uniform() - 0.5)).collect();
        let mut rho: [C64; 16] = std::array::from_fn(|k| (0..4).map(|m| psi[k % 4 + 4 * m] * psi[k / 4 + 4 * m].conj()).sum());
        let tr: f64 = (0..4).map(|i| rho[5 * i].re).sum();
        rho.iter_mut().for_each(|z| *z /= tr);
        rho
    }

    #[test]
    fn pauli_coordinates_round_trip() {
        let mut r = crate::neural::rng::Xoshiro256::seed_from_u64(9);
        for _ in 0..50 {
            let rho = random_rho(&mut r);
            let p = rho_to_pauli(&rho);
            assert!((p[0] - 1.0).abs() < 1e-15);
            let back = pauli_to_rho(&p);
            // against the definition ¼ Σ r_p P_p
            let naive: Vec<C64> = (0..16).map(|k| (0..16).map(|q| pauli_string(q)[k] * (0.25 * p[q])).sum()).collect();
            for k in 0..16 {
                assert!((back[k] - rho[k]).norm() < 1e-15 && (back[k] - naive[k]).norm() < 1e-15, "{k}");
            }
        }
        // σx⊗1 is coordinate 4, 1⊗σz coordinate 3 (the read-out indices)
        let x0 = dense4(&crate::ops::tensor(&[crate::ops::sigmax(), crate::ops::qeye(2)]));
        let z1 = dense4(&crate::ops::tensor(&[crate::ops::qeye(2), crate::ops::sigmaz()]));
        assert_eq!(x0, pauli_string(4));
        assert_eq!(z1, pauli_string(3));
    }

    #[test]
    fn sin_cos_within_an_ulp_of_libm() {
        let mut r = crate::neural::rng::Xoshiro256::seed_from_u64(4);
        let mut worst = 0.0f64;
        for k in 0..200_000 {
            // uniform on [−1/8, 1/8], and log-uniform small arguments
            let x = if k % 2 == 0 { (r.uniform() - 0.5) * 0.25 } else { 0.125 * (-(r.uniform() * 40.0)).exp2() };
            let (s, c) = sin_cos(x);
            for (got, want) in [(s, x.sin()), (c, x.cos())] {
                let ulp = f64::EPSILON * want.abs();
                worst = worst.max((got - want).abs() / ulp);
            }
        }
        // each within 1 ulp of the true value, so within 2 of libm's (≤ 1 ulp) result
        assert!(worst <= 2.0, "{worst} ulp");
        assert_eq!(sin_cos(0.5), (0.5f64.sin(), 0.5f64.cos()));
        assert_eq!(sin_cos(0.0), (0.0, 1.0));
    }

    /// The coupling factor assembled from `reps`, `crows`, `cent` equals the Padé exponential
    /// of z𝓛₁ (Pauli coordinates) for small and large z.
    #[test]
    fn coupling_factor_is_the_exact_exponential() {
        for coupling in [Coupling::Hamiltonian, Coupling::Paper, Coupling::Cp] {
            let (g, _) = generators(&spec(coupling), 0.1).unwrap();
            let (l0, l1) = (superop(&g.l0).unwrap(), superop(&g.l1).unwrap());
            let sp = SplitStep::new(&spec(coupling), &l0, &l1, 0.1).unwrap();
            let plans: Vec<ExpPlan> = sp.reps.iter().map(|r| r.1).collect();
            match coupling {
                Coupling::Hamiltonian => assert_eq!(plans, [ExpPlan::Direct]),
                Coupling::Paper => assert_eq!(plans, [ExpPlan::Direct, ExpPlan::Recip(0)]),
                Coupling::Cp => assert_eq!(plans, [ExpPlan::Direct, ExpPlan::Square(0, 2)]),
            }
            for z in [1e-5, 0.01, 0.124, 0.3, 3.0] {
                let mut c = [0.0; 256];
                for j in 0..16 {
                    let mut col = [0.0; 16];
                    col[j] = 1.0;
                    sp.couple(&mut col, z);
                    for i in 0..16 {
                        c[16 * i + j] = col[i];
                    }
                }
                let e = integrate::expm::expm(&Mat::from_fn(16, 16, |i, j| l1[i + 16 * j] * z));
                let d: Vec<C64> = (0..256).map(|k| e[(k % 16, k / 16)]).collect();
                let want = pauli_superop(&d, "test").unwrap();
                let scale = want.iter().fold(0.0f64, |m, x| m.max(x.abs()));
                let err = c.iter().zip(&want).fold(0.0f64, |m, (a, b)| m.max((a - b).abs())) / scale;
                assert!(err < 1e-13, "{coupling:?} z = {z}: {err:e}");
            }
            if coupling == Coupling::Hamiltonian {
                // 8 coordinates commute with σx⊗σx, 4 pairs rotate
                assert_eq!((sp.pairs.len(), sp.singles.len()), (4, 0));
                assert!(sp.pairs.iter().all(|(_, _, e)| e.iter().all(|x| x.c[1] == 0.0)), "one term per entry");
            }
        }
    }

    /// The merged half-step frame gives the states and read-outs of the plain Strang step
    /// `ρ ← A C(γ) A ρ` (dense Padé factors), with γ changing every step and spike kicks.
    #[test]
    fn merged_frame_matches_the_unmerged_strang_step() {
        let dt = 0.1;
        for coupling in [Coupling::Hamiltonian, Coupling::Paper, Coupling::Cp] {
            for measure in [Readout::X, Readout::Z] {
                let mut s = spec(coupling);
                s.measure = measure;
                s.spike_kick = 0.7;
                s.beta = 0.2;
                let mut splits = SplitCache::new();
                let mut b = BridgeState::new(&s, BridgeMethod::Split, dt, &mut splits).unwrap();
                let (g, _) = generators(&s, s.gamma0).unwrap();
                let (l0, l1) = (superop(&g.l0).unwrap(), superop(&g.l1).unwrap());
                let a = integrate::expm::expm(&Mat::from_fn(16, 16, |i, j| l0[i + 16 * j] * (0.5 * dt)));
                let mo = dense4(&crate::ops::tensor(&[if measure == Readout::X { crate::ops::sigmax() } else { crate::ops::sigmaz() }, crate::ops::qeye(2)]));
                let mut rho = dense4(&s.initial);
                let mut r = crate::neural::rng::Xoshiro256::seed_from_u64(1);
                let (mut worst, mut worst_c) = (0.0f64, 0.0f64);
                // `paper` is not CP and amplifies a coherence as e^(4γt): a shorter run
                let steps = if coupling == Coupling::Paper { 400 } else { 3000 };
                for n in 0..steps {
                    let (vi, vk) = (-65.0 + 15.0 * r.uniform(), -65.0 + 15.0 * r.uniform());
                    b.couple(vi, vk);
                    // the plain scheme's dense Padé factors let its trace drift by ~1e-16 per
                    // step (the merged one keeps it, see `local_channel`): compare ρ/Tr ρ
                    let tr_ref: f64 = (0..4).map(|i| rho[5 * i].re).sum();
                    let m_ref = (0..16).map(|k| (mo[(k / 4) + 4 * (k % 4)] * rho[k]).re).sum::<f64>() / tr_ref;
                    worst = worst.max((b.m[0] - m_ref).abs());
                    if n % 100 == 0 {
                        let rec = b.record().unwrap();
                        let c_ref = measures::concurrence_4x4(&rho).unwrap();
                        worst_c = worst_c.max((rec[3] - c_ref).abs());
                    }
                    let gamma = s.gamma0 * (-s.beta * (vi - vk).abs()).exp();
                    assert_eq!(b.gamma, gamma);
                    let c = integrate::expm::expm(&Mat::from_fn(16, 16, |i, j| l1[i + 16 * j] * (gamma * dt)));
                    let step = |m: &Mat<C64>, x: [C64; 16]| -> [C64; 16] { std::array::from_fn(|i| (0..16).map(|j| m[(i, j)] * x[j]).sum()) };
                    rho = step(&a, step(&c, step(&a, rho)));
                    b.advance(n as f64 * dt).unwrap();
                    if n % 37 == 5 {
                        let q = n % 2;
                        b.kick(q);
                        let u = &b.cold.kick.as_ref().unwrap()[q];
                        let k = u * DMatrix::from_column_slice(4, 4, &rho) * u.adjoint();
                        rho.copy_from_slice(k.as_slice());
                    }
                    if n % 250 == 0 {
                        let scale = rho.iter().fold(0.0f64, |m, z| m.max(z.norm()));
                        let got = b.rho_now();
                        worst = worst.max(rho.iter().zip(&got).fold(0.0f64, |m, (x, y)| m.max((x / tr_ref - y).norm())) / scale);
                    }
                }
                let got = b.rho_now();
                let tr = |r: &[C64; 16]| (0..4).map(|i| r[5 * i].re).sum::<f64>() - 1.0;
                eprintln!("{coupling:?} {measure:?}: largest difference of ⟨M⟩ and ρ {worst:e}, of the concurrence {worst_c:e}; trace − 1: {:e} (merged), {:e} (plain)", tr(&got), tr(&rho));
                assert!(worst < 1e-13 && worst_c < 1e-10 && tr(&got).abs() < 1e-13, "{coupling:?} {measure:?}: {worst:e}, {worst_c:e}");
            }
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
                b.couple(v[0], v[1]);
                b.advance(k as f64).unwrap();
            }
            best = best.min(crate::clock::now_s() - t0);
        }
        println!("split couple+advance (with the read-out): {:.1} ns", best / reps as f64 * 1e9);
        let mut best = f64::INFINITY;
        let mut acc = 0.0;
        for _ in 0..200 {
            let t0 = crate::clock::now_s();
            for _ in 0..200 {
                acc += measures::concurrence_4x4(std::hint::black_box(&b.rho_now())).unwrap();
            }
            best = best.min(crate::clock::now_s() - t0);
        }
        println!("concurrence_4x4: {:.1} ns ({acc})", best / 200.0 * 1e9);
    }
}
