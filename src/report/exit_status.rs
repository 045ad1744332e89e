//! How a devctl run ends: the fixed table of devctl's exit codes, and a passthrough for the
//! code of a command it ran.
//!
//! devctl's own outcomes use values compose never returns (compose exits 1 on its errors), in
//! the sysexits range; compose's own code is passed through unchanged; signals give 128 + n.

/// How a run ended: success, a command's own code passed through, or devctl's own reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything asked for was done.
    Success,
    /// A command devctl ran (compose, docker) ended with this code, passed through unchanged.
    External(u8),
    /// A command devctl ran (compose, docker, a backup hook) failed; its message says which.
    StepFailed,
    /// Bad input: a flag, a profile, a compose file or a value that cannot be used.
    BadInput,
    /// The integrity of stored data could not be proven.
    IntegrityFailure,
    /// Docker, compose or the engine is missing, too old or not answering.
    EngineUnavailable,
    /// A bug in devctl.
    Internal,
    /// A file or directory devctl needed could not be read or written.
    Io,
    /// Another devctl run holds the project's lock for too long.
    LockTimeout,
    /// The guard refused a destructive step.
    Refused,
    /// A restore failed (its services did not become healthy, a hook failed) and devctl put
    /// the safety backup back: the volumes hold what they held before.
    RolledBack,
    /// Services did not become healthy (or exited) within the wait timeout.
    Unhealthy,
    /// A restore drill failed: the backup did not come up healthy or a drill check failed.
    DrillFailed,
    /// Stopped by a signal (Ctrl-C is SIGINT): 128 + its number.
    Interrupted(i32),
}

impl ExitStatus {
    /// The status for a child process's exit code: success for 0, else passed through.
    pub fn from_code(code: u8) -> ExitStatus {
        match code {
            0 => ExitStatus::Success,
            code => ExitStatus::External(code),
        }
    }

    /// Whether the run did what was asked.
    pub fn is_success(self) -> bool {
        self == ExitStatus::Success
    }

    /// devctl's own failure statuses, in the order the documentation lists them.
    pub const ALL: [ExitStatus; 12] = [
        ExitStatus::StepFailed,
        ExitStatus::BadInput,
        ExitStatus::IntegrityFailure,
        ExitStatus::EngineUnavailable,
        ExitStatus::Internal,
        ExitStatus::Io,
        ExitStatus::LockTimeout,
        ExitStatus::DrillFailed,
        ExitStatus::Refused,
        ExitStatus::RolledBack,
        ExitStatus::Unhealthy,
        ExitStatus::Interrupted(libc::SIGINT),
    ];

    /// The process exit code for this status.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::External(code) => code,
            ExitStatus::StepFailed => 1,
            ExitStatus::BadInput => 64,
            ExitStatus::IntegrityFailure => 65,
            ExitStatus::EngineUnavailable => 69,
            ExitStatus::Internal => 70,
            ExitStatus::Io => 74,
            ExitStatus::LockTimeout => 75,
            ExitStatus::DrillFailed => 76,
            ExitStatus::Refused => 77,
            ExitStatus::RolledBack => 78,
            ExitStatus::Unhealthy => 79,
            ExitStatus::Interrupted(signal) => signal_code(signal),
        }
    }

    /// A short description, as the documentation's table gives it.
    pub fn description(self) -> &'static str {
        match self {
            ExitStatus::Success => "success",
            ExitStatus::External(_) => "the exit code of the command devctl ran, passed through",
            ExitStatus::StepFailed => {
                "a command devctl ran (compose, docker, a backup hook) failed; the message says which"
            }
            ExitStatus::BadInput => "bad input: flag, profile, compose file or value",
            ExitStatus::IntegrityFailure => "integrity failure: stored data does not verify",
            ExitStatus::EngineUnavailable => {
                "engine unavailable: docker, compose or the daemon missing, too old or not answering"
            }
            ExitStatus::Internal => "internal error: a bug in devctl",
            ExitStatus::Io => {
                "I/O error: a file or directory devctl needed could not be read or written"
            }
            ExitStatus::LockTimeout => "lock timeout: another devctl run holds the project",
            ExitStatus::DrillFailed => {
                "restore drill failed: the backup's services did not become healthy in the sibling stack, or a drill check failed"
            }
            ExitStatus::Refused => "refused by the guard",
            ExitStatus::RolledBack => {
                "restore rolled back: the restored services did not become healthy (or a hook restore failed), and devctl put the safety backup back"
            }
            ExitStatus::Unhealthy => "services not healthy within the wait timeout",
            ExitStatus::Interrupted(_) => {
                "interrupted by a signal: 128 + its number (130 for Ctrl-C)"
            }
        }
    }
}

/// Exit code for an interrupt by SIGINT (Ctrl-C).
pub const INTERRUPTED: u8 = 130;

/// The exit code a shell reports for a process ended by `signal`.
pub fn signal_code(signal: i32) -> u8 {
    (128 + signal).clamp(0, 255) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_devctl_s_own_outcomes_stay_in_64_to_79() {
        let mut codes: Vec<u8> = ExitStatus::ALL.iter().map(|s| s.code()).collect();
        let own = ExitStatus::ALL
            .iter()
            .filter(|s| !matches!(s, ExitStatus::StepFailed | ExitStatus::Interrupted(_)));
        assert!(own.map(|s| s.code()).all(|c| (64..=79).contains(&c)));
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), ExitStatus::ALL.len());
    }

    #[test]
    fn success_and_passthrough_keep_the_child_s_code() {
        assert_eq!(ExitStatus::from_code(0), ExitStatus::Success);
        assert_eq!(ExitStatus::from_code(0).code(), 0);
        assert_eq!(ExitStatus::from_code(3), ExitStatus::External(3));
        assert_eq!(ExitStatus::from_code(3).code(), 3);
        assert!(!ExitStatus::ALL.iter().any(|status| status.is_success()));
    }

    #[test]
    fn signals_map_to_128_plus_n() {
        assert_eq!(signal_code(libc::SIGINT), INTERRUPTED);
        assert_eq!(signal_code(libc::SIGTERM), 143);
    }
}
