//! The files `devctl init` writes beside the profiles: a block of devctl targets for the
//! `Makefile` (between marker comments, never shadowing a target the Makefile has), and
//! `.env.example` (the keys of `.env`, values blanked).

/// The line that opens the Makefile block.
pub const MAKEFILE_BEGIN: &str = "# >>> devctl targets (written by `devctl init`) >>>";
/// The line that closes it.
pub const MAKEFILE_END: &str = "# <<< devctl targets <<<";

/// The targets of the block: name, what it runs, what it does.
const TARGETS: [(&str, &str, &str); 7] = [
    (
        "up",
        "devctl up",
        "start the stack and wait until it is healthy",
    ),
    (
        "down",
        "devctl down",
        "stop and remove the stack's containers (volumes stay)",
    ),
    (
        "status",
        "devctl status",
        "show each service's state, health and URLs",
    ),
    ("logs", "devctl logs", "follow the services' logs"),
    ("backup", "devctl backup", "back up the project's volumes"),
    (
        "doctor",
        "devctl doctor",
        "check the environment and the project",
    ),
    (
        "fidelity",
        "devctl up --fidelity",
        "run the images that ship, beside the live stack",
    ),
];

/// The example files that tell how to create `.env`.
pub const ENV_EXAMPLES: [&str; 3] = [".env.example", "example.env", ".env.sample"];

/// The names of the targets a Makefile defines (`name:` at the start of a rule line, not a
/// variable assignment).
pub fn makefile_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in text.lines() {
        if line.starts_with(['\t', ' ', '#', '.']) {
            continue;
        }
        let Some((names, rest)) = line.split_once(':') else {
            continue;
        };
        if rest.starts_with('=') || names.contains('=') || names.contains('$') {
            continue;
        }
        targets.extend(names.split_whitespace().map(String::from));
    }
    targets
}

/// Whether the Makefile already holds init's block.
pub fn has_block(text: &str) -> bool {
    text.lines().any(|line| line.trim() == MAKEFILE_BEGIN)
}

/// The block for a Makefile that defines `existing` targets: each target named as above, or
/// `devctl-NAME` when the Makefile has a target of that name already.
pub fn makefile_block(existing: &[String]) -> String {
    let mut names = Vec::new();
    let mut rules = String::new();
    for (name, command, what) in TARGETS {
        let name = match existing.iter().any(|target| target == name) {
            true => format!("devctl-{name}"),
            false => name.to_string(),
        };
        rules.push_str(&format!("# {what}\n{name}:\n\t{command}\n"));
        names.push(name);
    }
    format!(
        "{MAKEFILE_BEGIN}\n# devctl's everyday verbs; edit freely, `devctl init` never rewrites this block.\n.PHONY: {}\n{rules}{MAKEFILE_END}\n",
        names.join(" ")
    )
}

/// `existing` (the Makefile's text, "" for none) with the block appended.
pub fn with_block(existing: &str) -> String {
    let block = makefile_block(&makefile_targets(existing));
    match existing {
        "" => block,
        text if text.ends_with('\n') => format!("{text}\n{block}"),
        text => format!("{text}\n\n{block}"),
    }
}

/// `.env.example` for a `.env`: its comments and keys, each value blanked.
pub fn env_example(env: &str) -> String {
    let mut out = String::from(
        "# The variables this project reads from .env (copy this file to .env and fill it in).\n",
    );
    for line in env.lines() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let Some((key, _)) = trimmed.split_once('=') else {
            continue;
        };
        out.push_str(key.trim_end());
        out.push_str("=\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_never_shadows_a_target_and_keeps_the_makefile() {
        let makefile =
            "VERSION := 1\nup: build\n\tdocker compose up\ntest lint:\n\tcargo test\n.PHONY: up\n";
        assert_eq!(makefile_targets(makefile), ["up", "test", "lint"]);
        let appended = with_block(makefile);
        assert!(appended.starts_with(makefile));
        assert!(has_block(&appended) && !has_block(makefile));
        assert!(
            appended.contains("\ndevctl-up:\n\tdevctl up\n"),
            "{appended}"
        );
        assert!(appended.contains("\ndown:\n\tdevctl down\n"), "{appended}");
        assert_eq!(
            makefile_targets(&appended)
                .iter()
                .filter(|name| *name == "up")
                .count(),
            1
        );
    }

    #[test]
    fn the_example_blanks_values_and_keeps_comments() {
        let env = "# database\nPOSTGRES_PASSWORD=secret\nexport API_KEY = abc\n\nnot a line\n";
        assert_eq!(
            env_example(env),
            "# The variables this project reads from .env (copy this file to .env and fill it in).\n# database\nPOSTGRES_PASSWORD=\nexport API_KEY=\n\n"
        );
    }
}
