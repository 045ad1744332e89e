//! `Finding`: one thing `devctl doctor` found — the rule, its severity, a message, where (a
//! file, and a line and column where the source has them) and how to fix it.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::doctor::rule_id::{RuleId, Severity};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// Relative to the project root where the file is inside it.
    pub file: PathBuf,
    pub line: Option<u64>,
    pub column: Option<u64>,
}

impl Location {
    pub fn file(file: impl Into<PathBuf>) -> Location {
        Location {
            file: file.into(),
            line: None,
            column: None,
        }
    }

    pub fn at(file: impl Into<PathBuf>, line: u64, column: u64) -> Location {
        Location {
            file: file.into(),
            line: Some(line),
            column: Some(column),
        }
    }

    /// `file:line:column`, as far as known.
    pub fn text(&self) -> String {
        match (self.line, self.column) {
            (Some(line), Some(column)) => format!("{}:{line}:{column}", self.file.display()),
            (Some(line), None) => format!("{}:{line}", self.file.display()),
            _ => self.file.display().to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: RuleId,
    pub severity: Severity,
    pub message: String,
    pub location: Option<Location>,
    pub hint: String,
}

/// Makes a path relative to `root` when it is inside it, as findings show it.
pub fn shown(path: &Path, root: &Path) -> PathBuf {
    path.strip_prefix(root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}
