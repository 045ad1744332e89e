//! `Failure`: an error that devctl itself diagnosed, with its exit status and a hint.
//!
//! Errors travel as `anyhow::Error` and are printed once, by the entry point (`crate::run`).
//! When the error is (or wraps) a `Failure`, its exit status and hint are used. An error
//! devctl did not diagnose exits with `ExitStatus::Io` when an I/O error is among its causes,
//! and with `ExitStatus::StepFailed` otherwise; a panic is `ExitStatus::Internal`.

use std::fmt;

use crate::report::exit_status::ExitStatus;

/// An error devctl diagnosed itself.
#[derive(Debug)]
pub struct Failure {
    pub status: ExitStatus,
    pub message: String,
    pub hint: Option<String>,
}

impl Failure {
    pub fn new(status: ExitStatus, message: impl Into<String>) -> Self {
        Failure {
            status,
            message: message.into(),
            hint: None,
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Failure::new(ExitStatus::BadInput, message)
    }

    pub fn engine(message: impl Into<String>) -> Self {
        Failure::new(ExitStatus::EngineUnavailable, message)
    }

    /// Adds what the person should do next.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// The `Failure` somewhere in an error's chain, if there is one.
pub fn find(error: &anyhow::Error) -> Option<&Failure> {
    // `downcast_ref` on the error itself also finds a `Failure` attached with `.context(…)`.
    error.downcast_ref::<Failure>().or_else(|| {
        error
            .chain()
            .find_map(|cause| cause.downcast_ref::<Failure>())
    })
}
