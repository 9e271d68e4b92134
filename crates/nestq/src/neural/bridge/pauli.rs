//! Real Pauli coordinates of a two-qubit bridge: `r_p = Tr(P_p ρ)` with `P_p = σ_a ⊗ σ_b`
//! (p = 4a + b, the convention of `train::bloch`), `ρ = ¼ Σ_p r_p P_p`; the real Pauli-basis
//! matrix `¼ Tr(P_p S(P_q))` of a Hermiticity-preserving superoperator; and the phase-covariant
//! single-qubit maps (the form of `e^(t(−iω[σz, ·] + κD[σ−]))`) and their tensor products, which
//! the `split` method applies every step (see `split.rs`).

use super::Z;
use crate::error::{Error, Result};
use crate::C64;

/// Pauli-string index `4a + b` of `σ_a ⊗ σ_b` (a on qubit 0, a, b ∈ {I, X, Y, Z} = 0..4), the
/// convention of `train::bloch`. The real coordinates of a Hermitian 4×4 matrix are
/// `r_p = Tr(P_p ρ)`, `ρ = ¼ Σ_p r_p P_p`.
pub(super) fn pauli_string(p: usize) -> [C64; 16] {
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
pub(super) fn rho_to_pauli(rho: &[C64; 16]) -> [f64; 16] {
    std::array::from_fn(|p| {
        let m = pauli_string(p);
        // Tr(P ρ) = Σ_ij P_ji ρ_ij
        (0..4).flat_map(|i| (0..4).map(move |j| (i, j))).map(|(i, j)| (m[j + 4 * i] * rho[i + 4 * j]).re).sum()
    })
}

/// `ρ = ¼ Σ_p r_p P_p`, column-major. Qubit 1 first: the 2×2 blocks `B_a = ¼ Σ_b r_ab σ_b`, then
/// `ρ = Σ_a σ_a ⊗ B_a` block by block (32 complex additions instead of 64 products).
pub(super) fn pauli_to_rho(r: &[f64; 16]) -> [C64; 16] {
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
pub(super) fn pauli_superop(s: &[C64], what: &str) -> Result<[f64; 256]> {
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
pub(super) struct Local {
    pub(super) ii: f64,
    pub(super) xx: f64,
    pub(super) xy: f64,
    pub(super) yx: f64,
    pub(super) yy: f64,
    pub(super) zi: f64,
    pub(super) zz: f64,
}

impl Local {
    /// Row-major 4×4 Pauli-basis matrix.
    pub(super) fn dense(&self) -> [f64; 16] {
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
pub(super) struct Product(pub(super) [Local; 2]);

impl Product {
    #[inline(always)]
    pub(super) fn apply(&self, s: &[f64; 16]) -> [f64; 16] {
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
    pub(super) fn dense(&self) -> [f64; 256] {
        let (m0, m1) = (self.0[0].dense(), self.0[1].dense());
        std::array::from_fn(|k| {
            let (p, q) = (k / 16, k % 16);
            m0[4 * (p / 4) + q / 4] * m1[4 * (p % 4) + q % 4]
        })
    }
}
