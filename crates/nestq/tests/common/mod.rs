//! Helpers shared by the integration tests (`mod common;`); each test crate uses some of them.
#![allow(dead_code)]

use nalgebra::DMatrix;
use nestq::{Model, SolveResult, C64};
use serde_json::Value;

/// `C64::new(re, im)`.
pub fn c(re: f64, im: f64) -> C64 {
    C64::new(re, im)
}

/// A 64-bit linear congruential generator (Knuth's MMIX constants) for reproducible test data.
pub struct Lcg(pub u64);

impl Lcg {
    /// Uniform in [−0.5, 0.5).
    pub fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    }

    /// An `n × n` complex matrix with independent entries.
    pub fn mat(&mut self, n: usize) -> DMatrix<C64> {
        DMatrix::from_fn(n, n, |_, _| c(self.next(), self.next()))
    }
}

/// The model of a JSON value (panics with the engine's error).
pub fn model(v: &Value) -> Model {
    Model::from_json_str(&v.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

/// `v` with its `solver` replaced.
pub fn with_solver(v: &Value, solver: Value) -> Value {
    let mut v = v.clone();
    v["solver"] = solver;
    v
}

/// The real parts of observable `name`'s series.
pub fn real(r: &SolveResult, name: &str) -> Vec<f64> {
    r.expect.iter().find(|e| e.name == name).unwrap_or_else(|| panic!("no series {name}")).values.iter().map(|z| z.re).collect()
}
