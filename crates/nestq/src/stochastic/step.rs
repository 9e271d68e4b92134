//! One step of the stochastic master equation (on ρ) or the stochastic Schrödinger equation (on
//! ψ) for homodyne-type channels `s_i` (heterodyne detection is two such channels per operator,
//! [`super::system`]), Itô form, coefficients taken at the start of the step:
//!
//! - SME (Wiseman & Milburn, *Quantum Measurement and Control*, eq. 4.72; QuTiP 5 `smesolve`):
//!   `dρ = 𝓛ρ dt + Σ_i (s_iρ + ρs_i† − ⟨s_i + s_i†⟩ρ) dW_i`;
//! - SSE (QuTiP 5 `ssesolve`, homodyne): `dψ = [G + Σ_i (½e_i s_i − ⅛e_i²)]ψ dt + Σ_i (s_i −
//!   ½e_i)ψ dW_i`, `e_i = ⟨ψ|s_i + s_i†|ψ⟩/⟨ψ|ψ⟩`, `G = −iH − ½Σ_j C_j†C_j`.
//!
//! Schemes (Kloeden & Platen, *Numerical Solution of SDEs*, §10.2–10.3): Euler–Maruyama
//! `X + a h + Σ b_i ΔW_i` (strong order ½); Milstein for commutative noise, adding
//! `½Σ_i L^i b_i (ΔW_i² − h) + Σ_{j<i} L^j b_i ΔW_i ΔW_j` (strong order 1; with several
//! non-commuting channels the Lévy areas are left out, as in QuTiP 5); Rouchon & Ralph
//! (PRA 91, 012118 (2015), eq. 4, with QuTiP 5's second-order terms): with `dy_i = ⟨s_i +
//! s_i†⟩h + ΔW_i`, `M = I + G h + Σ_i s_i dy_i + ½Σ_i s_i²(dy_i² − h) + Σ_{j<i} s_i s_j dy_i
//! dy_j`, `ρ ← (MρM† + Σ_u C_uρC_u† h)/Tr(…)` and `ψ ← Mψ/‖Mψ‖` — completely positive, so ρ
//! stays a density matrix at any step.
//!
//! Matrices are column-major `n × n` slices (nalgebra's layout); every product is a sparse
//! operator times a dense matrix ([`crate::sparse::left_mul_acc`], `right_mul_acc`).

use super::system::SdeSystem;
use crate::error::Result;
use crate::model::SdeMethod;
use crate::sparse::{caxpy, left_mul_acc, right_mul_acc, Csr};
use crate::C64;

const ZERO: C64 = C64 { re: 0.0, im: 0.0 };
const ONE: C64 = C64 { re: 1.0, im: 0.0 };

fn re(x: f64) -> C64 {
    C64::new(x, 0.0)
}

/// `out = X†` for a column-major `n × n` matrix.
fn adjoint_into(x: &[C64], n: usize, out: &mut [C64]) {
    for j in 0..n {
        for i in 0..n {
            out[j * n + i] = x[i * n + j].conj();
        }
    }
}

/// `Tr X`.
fn trace(x: &[C64], n: usize) -> C64 {
    (0..n).map(|i| x[i * n + i]).sum()
}

/// `x += x†` made exact: `x ← (x + x†)/2` scaled by 2, i.e. `x + x†` (in place).
fn add_adjoint_in_place(x: &mut [C64], n: usize) {
    for j in 0..n {
        for i in 0..=j {
            let v = x[j * n + i] + x[i * n + j].conj();
            x[j * n + i] = v;
            x[i * n + j] = v.conj();
        }
    }
}

/// `x ← (x + x†)/2` in place.
fn hermitize(x: &mut [C64], n: usize) {
    for j in 0..n {
        for i in 0..=j {
            let v = (x[j * n + i] + x[i * n + j].conj()) * 0.5;
            x[j * n + i] = v;
            x[i * n + j] = v.conj();
        }
    }
}

/// Scratch space of one trajectory (SME: `n²` per buffer; SSE: `n`).
pub(crate) struct Work {
    n: usize,
    /// `s_i X` per channel.
    s: Vec<Vec<C64>>,
    /// Diffusion terms `b_i` per channel.
    b: Vec<Vec<C64>>,
    a: Vec<C64>,
    t1: Vec<C64>,
    t2: Vec<C64>,
    next: Vec<C64>,
    /// `√f_i(t)` per channel.
    pub amp: Vec<f64>,
    /// `⟨s_i + s_i†⟩` per channel, at the start of the last step (what `dy_i` uses).
    pub x: Vec<f64>,
}

impl Work {
    /// Scratch for a state of `len` entries (`n²` for ρ, `n` for ψ) and `m` channels.
    pub fn new(n: usize, len: usize, m: usize) -> Work {
        Work {
            n,
            s: vec![vec![ZERO; len]; m],
            b: vec![vec![ZERO; len]; m],
            a: vec![ZERO; len],
            t1: vec![ZERO; len],
            t2: vec![ZERO; len],
            next: vec![ZERO; len],
            amp: vec![0.0; m],
            x: vec![0.0; m],
        }
    }
}

/// `out += α G(t) X` for `X` with columns of length `n`.
fn g_acc(sys: &SdeSystem, t: f64, alpha: C64, x: &[C64], n: usize, out: &mut [C64]) {
    left_mul_acc(alpha, &sys.mc.g0, x, n, out);
    for (c, op) in &sys.mc.td {
        left_mul_acc(alpha * c.at(t), op, x, n, out);
    }
}

/// `out = X + Σ_i dy_i a_i s_i X + ½Σ_i (dy_i² − h) a_i² s_i²X + Σ_{j<i} dy_i dy_j a_i a_j s_i s_j X
/// + h G X`: the Rouchon operator `M` applied to `X`.
fn m_apply(sys: &SdeSystem, t: f64, h: f64, amp: &[f64], dy: &[f64], x: &[C64], n: usize, out: &mut [C64]) {
    out.copy_from_slice(x);
    g_acc(sys, t, re(h), x, n, out);
    for (i, ch) in sys.channels.iter().enumerate() {
        left_mul_acc(re(dy[i] * amp[i]), &ch.op, x, n, out);
        for j in 0..=i {
            let w = if i == j { 0.5 * (dy[i] * dy[i] - h) } else { dy[i] * dy[j] } * amp[i] * amp[j];
            if w != 0.0 {
                left_mul_acc(re(w), &sys.pairs[i][j], x, n, out);
            }
        }
    }
}

// The SME kernels keep ρ Hermitian and form every product as a right-multiplication `X·A†`
// ([`right_mul_acc`]: contiguous column updates that vectorise), using `A·ρ = (ρ·A†)†`.

/// `out += α X G(t)†`.
fn g_right_acc(sys: &SdeSystem, t: f64, alpha: C64, x: &[C64], n: usize, out: &mut [C64]) {
    right_mul_acc(alpha, x, &sys.g0_conj, n, out);
    for ((c, _), opc) in sys.mc.td.iter().zip(&sys.td_conj) {
        right_mul_acc(alpha * c.at(t).conj(), x, opc, n, out);
    }
}

/// `out = X M†` for the Rouchon operator `M` (see [`m_apply`]; all its scalars but `G`'s are real).
fn m_right(sys: &SdeSystem, t: f64, h: f64, amp: &[f64], dy: &[f64], x: &[C64], n: usize, out: &mut [C64]) {
    out.copy_from_slice(x);
    g_right_acc(sys, t, re(h), x, n, out);
    for (i, ch) in sys.channels.iter().enumerate() {
        right_mul_acc(re(dy[i] * amp[i]), x, &ch.op_conj, n, out);
        for j in 0..=i {
            let w = if i == j { 0.5 * (dy[i] * dy[i] - h) } else { dy[i] * dy[j] } * amp[i] * amp[j];
            if w != 0.0 {
                right_mul_acc(re(w), x, &sys.pairs_conj[i][j], n, out);
            }
        }
    }
}

/// Fills `w.amp` (√f_i(t)), `w.s[i] = ρ (a_i s_i)† = (a_i s_i ρ)†` and `w.x[i] = ⟨a_i(s_i + s_i†)⟩
/// = 2 Re Tr(a_i s_i ρ)`.
pub(crate) fn sme_channels(sys: &SdeSystem, t: f64, rho: &[C64], w: &mut Work) -> Result<()> {
    let n = w.n;
    sys.amplitudes(t, &mut w.amp)?;
    for (i, ch) in sys.channels.iter().enumerate() {
        let s = &mut w.s[i];
        s.iter_mut().for_each(|v| *v = ZERO);
        right_mul_acc(re(w.amp[i]), rho, &ch.op_conj, n, s);
        w.x[i] = 2.0 * trace(s, n).re;
    }
    Ok(())
}

/// `out += f·CρC†` with `C†` given as `conj(C)` (ρ Hermitian): `(ρC†)†·C†`.
fn sandwich_acc(f: f64, rho: &[C64], op_conj: &Csr, n: usize, t1: &mut [C64], t2: &mut [C64], out: &mut [C64]) {
    t1.iter_mut().for_each(|v| *v = ZERO);
    right_mul_acc(ONE, rho, op_conj, n, t1);
    adjoint_into(t1, n, t2);
    right_mul_acc(re(f), t2, op_conj, n, out);
}

/// `out = 𝓛(t)ρ = Gρ + ρG† + Σ_j f_j C_jρC_j†` (ρ Hermitian).
fn sme_drift(sys: &SdeSystem, t: f64, rho: &[C64], n: usize, t1: &mut [C64], t2: &mut [C64], out: &mut [C64]) -> Result<()> {
    out.iter_mut().for_each(|v| *v = ZERO);
    g_right_acc(sys, t, ONE, rho, n, out);
    add_adjoint_in_place(out, n);
    for j in 0..sys.mc.collapses.len() {
        let f = sys.mc.profile(j, t)?;
        if f != 0.0 {
            sandwich_acc(f, rho, &sys.col_conj[j], n, t1, t2, out);
        }
    }
    Ok(())
}

/// One SME step `ρ(t) → ρ(t + h)` with Wiener increments `dw` (one per channel). Expects
/// [`sme_channels`] to have been called at `(t, ρ)` (it fills `w.x`, which the caller may need
/// to turn a measured current into `dw` first).
pub(crate) fn sme_step(sys: &SdeSystem, method: SdeMethod, t: f64, h: f64, dw: &[f64], rho: &mut [C64], w: &mut Work) -> Result<()> {
    let n = w.n;
    let m = sys.channels.len();
    match method {
        SdeMethod::Euler | SdeMethod::Milstein => {
            // b_i = a_i(s_iρ + ρs_i†) − x_i ρ = S_i† + S_i − x_iρ with S_i = ρ(a_i s_i)†
            for i in 0..m {
                let (s, b) = (&w.s[i], &mut w.b[i]);
                b.copy_from_slice(s);
                add_adjoint_in_place(b, n);
                caxpy(re(-w.x[i]), rho, b);
            }
            let mut next = std::mem::take(&mut w.next);
            sme_drift(sys, t, rho, n, &mut w.t1, &mut w.t2, &mut w.a)?;
            next.copy_from_slice(rho);
            caxpy(re(h), &w.a, &mut next);
            for i in 0..m {
                caxpy(re(dw[i]), &w.b[i], &mut next);
            }
            if method == SdeMethod::Milstein {
                // L^j b_i = a_i(s_i b_j + (s_i b_j)†) − 2 a_i Re Tr(s_i b_j) ρ − x_i b_j, with
                // s_i b_j = U† for U = b_j (a_i s_i)† (b_j Hermitian)
                for i in 0..m {
                    for j in 0..=i {
                        let wgt = if i == j { 0.5 * (dw[i] * dw[i] - h) } else { dw[i] * dw[j] };
                        if wgt == 0.0 {
                            continue;
                        }
                        let tmp = &mut w.t1;
                        tmp.iter_mut().for_each(|v| *v = ZERO);
                        right_mul_acc(re(w.amp[i]), &w.b[j], &sys.channels[i].op_conj, n, tmp);
                        let tr = 2.0 * trace(tmp, n).re;
                        add_adjoint_in_place(tmp, n);
                        caxpy(re(-tr), rho, tmp);
                        caxpy(re(-w.x[i]), &w.b[j], tmp);
                        caxpy(re(wgt), tmp, &mut next);
                    }
                }
            }
            rho.copy_from_slice(&next);
            w.next = next;
        }
        SdeMethod::Rouchon => {
            let dy: Vec<f64> = (0..m).map(|i| w.x[i] * h + dw[i]).collect();
            // B = ρM†, B† = Mρ, MρM† = (B†)M†
            m_right(sys, t, h, &w.amp, &dy, rho, n, &mut w.a);
            adjoint_into(&w.a, n, &mut w.t1);
            let mut next = std::mem::take(&mut w.next);
            m_right(sys, t, h, &w.amp, &dy, &w.t1, n, &mut next);
            for u in &sys.unmonitored {
                let f = sys.mc.profile(u.collapse, t)? * u.weight;
                if f != 0.0 {
                    sandwich_acc(f * h, rho, &u.op_conj, n, &mut w.t1, &mut w.t2, &mut next);
                }
            }
            hermitize(&mut next, n);
            let inv = 1.0 / trace(&next, n).re;
            for (r, v) in rho.iter_mut().zip(&next) {
                *r = v * inv;
            }
            w.next = next;
        }
    }
    Ok(())
}

/// Fills `w.amp`, `w.s[i] = a_i s_i ψ` and `w.x[i] = e_i = 2 Re⟨ψ|a_i s_i ψ⟩/⟨ψ|ψ⟩`; returns
/// `⟨ψ|ψ⟩`.
pub(crate) fn sse_channels(sys: &SdeSystem, t: f64, psi: &[C64], w: &mut Work) -> Result<f64> {
    sys.amplitudes(t, &mut w.amp)?;
    let nrm2: f64 = psi.iter().map(|v| v.norm_sqr()).sum();
    for (i, ch) in sys.channels.iter().enumerate() {
        let s = &mut w.s[i];
        s.iter_mut().for_each(|v| *v = ZERO);
        ch.op.matvec_acc(re(w.amp[i]), psi, s);
        w.x[i] = 2.0 * dot(psi, s).re / nrm2;
    }
    Ok(nrm2)
}

/// `⟨a|b⟩`.
fn dot(a: &[C64], b: &[C64]) -> C64 {
    a.iter().zip(b).map(|(x, y)| x.conj() * y).sum()
}

/// One SSE step `ψ(t) → ψ(t + h)`; expects [`sse_channels`] at `(t, ψ)`, whose `⟨ψ|ψ⟩` is
/// `nrm2`. Euler and Milstein leave ψ unnormalised (the exact SSE keeps the norm; the schemes
/// do to their order), Rouchon normalises.
pub(crate) fn sse_step(sys: &SdeSystem, method: SdeMethod, t: f64, h: f64, dw: &[f64], nrm2: f64, psi: &mut [C64], w: &mut Work) {
    let n = w.n;
    let m = sys.channels.len();
    match method {
        SdeMethod::Euler | SdeMethod::Milstein => {
            // a = Gψ + Σ(½e_i S_i − ⅛e_i²ψ); b_i = S_i − ½e_iψ
            let a = &mut w.a;
            a.iter_mut().for_each(|v| *v = ZERO);
            g_acc(sys, t, ONE, psi, n, a);
            for i in 0..m {
                let e = w.x[i];
                caxpy(re(0.5 * e), &w.s[i], a);
                caxpy(re(-0.125 * e * e), psi, a);
                let b = &mut w.b[i];
                b.copy_from_slice(&w.s[i]);
                caxpy(re(-0.5 * e), psi, b);
            }
            let next = &mut w.t2;
            next.copy_from_slice(psi);
            caxpy(re(h), &w.a, next);
            for i in 0..m {
                caxpy(re(dw[i]), &w.b[i], next);
            }
            if method == SdeMethod::Milstein {
                // L^j b_i = a_i s_i b_j − ½e_i b_j − ½De_i[b_j]ψ,
                // De_i[v] = 2Re(⟨ψ|a_i s_i v⟩ + ⟨a_i s_i ψ|v⟩)/‖ψ‖² − 2e_i Re⟨ψ|v⟩/‖ψ‖²
                for i in 0..m {
                    for j in 0..=i {
                        let wgt = if i == j { 0.5 * (dw[i] * dw[i] - h) } else { dw[i] * dw[j] };
                        if wgt == 0.0 {
                            continue;
                        }
                        let tmp = &mut w.t1;
                        tmp.iter_mut().for_each(|v| *v = ZERO);
                        sys.channels[i].op.matvec_acc(re(w.amp[i]), &w.b[j], tmp);
                        let de = 2.0 * (dot(psi, tmp).re + dot(&w.s[i], &w.b[j]).re) / nrm2 - 2.0 * w.x[i] * dot(psi, &w.b[j]).re / nrm2;
                        caxpy(re(-0.5 * w.x[i]), &w.b[j], tmp);
                        caxpy(re(-0.5 * de), psi, tmp);
                        caxpy(re(wgt), tmp, next);
                    }
                }
            }
            psi.copy_from_slice(&w.t2);
        }
        SdeMethod::Rouchon => {
            let dy: Vec<f64> = (0..m).map(|i| w.x[i] * h + dw[i]).collect();
            m_apply(sys, t, h, &w.amp, &dy, psi, n, &mut w.t2);
            let nr: f64 = w.t2.iter().map(|v| v.norm_sqr()).sum::<f64>().sqrt();
            for (p, v) in psi.iter_mut().zip(&w.t2) {
                *p = v / nr;
            }
        }
    }
}

/// `Tr(O ρ)` for a column-major ρ.
pub(crate) fn expect_dm(op: &Csr, rho: &[C64], n: usize) -> C64 {
    let mut s = ZERO;
    for (i, j, v) in op.triplets() {
        s += v * rho[i * n + j];
    }
    s
}

/// `⟨ψ|O|ψ⟩/⟨ψ|ψ⟩`.
pub(crate) fn expect_ket(op: &Csr, psi: &[C64], nrm2: f64, tmp: &mut [C64]) -> C64 {
    tmp.iter_mut().for_each(|v| *v = ZERO);
    op.matvec_acc(ONE, psi, tmp);
    dot(psi, tmp) / nrm2
}
