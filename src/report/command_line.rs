//! `Stack`: which stack a run addresses, for the devctl command lines its hints and notes
//! print. A line about the fidelity stack carries `--fidelity`, so that pasting it acts on
//! that stack and not the live one; a run given `--context NAME` prints lines that carry it,
//! so that pasting one reaches the same engine.

use std::sync::OnceLock;

/// The docker context the run was given with `--context`, once set.
static CONTEXT: OnceLock<String> = OnceLock::new();

/// Makes every devctl line this run prints carry `--context name`.
pub fn set_context(name: &str) {
    let _ = CONTEXT.set(name.to_string());
}

/// The stack a run addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stack {
    /// The profile's own stack.
    #[default]
    Live,
    /// The fidelity stack (`--fidelity`).
    Fidelity,
}

impl Stack {
    /// `devctl ARGUMENTS`, as typed to act on this stack: for the fidelity stack with
    /// `--fidelity` after the verb's arguments, or before `compose` (whose arguments go to
    /// compose).
    pub fn devctl(self, arguments: &str) -> String {
        self.line(CONTEXT.get().map(String::as_str), arguments)
    }

    /// `devctl ARGUMENTS` for this stack without the run's `--context`: for a line meant for
    /// another engine (a bundle's import).
    pub fn devctl_elsewhere(self, arguments: &str) -> String {
        self.line(None, arguments)
    }

    /// `devctl ARGUMENTS` for this stack, with `--context context` first when given.
    fn line(self, context: Option<&str>, arguments: &str) -> String {
        let arguments = arguments.trim();
        let devctl = match context {
            Some(context) => format!(
                "devctl --context {}",
                crate::report::text::shell_quote(context)
            ),
            None => "devctl".to_string(),
        };
        match self {
            Stack::Live => format!("{devctl} {arguments}"),
            Stack::Fidelity if arguments == "compose" || arguments.starts_with("compose ") => {
                format!("{devctl} --fidelity {arguments}")
            }
            Stack::Fidelity => format!("{devctl} {arguments} --fidelity"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fidelity_lines_carry_the_flag_where_devctl_reads_it() {
        assert_eq!(Stack::Live.devctl("logs app"), "devctl logs app");
        assert_eq!(
            Stack::Fidelity.devctl("logs app"),
            "devctl logs app --fidelity"
        );
        assert_eq!(Stack::Fidelity.devctl("logs "), "devctl logs --fidelity");
        assert_eq!(
            Stack::Fidelity.devctl("restore 20261122T143005Z --confirm shop-fidelity"),
            "devctl restore 20261122T143005Z --confirm shop-fidelity --fidelity"
        );
        assert_eq!(
            Stack::Fidelity.devctl("compose -- logs -f db"),
            "devctl --fidelity compose -- logs -f db"
        );
        assert_eq!(
            Stack::Fidelity.devctl("compose"),
            "devctl --fidelity compose"
        );
        assert_eq!(
            Stack::Fidelity.devctl("composer"),
            "devctl composer --fidelity"
        );
        assert_eq!(Stack::default(), Stack::Live);
    }

    #[test]
    fn lines_of_a_run_given_a_context_carry_it() {
        assert_eq!(
            Stack::Live.line(Some("build box"), "restore 20261122T143005Z --confirm shop"),
            "devctl --context 'build box' restore 20261122T143005Z --confirm shop"
        );
        assert_eq!(
            Stack::Fidelity.line(Some("remote"), "compose ps"),
            "devctl --context remote --fidelity compose ps"
        );
        assert_eq!(Stack::Live.line(None, "up"), "devctl up");
    }
}
