//! Deterministic pseudo-random numbers (the neural layer's inputs and connections, the
//! trajectory solvers' jumps): xoshiro256** (Blackman & Vigna,
//! "Scrambled linear pseudorandom number generators", ACM TOMS 47 (2021); reference code at
//! prng.di.unimi.it) seeded through SplitMix64 (Steele, Lea & Flood, OOPSLA 2014), as the
//! authors recommend.
//!
//! The workspace has no `rand` dependency, so the ~40 lines are implemented here; the streams
//! are fixed by this file and do not change with the thread count or the platform.

/// SplitMix64 step: advances `state` and returns the next output.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The xoshiro256** generator (period 2²⁵⁶ − 1).
#[derive(Clone, Debug)]
pub struct Xoshiro256 {
    s: [u64; 4],
}

impl Xoshiro256 {
    /// Seeds the 256-bit state with four SplitMix64 outputs of `seed`.
    pub fn seed_from_u64(seed: u64) -> Self {
        let mut sm = seed;
        Xoshiro256 { s: [splitmix64(&mut sm), splitmix64(&mut sm), splitmix64(&mut sm), splitmix64(&mut sm)] }
    }

    /// Next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform double in [0, 1) with 53 random bits.
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Advances the state by 2¹²⁸ outputs (the reference `jump()`): successive jumps give
    /// non-overlapping streams for the members of a group.
    pub fn jump(&mut self) {
        const JUMP: [u64; 4] = [0x180E_C6D3_3CFD_0ABA, 0xD5A6_1266_F0C9_392C, 0xA958_2618_E03F_C9AA, 0x39AB_DC45_29B1_661C];
        let mut acc = [0u64; 4];
        for j in JUMP {
            for b in 0..64 {
                if j & (1u64 << b) != 0 {
                    for (a, s) in acc.iter_mut().zip(self.s.iter()) {
                        *a ^= *s;
                    }
                }
                self.next_u64();
            }
        }
        self.s = acc;
    }

    /// A standard normal draw: the Box–Muller transform (Box & Muller 1958) of two uniforms,
    /// cosine branch only (one normal per two uniforms, so streams are reproducible draw by draw).
    pub fn normal(&mut self) -> f64 {
        let (u1, u2) = (1.0 - self.uniform(), self.uniform());
        // libm: the same bits natively and in WebAssembly.
        (-2.0 * libm::log(u1)).sqrt() * libm::cos(2.0 * std::f64::consts::PI * u2)
    }

    /// A Poisson(λ) count by Knuth's multiplication method (TAOCP vol. 2, §3.4.1): the number
    /// of uniforms whose running product stays above e^(−λ). Exact in distribution; cost O(λ).
    /// Callers keep λ ≤ 100 (the network parser enforces it).
    pub fn poisson(&mut self, lambda: f64) -> u32 {
        if lambda <= 0.0 {
            return 0;
        }
        let l = (-lambda).exp();
        let mut k = 0u32;
        let mut p = self.uniform();
        while p > l {
            k += 1;
            p *= self.uniform();
        }
        k
    }
}

/// The seed of member `index` of a family of independent streams derived from one `seed`
/// (trajectory `index` of a Monte Carlo ensemble): SplitMix64's output mixer applied to
/// `seed ⊕ index·φ₆₄` with a second odd constant, so that neighbouring members get unrelated
/// 64-bit seeds. Members do not depend on how many exist or on which thread runs them.
pub fn stream_seed(seed: u64, index: u64) -> u64 {
    let mut s = seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03);
    splitmix64(&mut s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_outputs() {
        // SplitMix64 from 0: first output of the reference implementation.
        let mut s = 0u64;
        assert_eq!(splitmix64(&mut s), 0xE220_A839_7B1D_CDAF);
        // xoshiro256** with state {1, 2, 3, 4}: reference first outputs 11520, 0, 1509978240.
        let mut x = Xoshiro256 { s: [1, 2, 3, 4] };
        assert_eq!(x.next_u64(), 11520);
        assert_eq!(x.next_u64(), 0);
        assert_eq!(x.next_u64(), 1509978240);
    }

    #[test]
    fn poisson_mean() {
        let mut x = Xoshiro256::seed_from_u64(7);
        let n = 200_000;
        let s: u64 = (0..n).map(|_| x.poisson(2.5) as u64).sum();
        let mean = s as f64 / n as f64;
        // σ of the mean = √(2.5/n) ≈ 0.0035; fixed seed, 6σ tolerance
        assert!((mean - 2.5).abs() < 0.021, "{mean}");
    }
}

