//! Helpers shared by the integration tests (`mod common;`).

use nalgebra::DMatrix;
use nestq::C64;

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
