//! Real (Bloch / Pauli-basis) form of the two-qubit NEST-bridge generator, used by the trainable
//! network so that forward and backward passes run in real arithmetic.
//!
//! Convention: `P_ab = σ_a ⊗ σ_b` with `a, b ∈ {I, X, Y, Z}` (index 0..4, qubit 0 is the leftmost
//! factor, QuTiP's convention), component index `4a + b`; the state is the real 16-vector
//! `r_ab = Tr(ρ P_ab)`, so `ρ = ¼ Σ r_ab P_ab`, `r_II = Tr ρ = 1` and `Tr(ρ σx⁽⁰⁾) = r[4·1+0]`.
//! A GKSL generator 𝓛 acts as the real matrix `G[ab, cd] = ¼ Tr(P_ab 𝓛(P_cd))` (real because 𝓛
//! preserves Hermiticity). The bridge generator is linear in its parameters,
//! `G = ω_i G_ωi + ω_k G_ωk + κ_i G_κi + κ_k G_κk + γ G_γ`, with the terms of
//! [`crate::neural`] (NEST paper §II): `H = ω_i σz⁽⁰⁾ + ω_k σz⁽¹⁾ (+ γ σx⁽⁰⁾σx⁽¹⁾)`, jumps `√κ σ−`.

use crate::neural::Coupling;
use crate::C64;
use nalgebra::Matrix4;

/// 16×16 real matrix, row-major (`m[16 * row + col]`).
type Mat16 = [f64; 256];

/// Index of the basis operators in [`BridgeBasis::terms`].
pub(crate) const OMEGA_I: usize = 0;
pub(crate) const OMEGA_K: usize = 1;
pub(crate) const KAPPA_I: usize = 2;
pub(crate) const KAPPA_K: usize = 3;
pub(crate) const GAMMA: usize = 4;

type M4 = Matrix4<C64>;

fn pauli(a: usize) -> nalgebra::Matrix2<C64> {
    let (z, o, i) = (C64::new(0.0, 0.0), C64::new(1.0, 0.0), C64::new(0.0, 1.0));
    match a {
        0 => nalgebra::Matrix2::new(o, z, z, o),
        1 => nalgebra::Matrix2::new(z, o, o, z),
        2 => nalgebra::Matrix2::new(z, -i, i, z),
        _ => nalgebra::Matrix2::new(o, z, z, -o),
    }
}

fn kron(a: &nalgebra::Matrix2<C64>, b: &nalgebra::Matrix2<C64>) -> M4 {
    M4::from_fn(|r, c| a[(r / 2, c / 2)] * b[(r % 2, c % 2)])
}

/// `P_ab = σ_a ⊗ σ_b` for component index `4a + b`.
pub(crate) fn pauli_product(idx: usize) -> M4 {
    kron(&pauli(idx / 4), &pauli(idx % 4))
}

fn commutator_term(h: &M4) -> impl Fn(&M4) -> M4 + '_ {
    move |x: &M4| (h * x - x * h) * C64::new(0.0, -1.0)
}

fn dissipator(l: M4) -> impl Fn(&M4) -> M4 {
    let ld = l.adjoint();
    let ldl = ld * l;
    move |x: &M4| l * x * ld - (ldl * x + x * ldl) * C64::new(0.5, 0.0)
}

/// γ-independent cross pair of the `paper` coupling: `A ρ B† − ½{B†A, ρ}` + (A↔B), A = X0, B = X1.
fn paper_cross(a: M4, b: M4) -> impl Fn(&M4) -> M4 {
    move |x: &M4| {
        let ab = b.adjoint() * a;
        let ba = a.adjoint() * b;
        a * x * b.adjoint() - (ab * x + x * ab) * C64::new(0.5, 0.0) + b * x * a.adjoint() - (ba * x + x * ba) * C64::new(0.5, 0.0)
    }
}

/// Real Pauli-basis matrix of a superoperator given as a function on 4×4 matrices.
fn real_matrix(f: impl Fn(&M4) -> M4) -> Mat16 {
    let basis: Vec<M4> = (0..16).map(pauli_product).collect();
    let mut g = [0.0; 256];
    for (cd, p) in basis.iter().enumerate() {
        let lp = f(p);
        for (ab, q) in basis.iter().enumerate() {
            let v = (q * lp).trace() * 0.25;
            debug_assert!(v.im.abs() < 1e-12, "generator is not Hermiticity-preserving");
            g[16 * ab + cd] = v.re;
        }
    }
    g
}

/// The five parameter-free generators of one bridge in the Pauli basis, stored on the union of
/// their sparsity patterns (43–47 of the 256 entries, so matrix–vector products are sparse).
#[derive(Clone, Debug)]
pub(crate) struct BridgeBasis {
    /// `(row, col)` of the stored entries, sorted by row then column.
    pub rc: Vec<(usize, usize)>,
    /// Columns of the stored entries (CSR order) and row starts.
    cols: Vec<usize>,
    row_ptr: [usize; 17],
    /// Values of `[G_ωi, G_ωk, G_κi, G_κk, G_γ]` on `rc`.
    pub terms: [Vec<f64>; 5],
}

/// A generator's values on the pattern of a [`BridgeBasis`] (at most 256 entries).
pub(crate) struct Gen<'a> {
    rc: &'a [(usize, usize)],
    cols: &'a [usize],
    row_ptr: &'a [usize; 17],
    v: [f64; 256],
}

impl BridgeBasis {
    /// Generators for the given coupling mode (`hamiltonian`, `paper` or `cp`, as in
    /// [`crate::neural`]).
    pub fn new(coupling: Coupling) -> Self {
        let i2 = pauli(0);
        let (x, z) = (pauli(1), pauli(3));
        let (zero, one) = (C64::new(0.0, 0.0), C64::new(1.0, 0.0));
        // σ− = [[0,0],[1,0]] (QuTiP's sigmam with basis 0 the +1 eigenstate of σz).
        let sm = nalgebra::Matrix2::new(zero, zero, one, zero);
        let (z0, z1) = (kron(&z, &i2), kron(&i2, &z));
        let (x0, x1) = (kron(&x, &i2), kron(&i2, &x));
        let (sm0, sm1) = (kron(&sm, &i2), kron(&i2, &sm));
        let xx = x0 * x1;
        let g_gamma = match coupling {
            Coupling::Hamiltonian => real_matrix(commutator_term(&xx)),
            Coupling::Paper => real_matrix(paper_cross(x0, x1)),
            Coupling::Cp => real_matrix(dissipator(x0 + x1)),
        };
        let dense = [
            real_matrix(commutator_term(&z0)),
            real_matrix(commutator_term(&z1)),
            real_matrix(dissipator(sm0)),
            real_matrix(dissipator(sm1)),
            g_gamma,
        ];
        let rc: Vec<(usize, usize)> = (0..256).filter(|&e| dense.iter().any(|d| d[e].abs() > 1e-15)).map(|e| (e / 16, e % 16)).collect();
        let terms = std::array::from_fn(|j| rc.iter().map(|&(r, c)| dense[j][16 * r + c]).collect());
        let cols = rc.iter().map(|&(_, c)| c).collect();
        let mut row_ptr = [0; 17];
        for &(r, _) in &rc {
            row_ptr[r + 1] += 1;
        }
        for r in 0..16 {
            row_ptr[r + 1] += row_ptr[r];
        }
        BridgeBasis { rc, cols, row_ptr, terms }
    }

    /// `G = Σ c_j terms[j]` for coefficients `[ω_i, ω_k, κ_i, κ_k, γ]`.
    pub fn generator(&self, c: &[f64; 5]) -> Gen<'_> {
        let mut v = [0.0; 256];
        for (t, cj) in self.terms.iter().zip(c) {
            if *cj != 0.0 {
                for (gi, ti) in v.iter_mut().zip(t.iter()) {
                    *gi += cj * ti;
                }
            }
        }
        Gen { rc: &self.rc, cols: &self.cols, row_ptr: &self.row_ptr, v }
    }
}

/// `y = G x`.
#[inline]
pub(crate) fn matvec(g: &Gen, x: &[f64; 16]) -> [f64; 16] {
    std::array::from_fn(|r| {
        let (a, b) = (g.row_ptr[r], g.row_ptr[r + 1]);
        g.v[a..b].iter().zip(&g.cols[a..b]).map(|(v, &c)| v * x[c]).sum()
    })
}

/// `y = Gᵀ x`.
#[inline]
pub(crate) fn matvec_t(g: &Gen, x: &[f64; 16]) -> [f64; 16] {
    let mut y = [0.0; 16];
    for (&(r, c), a) in g.rc.iter().zip(&g.v) {
        y[c] += a * x[r];
    }
    y
}

fn axpy(a: f64, x: &[f64; 16], y: &[f64; 16]) -> [f64; 16] {
    let mut z = *y;
    for (zi, xi) in z.iter_mut().zip(x) {
        *zi += a * xi;
    }
    z
}

/// One classical RK4 step of size `h` of `ṙ = G r`.
pub(crate) fn rk4_step(g: &Gen, r: &[f64; 16], h: f64) -> [f64; 16] {
    let k1 = matvec(g, r);
    let k2 = matvec(g, &axpy(0.5 * h, &k1, r));
    let k3 = matvec(g, &axpy(0.5 * h, &k2, r));
    let k4 = matvec(g, &axpy(h, &k3, r));
    let mut out = *r;
    for i in 0..16 {
        out[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
    }
    out
}

/// Discrete adjoint of [`rk4_step`]: given `r̄'` (the loss gradient w.r.t. the step's output)
/// returns `r̄` and adds `∂L/∂G` on the pattern (`g_bar[e]` for entry `rc[e]`) into `g_bar`.
pub(crate) fn rk4_step_adjoint(g: &Gen, r: &[f64; 16], h: f64, rbar_out: &[f64; 16], g_bar: &mut [f64]) -> [f64; 16] {
    // Forward stages (recomputed).
    let u1 = *r;
    let k1 = matvec(g, &u1);
    let u2 = axpy(0.5 * h, &k1, r);
    let k2 = matvec(g, &u2);
    let u3 = axpy(0.5 * h, &k2, r);
    let k3 = matvec(g, &u3);
    let u4 = axpy(h, &k3, r);
    let mut rbar = *rbar_out;
    let scale = |s: f64| rbar_out.map(|x| s * x);
    let kb4 = scale(h / 6.0);
    let mut kb3 = scale(h / 3.0);
    let mut kb2 = scale(h / 3.0);
    let mut kb1 = scale(h / 6.0);
    // Stage k = G u: Ḡ += k̄ uᵀ, ū = Gᵀ k̄.
    let stage = |kb: &[f64; 16], u: &[f64; 16], g_bar: &mut [f64]| -> [f64; 16] {
        for (r, &k) in kb.iter().enumerate() {
            let (a, b) = (g.row_ptr[r], g.row_ptr[r + 1]);
            for (gb, &c) in g_bar[a..b].iter_mut().zip(&g.cols[a..b]) {
                *gb += k * u[c];
            }
        }
        matvec_t(g, kb)
    };
    let ub4 = stage(&kb4, &u4, g_bar);
    for i in 0..16 {
        rbar[i] += ub4[i];
        kb3[i] += h * ub4[i];
    }
    let ub3 = stage(&kb3, &u3, g_bar);
    for i in 0..16 {
        rbar[i] += ub3[i];
        kb2[i] += 0.5 * h * ub3[i];
    }
    let ub2 = stage(&kb2, &u2, g_bar);
    for i in 0..16 {
        rbar[i] += ub2[i];
        kb1[i] += 0.5 * h * ub2[i];
    }
    let ub1 = stage(&kb1, &u1, g_bar);
    for i in 0..16 {
        rbar[i] += ub1[i];
    }
    rbar
}

/// `Σ a_e b_e` over the pattern.
pub(crate) fn frob(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b.iter()).map(|(x, y)| x * y).sum()
}

/// Bloch vector of a 4×4 density matrix.
#[cfg(test)]
pub(crate) fn to_bloch(rho: &M4) -> [f64; 16] {
    let mut r = [0.0; 16];
    for (i, ri) in r.iter_mut().enumerate() {
        *ri = (rho * pauli_product(i)).trace().re;
    }
    r
}

/// Density matrix `¼ Σ r_ab P_ab` of a Bloch vector, as a 4×4 row-major array.
pub(crate) fn from_bloch(r: &[f64; 16]) -> M4 {
    let mut rho = M4::zeros();
    for (i, ri) in r.iter().enumerate() {
        rho += pauli_product(i) * C64::new(0.25 * ri, 0.0);
    }
    rho
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Pauli-basis generator agrees with the engine's matrix-form Lindbladian for a random
    /// state and all three couplings.
    #[test]
    fn generator_matches_engine_superoperator() {
        use crate::model::Model;
        for (coupling, name) in [(Coupling::Hamiltonian, "hamiltonian"), (Coupling::Paper, "paper"), (Coupling::Cp, "cp")] {
            let (wi, wk, ki, kk, g) = (0.7, 1.3, 0.05, 0.11, 0.37);
            let coupling_json = match name {
                "hamiltonian" => format!(r#""hamiltonian": [{{"coef": {wi}, "ops": "Z0"}}, {{"coef": {wk}, "ops": "Z1"}}, {{"coef": {g}, "ops": "X0 X1"}}], "cross": []"#),
                "paper" => format!(r#""hamiltonian": [{{"coef": {wi}, "ops": "Z0"}}, {{"coef": {wk}, "ops": "Z1"}}], "cross": [{{"rate": {g}, "a": "X0", "b": "X1"}}, {{"rate": {g}, "a": "X1", "b": "X0"}}]"#),
                _ => format!(r#""hamiltonian": [{{"coef": {wi}, "ops": "Z0"}}, {{"coef": {wk}, "ops": "Z1"}}], "cross": [{{"rate": {g}, "a": "X0", "b": "X1"}}, {{"rate": {g}, "a": "X1", "b": "X0"}}, {{"rate": {g}, "a": "X0", "b": "X0"}}, {{"rate": {g}, "a": "X1", "b": "X1"}}]"#),
            };
            let text = format!(
                r#"{{"dims": [2,2], {coupling_json}, "jumps": [{{"rate": {ki}, "ops": "SM0"}}, {{"rate": {kk}, "ops": "SM1"}}],
                   "initial": {{"basis": [0,0]}}, "times": [0, 1]}}"#
            );
            let model = Model::from_json_str(&text).unwrap();
            let mut rhs = model.lindbladian().unwrap().compile();
            // A random Hermitian unit-trace matrix.
            let mut r = [0.0; 16];
            r[0] = 1.0;
            for (i, ri) in r.iter_mut().enumerate().skip(1) {
                *ri = ((i * 37 % 11) as f64 - 5.0) / 17.0;
            }
            let rho = from_bloch(&r);
            // Column-major buffers.
            let x: Vec<C64> = (0..16).map(|i| rho[(i % 4, i / 4)]).collect();
            let mut d = vec![C64::new(0.0, 0.0); 16];
            rhs.apply(0.0, &x, &mut d);
            let basis = BridgeBasis::new(coupling);
            let gr = matvec(&basis.generator(&[wi, wk, ki, kk, g]), &r);
            let expect = to_bloch(&M4::from_fn(|a, b| d[a + 4 * b]));
            for i in 0..16 {
                assert!((gr[i] - expect[i]).abs() < 1e-13, "{name}: component {i}: {} vs {}", gr[i], expect[i]);
            }
        }
    }

    /// The adjoint of the RK4 step is the transpose of its Jacobian (finite differences).
    #[test]
    fn rk4_adjoint_matches_finite_differences() {
        let basis = BridgeBasis::new(Coupling::Cp);
        let c = [0.9, 1.1, 0.05, 0.07, 0.3];
        let g = basis.generator(&c);
        let r: [f64; 16] = std::array::from_fn(|i| if i == 0 { 1.0 } else { ((i * 7 % 5) as f64 - 2.0) / 9.0 });
        let w: [f64; 16] = std::array::from_fn(|i| ((i * 3 % 7) as f64 - 3.0) / 5.0);
        let h = 0.3;
        let loss = |g: &Gen, r: &[f64; 16]| -> f64 { rk4_step(g, r, h).iter().zip(&w).map(|(a, b)| a * b).sum() };
        let mut gbar = vec![0.0; basis.rc.len()];
        let rbar = rk4_step_adjoint(&g, &r, h, &w, &mut gbar);
        let eps = 1e-6;
        for i in 0..16 {
            let (mut rp, mut rm) = (r, r);
            rp[i] += eps;
            rm[i] -= eps;
            let fd = (loss(&g, &rp) - loss(&g, &rm)) / (2.0 * eps);
            assert!((fd - rbar[i]).abs() < 1e-8, "r̄[{i}]: {fd} vs {}", rbar[i]);
        }
        for j in 0..5 {
            let (mut cp, mut cm) = (c, c);
            cp[j] += eps;
            cm[j] -= eps;
            let fd = (loss(&basis.generator(&cp), &r) - loss(&basis.generator(&cm), &r)) / (2.0 * eps);
            let an = frob(&basis.terms[j], &gbar);
            assert!((fd - an).abs() < 1e-8, "c̄[{j}]: {fd} vs {an}");
        }
    }
}
