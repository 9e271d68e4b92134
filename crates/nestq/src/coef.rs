//! Time-dependent coefficients: `amp · f(t)` with `f` constant, `cos(ωt+φ)`, `exp(−rt)` or a
//! host-supplied callback.

use crate::C64;
use std::fmt;
use std::sync::Arc;

/// A real callback `f(t)` supplied by the host program, evaluated at every right-hand-side call.
pub type CallbackFn = Arc<dyn Fn(f64) -> f64 + Send + Sync>;

/// The time profile `f(t)` multiplying a coefficient.
#[derive(Clone)]
pub enum Modulation {
    /// `f(t) = 1`.
    None,
    /// `f(t) = cos(ω t + φ)`.
    Cos {
        /// Angular frequency ω (radians per time unit).
        omega: f64,
        /// Phase φ (radians).
        phase: f64,
    },
    /// `f(t) = exp(−r t)`.
    Exp {
        /// Decay rate r (per time unit).
        rate: f64,
    },
    /// `f(t)` supplied by the host (e.g. the neural layer's adaptive NEST coupling).
    Callback(CallbackFn),
}

impl fmt::Debug for Modulation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Modulation::None => write!(f, "None"),
            Modulation::Cos { omega, phase } => write!(f, "Cos{{omega: {omega}, phase: {phase}}}"),
            Modulation::Exp { rate } => write!(f, "Exp{{rate: {rate}}}"),
            Modulation::Callback(cb) => write!(f, "Callback({:p})", Arc::as_ptr(cb)),
        }
    }
}

impl Modulation {
    /// Evaluates `f(t)`.
    #[inline]
    pub fn at(&self, t: f64) -> f64 {
        match self {
            Modulation::None => 1.0,
            Modulation::Cos { omega, phase } => (omega * t + phase).cos(),
            Modulation::Exp { rate } => (-rate * t).exp(),
            Modulation::Callback(cb) => cb(t),
        }
    }

    /// True for `f ≡ 1`.
    pub fn is_constant(&self) -> bool {
        matches!(self, Modulation::None)
    }

    /// A key that is equal for modulations that are the same function of time.
    pub fn key(&self) -> ModKey {
        match self {
            Modulation::None => ModKey::None,
            Modulation::Cos { omega, phase } => ModKey::Cos(omega.to_bits(), phase.to_bits()),
            Modulation::Exp { rate } => ModKey::Exp(rate.to_bits()),
            Modulation::Callback(cb) => ModKey::Callback(Arc::as_ptr(cb) as *const () as usize),
        }
    }
}

/// Identity of a [`Modulation`] as a function of time (for grouping terms).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ModKey {
    /// Constant.
    None,
    /// Cosine with (ω, φ) bit patterns.
    Cos(u64, u64),
    /// Exponential with r's bit pattern.
    Exp(u64),
    /// Callback, by pointer.
    Callback(usize),
}

/// A coefficient `amp · f(t)`.
#[derive(Clone, Debug)]
pub struct Coef {
    /// Complex amplitude.
    pub amp: C64,
    /// Time profile.
    pub modulation: Modulation,
}

impl Coef {
    /// A constant coefficient.
    pub fn constant(amp: C64) -> Self {
        Coef { amp, modulation: Modulation::None }
    }
    /// A real constant.
    pub fn real(v: f64) -> Self {
        Coef::constant(C64::new(v, 0.0))
    }
    /// Value at time `t`.
    #[inline]
    pub fn at(&self, t: f64) -> C64 {
        match self.modulation {
            Modulation::None => self.amp,
            _ => self.amp * self.modulation.at(t),
        }
    }
    /// True if time independent.
    pub fn is_constant(&self) -> bool {
        self.modulation.is_constant()
    }
}
