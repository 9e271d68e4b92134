//! Synchrony of two spike trains: the van Rossum distance and Kistler's coincidence factor,
//! used to report how strongly a qLIF pair (two neurons sharing a bridge) fires together.

/// Van Rossum distance (M. C. W. van Rossum, Neural Comput. 13, 751 (2001)) between spike
/// trains `a` and `b` (times in ms) with time constant `tau` (ms):
///
/// ```text
/// D² = (1/τ) ∫ (f(t) − g(t))² dt,   f(t) = Σᵢ H(t − aᵢ) e^(−(t − aᵢ)/τ)   (g likewise from b)
///    = ½ Σᵢᵢ' e^(−|aᵢ − aᵢ'|/τ) + ½ Σⱼⱼ' e^(−|bⱼ − bⱼ'|/τ) − Σᵢⱼ e^(−|aᵢ − bⱼ|/τ)
/// ```
///
/// evaluated exactly (double sums, O(|a|·|b|)); a lone spike contributes ½ to D², so D² of two
/// trains with no spike in common is (|a| + |b|)/2 for τ → 0, and D = 0 for identical trains.
pub fn van_rossum(a: &[f64], b: &[f64], tau: f64) -> f64 {
    let k = |x: &[f64], y: &[f64]| -> f64 { x.iter().map(|&s| y.iter().map(|&t| (-(s - t).abs() / tau).exp()).sum::<f64>()).sum() };
    (0.5 * k(a, a) + 0.5 * k(b, b) - k(a, b)).max(0.0).sqrt()
}

/// Kistler's coincidence factor (W. M. Kistler, W. Gerstner & J. L. van Hemmen, Neural Comput.
/// 9, 1015 (1997); R. Jolivet et al., J. Neurosci. Methods 169, 417 (2008)) of train `a`
/// against train `b` (times in ms, sorted) over a run of length `duration` with precision
/// `delta` (ms):
///
/// ```text
/// Γ = (N_coinc − 2νΔN_a) / (½(N_a + N_b)(1 − 2νΔ)),   ν = N_b / duration
/// ```
///
/// N_coinc counts spikes of `a` matched one-to-one to a spike of `b` within ±Δ (greedy, in time
/// order). Γ = 1 for identical trains and 0 in expectation for `a` independent of a Poisson `b`.
/// `None` when either train is empty or 2νΔ ≥ 1 (the normalisation vanishes).
pub fn coincidence_factor(a: &[f64], b: &[f64], duration: f64, delta: f64) -> Option<f64> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let nu = b.len() as f64 / duration;
    let norm = 1.0 - 2.0 * nu * delta;
    if norm <= 0.0 {
        return None;
    }
    let mut used = vec![false; b.len()];
    let mut start = 0usize;
    let mut coinc = 0usize;
    for &t in a {
        while start < b.len() && b[start] < t - delta - 1e-12 {
            start += 1;
        }
        let mut j = start;
        while j < b.len() && b[j] <= t + delta + 1e-12 {
            if !used[j] {
                used[j] = true;
                coinc += 1;
                break;
            }
            j += 1;
        }
    }
    let expected = 2.0 * nu * delta * a.len() as f64;
    Some((coinc as f64 - expected) / (0.5 * (a.len() + b.len()) as f64 * norm))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn van_rossum_closed_forms() {
        let a = [10.0, 30.0, 55.5];
        assert_eq!(van_rossum(&a, &a, 5.0), 0.0);
        // one spike against none: D² = ½
        assert!((van_rossum(&[3.0], &[], 4.0) - 0.5f64.sqrt()).abs() < 1e-15);
        // two single spikes s apart: D² = 1 − e^(−s/τ)
        let d = van_rossum(&[10.0], &[12.0], 4.0);
        assert!((d * d - (1.0 - (-0.5f64).exp())).abs() < 1e-14);
        // far-apart trains: D² → (|a| + |b|)/2
        let d = van_rossum(&[0.0, 1000.0], &[500.0], 1.0);
        assert!((d * d - 1.5).abs() < 1e-12);
    }

    #[test]
    fn coincidence_factor_limits() {
        let a: Vec<f64> = (0..50).map(|i| 7.0 + 20.0 * i as f64).collect();
        assert!((coincidence_factor(&a, &a, 1000.0, 2.0).unwrap() - 1.0).abs() < 1e-12);
        // a train shifted by more than Δ has no coincidence: Γ = −2νΔN_a / (N (1 − 2νΔ)) < 0
        let b: Vec<f64> = a.iter().map(|t| t + 10.0).collect();
        let g = coincidence_factor(&a, &b, 1000.0, 2.0).unwrap();
        let nu = 50.0 / 1000.0;
        assert!((g - (-(2.0 * nu * 2.0 * 50.0) / (50.0 * (1.0 - 2.0 * nu * 2.0)))).abs() < 1e-12);
        // within Δ counts, one-to-one
        let c: Vec<f64> = a.iter().map(|t| t + 1.5).collect();
        assert!((coincidence_factor(&a, &c, 1000.0, 2.0).unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(coincidence_factor(&[], &a, 1000.0, 2.0), None);
        assert_eq!(coincidence_factor(&a, &a, 10.0, 2.0), None);
    }
}
