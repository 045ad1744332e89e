//! `Finding`: one thing `devctl doctor` found — the rule, its severity, a message, where (a
//! file, and a line and column where the source has them) and how to fix it; and `masked`,
//! which hides the credentials of URLs in what a finding says and shows its control
//! characters escaped.

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

/// `text` with the credentials of every URL in it masked: `https://user:pass@host/…` (or
/// `https://token@host/…`) becomes `https://***@host/…`. A user name alone is kept over ssh
/// (`git+ssh://git@host/…`), where it is a login, not a secret. Control characters (an
/// escape sequence a Dockerfile's words carry) are shown escaped, `\u{1b}`, so that a
/// message cannot drive the terminal it is printed on.
pub fn masked(text: &str) -> String {
    let mut result = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(found) = rest.find("://") {
        let scheme = rest[..found]
            .rsplit(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .next()
            .unwrap_or_default()
            .to_lowercase();
        let authority_start = found + 3;
        let after = &rest[authority_start..];
        let authority_end = after
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '/' | '?' | '#' | '`' | '\'' | '"' | ',' | ')')
            })
            .unwrap_or(after.len());
        let authority = &after[..authority_end];
        result.push_str(&rest[..authority_start]);
        match authority.rfind('@') {
            Some(at) if authority[..at].contains(':') || !scheme.ends_with("ssh") => {
                result.push_str("***");
                result.push_str(&authority[at..]);
            }
            _ => result.push_str(authority),
        }
        rest = &after[authority_end..];
    }
    result.push_str(rest);
    if result.chars().any(char::is_control) {
        result = result
            .chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect();
    }
    result
}

/// Makes a path relative to `root` when it is inside it, as findings show it.
pub fn shown(path: &Path, root: &Path) -> PathBuf {
    path.strip_prefix(root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_escaped() {
        // A Dockerfile's words reach the terminal through a finding's message: an escape
        // sequence in them must not clear the screen or retitle the terminal.
        assert_eq!(
            masked("unpinned \u{1b}]0;title\u{7}\u{1b}[2Jflask\u{0}\u{7f}\u{9b}1m"),
            "unpinned \\u{1b}]0;title\\u{7}\\u{1b}[2Jflask\\u{0}\\u{7f}\\u{9b}1m"
        );
        assert_eq!(masked("tab\there"), "tab\\there");
        assert_eq!(
            masked("https://a:b@c\u{1b}[0m/x ü €"),
            "https://***@c\\u{1b}[0m/x ü €"
        );
    }

    #[test]
    fn credentials_in_urls_are_masked() {
        for (text, shown) in [
            (
                "`pip install` of unpinned https://user:pass@pypi.example.com/simple, flask",
                "`pip install` of unpinned https://***@pypi.example.com/simple, flask",
            ),
            (
                "git+https://ghp_token@example.com/app.git and http://a:b@c:8080",
                "git+https://***@example.com/app.git and http://***@c:8080",
            ),
            (
                "git+ssh://git@example.com/app.git ssh://deploy:secret@host/x",
                "git+ssh://git@example.com/app.git ssh://***@host/x",
            ),
            (
                "https://example.com/a@b and mail@example.com, ://@",
                "https://example.com/a@b and mail@example.com, ://***@",
            ),
        ] {
            assert_eq!(masked(text), shown);
        }
        for odd in ["://", "https://", "ü://a:b@c/ü", "a://b@", "::////@@"] {
            assert!(!masked(odd).contains(":b@"), "{odd}");
        }
    }
}
