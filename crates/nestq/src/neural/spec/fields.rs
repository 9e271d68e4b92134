//! Field helpers of the network-file parser (`docs/network-format.md`): required and optional
//! numbers, value pairs, the ≥ 0 check, rounding of times to the dt grid (Brian2's rules for
//! delays, refractory periods and spike times, checked by scripts/reference/brian2_reference.py)
//! and per-member values drawn from seeded distributions (xoshiro256**, normal draws by the
//! Box–Muller transform, Box & Muller 1958).

use crate::neural::rng::Xoshiro256;
use crate::error::{Error, Result};
use crate::json::{as_arr, as_f64, as_u64, check_keys, required};
use serde_json::{Map, Value};

pub(super) fn num(o: &Map<String, Value>, key: &str, path: &str) -> Result<f64> {
    as_f64(required(o, key, path)?, &format!("{path}.{key}"))
}

pub(super) fn num_or(o: &Map<String, Value>, key: &str, path: &str, default: f64) -> Result<f64> {
    match o.get(key) {
        None => Ok(default),
        Some(v) => as_f64(v, &format!("{path}.{key}")),
    }
}

pub(super) fn pair(o: &Map<String, Value>, key: &str, path: &str, default: Option<[f64; 2]>) -> Result<[f64; 2]> {
    let p = format!("{path}.{key}");
    let v = match (o.get(key), default) {
        (None, Some(d)) => return Ok(d),
        (None, None) => return Err(Error::model(p, "required field is missing")),
        (Some(v), _) => v,
    };
    if v.is_number() {
        let x = as_f64(v, &p)?;
        return Ok([x, x]);
    }
    let a = as_arr(v, &p)?;
    if a.len() != 2 {
        return Err(Error::model(p, format!("expected two values [for neurons[0], for neurons[1]] (or one number for both), got {}", a.len())));
    }
    Ok([as_f64(&a[0], &format!("{p}[0]"))?, as_f64(&a[1], &format!("{p}[1]"))?])
}

pub(super) fn nonneg(x: f64, path: &str, what: &str) -> Result<f64> {
    if x < 0.0 {
        return Err(Error::model(path, format!("{what} must be ≥ 0, got {x}")));
    }
    Ok(x)
}

/// `round(x/dt)` as a step count, with a warning when x is not on the grid.
/// How a time is put on the step grid. Brian2 (2.5, checked by
/// scripts/reference/brian2_reference.py) rounds synaptic delays half up (`int(delay/dt + 0.5)`,
/// its compiled spike queue) but truncates refractory periods and spike-generator times
/// (`int(x/dt + 1e-3)`).
#[derive(Clone, Copy)]
pub(crate) enum Grid {
    /// Nearest step (delays, duration).
    Round,
    /// `floor(x/dt + 1e-3)` (t_ref, spike times).
    Truncate,
}

pub(super) fn to_steps(x: f64, dt: f64, path: &str, warnings: &mut Vec<String>) -> u64 {
    to_steps_with(x, dt, Grid::Round, path, warnings)
}

pub(super) fn to_steps_with(x: f64, dt: f64, grid: Grid, path: &str, warnings: &mut Vec<String>) -> u64 {
    let r = match grid {
        Grid::Round => (x / dt).round(),
        Grid::Truncate => (x / dt + 1e-3).floor(),
    };
    if (r * dt - x).abs() > 1e-9 * x.abs().max(dt) {
        warnings.push(format!("{path} = {x} ms is not a multiple of dt = {dt} ms; it is rounded to {r} steps = {} ms", r * dt));
    }
    r as u64
}

/// A per-member value of a group field: a number (every member), an array of one number per
/// member, or a seeded distribution `{"uniform": [lo, hi], "seed": s}` /
/// `{"normal": [mean, sd], "seed": s}` (member m takes the m-th draw of the xoshiro256** stream
/// of `s`; normal draws use the Box–Muller transform of two uniforms). Returns the values and
/// whether they vary per member (for error paths `field[m]`).
pub(super) fn per_member(v: &Value, path: &str, n: usize) -> Result<(Vec<f64>, bool)> {
    match v {
        Value::Number(_) => Ok((vec![as_f64(v, path)?; n], false)),
        Value::Array(a) => {
            if a.len() != n {
                return Err(Error::model(path, format!("{} values given for {n} members (one per member, or one number for all)", a.len())));
            }
            Ok((a.iter().enumerate().map(|(m, x)| as_f64(x, &format!("{path}[{m}]"))).collect::<Result<_>>()?, true))
        }
        Value::Object(o) => Ok((draw_distribution(o, path, n)?, true)),
        _ => Err(Error::model(path, "expected a number, an array with one number per member, or {\"uniform\": [lo, hi], \"seed\": s} / {\"normal\": [mean, sd], \"seed\": s}")),
    }
}

/// A seeded distribution of per-member values or synaptic weights: `Uniform(lo, hi)` or
/// `Normal(mean, sd)` (Box–Muller transform of two uniforms, Box & Muller 1958).
pub(super) enum Dist {
    Uniform(f64, f64),
    Normal(f64, f64),
}

impl Dist {
    pub(super) fn sample(&self, r: &mut Xoshiro256) -> f64 {
        match *self {
            Dist::Uniform(lo, hi) => lo + (hi - lo) * r.uniform(),
            Dist::Normal(m, sd) => m + sd * r.normal(),
        }
    }
}

/// Parses `{"uniform": [lo, hi], "seed": s}` or `{"normal": [mean, sd], "seed": s}` into the
/// distribution and the xoshiro256** stream of `s`.
pub(super) fn parse_dist(o: &Map<String, Value>, path: &str) -> Result<(Dist, Xoshiro256)> {
    check_keys(o, path, &["uniform", "normal", "seed"])?;
    let seed = as_u64(required(o, "seed", path)?, &format!("{path}.seed"))?;
    let two = |key: &str| -> Result<[f64; 2]> {
        let kp = format!("{path}.{key}");
        let a = as_arr(&o[key], &kp)?;
        if a.len() != 2 {
            return Err(Error::model(kp, format!("expected two numbers, got {}", a.len())));
        }
        Ok([as_f64(&a[0], &format!("{kp}[0]"))?, as_f64(&a[1], &format!("{kp}[1]"))?])
    };
    let d = match (o.contains_key("uniform"), o.contains_key("normal")) {
        (true, false) => {
            let [lo, hi] = two("uniform")?;
            if hi < lo {
                return Err(Error::model(format!("{path}.uniform"), format!("upper bound {hi} is below the lower bound {lo}")));
            }
            Dist::Uniform(lo, hi)
        }
        (false, true) => {
            let [mean, sd] = two("normal")?;
            if sd < 0.0 {
                return Err(Error::model(format!("{path}.normal[1]"), format!("a standard deviation must be ≥ 0, got {sd}")));
            }
            Dist::Normal(mean, sd)
        }
        _ => return Err(Error::model(path, "give exactly one of \"uniform\": [lo, hi] or \"normal\": [mean, sd]")),
    };
    Ok((d, Xoshiro256::seed_from_u64(seed)))
}

/// `n` draws of a seeded distribution (see [`parse_dist`]).
fn draw_distribution(o: &Map<String, Value>, path: &str, n: usize) -> Result<Vec<f64>> {
    let (d, mut r) = parse_dist(o, path)?;
    Ok((0..n).map(|_| d.sample(&mut r)).collect())
}
