//! MPO/TEBD benchmark: solves model files with method `mpo` and prints wall time, peak resident
//! memory (VmHWM from /proc/self/status, Linux only) and the MPO statistics.
//!
//! `cargo bench -p nestq --bench mpo -- [MODEL.json …] [--out=PREFIX]` (default:
//! `bench/mpo_chain32.json`; cargo runs benches from the crate directory, so give absolute paths).
//! Each file is solved in this process, so VmHWM after the second file is the maximum of both.
//! With `--out=PREFIX` (one model) the result file is written to `PREFIX.result.json` and a JSON
//! line `{"bench": "mpo", "impl": "native", "threads", "wall_s", "cpu_s", "vm_hwm_mib"}` is
//! printed after the summary (bench/mpo.sh reads both).

use std::time::Instant;

fn vm_hwm_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User + system CPU seconds of this process (utime + stime from /proc/self/stat).
fn cpu_s() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let mut files: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let out = std::env::args().find_map(|a| a.strip_prefix("--out=").map(str::to_owned));
    if files.is_empty() {
        files.push(format!("{root}/bench/mpo_chain32.json"));
    }
    assert!(out.is_none() || files.len() == 1, "--out=PREFIX takes one model file");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{f}: {e}"));
        let model = nestq::Model::from_json_str(&text).unwrap_or_else(|e| panic!("{f}: {e}"));
        let c0 = cpu_s().unwrap_or(f64::NAN);
        let t0 = Instant::now();
        let r = nestq::mesolve(&model, None).unwrap_or_else(|e| panic!("{f}: {e}"));
        let wall = t0.elapsed().as_secs_f64();
        let cpu = cpu_s().unwrap_or(f64::NAN) - c0;
        let st = r.stats.mpo.as_ref().expect("method mpo");
        println!(
            "{f}: {} sites, wall {wall:.2} s, CPU {cpu:.2} s, VmHWM {:.1} MiB, steps {}, dt {}, order {}, max_bond {}, truncation_error {:.3e}, trotter_error {:.3e}, threads {}",
            model.dims.len(),
            vm_hwm_kib().map(|k| k as f64 / 1024.0).unwrap_or(f64::NAN),
            st.steps,
            st.dt,
            st.order,
            st.max_bond,
            st.truncation_error,
            st.trotter_error.unwrap_or(f64::NAN),
            rayon::current_num_threads(),
        );
        for e in &r.expect {
            println!("  {} at t = {}: {:.6}", e.name, r.times[r.times.len() - 1], e.values[e.values.len() - 1].re);
        }
        for (name, v) in &r.measures {
            println!("  {name} at t = {}: {:.6}", r.times[r.times.len() - 1], v[v.len() - 1]);
        }
        if let Some(prefix) = &out {
            let path = format!("{prefix}.result.json");
            std::fs::write(&path, r.to_json().to_string()).unwrap_or_else(|e| panic!("{path}: {e}"));
            let hwm = vm_hwm_kib().map(|k| k as f64 / 1024.0);
            println!("{}", serde_json::json!({"bench": "mpo", "impl": "native", "threads": rayon::current_num_threads(), "wall_s": wall, "cpu_s": cpu, "vm_hwm_mib": hwm}));
        }
    }
}
