//! Error type shared by every part of the engine.
//!
//! Every error carries a machine-readable [`ErrorCode`], an optional JSON path into the model
//! file (`$.hamiltonian[2].ops`) and a human-readable reason. The `Display` form is
//! `"<path>: <reason>"`, which is what the CLI prints and what the TypeScript facade wraps into
//! its typed `NestqError`.

use std::fmt;

/// Category of an [`Error`]; stable strings via [`ErrorCode::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The input is not valid JSON.
    Parse,
    /// The model is syntactically valid JSON but violates the model-file specification.
    InvalidModel,
    /// A dense object would exceed the configured memory budget.
    MemoryBudget,
    /// An integrator failed (step size underflow, too many steps, non-finite values).
    Numerical,
    /// The caller aborted the computation (progress callback returned `false`).
    Aborted,
    /// The solve reached its wall-clock limit (`solver.timeout`).
    Timeout,
    /// Reading or writing a file failed.
    Io,
    /// Invalid argument passed to a library function (not from a model file).
    InvalidArgument,
}

impl ErrorCode {
    /// Stable identifier used by the CLI exit report and the TypeScript `NestqError.code`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Parse => "parse",
            ErrorCode::InvalidModel => "invalid_model",
            ErrorCode::MemoryBudget => "memory_budget",
            ErrorCode::Numerical => "numerical",
            ErrorCode::Aborted => "aborted",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Io => "io",
            ErrorCode::InvalidArgument => "invalid_argument",
        }
    }
}

/// The engine's error: a code, an optional JSON path and a reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    /// What kind of failure this is.
    pub code: ErrorCode,
    /// JSON path of the offending model-file field (`$.jumps[0].rate`), if any.
    pub path: Option<String>,
    /// Human-readable reason.
    pub message: String,
}

impl Error {
    /// A model-file error at `path`.
    pub fn model(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error { code: ErrorCode::InvalidModel, path: Some(path.into()), message: message.into() }
    }
    /// An error with a code and no path.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error { code, path: None, message: message.into() }
    }
    /// An invalid-argument error naming the argument (used as the path).
    pub fn arg(name: impl Into<String>, message: impl Into<String>) -> Self {
        Error { code: ErrorCode::InvalidArgument, path: Some(name.into()), message: message.into() }
    }
    /// A numerical failure.
    pub fn numerical(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Numerical, message)
    }
    /// Returns the same error with `path` set if it had none.
    pub fn at(mut self, path: impl Into<String>) -> Self {
        if self.path.is_none() {
            self.path = Some(path.into());
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}: {}", p, self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

impl std::error::Error for Error {}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Checks that an allocation of `bytes` fits in `budget_bytes`; errors *before* allocating.
fn fmt_bytes(b: u128) -> String {
    if b < 1 << 20 {
        format!("{b} bytes")
    } else {
        format!("{:.1} MiB", b as f64 / 1048576.0)
    }
}

/// Refuses (before allocating) a dense object of `bytes` over `budget_bytes`.
pub fn check_budget(what: &str, bytes: u128, budget_bytes: u128) -> Result<()> {
    if bytes > budget_bytes {
        return Err(Error {
            code: ErrorCode::MemoryBudget,
            path: Some("$.solver.memory_budget_mb".into()),
            message: format!(
                "{what} needs {}, over the memory budget of {} (raise solver.memory_budget_mb or pick a method that does not build it)",
                fmt_bytes(bytes),
                fmt_bytes(budget_bytes)
            ),
        });
    }
    Ok(())
}
