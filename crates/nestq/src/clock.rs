//! Wall-clock time for run statistics (`stats.wall_s`).
//!
//! `std::time::Instant` panics on `wasm32-unknown-unknown`, which has no clock of its own. There
//! the host installs one with [`set_clock`] (the wasm bindings pass `performance.now()`); until it
//! does, wall times are reported as NaN (`null` in the result JSON) rather than guessed.

/// Seconds on a monotonic clock with an arbitrary origin.
#[cfg(not(target_arch = "wasm32"))]
pub fn now_s() -> f64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed().as_secs_f64()
}

#[cfg(target_arch = "wasm32")]
static CLOCK: std::sync::OnceLock<fn() -> f64> = std::sync::OnceLock::new();

/// Seconds on the host-provided monotonic clock, or NaN if none was installed.
#[cfg(target_arch = "wasm32")]
pub fn now_s() -> f64 {
    CLOCK.get().map_or(f64::NAN, |f| f())
}

/// Installs the host clock (seconds, monotonic). Only the first call has an effect.
#[cfg(target_arch = "wasm32")]
pub fn set_clock(f: fn() -> f64) {
    let _ = CLOCK.set(f);
}
