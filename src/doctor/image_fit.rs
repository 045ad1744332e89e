//! Compose against the built image (`devctl doctor --images`): what a service asks of its
//! image that the image does not have — the healthcheck's program, a shell for a `CMD-SHELL`
//! healthcheck or an `sh -c` command, the user it runs as, the ports it publishes, the
//! program it starts. Each kind of misfit is its own rule (`rules::image`).
//!
//! `misfits` is pure over compose's resolved service, the image's configuration and a
//! `Lookup` of its files: run once over the engine's files it learns what to look up
//! (`image_files::EngineFiles` records it), then the rules run it over the record.

use serde_json::Value;

use crate::doctor::image_contract::ImageFacts;
use crate::doctor::image_files::{Lookup, Program, find_program};

/// The PATH the engine gives a container whose image sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Programs a POSIX shell runs itself: a `CMD-SHELL` healthcheck needs no file for them.
const SHELL_BUILTINS: &[&str] = &[
    ":", ".", "[", "alias", "bg", "break", "cd", "command", "continue", "echo", "eval", "exec",
    "exit", "export", "false", "fg", "getopts", "hash", "jobs", "kill", "local", "printf", "pwd",
    "read", "readonly", "return", "set", "shift", "test", "times", "trap", "true", "type",
    "ulimit", "umask", "unalias", "unset", "wait",
];

/// Shells a command may run its script with (`sh -c '…'`).
const SHELLS: &[&str] = &["sh", "bash", "ash", "dash", "zsh", "ksh", "mksh"];

/// Every way a service does not fit its image, one sentence each, by rule.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Misfits {
    /// The healthcheck runs a program the image does not have.
    pub healthcheck: Vec<String>,
    /// A shell is needed and the image has none.
    pub shell: Vec<String>,
    /// The user or group is not in the image.
    pub user: Vec<String>,
    /// A published container port the image does not expose.
    pub ports: Vec<String>,
    /// The program the container starts is missing or not executable.
    pub entrypoint: Vec<String>,
}

/// How `service` (compose's resolved definition) does not fit `image`'s `facts`, its files
/// looked up through `files`.
pub fn misfits(
    service: &Value,
    image: &str,
    facts: &ImageFacts,
    files: &mut dyn Lookup,
) -> Misfits {
    let environment_path = service
        .get("environment")
        .and_then(|environment| environment.get("PATH"))
        .and_then(Value::as_str);
    let search_path = environment_path
        .or(facts.search_path.as_deref())
        .unwrap_or(DEFAULT_PATH);
    let working_dir = service
        .get("working_dir")
        .and_then(Value::as_str)
        .filter(|directory| !directory.is_empty())
        .unwrap_or(if facts.working_dir.is_empty() {
            "/"
        } else {
            &facts.working_dir
        });
    let context = Context {
        image,
        search_path,
        working_dir,
    };
    let mut misfits = Misfits::default();
    healthcheck(service, facts, files, &context, &mut misfits);
    program(service, facts, files, &context, &mut misfits);
    user(service, facts, files, image, &mut misfits);
    misfits.ports = ports(service, facts, image);
    misfits
}

/// What every check needs to find a program.
struct Context<'a> {
    image: &'a str,
    search_path: &'a str,
    working_dir: &'a str,
}

impl Context<'_> {
    fn find(&self, files: &mut dyn Lookup, program: &str) -> Program {
        find_program(files, program, self.search_path, self.working_dir)
    }

    /// Why `program` cannot run, said of `what` (`the healthcheck runs`), or `None` when it
    /// can.
    fn unrunnable(&self, files: &mut dyn Lookup, what: &str, program: &str) -> Option<String> {
        let image = self.image;
        match self.find(files, program) {
            Program::Found(path) => self.uninterpretable(files, what, program, &path),
            Program::NotExecutable(path, stat) => Some(if stat.is_directory() {
                format!("{what} {program}, which is a directory in image {image} ({path})")
            } else {
                format!(
                    "{what} {program}, which is not executable in image {image} ({path}, mode {:o})",
                    stat.permissions()
                )
            }),
            Program::Missing(_) if program.contains('/') => Some(format!(
                "{what} {program}, which image {image} does not have"
            )),
            Program::Missing(_) => Some(format!(
                "{what} {program}, which image {image} does not have (not in its PATH {})",
                self.search_path
            )),
        }
    }
}

impl Context<'_> {
    /// Why the script `program` (found at `path`) cannot run: its `#!` interpreter (and with
    /// `#!/usr/bin/env NAME`, NAME in the PATH) is not in the image; `None` when it can, or
    /// it is no script.
    fn uninterpretable(
        &self,
        files: &mut dyn Lookup,
        what: &str,
        program: &str,
        path: &str,
    ) -> Option<String> {
        let head = files.head(path)?;
        let line = head.strip_prefix(b"#!")?;
        let line = line.split(|byte| *byte == b'\n').next().unwrap_or_default();
        let line = String::from_utf8_lossy(line);
        let words: Vec<&str> = line.split_whitespace().collect();
        let interpreter = *words.first()?;
        let mut needed = vec![if interpreter.contains('/') {
            interpreter.to_string()
        } else {
            format!("./{interpreter}")
        }];
        if interpreter.rsplit('/').next() == Some("env")
            && let Some(name) = words.get(1).filter(|word| !word.starts_with('-'))
        {
            needed.push(name.to_string());
        }
        let image = self.image;
        for needed in needed {
            match self.find(files, &needed) {
                Program::Found(_) => {}
                Program::Missing(_) => {
                    return Some(format!(
                        "{what} {program}, a script for {needed}, which image {image} does not have"
                    ));
                }
                Program::NotExecutable(found, _) => {
                    return Some(format!(
                        "{what} {program}, a script for {needed}, which is not executable in image {image} ({found})"
                    ));
                }
            }
        }
        None
    }
}

/// A list of strings from compose's model, `None` when the key is absent or null.
fn strings(value: Option<&Value>) -> Option<Vec<String>> {
    value.and_then(Value::as_array).map(|items| {
        items
            .iter()
            .map(|item| match item {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            })
            .collect()
    })
}

/// The healthcheck's program (`CMD`), or its shell and the programs of its script
/// (`CMD-SHELL`), compose's healthcheck or else the image's.
fn healthcheck(
    service: &Value,
    facts: &ImageFacts,
    files: &mut dyn Lookup,
    context: &Context,
    misfits: &mut Misfits,
) {
    let compose = service.get("healthcheck");
    if compose
        .and_then(|check| check.get("disable"))
        .and_then(Value::as_bool)
        == Some(true)
    {
        return;
    }
    let (test, what) = match strings(compose.and_then(|check| check.get("test"))) {
        Some(test) if !test.is_empty() => (test, "the healthcheck"),
        _ => (facts.healthcheck_test.clone(), "the image's HEALTHCHECK"),
    };
    match test.first().map(String::as_str) {
        Some("CMD") => {
            if let Some(program) = test.get(1)
                && let Some(misfit) = context.unrunnable(files, &format!("{what} runs"), program)
            {
                misfits.healthcheck.push(misfit);
            }
        }
        Some("CMD-SHELL") => {
            let script = test[1..].join(" ");
            let shell = if facts.shell.is_empty() {
                vec!["/bin/sh".to_string(), "-c".to_string()]
            } else {
                facts.shell.clone()
            };
            if let Some(misfit) =
                context.unrunnable(files, &format!("{what} is CMD-SHELL, run by"), &shell[0])
            {
                misfits.shell.push(misfit);
                return;
            }
            let mut seen = Vec::new();
            for command in crate::doctor::shell::commands(&script) {
                let Some(program) = command.program() else {
                    continue;
                };
                if SHELL_BUILTINS.contains(&program)
                    || program.contains('$')
                    || seen.iter().any(|known| known == program)
                {
                    continue;
                }
                seen.push(program.to_string());
                if let Some(misfit) =
                    context.unrunnable(files, &format!("{what}'s command runs"), program)
                {
                    misfits.healthcheck.push(misfit);
                }
            }
        }
        _ => {}
    }
}

/// The program the container starts: the first word of its entrypoint and command, as the
/// engine merges compose's and the image's (an entrypoint set in compose drops the image's
/// CMD).
fn program(
    service: &Value,
    facts: &ImageFacts,
    files: &mut dyn Lookup,
    context: &Context,
    misfits: &mut Misfits,
) {
    let image = context.image;
    let compose_entrypoint = strings(service.get("entrypoint"));
    let compose_command = strings(service.get("command")).filter(|command| !command.is_empty());
    let (entrypoint, entrypoint_from) = match &compose_entrypoint {
        Some(entrypoint) => (entrypoint.clone(), "compose's entrypoint"),
        None => (facts.entrypoint.clone(), "the image's ENTRYPOINT"),
    };
    let (command, command_from) = match compose_command {
        Some(command) => (command, "compose's command"),
        None if compose_entrypoint
            .as_ref()
            .is_some_and(|list| !list.is_empty()) =>
        {
            (Vec::new(), "")
        }
        None => (facts.cmd.clone(), "the image's CMD"),
    };
    let (arguments, from) = if entrypoint.is_empty() {
        (command, command_from)
    } else {
        (entrypoint, entrypoint_from)
    };
    let Some(program) = arguments.first() else {
        misfits.entrypoint.push(format!(
            "starts nothing: neither compose nor image {image} sets an entrypoint or a command"
        ));
        return;
    };
    let Some(misfit) = context.unrunnable(files, &format!("runs ({from})"), program) else {
        return;
    };
    let name = program.rsplit('/').next().unwrap_or(program);
    if SHELLS.contains(&name) && arguments.get(1).map(String::as_str) == Some("-c") {
        misfits.shell.push(misfit);
    } else {
        misfits.entrypoint.push(misfit);
    }
}

/// The user and group it runs as (compose's `user:`, else the image's USER): names must be
/// in the image's /etc/passwd and /etc/group; numeric ids need no entry.
fn user(
    service: &Value,
    facts: &ImageFacts,
    files: &mut dyn Lookup,
    image: &str,
    misfits: &mut Misfits,
) {
    let (user, from) = match service.get("user").and_then(Value::as_str) {
        Some(user) if !user.is_empty() => (user, "compose's user"),
        _ => (facts.user.as_str(), "the image's USER"),
    };
    let (name, group) = match user.split_once(':') {
        Some((name, group)) => (name, Some(group)),
        None => (user, None),
    };
    let numeric = |id: &str| id.is_empty() || id.chars().all(|c| c.is_ascii_digit());
    for (id, kind, table) in [
        (name, "user", "/etc/passwd"),
        (group.unwrap_or(""), "group", "/etc/group"),
    ] {
        if numeric(id) {
            continue;
        }
        match files.text(table) {
            None => misfits.user.push(format!(
                "runs as {kind} `{id}` ({from}), and image {image} has no {table} to find it in: use a numeric id"
            )),
            Some(text) => {
                let listed = text
                    .lines()
                    .any(|line| line.split(':').next() == Some(id));
                if !listed {
                    misfits.user.push(format!(
                        "runs as {kind} `{id}` ({from}), which image {image}'s {table} does not have"
                    ));
                }
            }
        }
    }
}

/// Each published container port the image does not EXPOSE (compose's `expose:` counts).
fn ports(service: &Value, facts: &ImageFacts, image: &str) -> Vec<String> {
    let mut exposed: Vec<String> = facts.exposed_ports.clone();
    for item in service
        .get("expose")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let text = match item {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        let (range, protocol) = text.split_once('/').unwrap_or((&text, "tcp"));
        let (first, last) = range.split_once('-').unwrap_or((range, range));
        if let (Ok(first), Ok(last)) = (first.parse::<u32>(), last.parse::<u32>()) {
            exposed
                .extend((first..=last.min(first + 65535)).map(|port| format!("{port}/{protocol}")));
        }
    }
    let mut misfits = Vec::new();
    let mut reported = Vec::new();
    for port in service
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(target) = port.get("target").and_then(Value::as_u64) else {
            continue;
        };
        let protocol = port
            .get("protocol")
            .and_then(Value::as_str)
            .unwrap_or("tcp");
        let wanted = format!("{target}/{protocol}");
        if exposed.contains(&wanted) || reported.contains(&wanted) {
            continue;
        }
        let listed = match facts.exposed_ports.as_slice() {
            [] => "it exposes none".to_string(),
            ports => format!("it exposes {}", ports.join(", ")),
        };
        misfits.push(format!(
            "publishes container port {wanted}, which image {image} does not EXPOSE ({listed})"
        ));
        reported.push(wanted);
    }
    misfits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::image_files::{FileStat, ImageFiles};
    use serde_json::json;

    /// A small image: busybox's applets, an entrypoint script, a user `app`.
    fn files() -> ImageFiles {
        ImageFiles::default()
            .with("/bin/sh", FileStat::link("/bin/busybox"))
            .with("/bin/busybox", FileStat::file(0o755))
            .with("/bin/wget", FileStat::link("/bin/busybox"))
            .with("/usr/local/bin/entrypoint", FileStat::file(0o755))
            .with("/app/notes.txt", FileStat::file(0o644))
            .with("/app", FileStat::directory())
            .with_text(
                "/etc/passwd",
                "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n",
            )
            .with_text("/etc/group", "root:x:0:\napp:x:1000:\n")
    }

    fn facts() -> ImageFacts {
        ImageFacts {
            entrypoint: vec!["/usr/local/bin/entrypoint".into()],
            cmd: vec!["serve".into()],
            exposed_ports: vec!["8080/tcp".into()],
            user: "app".into(),
            search_path: Some("/usr/local/bin:/bin".into()),
            healthcheck_test: vec![
                "CMD-SHELL".into(),
                "wget -q -O- http://localhost:8080/ || exit 1".into(),
            ],
            healthcheck: true,
            ..ImageFacts::default()
        }
    }

    fn check(service: Value, facts: &ImageFacts, mut files: ImageFiles) -> Misfits {
        misfits(&service, "shop-app", facts, &mut files)
    }

    #[test]
    fn a_service_that_fits_its_image_has_no_misfit() {
        let service = json!({
            "healthcheck": {"test": ["CMD", "wget", "-q", "-O-", "http://localhost:8080/"]},
            "user": "app:app",
            "ports": [{"target": 8080, "published": "8080", "protocol": "tcp"}],
        });
        assert_eq!(check(service, &facts(), files()), Misfits::default());
        // The image's own healthcheck, entrypoint and user fit too.
        assert_eq!(check(json!({}), &facts(), files()), Misfits::default());
        // Numeric ids need no entry, even without /etc/passwd.
        let mut no_passwd = ImageFiles::default()
            .with("/usr/local/bin/entrypoint", FileStat::file(0o755))
            .with("/bin/sh", FileStat::file(0o755))
            .with("/bin/wget", FileStat::file(0o755));
        let service = json!({"user": "1000:1000"});
        assert_eq!(
            misfits(&service, "shop-app", &facts(), &mut no_passwd),
            Misfits::default()
        );
    }

    #[test]
    fn a_healthcheck_program_the_image_lacks_is_named_with_the_path_searched() {
        let service =
            json!({"healthcheck": {"test": ["CMD", "curl", "-f", "http://localhost:8080/"]}});
        assert_eq!(
            check(service, &facts(), files()).healthcheck,
            [
                "the healthcheck runs curl, which image shop-app does not have (not in its PATH /usr/local/bin:/bin)"
            ]
        );
        let service = json!({"healthcheck": {"test": ["CMD-SHELL", "curl -f http://localhost:8080/ || exit 1"]}});
        assert_eq!(
            check(service, &facts(), files()).healthcheck,
            [
                "the healthcheck's command runs curl, which image shop-app does not have (not in its PATH /usr/local/bin:/bin)"
            ]
        );
        // Compose's PATH is the one the healthcheck runs with.
        let service = json!({
            "environment": {"PATH": "/opt/bin"},
            "healthcheck": {"test": ["CMD", "wget", "http://localhost:8080/"]},
        });
        assert_eq!(
            check(service, &facts(), files()).healthcheck,
            [
                "the healthcheck runs wget, which image shop-app does not have (not in its PATH /opt/bin)"
            ]
        );
        // A disabled healthcheck runs nothing.
        let service = json!({"healthcheck": {"disable": true}});
        let mut broken = facts();
        broken.healthcheck_test = vec!["CMD".into(), "/usr/bin/curl".into()];
        assert_eq!(check(service, &broken, files()), Misfits::default());
        assert_eq!(
            check(json!({}), &broken, files()).healthcheck,
            ["the image's HEALTHCHECK runs /usr/bin/curl, which image shop-app does not have"]
        );
    }

    #[test]
    fn a_shell_is_needed_for_cmd_shell_and_sh_dash_c() {
        let shell_less =
            ImageFiles::default().with("/usr/local/bin/entrypoint", FileStat::file(0o755));
        let service = json!({"healthcheck": {"test": ["CMD-SHELL", "curl -f http://localhost/"]}});
        let found = check(service, &facts(), shell_less.clone());
        assert_eq!(
            found.shell,
            ["the healthcheck is CMD-SHELL, run by /bin/sh, which image shop-app does not have"]
        );
        // The missing shell is the finding, not each program of the script it cannot run.
        assert!(found.healthcheck.is_empty());
        let service = json!({
            "entrypoint": ["sh", "-c", "exec serve"],
            "healthcheck": {"disable": true},
        });
        assert_eq!(
            check(service, &facts(), shell_less.clone()).shell,
            [
                "runs (compose's entrypoint) sh, which image shop-app does not have (not in its PATH /usr/local/bin:/bin)"
            ]
        );
        // The image's SHELL runs CMD-SHELL.
        let mut bash = facts();
        bash.shell = vec!["/bin/bash".into(), "-c".into()];
        assert_eq!(
            check(json!({}), &bash, files()).shell,
            [
                "the image's HEALTHCHECK is CMD-SHELL, run by /bin/bash, which image shop-app does not have"
            ]
        );
    }

    #[test]
    fn a_user_or_group_the_image_does_not_list_is_named() {
        let service = json!({"user": "www-data:staff"});
        assert_eq!(
            check(service, &facts(), files()).user,
            [
                "runs as user `www-data` (compose's user), which image shop-app's /etc/passwd does not have",
                "runs as group `staff` (compose's user), which image shop-app's /etc/group does not have",
            ]
        );
        let bare = ImageFiles::default().with("/usr/local/bin/entrypoint", FileStat::file(0o755));
        let mut image_user = facts();
        image_user.healthcheck_test.clear();
        assert_eq!(
            check(json!({}), &image_user, bare).user,
            [
                "runs as user `app` (the image's USER), and image shop-app has no /etc/passwd to find it in: use a numeric id"
            ]
        );
    }

    #[test]
    fn a_published_port_the_image_does_not_expose_is_named_once() {
        let service = json!({
            "ports": [
                {"target": 8080, "published": "80", "protocol": "tcp"},
                {"target": 9000, "published": "9000", "protocol": "tcp"},
                {"target": 9000, "published": "9001", "protocol": "tcp"},
                {"target": 8080, "published": "8080", "protocol": "udp"},
                {"target": 7000, "published": "7000", "protocol": "tcp"},
            ],
            "expose": ["7000-7001"],
        });
        assert_eq!(
            check(service, &facts(), files()).ports,
            [
                "publishes container port 9000/tcp, which image shop-app does not EXPOSE (it exposes 8080/tcp)",
                "publishes container port 8080/udp, which image shop-app does not EXPOSE (it exposes 8080/tcp)",
            ]
        );
    }

    #[test]
    fn a_script_needs_the_interpreter_its_first_line_names() {
        let scripts = files()
            .with_script("/usr/local/bin/entrypoint", "#!/bin/bash\nexec \"$@\"\n")
            .with_script(
                "/usr/local/bin/check",
                "#!/usr/bin/env python3 -u\nprint(1)\n",
            )
            .with_script("/usr/local/bin/fine", "#!/bin/sh -e\nexit 0\n")
            .with("/usr/bin/env", FileStat::file(0o755));
        let service = json!({"healthcheck": {"test": ["CMD", "check"]}});
        let found = check(service, &facts(), scripts.clone());
        assert_eq!(
            found.entrypoint,
            [
                "runs (the image's ENTRYPOINT) /usr/local/bin/entrypoint, a script for /bin/bash, which image shop-app does not have"
            ]
        );
        assert_eq!(
            found.healthcheck,
            [
                "the healthcheck runs check, a script for python3, which image shop-app does not have"
            ]
        );
        let service = json!({
            "entrypoint": ["fine"],
            "healthcheck": {"test": ["CMD", "/usr/local/bin/fine"]},
        });
        assert_eq!(check(service, &facts(), scripts), Misfits::default());
    }

    #[test]
    fn the_program_started_must_be_an_executable_file() {
        let service = json!({"entrypoint": ["/app/notes.txt"]});
        assert_eq!(
            check(service, &facts(), files()).entrypoint,
            [
                "runs (compose's entrypoint) /app/notes.txt, which is not executable in image shop-app (/app/notes.txt, mode 644)"
            ]
        );
        let service = json!({"entrypoint": ["/app"]});
        assert_eq!(
            check(service, &facts(), files()).entrypoint,
            ["runs (compose's entrypoint) /app, which is a directory in image shop-app (/app)"]
        );
        let mut missing = facts();
        missing.entrypoint = vec!["/docker-entrypoint.sh".into()];
        assert_eq!(
            check(json!({}), &missing, files()).entrypoint,
            [
                "runs (the image's ENTRYPOINT) /docker-entrypoint.sh, which image shop-app does not have"
            ]
        );
        // Compose's command runs when the image has no entrypoint; a relative path is looked
        // up from the working directory.
        let mut no_entrypoint = facts();
        no_entrypoint.entrypoint.clear();
        no_entrypoint.working_dir = "/app".into();
        let service = json!({"command": ["./notes.txt"]});
        assert_eq!(
            check(service, &no_entrypoint, files()).entrypoint,
            [
                "runs (compose's command) ./notes.txt, which is not executable in image shop-app (/app/notes.txt, mode 644)"
            ]
        );
        no_entrypoint.cmd.clear();
        assert_eq!(
            check(json!({}), &no_entrypoint, files()).entrypoint,
            ["starts nothing: neither compose nor image shop-app sets an entrypoint or a command"]
        );
        // An image's shell-form CMD needs its shell.
        let mut shell_form = no_entrypoint.clone();
        shell_form.cmd = vec!["/bin/sh".into(), "-c".into(), "serve".into()];
        let no_shell = ImageFiles::default().with_text("/etc/passwd", "app:x:1000:1000::/:/x\n");
        let found = check(json!({}), &shell_form, no_shell);
        assert_eq!(
            found.shell,
            [
                "the image's HEALTHCHECK is CMD-SHELL, run by /bin/sh, which image shop-app does not have",
                "runs (the image's CMD) /bin/sh, which image shop-app does not have",
            ]
        );
        assert!(found.entrypoint.is_empty());
    }
}
