//! The `split` bridge step: Strang splitting `e^(𝓛₀dt/2) e^(γ𝓛₁dt) e^(𝓛₀dt/2)` (G. Strang,
//! SIAM J. Numer. Anal. 5, 506 (1968)) with every factor exact, carried in the half-step frame
//! `σ = e^(𝓛₀dt/2)ρ` in real Pauli coordinates ([`SplitStep`]): the single-qubit channels
//! `e^(t𝓛₀⁽q⁾)`, the spectral form of the coupling factor `e^(γ𝓛₁dt)` in the σx⊗σx eigenbasis
//! (the three couplings of the NEST paper, §II) and the fast sine/cosine it needs.

use super::dense::superop;
use super::pauli::{pauli_string, pauli_superop, Local, Product};
use super::Z;
use crate::coef::Coef;
use crate::error::{Error, Result};
use crate::integrate;
use crate::lindblad::Lindbladian;
use crate::neural::spec::BridgeSpec;
use crate::ops::OpContext;
use crate::C64;
use faer::Mat;

/// `which` marker of an entry with `c_mn = 0` (left unchanged by the coupling factor).
const NONE: usize = usize::MAX;

/// `e^(t𝓛₀⁽q⁾)` of qubit q of bridge `b` (`𝓛₀⁽q⁾ = −iω_q[σz, ·] + κ_q D[σ−]`, built with the
/// engine's [`Lindbladian`] like [`generators`](super::generators)) in Pauli coordinates,
/// checked phase covariant.
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
pub(super) fn sin_cos(x: f64) -> (f64, f64) {
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
pub(super) enum ExpPlan {
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
    pub(super) half: Product,
    /// `A⁻¹ = e^(−𝓛₀dt/2)` (out of it).
    pub(super) unhalf: Product,
    /// Read-out functionals `⟨M⁽q⁾⟩ = Σ c·σ_p` (rows of A⁻¹), `[X, Z][qubit]`, two `(p, c)` each.
    read: [[[(u8, f64); 2]; 2]; 2],
    /// Representative eigenvalues λ of 𝓛₁ (one per conjugate pair, |λ| ascending) and how
    /// `e^(zλ)` is computed; factor r gives `f[1 + 2r] = Re e^(zλ)`, `f[2 + 2r] = Im e^(zλ)`,
    /// `f[0] = 1`.
    pub(super) reps: Vec<(C64, ExpPlan)>,
    /// 2×2 blocks `(i, j, [e_ii, e_ij, e_ji, e_jj])`: `(σ_i, σ_j) ← [[e_ii, e_ij], [e_ji, e_jj]] (σ_i, σ_j)`.
    pub(super) pairs: Vec<(u8, u8, [Entry; 4])>,
    /// 1×1 blocks `(i, e)`: `σ_i ← e σ_i`. Coordinates in no block are left unchanged.
    pub(super) singles: Vec<(u8, Entry)>,
}

/// An entry of the coupling factor, `c₀·f[k₀] + c₁·f[k₁]` (one or two terms: every entry of the
/// three couplings' factors has at most two; a single term has `c₁ = 0`, which adds an exact
/// +0). Evaluated in registers, per block, so that no entry goes through memory.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Entry {
    k: [u8; 2],
    pub(super) c: [f64; 2],
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
    pub(super) fn new(b: &BridgeSpec, l0: &[C64], l1: &[C64], dt: f64) -> Result<SplitStep> {
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
    pub(super) fn couple(&self, s: &mut [f64; 16], z: f64) {
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
    pub(super) fn step(&self, s: &mut [f64; 16], gamma: f64, dt: f64) {
        self.couple(s, gamma * dt);
        *s = self.full.apply(s);
    }

    /// ⟨M⁽q⁾⟩ of read-out `r` (0: σx, 1: σz) from σ.
    #[inline]
    pub(super) fn readout(&self, r: usize, q: usize, s: &[f64; 16]) -> f64 {
        let [(p0, c0), (p1, c1)] = self.read[r & 1][q & 1];
        c0 * s[p0 as usize & 15] + c1 * s[p1 as usize & 15]
    }
}
