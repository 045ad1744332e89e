//! `Stack`: which stack a run addresses, and through which docker context, for the devctl
//! command lines its hints and notes print. A line about the fidelity stack carries
//! `--fidelity`, and a line of a run given `--context NAME` carries that flag, so that
//! pasting it acts on that stack of that engine and not the live one or the local engine.

use crate::report::text::shell_quote;

/// The stack a run addresses, and the docker context it was named by on the command line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stack {
    fidelity: bool,
    context: Option<String>,
}

impl Stack {
    /// The profile's own stack.
    pub fn live() -> Stack {
        Stack::default()
    }

    /// The fidelity stack (`--fidelity`).
    pub fn fidelity() -> Stack {
        Stack {
            fidelity: true,
            context: None,
        }
    }

    /// This stack as reached through `--context CONTEXT` (None: no flag, so the
    /// environment's engine).
    pub fn through(self, context: Option<&str>) -> Stack {
        Stack {
            context: context.map(str::to_string),
            ..self
        }
    }

    /// Whether this is the fidelity stack.
    pub fn is_fidelity(&self) -> bool {
        self.fidelity
    }

    /// `devctl ARGUMENTS`, as typed to act on this stack: with `--context NAME` first when
    /// the run was given one; for the fidelity stack with `--fidelity` after the verb's
    /// arguments, or before `compose` (whose arguments go to compose).
    pub fn devctl(&self, arguments: &str) -> String {
        let arguments = arguments.trim();
        let context = match &self.context {
            Some(context) => format!("--context {} ", shell_quote(context)),
            None => String::new(),
        };
        match self.fidelity {
            false => format!("devctl {context}{arguments}"),
            true if arguments == "compose" || arguments.starts_with("compose ") => {
                format!("devctl {context}--fidelity {arguments}")
            }
            true => format!("devctl {context}{arguments} --fidelity"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fidelity_lines_carry_the_flag_where_devctl_reads_it() {
        assert_eq!(Stack::live().devctl("logs app"), "devctl logs app");
        assert_eq!(
            Stack::fidelity().devctl("logs app"),
            "devctl logs app --fidelity"
        );
        assert_eq!(Stack::fidelity().devctl("logs "), "devctl logs --fidelity");
        assert_eq!(
            Stack::fidelity().devctl("restore 20261122T143005Z --confirm shop-fidelity"),
            "devctl restore 20261122T143005Z --confirm shop-fidelity --fidelity"
        );
        assert_eq!(
            Stack::fidelity().devctl("compose -- logs -f db"),
            "devctl --fidelity compose -- logs -f db"
        );
        assert_eq!(
            Stack::fidelity().devctl("compose"),
            "devctl --fidelity compose"
        );
        assert_eq!(
            Stack::fidelity().devctl("composer"),
            "devctl composer --fidelity"
        );
        assert_eq!(Stack::default(), Stack::live());
    }

    #[test]
    fn lines_of_a_run_given_a_context_name_it() {
        let remote = Stack::live().through(Some("build-box"));
        assert_eq!(
            remote.devctl("up --fidelity"),
            "devctl --context build-box up --fidelity"
        );
        let fidelity = Stack::fidelity().through(Some("team box"));
        assert_eq!(
            fidelity.devctl("restore 20261122T143005Z --confirm shop-fidelity"),
            "devctl --context 'team box' restore 20261122T143005Z --confirm shop-fidelity --fidelity"
        );
        assert_eq!(
            fidelity.devctl("compose -- logs"),
            "devctl --context 'team box' --fidelity compose -- logs"
        );
        assert_eq!(Stack::live().through(None).devctl("logs"), "devctl logs");
        assert_eq!(
            Stack::live()
                .through(Some("build box"))
                .devctl("restore 20261122T143005Z --confirm shop"),
            "devctl --context 'build box' restore 20261122T143005Z --confirm shop"
        );
        assert_eq!(Stack::live().through(None).devctl("up"), "devctl up");
    }
}
