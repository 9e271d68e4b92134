//! `nestq` — run nestq model files natively.
//!
//! ```text
//! nestq run SPEC.json --out RESULT.json      # integrate, write the result file
//! nestq steadystate SPEC.json --out SS.json  # steady state of a time-independent model
//! nestq check SPEC.json                      # validate and print the CP analysis
//! nestq network NET.json --out RESULT.json   # run a LIF network with NEST bridges
//! nestq grad SPEC.json --objective Z0 --out G.json          # d⟨Z0⟩(t_final)/dθ, adjoint method
//! nestq grad SPEC.json --objective-file OBJ.json --out G.json
//! nestq train CONFIG.json --out DIR                          # train a spiking network with bridges
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

/// Arguments shared by `run` and `network`.
#[derive(clap::Args)]
struct RunArgs {
    /// Input file: a model file (`run`, docs/model-format.md) or a network file (`network`,
    /// docs/network-format.md).
    spec: PathBuf,
    /// Result file to write.
    #[arg(long)]
    out: PathBuf,
    /// Do not show a progress bar or the summary line (warnings are still printed).
    #[arg(long)]
    quiet: bool,
    /// Worker threads for parallel kernels and bridges (default: all cores; at least 1).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    threads: Option<u64>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Integrate the master equation of a model file and write the result JSON.
    Run(RunArgs),
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
    /// Run a spiking network (LIF neurons, synapses, NEST bridges) and write the result JSON.
    Network(RunArgs),
    /// Gradient of an objective over observables with respect to every parameter of a model
    /// file (checkpointed discrete adjoint of RK4, docs/gradients.md). Writes
    /// {"value", "terms", "gradient": {param: dJ/dparam}, "stats"}.
    Grad(GradArgs),
    /// Train a spiking network with NEST bridges (docs/training.md). Writes DIR/result.json,
    /// DIR/history.csv (loss curves) and DIR/checkpoints/epoch-NNN.json (parameters per epoch).
    Train(TrainArgs),
}

/// Arguments of `train`.
#[derive(clap::Args)]
struct TrainArgs {
    /// Training config (docs/training.md).
    config: PathBuf,
    /// Output directory (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// MNIST data file for `mnist_rows` (overrides the config's `task.data`, which is read
    /// relative to the config file).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Do not print per-epoch lines.
    #[arg(long)]
    quiet: bool,
    /// Worker threads (samples of a mini-batch run in parallel; default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    threads: Option<u64>,
}

/// Arguments of `grad`.
#[derive(clap::Args)]
struct GradArgs {
    /// Model file (docs/model-format.md).
    spec: PathBuf,
    /// Objective: the name of an observable of the model, evaluated at the final time.
    #[arg(long, conflicts_with = "objective_file", required_unless_present = "objective_file")]
    objective: Option<String>,
    /// Objective file: {"terms": [{"observable", "time": t | "final", "weight"}], "parameters"?}.
    #[arg(long)]
    objective_file: Option<PathBuf>,
    /// Result file to write.
    #[arg(long)]
    out: PathBuf,
    /// RK4 step (default: the model's solver.dt, else an estimate from the generator's scale).
    #[arg(long)]
    dt: Option<f64>,
    /// Number of stored checkpoints (default 1 if all RK4 stages fit in 256 MiB, else ⌈√steps⌉).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    checkpoints: Option<u64>,
    /// Do not print the summary line.
    #[arg(long)]
    quiet: bool,
    /// Worker threads for parallel kernels (default: all cores; at least 1).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    threads: Option<u64>,
}

/// Exit status 2 for input the engine refuses (parse, invalid model or argument, memory budget),
/// 1 for failures while running (numerical, aborted, timeout, I/O).
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

/// Progress bar on stderr, shown only for runs longer than a second (never with `--quiet`) and
/// redrawn at most 10 times a second.
struct Bar {
    bar: ProgressBar,
    start: Instant,
    last: Instant,
    shown: bool,
    quiet: bool,
}

impl Bar {
    fn new(quiet: bool) -> Bar {
        let bar = ProgressBar::with_draw_target(Some(1000), ProgressDrawTarget::hidden());
        bar.set_style(ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {percent}% eta {eta}").expect("template"));
        Bar { bar, start: Instant::now(), last: Instant::now(), shown: false, quiet }
    }

    /// Progress callback: never aborts.
    fn update(&mut self, frac: f64) -> bool {
        if self.quiet {
            return true;
        }
        if !self.shown && self.start.elapsed() > Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown = true;
        }
        if self.shown && self.last.elapsed() > Duration::from_millis(100) {
            self.bar.set_position((frac * 1000.0) as u64);
            self.last = Instant::now();
        }
        true
    }

    fn finish(&self) {
        if self.shown {
            self.bar.finish_and_clear();
        }
    }
}

fn run(spec: PathBuf, out: PathBuf, quiet: bool) -> Result<(), nestq::Error> {
    let model = read_model(&spec)?;
    let mut bar = Bar::new(quiet);
    let res = nestq::mesolve(&model, Some(&mut |f| bar.update(f)));
    bar.finish();
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

fn network(spec: PathBuf, out: PathBuf, quiet: bool) -> Result<(), nestq::Error> {
    let text = std::fs::read_to_string(&spec).map_err(|e| nestq::Error::new(ErrorCode::Io, format!("cannot read {}: {e}", spec.display())))?;
    let net = nestq::neural::Network::from_json_str(&text)?;
    let mut bar = Bar::new(quiet);
    let res = net.run(Some(&mut |f| bar.update(f)));
    bar.finish();
    let res = res?;
    for w in &res.warnings {
        eprintln!("nestq: warning: {w}");
    }
    write_json(&out, &res.to_json())?;
    if !quiet {
        let s = &res.stats;
        eprintln!("nestq: {} neurons, {} synapses, {} bridges ({}), {} steps, {} spikes, {:.3} s -> {}", s.neurons, s.synapses, s.bridges, s.bridge_method, s.steps, s.spikes, s.wall_s, out.display());
    }
    Ok(())
}

fn grad(a: GradArgs) -> Result<(), nestq::Error> {
    let model = read_model(&a.spec)?;
    let objective = match (&a.objective, &a.objective_file) {
        (Some(name), _) => nestq::Objective::final_observable(name.clone()),
        (None, Some(f)) => {
            let text = std::fs::read_to_string(f).map_err(|e| nestq::Error::new(ErrorCode::Io, format!("cannot read {}: {e}", f.display())))?;
            nestq::Objective::from_json_str(&text).map_err(|e| in_file(e, f))?
        }
        (None, None) => unreachable!("clap requires one of --objective, --objective-file"),
    };
    let opts = nestq::GradOptions { dt: a.dt, checkpoints: a.checkpoints.map(|k| k as usize), ..Default::default() };
    let res = nestq::mesolve_grad(&model, &objective, &opts).map_err(|mut e| {
        match (&a.objective, &a.objective_file) {
            (Some(_), _) if e.path.as_deref() == Some("$.terms[0].observable") => e.path = Some("--objective".into()),
            (None, Some(f)) if e.path.as_deref().is_some_and(|p| p.starts_with("$.terms") || p.starts_with("$.parameters")) => e = in_file(e, f),
            _ => {}
        }
        e
    })?;
    write_json(&a.out, &res.to_json())?;
    if !a.quiet {
        let s = &res.stats;
        eprintln!("nestq: value {:.10}, {} parameters, {} RK4 steps (dt {}), {} checkpoints, {:.3} s forward + {:.3} s adjoint -> {}", res.value, res.gradient.len(), s.steps, s.dt, s.checkpoints, s.forward_s, s.backward_s, a.out.display());
    }
    Ok(())
}

/// Prefixes an objective-file error path with the file name (`OBJ.json:$.terms[0].time`).
fn in_file(mut e: nestq::Error, f: &std::path::Path) -> nestq::Error {
    if let Some(p) = &e.path {
        e.path = Some(format!("{}:{p}", f.display()));
    }
    e
}

fn train(a: TrainArgs) -> Result<(), nestq::Error> {
    use nestq::train::{self, TaskConfig};
    let io = |what: &str, p: &std::path::Path, e: std::io::Error| nestq::Error::new(ErrorCode::Io, format!("cannot {what} {}: {e}", p.display()));
    let text = std::fs::read_to_string(&a.config).map_err(|e| io("read", &a.config, e))?;
    let cfg = train::TrainConfig::from_json_str(&text).map_err(|e| in_file(e, &a.config))?;
    let data_path = match (&a.data, &cfg.task) {
        (Some(p), _) => Some(p.clone()),
        (None, TaskConfig::MnistRows { data: Some(d), .. }) => Some(a.config.parent().unwrap_or(std::path::Path::new(".")).join(d)),
        _ => None,
    };
    let data = match &data_path {
        Some(p) => {
            let t = std::fs::read_to_string(p).map_err(|e| io("read", p, e))?;
            let v = serde_json::from_str::<serde_json::Value>(&t).map_err(|e| nestq::Error::new(ErrorCode::Parse, format!("{}: invalid JSON: {e}", p.display())))?;
            Some(train::MnistData::from_json(&v).map_err(|e| in_file(e, p))?)
        }
        None => None,
    };
    let (train_set, test_set) = train::datasets(&cfg, data.as_ref())?;
    let ckpt = a.out.join("checkpoints");
    std::fs::create_dir_all(&ckpt).map_err(|e| io("create", &ckpt, e))?;
    let layout = nestq::train::Net::new(cfg.net.clone()).layout;
    let mut write_err = None;
    let quiet = a.quiet;
    let mut cb = |p: &train::TrainProgress| -> bool {
        if let Some(r) = p.epoch {
            let f = ckpt.join(format!("epoch-{:03}.json", r.epoch));
            let v = serde_json::json!({"epoch": r.epoch, "record": r.to_json(), "params": train::params_to_json(&layout, p.params)});
            if let Err(e) = write_json(&f, &v) {
                write_err = Some(e);
                return false;
            }
            if !quiet {
                eprintln!("nestq: epoch {:3}  train loss {:.4} acc {:.3}  test loss {:.4} acc {:.3}  ({:.1} s)", r.epoch, r.train_loss, r.train_acc, r.test_loss, r.test_acc, r.wall_s);
            }
        }
        true
    };
    let res = train::train(&cfg, &train_set, &test_set, Some(&mut cb));
    if let Some(e) = write_err {
        return Err(e);
    }
    let res = res?;
    write_json(&a.out.join("result.json"), &res.to_json())?;
    let csv = a.out.join("history.csv");
    std::fs::write(&csv, train::history_csv(&res.history)).map_err(|e| io("write", &csv, e))?;
    if !quiet {
        let b = &res.history[res.history.iter().position(|r| r.epoch == res.best_epoch).unwrap_or(0)];
        eprintln!("nestq: {} parameters, best epoch {} (test loss {:.4}, acc {:.3}), {:.1} s -> {}", res.param_count, res.best_epoch, b.test_loss, b.test_acc, res.wall_s, a.out.display());
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
        Cmd::Run(a) => {
            set_threads(a.threads);
            run(a.spec, a.out, a.quiet)
        }
        Cmd::Steadystate { spec, out } => steadystate(spec, out),
        Cmd::Check { spec } => check(spec),
        Cmd::Network(a) => {
            set_threads(a.threads);
            network(a.spec, a.out, a.quiet)
        }
        Cmd::Grad(a) => {
            set_threads(a.threads);
            grad(a)
        }
        Cmd::Train(a) => {
            set_threads(a.threads);
            train(a)
        }
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

fn set_threads(threads: Option<u64>) {
    if let Some(t) = threads {
        std::env::set_var("RAYON_NUM_THREADS", t.to_string());
    }
}
