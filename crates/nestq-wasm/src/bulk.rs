//! Bulk read of a batch ([`crate::RawBatch::bulk_layout`] and [`crate::RawBatch::bulk_data`]):
//! every numeric series of every entry in one `Float64Array`, and one JSON text with the
//! per-entry layout, so that the facade converts a batch of any size with a constant number of
//! boundary calls (instead of ~12 per result through `take` and the `RawResult` getters).
//!
//! Plain Rust (no `JsValue`), so the native tests below run with `cargo test -p nestq-wasm`.

use crate::interleave_into;
use nestq::{Error as NqError, SolveResult};
use serde_json::{json, Value};

/// One entry of a batch: the model's site dimensions and its result or error; `None` once
/// `RawBatch::take` moved it out.
pub(crate) type Entry = Option<(Vec<usize>, nestq::Result<SolveResult>)>;

/// The error of an entry that `RawBatch::take` already moved out.
pub(crate) fn taken_error(i: usize) -> NqError {
    NqError::arg("i", format!("entry {i} was already taken"))
}

/// The `stats` object of `r`'s result file, equal to `r.to_json()["stats"]` but without
/// serialising the series and the final state: the engine's own serialiser runs on a result with
/// the same `stats` and empty series (`SolveResult::to_json` builds `stats` from `r.stats`
/// alone; the test `stats_value_is_the_result_files_stats` guards that).
pub(crate) fn stats_value(r: &SolveResult) -> Value {
    let stub = SolveResult {
        times: Vec::new(),
        expect: Vec::new(),
        measures: Vec::new(),
        physicality: Default::default(),
        final_state: nalgebra::DMatrix::zeros(0, 0),
        stats: r.stats.clone(),
    };
    stub.to_json()["stats"].take()
}

/// Lengths of `r`'s series in bulk order: times; for each observable its real parts and, when it
/// is not real by construction, its imaginary parts; each measure; trace drift, Hermiticity
/// error, smallest eigenvalue; the final state (2·n² numbers, row-major interleaved re/im).
fn lengths(r: &SolveResult) -> Vec<usize> {
    let mut l = vec![r.times.len()];
    for e in &r.expect {
        l.push(e.values.len());
        if !e.real {
            l.push(e.values.len());
        }
    }
    l.extend(r.measures.iter().map(|(_, v)| v.len()));
    let p = &r.physicality;
    l.extend([p.trace_drift.len(), p.hermiticity_error.len(), p.min_eigenvalue.len(), 2 * r.final_state.len()]);
    l
}

/// Appends `r`'s series to `out` in the order of [`lengths`].
fn push_series(r: &SolveResult, out: &mut Vec<f64>) {
    out.extend_from_slice(&r.times);
    for e in &r.expect {
        out.extend(e.values.iter().map(|z| z.re));
        if !e.real {
            out.extend(e.values.iter().map(|z| z.im));
        }
    }
    for (_, v) in &r.measures {
        out.extend_from_slice(v);
    }
    let p = &r.physicality;
    out.extend_from_slice(&p.trace_drift);
    out.extend_from_slice(&p.hermiticity_error);
    out.extend_from_slice(&p.min_eigenvalue);
    interleave_into(&r.final_state, out);
}

fn error_value(e: &NqError) -> Value {
    let mut v = json!({"ok": false, "code": e.code.as_str(), "message": e.message});
    if let Some(p) = &e.path {
        v["path"] = p.as_str().into();
    }
    v
}

/// Appends `v` as JSON to `out`.
fn push_json(out: &mut Vec<u8>, v: &(impl serde::Serialize + ?Sized)) {
    serde_json::to_writer(out, v).expect("serialising to memory does not fail");
}

/// The layout of [`data`] as JSON text (schema in `RawBatch::bulk_layout`'s docstring).
///
/// A batch has thousands of entries, so the text is written directly (only `stats` goes through
/// a `serde_json::Value`, to stay the engine's own serialisation), in chunks of entries on the
/// rayon pool (the threaded build's workers are idle once the batch is solved).
pub(crate) fn layout(entries: &[Entry]) -> String {
    use rayon::prelude::*;
    let lengths: Vec<Option<Vec<usize>>> = entries
        .iter()
        .map(|e| match e {
            Some((_, Ok(r))) => Some(lengths(r)),
            _ => None,
        })
        .collect();
    let mut offsets = Vec::with_capacity(entries.len());
    let mut at = 0usize;
    for l in &lengths {
        offsets.push(at);
        at += l.iter().flatten().sum::<usize>();
    }
    let chunk = entries.len().div_ceil(4 * rayon::current_num_threads()).max(32);
    let parts: Vec<Vec<u8>> = crate::in_pool(|| {
        (0..entries.len())
            .into_par_iter()
            .step_by(chunk)
            .map(|start| {
                let mut out = Vec::with_capacity(512 * chunk);
                for i in start..(start + chunk).min(entries.len()) {
                    if i > 0 {
                        out.push(b',');
                    }
                    push_entry(&mut out, i, &entries[i], offsets[i], lengths[i].as_deref());
                }
                out
            })
            .collect()
    });
    let mut out = Vec::with_capacity(2 + parts.iter().map(Vec::len).sum::<usize>());
    out.push(b'[');
    parts.iter().for_each(|p| out.extend_from_slice(p));
    out.push(b']');
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Appends the layout object of entry `i` (its numbers at `offset`, series `lengths`).
fn push_entry(out: &mut Vec<u8>, i: usize, e: &Entry, offset: usize, lengths: Option<&[usize]>) {
    use std::io::Write;
    match (e, lengths) {
        (Some((dims, Ok(r))), Some(lengths)) => {
            write!(out, r#"{{"ok":true,"offset":{offset},"dims":"#).expect("writing to memory");
            push_json(out, dims);
            out.extend_from_slice(br#","expect":"#);
            push_json(out, &r.expect.iter().map(|e| e.name.as_str()).collect::<Vec<_>>());
            out.extend_from_slice(br#","real":"#);
            push_json(out, &r.expect.iter().map(|e| e.real).collect::<Vec<_>>());
            out.extend_from_slice(br#","measures":"#);
            push_json(out, &r.measures.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>());
            out.extend_from_slice(br#","lengths":"#);
            push_json(out, lengths);
            out.extend_from_slice(br#","stats":"#);
            push_json(out, &stats_value(r));
            if let Some((se, traj)) = r.trajectories_json() {
                out.extend_from_slice(br#","std_expect":"#);
                push_json(out, &se);
                out.extend_from_slice(br#","trajectories":"#);
                push_json(out, &traj);
            }
            out.push(b'}');
        }
        (Some((_, Err(e))), _) => push_json(out, &error_value(e)),
        _ => push_json(out, &error_value(&taken_error(i))),
    }
}

/// Every series of every successful entry, entry after entry, each in the order of [`lengths`].
pub(crate) fn data(entries: &[Entry]) -> Vec<f64> {
    let ok = || entries.iter().filter_map(|e| match e {
        Some((_, Ok(r))) => Some(r),
        _ => None,
    });
    let mut out = Vec::with_capacity(ok().map(|r| lengths(r).iter().sum::<usize>()).sum());
    ok().for_each(|r| push_series(r, &mut out));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use nestq::Model;

    fn solve(text: &str) -> (Vec<usize>, nestq::Result<SolveResult>) {
        let m = Model::from_json_str(text).expect("model parses");
        (m.dims.clone(), nestq::mesolve(&m, None))
    }

    /// A driven qubit pair with a non-Hermitian observable (complex series), measures and
    /// physicality checks on.
    const PAIR: &str = r#"{"dims": [2, 2], "hamiltonian": [{"coef": 1, "ops": "Z0"}, {"coef": 0.3, "ops": "X0 X1"}],
        "jumps": [{"rate": 0.1, "ops": "SM0"}], "initial": {"product": [[1, 1], [1, 0]]},
        "times": {"start": 0, "stop": 2, "count": 5}, "observables": {"Z0": "Z0", "SM0": "SM0"},
        "measures": ["concurrence:0,1", "purity"]}"#;
    /// A qutrit with physicality checks off (empty diagnostics).
    const QUTRIT: &str = r#"{"dims": [3], "hamiltonian": [{"coef": 1, "ops": "JX0"}], "jumps": [{"rate": 0.2, "ops": "JM0"}],
        "initial": {"basis": [0]}, "times": {"start": 0, "stop": 1, "count": 3}, "observables": {"Jz": "JZ0"},
        "solver": {"physicality": false}}"#;
    /// A chain solved with method mpo (`stats.mpo` and its extra top-level stats fields).
    const MPO: &str = r#"{"dims": [2, 2, 2], "hamiltonian": [{"coef": 1, "ops": "X0 X1"}, {"coef": 1, "ops": "X1 X2"}],
        "jumps": [{"rate": 0.1, "ops": "SM1"}], "initial": {"basis": [0, 1, 0]},
        "times": {"start": 0, "stop": 0.5, "count": 3}, "observables": {"Z1": "Z1"},
        "solver": {"method": "mpo", "dt": 0.05}}"#;
    /// Fails in the solver (dopri5 with too few steps): a per-entry error.
    const FAILS: &str = r#"{"dims": [2], "hamiltonian": [{"coef": 1, "ops": "X0"}], "initial": {"basis": [0]},
        "times": {"start": 0, "stop": 5, "count": 11}, "observables": {"Z": "Z0"},
        "solver": {"method": "dopri5", "max_steps": 2}}"#;

    #[test]
    fn stats_value_is_the_result_files_stats() {
        for text in [PAIR, QUTRIT, MPO] {
            let (_, r) = solve(text);
            let r = r.expect("solves");
            assert_eq!(stats_value(&r), r.to_json()["stats"], "{text}");
        }
        let (_, r) = solve(MPO);
        assert!(stats_value(&r.unwrap()).get("mpo").is_some(), "the mpo case exercises stats.mpo");
    }

    fn cases() -> Vec<Entry> {
        let mut entries: Vec<Entry> = [PAIR, FAILS, QUTRIT, MPO, PAIR].iter().map(|t| Some(solve(t))).collect();
        entries.push(None);
        entries
    }

    #[test]
    fn layout_and_data_hold_every_series_of_every_entry_in_order() {
        let entries = cases();
        check(&entries);
        let layout: Value = serde_json::from_str(&layout(&entries)).unwrap();
        // the cases cover what they are meant to
        assert!(matches!(&entries[1], Some((_, Err(e))) if e.code.as_str() == "numerical"));
        assert_eq!(layout[0]["expect"], json!(["SM0", "Z0"]), "observables in the model's (sorted) order");
        assert_eq!(layout[0]["real"], json!([false, true]));
        assert_eq!(layout[0]["lengths"], json!([5, 5, 5, 5, 5, 5, 5, 5, 5, 32]));
        assert_eq!(layout[2]["lengths"], json!([3, 3, 0, 0, 0, 18]));
    }

    #[test]
    fn a_large_batch_is_written_in_chunks_joined_in_order() {
        let cases = cases();
        // ≥ 4 chunks whatever the pool size (≤ 4 chunks per thread, ≥ 32 entries each)
        let entries: Vec<Entry> = (0..1001).map(|i| cases[i % cases.len()].clone()).collect();
        check(&entries);
    }

    /// Decodes `entries`' layout and data as the facade does and compares them with the entries.
    fn check(entries: &[Entry]) {
        let layout: Value = serde_json::from_str(&layout(entries)).unwrap();
        let data = data(entries);
        let layout = layout.as_array().unwrap();
        assert_eq!(layout.len(), entries.len());
        let mut end = 0;
        for (i, (l, e)) in layout.iter().zip(entries).enumerate() {
            match e {
                Some((dims, Ok(r))) => {
                    assert_eq!(l["ok"], true);
                    assert_eq!(l["offset"], end, "entries are contiguous (entry {i})");
                    assert_eq!(l["dims"], json!(dims));
                    // the same text as `RawResult.statsJson` (compared after parsing both the same
                    // way: serde_json's default parser is not correctly rounded, JSON.parse is)
                    let stats: Value = serde_json::from_str(&r.to_json()["stats"].to_string()).unwrap();
                    assert_eq!(l["stats"], stats);
                    let mut want = Vec::new();
                    push_series(r, &mut want);
                    let lengths: Vec<usize> = l["lengths"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect();
                    assert_eq!(lengths.iter().sum::<usize>(), want.len());
                    // decode as the facade does (ts/solve.ts readBatch) and compare bit for bit
                    let mut at = end;
                    let mut next = |k: &mut usize| {
                        let s = &data[at..at + lengths[*k]];
                        at += lengths[*k];
                        *k += 1;
                        s.to_vec()
                    };
                    let bits = |v: Vec<f64>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    let mut k = 0;
                    assert_eq!(bits(next(&mut k)), bits(r.times.clone()));
                    for (j, s) in r.expect.iter().enumerate() {
                        assert_eq!(l["expect"][j], s.name.as_str());
                        assert_eq!(l["real"][j], s.real);
                        assert_eq!(bits(next(&mut k)), bits(s.values.iter().map(|z| z.re).collect()));
                        if !s.real {
                            assert_eq!(bits(next(&mut k)), bits(s.values.iter().map(|z| z.im).collect()));
                        }
                    }
                    for (j, (n, v)) in r.measures.iter().enumerate() {
                        assert_eq!(l["measures"][j], n.as_str());
                        assert_eq!(bits(next(&mut k)), bits(v.clone()));
                    }
                    let p = &r.physicality;
                    assert_eq!(bits(next(&mut k)), bits(p.trace_drift.clone()));
                    assert_eq!(bits(next(&mut k)), bits(p.hermiticity_error.clone()));
                    assert_eq!(bits(next(&mut k)), bits(p.min_eigenvalue.clone()));
                    assert_eq!(bits(next(&mut k)), bits(crate::interleave(&r.final_state)));
                    assert_eq!(k, lengths.len());
                    end = at;
                }
                Some((_, Err(err))) => {
                    assert_eq!(l["ok"], false);
                    assert_eq!(l["code"], err.code.as_str());
                    assert_eq!(l["message"], err.message.as_str());
                    assert_eq!(l.get("path").and_then(Value::as_str), err.path.as_deref());
                }
                None => assert_eq!(*l, json!({"ok": false, "code": "invalid_argument", "message": format!("entry {i} was already taken"), "path": "i"})),
            }
        }
        assert_eq!(end, data.len());
    }

    #[test]
    fn an_empty_batch_reads_as_nothing() {
        assert_eq!(layout(&[]), "[]");
        assert!(data(&[]).is_empty());
    }
}
