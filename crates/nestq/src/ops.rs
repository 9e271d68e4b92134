//! Local operators, tensor products and operator expressions.
//!
//! Conventions (QuTiP's): site 0 is the leftmost tensor factor; for qubits basis state 0 is the
//! +1 eigenstate of `Z`, `SM = [[0,0],[1,0]]` maps |0⟩ → |1⟩ and `SP = SM†`. For any local
//! dimension `d`, `A`, `AD`, `N` are QuTiP's `destroy(d)`, `create(d)`, `num(d)` and `JX JY JZ JP
//! JM` are `jmat((d-1)/2, ·)` with `JZ = diag(j, j−1, …, −j)`.

use crate::error::{Error, Result};
use crate::sparse::Csr;
use crate::C64;
use nalgebra::DMatrix;
use std::collections::BTreeMap;

fn c(re: f64, im: f64) -> C64 {
    C64::new(re, im)
}

/// Pauli X (`sigmax()`).
pub fn sigmax() -> DMatrix<C64> {
    DMatrix::from_row_slice(2, 2, &[c(0., 0.), c(1., 0.), c(1., 0.), c(0., 0.)])
}
/// Pauli Y (`sigmay()`).
pub fn sigmay() -> DMatrix<C64> {
    DMatrix::from_row_slice(2, 2, &[c(0., 0.), c(0., -1.), c(0., 1.), c(0., 0.)])
}
/// Pauli Z (`sigmaz()`), `diag(1, −1)`.
pub fn sigmaz() -> DMatrix<C64> {
    DMatrix::from_row_slice(2, 2, &[c(1., 0.), c(0., 0.), c(0., 0.), c(-1., 0.)])
}
/// Raising operator `sigmap() = [[0,1],[0,0]]`.
pub fn sigmap() -> DMatrix<C64> {
    DMatrix::from_row_slice(2, 2, &[c(0., 0.), c(1., 0.), c(0., 0.), c(0., 0.)])
}
/// Lowering operator `sigmam() = [[0,0],[1,0]]`.
pub fn sigmam() -> DMatrix<C64> {
    DMatrix::from_row_slice(2, 2, &[c(0., 0.), c(0., 0.), c(1., 0.), c(0., 0.)])
}
/// Annihilation operator of a `d`-level oscillator, `a|n⟩ = √n |n−1⟩`.
pub fn destroy(d: usize) -> DMatrix<C64> {
    DMatrix::from_fn(d, d, |i, j| if j == i + 1 { c((j as f64).sqrt(), 0.) } else { c(0., 0.) })
}
/// Creation operator `a†`.
pub fn create(d: usize) -> DMatrix<C64> {
    destroy(d).adjoint()
}
/// Number operator `diag(0, 1, …, d−1)`.
pub fn num(d: usize) -> DMatrix<C64> {
    DMatrix::from_fn(d, d, |i, j| if i == j { c(i as f64, 0.) } else { c(0., 0.) })
}
/// Identity of dimension `d`.
pub fn qeye(d: usize) -> DMatrix<C64> {
    DMatrix::identity(d, d)
}

/// Spin-j operator for a local dimension `d = 2j + 1`, QuTiP's `jmat(j, which)` with `which` one
/// of `'x' 'y' 'z' '+' '-'`.
pub fn jmat(d: usize, which: char) -> DMatrix<C64> {
    let j = (d as f64 - 1.0) / 2.0;
    let m = |i: usize| j - i as f64;
    let jp = DMatrix::from_fn(d, d, |r, col| {
        if col == r + 1 {
            let mm = m(col);
            c((j * (j + 1.0) - mm * (mm + 1.0)).sqrt(), 0.)
        } else {
            c(0., 0.)
        }
    });
    match which {
        '+' => jp,
        '-' => jp.adjoint(),
        'x' => (&jp + jp.adjoint()) * c(0.5, 0.),
        'y' => (&jp - jp.adjoint()) * c(0., -0.5),
        'z' => DMatrix::from_fn(d, d, |r, col| if r == col { c(m(r), 0.) } else { c(0., 0.) }),
        _ => panic!("jmat: unknown component {which}"),
    }
}

/// Built-in local operator names and whether they require qubits.
pub const BUILTIN_NAMES: &[&str] = &["I", "X", "Y", "Z", "SP", "SM", "A", "AD", "N", "JX", "JY", "JZ", "JP", "JM"];

/// Looks up a built-in local operator of dimension `d`; `Ok(None)` if the name is not built in,
/// an error if it is built in but does not exist in dimension `d`.
pub fn builtin(name: &str, d: usize) -> std::result::Result<Option<DMatrix<C64>>, String> {
    let qubit_only = |m: DMatrix<C64>| {
        if d == 2 { Ok(Some(m)) } else { Err(format!("operator {name} is defined for qubits (dimension 2) only, this site has dimension {d}")) }
    };
    match name {
        "I" => Ok(Some(qeye(d))),
        "X" => qubit_only(sigmax()),
        "Y" => qubit_only(sigmay()),
        "Z" => qubit_only(sigmaz()),
        "SP" => qubit_only(sigmap()),
        "SM" => qubit_only(sigmam()),
        "A" => Ok(Some(destroy(d))),
        "AD" => Ok(Some(create(d))),
        "N" => Ok(Some(num(d))),
        "JX" => Ok(Some(jmat(d, 'x'))),
        "JY" => Ok(Some(jmat(d, 'y'))),
        "JZ" => Ok(Some(jmat(d, 'z'))),
        "JP" => Ok(Some(jmat(d, '+'))),
        "JM" => Ok(Some(jmat(d, '-'))),
        _ => Ok(None),
    }
}

/// Total Hilbert-space dimension `Π dims`.
pub fn total_dim(dims: &[usize]) -> usize {
    dims.iter().product()
}

/// Embeds a local operator acting on `site` into the full space: `I ⊗ … ⊗ op ⊗ … ⊗ I`.
pub fn embed(local: &Csr, site: usize, dims: &[usize]) -> Csr {
    let left: usize = dims[..site].iter().product();
    let right: usize = dims[site + 1..].iter().product();
    Csr::identity(left).kron(local).kron(&Csr::identity(right))
}

/// Tensor product of dense operators, leftmost first (QuTiP's `tensor`).
pub fn tensor(ops: &[DMatrix<C64>]) -> DMatrix<C64> {
    let mut out = DMatrix::from_element(1, 1, c(1., 0.));
    for o in ops {
        out = out.kronecker(o);
    }
    out
}

/// A parsed operator-expression factor, `NAME<site>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Factor {
    /// Operator name (`X`, `AD`, user names).
    pub name: String,
    /// Site index.
    pub site: usize,
}

/// Splits an operator expression such as `"AD0 SM1"` into factors.
pub fn parse_expr(expr: &str) -> std::result::Result<Vec<Factor>, String> {
    let mut out = Vec::new();
    for tok in expr.split_whitespace() {
        let split = tok.find(|ch: char| ch.is_ascii_digit()).ok_or_else(|| {
            format!("factor '{tok}' has no site index (write NAME<site>, e.g. X0)")
        })?;
        let (name, site) = tok.split_at(split);
        if name.is_empty() || !name.chars().all(|ch| ch.is_ascii_alphabetic() || ch == '_') {
            return Err(format!("factor '{tok}': operator name must be letters or '_' followed by a site index"));
        }
        let site: usize = site.parse().map_err(|_| format!("factor '{tok}': site index '{site}' is not a non-negative integer"))?;
        out.push(Factor { name: name.to_string(), site });
    }
    Ok(out)
}

/// Resolves operator expressions over a fixed set of site dimensions and user operators.
#[derive(Clone, Debug)]
pub struct OpContext {
    /// Local dimension per site.
    pub dims: Vec<usize>,
    /// User-defined local operators, by name.
    pub user: BTreeMap<String, DMatrix<C64>>,
}

impl OpContext {
    /// A context with no user operators.
    pub fn new(dims: Vec<usize>) -> Self {
        OpContext { dims, user: BTreeMap::new() }
    }

    /// Full Hilbert-space dimension.
    pub fn dim(&self) -> usize {
        total_dim(&self.dims)
    }

    /// The local operator `name` on `site` (not embedded).
    pub fn local(&self, name: &str, site: usize) -> std::result::Result<DMatrix<C64>, String> {
        if site >= self.dims.len() {
            return Err(format!("site index {site} is out of range (the model has {} sites, 0..{})", self.dims.len(), self.dims.len() - 1));
        }
        let d = self.dims[site];
        if let Some(m) = builtin(name, d)? {
            return Ok(m);
        }
        if let Some(m) = self.user.get(name) {
            if m.nrows() != d {
                return Err(format!("user operator {name} is {}×{} but site {site} has dimension {d}", m.nrows(), m.ncols()));
            }
            return Ok(m.clone());
        }
        Err(format!("unknown operator name '{name}' (built-in: {}; user operators: {})", BUILTIN_NAMES.join(" "),
            if self.user.is_empty() { "none".to_string() } else { self.user.keys().cloned().collect::<Vec<_>>().join(" ") }))
    }

    /// Builds the full-space sparse operator of an expression (`""` is the identity).
    pub fn build(&self, expr: &str) -> std::result::Result<Csr, String> {
        let factors = parse_expr(expr)?;
        let mut out = Csr::identity(self.dim());
        for f in factors {
            let local = self.local(&f.name, f.site)?;
            let full = embed(&Csr::from_dense(&local, 0.0), f.site, &self.dims);
            out = out.matmul(&full);
        }
        Ok(out)
    }

    /// Like [`OpContext::build`] with the error attached to a JSON path.
    pub fn build_at(&self, expr: &str, path: &str) -> Result<Csr> {
        self.build(expr).map_err(|m| Error::model(path, m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spin_half_jmat_matches_paulis() {
        assert!((jmat(2, 'x') * c(2., 0.) - sigmax()).norm() < 1e-15);
        assert!((jmat(2, 'y') * c(2., 0.) - sigmay()).norm() < 1e-15);
        assert!((jmat(2, 'z') * c(2., 0.) - sigmaz()).norm() < 1e-15);
        assert!((jmat(2, '+') - sigmap()).norm() < 1e-15);
    }

    #[test]
    fn spin_one_commutation() {
        let (x, y, z) = (jmat(3, 'x'), jmat(3, 'y'), jmat(3, 'z'));
        let comm = &x * &y - &y * &x;
        assert!((comm - z * c(0., 1.)).norm() < 1e-14);
        let j2 = &x * &x + &y * &y + jmat(3, 'z') * jmat(3, 'z');
        assert!((j2 - qeye(3) * c(2., 0.)).norm() < 1e-14);
    }

    #[test]
    fn expression_order_and_embedding() {
        let ctx = OpContext::new(vec![2, 3]);
        let op = ctx.build("SM0 AD1").unwrap().to_dense();
        let expect = tensor(&[sigmam(), create(3)]);
        assert!((op - expect).norm() < 1e-14);
        // left-to-right multiplication on one site: SP·SM = |0⟩⟨0|
        let p = ctx.build("SP0 SM0").unwrap().to_dense();
        let expect = tensor(&[DMatrix::from_row_slice(2, 2, &[c(1., 0.), c(0., 0.), c(0., 0.), c(0., 0.)]), qeye(3)]);
        assert!((p - expect).norm() < 1e-14);
        assert!(ctx.build("X1").unwrap_err().contains("qubits"));
        assert!(ctx.build("Z7").unwrap_err().contains("out of range"));
        assert!(ctx.build("FOO0").unwrap_err().contains("unknown operator"));
        assert!(ctx.build("X").unwrap_err().contains("site index"));
    }
}
