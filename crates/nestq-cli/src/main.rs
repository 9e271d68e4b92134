//! `nestq` — run nestq model files natively.
//!
//! ```text
//! nestq run SPEC.json --out RESULT.json      # integrate, write the result file
//! nestq steadystate SPEC.json --out SS.json  # steady state of a time-independent model
//! nestq check SPEC.json                      # validate and print the CP analysis
//! ```
//! Exit status: 0 success, 2 invalid input (message names the JSON path), 1 other failures.

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nestq::{ErrorCode, Model};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(name = "nestq", version, about = "Open quantum systems (Lindblad/GKSL) simulator — native CLI")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Integrate the master equation of a model file and write the result JSON.
    Run {
        /// Model file (JSON, docs/model-format.md).
        spec: PathBuf,
        /// Result file to write.
        #[arg(long)]
        out: PathBuf,
        /// Do not show a progress bar or the summary line (warnings are still printed).
        #[arg(long)]
        quiet: bool,
        /// Worker threads for parallel kernels (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Compute the steady state of a time-independent model.
    Steadystate {
        /// Model file.
        spec: PathBuf,
        /// Output file: {"rho": [[[re,im],…],…], "residual", "expect": {…}}.
        #[arg(long)]
        out: PathBuf,
    },
    /// Validate a model file and report its complete-positivity analysis.
    Check {
        /// Model file.
        spec: PathBuf,
    },
}

fn fail(e: nestq::Error) -> ExitCode {
    eprintln!("nestq: error: {e}");
    match e.code {
        ErrorCode::Parse | ErrorCode::InvalidModel | ErrorCode::MemoryBudget | ErrorCode::InvalidArgument => ExitCode::from(2),
        _ => ExitCode::from(1),
    }
}

fn read_model(spec: &PathBuf) -> Result<Model, nestq::Error> {
    let text = std::fs::read_to_string(spec).map_err(|e| nestq::Error::new(ErrorCode::Io, format!("cannot read {}: {e}", spec.display())))?;
    Model::from_json_str(&text)
}

fn write_json(out: &PathBuf, v: &serde_json::Value) -> Result<(), nestq::Error> {
    let text = serde_json::to_string(v).expect("serialisable");
    std::fs::write(out, text).map_err(|e| nestq::Error::new(ErrorCode::Io, format!("cannot write {}: {e}", out.display())))
}

fn run(spec: PathBuf, out: PathBuf, quiet: bool) -> Result<(), nestq::Error> {
    let model = read_model(&spec)?;
    let start = Instant::now();
    let bar = ProgressBar::with_draw_target(Some(1000), ProgressDrawTarget::hidden());
    bar.set_style(ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {percent}% eta {eta}").expect("template"));
    let mut shown = false;
    let mut last = Instant::now();
    let mut progress = |frac: f64| -> bool {
        if quiet {
            return true;
        }
        // only for runs longer than a second, redrawn at most 10 times a second
        if !shown && start.elapsed() > Duration::from_secs(1) {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            shown = true;
        }
        if shown && last.elapsed() > Duration::from_millis(100) {
            bar.set_position((frac * 1000.0) as u64);
            last = Instant::now();
        }
        true
    };
    let res = nestq::mesolve(&model, Some(&mut progress));
    if shown {
        bar.finish_and_clear();
    }
    let res = res?;
    for w in &res.stats.warnings {
        eprintln!("nestq: warning: {w}");
    }
    write_json(&out, &res.to_json())?;
    if !quiet {
        eprintln!("nestq: {} ({}), {} steps, {} rhs evaluations, {:.3} s -> {}", res.stats.method, res.stats.method_reason, res.stats.integrator.steps, res.stats.integrator.rhs_evals, res.stats.wall_s, out.display());
    }
    Ok(())
}

fn steadystate(spec: PathBuf, out: PathBuf) -> Result<(), nestq::Error> {
    let model = read_model(&spec)?;
    write_json(&out, &nestq::steady::steadystate_json(&model)?)
}

fn check(spec: PathBuf) -> Result<(), nestq::Error> {
    let model = read_model(&spec)?;
    let report = nestq::solve::check_report(&model)?;
    println!("{}", serde_json::to_string_pretty(&report).expect("json"));
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::Run { spec, out, quiet, threads } => {
            if let Some(t) = threads {
                if t == 0 {
                    eprintln!("nestq: error: --threads: must be at least 1");
                    return ExitCode::from(2);
                }
                rayon_init(t);
            }
            run(spec, out, quiet)
        }
        Cmd::Steadystate { spec, out } => steadystate(spec, out),
        Cmd::Check { spec } => check(spec),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

fn rayon_init(threads: usize) {
    std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
}
