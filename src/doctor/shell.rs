//! How the Dockerfile rules read a RUN: its own flags (`--mount=type=cache,target=…`) and its
//! shell script split into simple commands, each with its leading `NAME=value` assignments and
//! its words with quotes removed, and the operator that joins it to the command before it.
//! Enough of POSIX sh for lint rules: quotes, backslashes, `$(…)`, `${…}` and backquotes kept
//! inside their word, comments, and the operators `&&`, `||`, `|`, `;`, `&`, newlines and
//! parentheses; a heredoc's body read as data (`cat <<EOF > file`) unless a shell reads it.
//! `Run::commands` is the one reading of what a RUN instruction runs, every rule's: the exec
//! form, the script and the heredocs BuildKit or a shell runs as scripts (`Run::scripts`),
//! each command run through `sudo`, `env`, `nice` and the like read as the command it runs,
//! and `sh -c SCRIPT` as SCRIPT's commands.
//! It never fails: text it cannot read as a shell would is read as words.

/// A RUN instruction's arguments: its flags, then its script.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Run {
    pub mounts: Vec<Mount>,
    /// The script, after the flags.
    pub script: String,
    /// The bodies of the instruction's heredocs, in order.
    pub heredocs: Vec<String>,
}

/// One `--mount=` of a RUN: its type (`bind` when not given, as BuildKit does) and target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mount {
    pub kind: String,
    pub target: String,
}

impl Run {
    /// `arguments` of a RUN: leading `--flag=value` / `--flag value` words, then the script.
    pub(crate) fn parse(arguments: &str) -> Run {
        let mut run = Run::default();
        let mut rest = arguments.trim_start();
        while let Some(flagged) = rest.strip_prefix("--") {
            let end = flagged.find(char::is_whitespace).unwrap_or(flagged.len());
            let flag = &flagged[..end];
            if let Some(mount) = flag.strip_prefix("mount=") {
                run.mounts.push(Mount::parse(mount));
            }
            rest = flagged[end..].trim_start();
        }
        run.script = rest.to_string();
        run
    }

    /// Whether a cache or tmpfs mount covers `path` (the mount's target is `path` or holds it).
    pub(crate) fn mounts_over(&self, path: &str) -> bool {
        let path = path.trim_end_matches('/');
        self.mounts.iter().any(|mount| {
            let target = mount.target.trim_end_matches('/');
            matches!(mount.kind.as_str(), "cache" | "tmpfs")
                && (path == target || path.starts_with(&format!("{target}/")))
        })
    }

    /// A RUN instruction: its flags and script from its `command_line` (its arguments
    /// without heredoc bodies), and the bodies of its heredocs, in order
    /// (`Instruction::run`).
    pub(crate) fn with_heredocs<'a>(
        command_line: &str,
        bodies: impl IntoIterator<Item = &'a str>,
    ) -> Run {
        let mut run = Run::parse(command_line);
        run.heredocs = bodies.into_iter().map(String::from).collect();
        run
    }

    /// The words of an exec-form RUN (`["pip", "install", "x"]`), which runs no shell.
    pub(crate) fn exec_form(&self) -> Option<Vec<String>> {
        let script = self.script.trim();
        script
            .starts_with('[')
            .then(|| serde_json::from_str(script).ok())
            .flatten()
    }

    /// The shell scripts the RUN runs, as BuildKit and the shell run them: its own line
    /// (none in exec form); a heredoc that is the whole line (`RUN <<EOF`), run with the
    /// SHELL, unless its `#!` line names another interpreter; and each heredoc a shell of the
    /// line reads as its input (`RUN bash <<EOF`, `RUN sudo sh <<EOF`). Other heredocs are
    /// data (`cat <<EOF > file`, `python3 <<EOF`).
    pub(crate) fn scripts(&self) -> Vec<Script<'_>> {
        if self.exec_form().is_some() {
            return Vec::new();
        }
        let mut line = commands(&self.script);
        let mut scripts = Vec::new();
        let mut heredocs = self.heredocs.iter();
        let whole = matches!(line.as_slice(), [only] if only.assignments.is_empty()
            && matches!(only.words.as_slice(), [word] if heredoc_marker(word).is_some()));
        for command in &line {
            let opened = command
                .words
                .iter()
                .filter(|word| heredoc_marker(word).is_some())
                .count();
            let (_, _, start) = split_wrappers(&command.words);
            let read_by_a_shell = command.words.get(start).is_some_and(|program| {
                SHELLS.contains(&base_name(program))
                    && script_operand(&command.words[start..]).is_none()
            });
            for body in heredocs.by_ref().take(opened) {
                let kind = if whole {
                    let interpreter = body.lines().next().and_then(|line| line.strip_prefix("#!"));
                    if interpreter.is_some_and(|line| {
                        !line
                            .split_whitespace()
                            .any(|word| SHELLS.contains(&base_name(word)))
                    }) {
                        continue;
                    }
                    ScriptKind::Heredoc
                } else if read_by_a_shell {
                    ScriptKind::ShellInput
                } else {
                    continue;
                };
                scripts.push(Script {
                    kind,
                    text: body,
                    commands: commands(body),
                });
            }
        }
        // A command of nothing but heredocs (`<<EOF`) runs no program.
        line.retain(|command| {
            command.words.is_empty()
                || !command
                    .words
                    .iter()
                    .all(|word| heredoc_marker(word).is_some())
        });
        scripts.insert(
            0,
            Script {
                kind: ScriptKind::Line,
                text: &self.script,
                commands: line,
            },
        );
        scripts
    }

    /// The simple commands the RUN runs: an exec-form RUN's one command, or the commands of
    /// its scripts (`Run::scripts`); each run through wrappers (`sudo`, `env`, …) is the
    /// command it runs, and `sh -c SCRIPT` runs the commands of SCRIPT.
    pub(crate) fn commands(&self) -> Vec<Command> {
        let mut commands = Vec::new();
        if let Some(words) = self.exec_form() {
            let command = Command {
                joined: Joined::Sequence,
                assignments: Vec::new(),
                wrappers: Vec::new(),
                words,
            };
            unwrap(command, &mut commands, 0);
            return commands;
        }
        for script in self.scripts() {
            for command in script.commands {
                unwrap(command, &mut commands, 0);
            }
        }
        commands
    }
}

/// How a RUN runs one of its scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScriptKind {
    /// The RUN's own line, run with the SHELL.
    Line,
    /// BuildKit's `RUN <<EOF`: the heredoc is the script, run with the SHELL, or by the
    /// shell its `#!` line names.
    Heredoc,
    /// A heredoc a shell of the line reads as its input (`RUN bash <<EOF`).
    ShellInput,
}

/// One script a RUN runs, and its simple commands as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Script<'a> {
    pub kind: ScriptKind,
    pub text: &'a str,
    pub commands: Vec<Command>,
}

/// The shells whose scripts are read: `sh -c SCRIPT`, `bash <<EOF`.
pub(crate) const SHELLS: [&str; 6] = ["sh", "bash", "ash", "dash", "zsh", "ksh"];

/// How deep `sh -c 'sh -c …'` is read.
const DEPTH: usize = 4;

/// `command` as what it runs, pushed on `commands`: through its wrappers (their names kept
/// in `wrappers`, `env`'s `NAME=value` added to its assignments), and, for `sh -c SCRIPT`,
/// SCRIPT's commands, each with the outer command's wrappers and assignments.
fn unwrap(mut command: Command, commands: &mut Vec<Command>, depth: usize) {
    let (wrappers, assigned, start) = split_wrappers(&command.words);
    command.wrappers.extend(wrappers);
    command.assignments.extend(assigned);
    command.words.drain(..start);
    if depth < DEPTH
        && command
            .program()
            .is_some_and(|program| SHELLS.contains(&program))
        && let Some(script) = script_operand(&command.words)
    {
        for (index, mut inner) in self::commands(script).into_iter().enumerate() {
            if index == 0 {
                inner.joined = command.joined;
            }
            let mut assignments = command.assignments.clone();
            assignments.append(&mut inner.assignments);
            inner.assignments = assignments;
            let mut wrappers = command.wrappers.clone();
            wrappers.append(&mut inner.wrappers);
            inner.wrappers = wrappers;
            unwrap(inner, commands, depth + 1);
        }
        return;
    }
    if !command.words.is_empty() || !command.assignments.is_empty() || !command.wrappers.is_empty()
    {
        commands.push(command);
    }
}

/// The script of a shell's `words` (its name first) run with `-c`: the first operand after
/// its options when one of them holds `c` (`sh -c`, `bash -ec`, `bash -o pipefail -c`).
fn script_operand(words: &[String]) -> Option<&str> {
    let mut with_script = false;
    let mut index = 1;
    while let Some(word) = words.get(index) {
        index += 1;
        if word == "--" {
            break;
        }
        if word.starts_with("--") {
            continue;
        }
        if (word.starts_with('-') || word.starts_with('+')) && word.len() > 1 {
            with_script |= word.starts_with('-') && word.contains('c');
            // `-o name` takes the next word.
            if word.contains('o') {
                index += 1;
            }
            continue;
        }
        index -= 1;
        break;
    }
    with_script
        .then(|| words.get(index).map(String::as_str))
        .flatten()
}

/// The name of a program without its directory: `pip3` for `/usr/bin/pip3`.
fn base_name(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

/// The programs that only run another command (`sudo`, `env`, `nice`, `nohup`, `time`,
/// `exec`, `command`) leading `words`, by name, `env`'s `NAME=value` assignments, and where
/// the wrapped command's words start: `(["sudo", "env"], [A=1], 4)` for
/// `sudo -E env A=1 apt-get update`.
fn split_wrappers(words: &[String]) -> (Vec<String>, Vec<(String, String)>, usize) {
    let mut wrappers = Vec::new();
    let mut assigned = Vec::new();
    let mut index = 0;
    while let Some(word) = words.get(index) {
        let name = base_name(word);
        // The options of each wrapper that take the next word as their value.
        let valued: &[&str] = match name {
            "sudo" => &["-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T"],
            "env" => &["-u", "-C", "-S", "--unset", "--chdir"],
            "nice" => &["-n", "--adjustment"],
            "exec" => &["-a"],
            "nohup" | "time" | "command" => &[],
            _ => break,
        };
        wrappers.push(name.to_string());
        index += 1;
        while let Some(word) = words.get(index) {
            if word == "--" {
                index += 1;
                break;
            }
            if valued.contains(&word.as_str()) {
                index += 2;
            } else if word.starts_with('-') {
                index += 1;
            } else if let Some(pair) = assignment(word).filter(|_| name == "env") {
                assigned.push(pair);
                index += 1;
            } else {
                break;
            }
        }
    }
    (wrappers, assigned, index.min(words.len()))
}

impl Mount {
    fn parse(options: &str) -> Mount {
        let mut mount = Mount {
            kind: "bind".to_string(),
            target: String::new(),
        };
        for option in options.split(',') {
            let (key, value) = option.split_once('=').unwrap_or((option, ""));
            let value = value.trim_matches(['"', '\'']);
            match key.trim().to_lowercase().as_str() {
                "type" => mount.kind = value.to_lowercase(),
                "target" | "dst" | "destination" => mount.target = value.to_string(),
                _ => {}
            }
        }
        mount
    }
}

/// How a command is joined to the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Joined {
    /// The first command, or after `;`, `&`, a newline or a parenthesis.
    Sequence,
    /// After `&&`.
    And,
    /// After `||`.
    Or,
    /// After `|`: it reads the previous command's output.
    Pipe,
}

/// One simple command: `NAME=value … word …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Command {
    pub joined: Joined,
    /// Leading assignments, `NAME=value`, quotes removed (with `env`'s, in `Run::commands`).
    pub assignments: Vec<(String, String)>,
    /// In `Run::commands`, the wrappers it is run through, by name: `["sudo"]` for
    /// `sudo -E apt-get update` (whose `words` are then `apt-get update`).
    pub wrappers: Vec<String>,
    /// The words, quotes removed.
    pub words: Vec<String>,
}

impl Command {
    /// The program's name without its directory: `pip3` for `/usr/bin/pip3`.
    pub(crate) fn program(&self) -> Option<&str> {
        self.words.first().map(|first| base_name(first))
    }

    /// Whether one of the words is `word`.
    pub(crate) fn has(&self, word: &str) -> bool {
        self.words.iter().any(|candidate| candidate == word)
    }
}

/// A script's simple commands, in order. Empty commands are dropped.
pub(crate) fn commands(script: &str) -> Vec<Command> {
    let mut commands = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut joined = Joined::Sequence;
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = script.chars().peekable();
    // The marker of a heredoc whose body is data, from the line being read.
    let mut data_marker: Option<String> = None;
    let finish_word = |word: &mut String, in_word: &mut bool, words: &mut Vec<String>| {
        if *in_word {
            words.push(std::mem::take(word));
            *in_word = false;
        }
    };
    let finish_command = |words: &mut Vec<String>, joined: Joined, commands: &mut Vec<Command>| {
        let mut assignments = Vec::new();
        let mut taken = 0;
        for word in words.iter() {
            match assignment(word) {
                Some(pair) => {
                    assignments.push(pair);
                    taken += 1;
                }
                None => break,
            }
        }
        let rest: Vec<String> = words.drain(..).skip(taken).collect();
        if !rest.is_empty() || !assignments.is_empty() {
            commands.push(Command {
                joined,
                assignments,
                wrappers: Vec::new(),
                words: rest,
            });
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for quoted in chars.by_ref() {
                    if quoted == '\'' {
                        break;
                    }
                    word.push(quoted);
                }
            }
            '"' => {
                in_word = true;
                while let Some(quoted) = chars.next() {
                    match quoted {
                        '"' => break,
                        '\\' => {
                            if let Some(escaped) = chars.next() {
                                if !matches!(escaped, '"' | '\\' | '$' | '`') {
                                    word.push('\\');
                                }
                                word.push(escaped);
                            }
                        }
                        _ => word.push(quoted),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') | None => {}
                    Some(escaped) => word.push(escaped),
                }
            }
            '$' if matches!(chars.peek(), Some('(' | '{')) => {
                in_word = true;
                push_substitution(&mut chars, &mut word);
            }
            '`' => {
                in_word = true;
                word.push('`');
                for inner in chars.by_ref() {
                    word.push(inner);
                    if inner == '`' {
                        break;
                    }
                }
            }
            '#' if !in_word => {
                while chars.peek().is_some_and(|next| *next != '\n') {
                    chars.next();
                }
            }
            '&' | '|' | ';' | '\n' | '(' | ')' => {
                finish_word(&mut word, &mut in_word, &mut words);
                data_marker = data_marker.or_else(|| heredoc_data_marker(&words));
                finish_command(&mut words, joined, &mut commands);
                if c == '\n'
                    && let Some(marker) = data_marker.take()
                {
                    // The heredoc's body is data (`cat <<EOF > file`), not commands: skip
                    // its lines, up to its marker (the Dockerfile keeps none at the end).
                    loop {
                        let line: String = chars.by_ref().take_while(|c| *c != '\n').collect();
                        if line.trim() == marker || chars.peek().is_none() {
                            break;
                        }
                    }
                }
                let doubled = chars.peek() == Some(&c);
                joined = match (c, doubled) {
                    ('&', true) => Joined::And,
                    ('|', true) => Joined::Or,
                    ('|', false) => Joined::Pipe,
                    _ => Joined::Sequence,
                };
                if doubled && matches!(c, '&' | '|' | ';') {
                    chars.next();
                }
            }
            c if c.is_whitespace() => finish_word(&mut word, &mut in_word, &mut words),
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    finish_word(&mut word, &mut in_word, &mut words);
    finish_command(&mut words, joined, &mut commands);
    commands
}

/// After a `$` whose next char is `(` or `{`: `$(…)`, `$((…))` or `${…}` pushed on `word` as
/// written, up to the parenthesis or brace that closes it (nested ones counted), or the end.
pub(crate) fn push_substitution(chars: &mut impl Iterator<Item = char>, word: &mut String) {
    word.push('$');
    let open = chars.next().unwrap_or('(');
    let close = if open == '(' { ')' } else { '}' };
    word.push(open);
    let mut depth = 1;
    for inner in chars {
        word.push(inner);
        if inner == open {
            depth += 1;
        } else if inner == close {
            depth -= 1;
            if depth == 0 {
                break;
            }
        }
    }
}

/// The marker of a heredoc (`<<EOF`, `<<-'EOF'`, `<< EOF`) among a command's `words` when its
/// body is data for the command: not a shell's script (`sh <<EOF`, `sudo bash <<EOF`), and
/// not BuildKit's `RUN <<EOF`, where the body is the script.
fn heredoc_data_marker(words: &[String]) -> Option<String> {
    let position = words
        .iter()
        .position(|word| word.starts_with("<<") && !word.starts_with("<<<"))?;
    let (_, _, start) = split_wrappers(words);
    let program = words.get(start).map_or("", |program| base_name(program));
    if position == 0 || SHELLS.contains(&program) {
        return None;
    }
    let inline = words[position][2..].trim_start_matches('-');
    let marker = if inline.is_empty() {
        words.get(position + 1)?.as_str()
    } else {
        inline
    };
    Some(marker.trim_matches(['\'', '"']).to_string()).filter(|marker| !marker.is_empty())
}

/// The marker of a word that opens a heredoc of a Dockerfile instruction, as BuildKit reads
/// it (quotes already removed): `<<EOF`, `<<-EOF`, `2<<EOF`; not `<<<word` nor a lone `<<`.
fn heredoc_marker(word: &str) -> Option<&str> {
    let rest = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = rest.strip_prefix("<<")?;
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    (!rest.is_empty() && !rest.contains('<')).then_some(rest)
}

/// `NAME=value` as a shell assignment: a name of letters, digits and `_`, not starting with
/// a digit.
pub(crate) fn assignment(word: &str) -> Option<(String, String)> {
    let (name, value) = word.split_once('=')?;
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then(|| (name.to_string(), value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(script: &str) -> Vec<(Joined, Vec<String>)> {
        commands(script)
            .into_iter()
            .map(|command| (command.joined, command.words))
            .collect()
    }

    fn owned(words: &[&str]) -> Vec<String> {
        words.iter().map(|word| word.to_string()).collect()
    }

    #[test]
    fn commands_operators_and_quotes() {
        assert_eq!(
            words("apt-get update && apt-get install -y 'curl' \"git\" || true; a | b & c"),
            [
                (Joined::Sequence, owned(&["apt-get", "update"])),
                (
                    Joined::And,
                    owned(&["apt-get", "install", "-y", "curl", "git"])
                ),
                (Joined::Or, owned(&["true"])),
                (Joined::Sequence, owned(&["a"])),
                (Joined::Pipe, owned(&["b"])),
                (Joined::Sequence, owned(&["c"])),
            ]
        );
        assert_eq!(
            words("pip install 'alabaster>=0.7' a\\ b \"x\\\"y\""),
            [(
                Joined::Sequence,
                owned(&["pip", "install", "alabaster>=0.7", "a b", "x\"y"])
            )]
        );
    }

    #[test]
    fn substitutions_and_comments_stay_in_their_word() {
        assert_eq!(
            words("echo $((1<<2)) $(a | b) ${X:-a b} `c | d` # x | y\nnext"),
            [
                (
                    Joined::Sequence,
                    owned(&["echo", "$((1<<2))", "$(a | b)", "${X:-a b}", "`c | d`"])
                ),
                (Joined::Sequence, owned(&["next"])),
            ]
        );
    }

    #[test]
    fn assignments_lead_a_command() {
        let parsed = commands("PIP_NO_CACHE_DIR=1 A='x y' pip install a=b; export B=1");
        assert_eq!(
            parsed[0].assignments,
            [
                ("PIP_NO_CACHE_DIR".to_string(), "1".to_string()),
                ("A".to_string(), "x y".to_string())
            ]
        );
        assert_eq!(parsed[0].words, owned(&["pip", "install", "a=b"]));
        assert_eq!(parsed[1].words, owned(&["export", "B=1"]));
        assert_eq!(commands("/usr/bin/pip3 x")[0].program(), Some("pip3"));
    }

    #[test]
    fn run_flags_and_mounts() {
        let run = Run::parse(
            "--mount=type=cache,target=/var/cache/apt --mount=type=tmpfs,dst=/root/.cache --network=none --mount=target=/src apt-get update",
        );
        assert_eq!(run.script, "apt-get update");
        assert_eq!(run.mounts.len(), 3);
        assert!(run.mounts_over("/var/cache/apt"));
        assert!(run.mounts_over("/var/cache/apt/archives"));
        assert!(run.mounts_over("/root/.cache/pip"));
        assert!(!run.mounts_over("/var/cache/apk"));
        assert!(!run.mounts_over("/src"), "a bind mount holds no cache");
        assert_eq!(Run::parse("echo --mount=x").mounts, []);
    }

    /// The commands `Run::commands` gives for a RUN line: wrappers, words.
    fn run(script: &str) -> Vec<(Vec<String>, Vec<String>)> {
        Run::parse(script)
            .commands()
            .into_iter()
            .map(|command| (command.wrappers, command.words))
            .collect()
    }

    #[test]
    fn wrappers_and_the_command_they_run() {
        let parsed = run(
            "sudo -u root -E env -i A=1 nice -n 5 apt-get install -y curl; /usr/bin/sudo; env; apt-get install sudo",
        );
        assert_eq!(
            parsed[0],
            (
                owned(&["sudo", "env", "nice"]),
                owned(&["apt-get", "install", "-y", "curl"])
            )
        );
        assert_eq!(parsed[1], (owned(&["sudo"]), vec![]));
        assert_eq!(parsed[2], (owned(&["env"]), vec![]));
        assert_eq!(parsed[3], (vec![], owned(&["apt-get", "install", "sudo"])));
        assert_eq!(
            run("sudo -u"),
            [(owned(&["sudo"]), vec![])],
            "a flag missing its value"
        );
        let commands = Run::parse("env -u X A=1 B='x y' pip install x").commands();
        assert_eq!(
            commands[0].assignments,
            [
                ("A".to_string(), "1".to_string()),
                ("B".to_string(), "x y".to_string())
            ],
            "env's assignments are the command's"
        );
        assert_eq!(commands[0].words, owned(&["pip", "install", "x"]));
    }

    #[test]
    fn exec_form_and_shell_scripts_run_their_commands() {
        assert_eq!(
            run(r#"["sudo", "apk", "add", "curl"]"#),
            [(owned(&["sudo"]), owned(&["apk", "add", "curl"]))]
        );
        assert_eq!(
            run(
                "sudo sh -c 'apt-get update && A=1 pip install x' && /bin/bash -euo pipefail -c \"npm ci\""
            ),
            [
                (owned(&["sudo"]), owned(&["apt-get", "update"])),
                (owned(&["sudo"]), owned(&["pip", "install", "x"])),
                (vec![], owned(&["npm", "ci"])),
            ]
        );
        // `-c` makes the first operand the script, wherever the other options are.
        assert_eq!(
            run("bash -c -e 'apk add x'; ksh -xc 'gem install y'"),
            [
                (vec![], owned(&["apk", "add", "x"])),
                (vec![], owned(&["gem", "install", "y"])),
            ]
        );
        // A shell without -c runs a file; its words stay as they are.
        assert_eq!(
            run("sh ./install.sh; bash -o pipefail"),
            [
                (vec![], owned(&["sh", "./install.sh"])),
                (vec![], owned(&["bash", "-o", "pipefail"])),
            ]
        );
        let inner = Run::parse("A=1 sh -c 'B=2 pip install x'").commands();
        assert_eq!(
            inner[0].assignments,
            [
                ("A".to_string(), "1".to_string()),
                ("B".to_string(), "2".to_string())
            ]
        );
    }

    /// The first instruction of the Dockerfile `text`, read as a RUN.
    fn instruction(text: &str) -> Run {
        crate::doctor::dockerfile::Dockerfile::parse(text).instructions[0].run()
    }

    #[test]
    fn the_heredocs_a_run_runs_as_scripts() {
        let programs = |text: &str| -> Vec<String> {
            instruction(text)
                .commands()
                .iter()
                .filter_map(|command| command.program().map(String::from))
                .collect()
        };
        assert_eq!(programs("RUN <<EOF\napk add x\nEOF\n"), ["apk"]);
        assert_eq!(
            programs("RUN <<EOF\n#!/bin/bash\napk add x\nEOF\n"),
            ["apk"]
        );
        assert_eq!(
            programs("RUN <<EOF\n#!/usr/bin/env python3\nimport os\nEOF\n"),
            [] as [String; 0],
            "another interpreter runs it"
        );
        assert_eq!(
            programs("RUN sudo bash <<EOF\napk add x\nEOF\n"),
            ["bash", "apk"]
        );
        assert_eq!(programs("RUN python3 <<EOF\nimport os\nEOF\n"), ["python3"]);
        // Several heredocs: each goes with the command whose line opens it.
        assert_eq!(
            programs("RUN cat <<A > /x && bash <<B\nsudo a\nA\napk add y\nB\n"),
            ["cat", "bash", "apk"]
        );
        // Only a single heredoc alone on the line is BuildKit's script.
        assert_eq!(programs("RUN <<A <<B\nx\nA\ny\nB\n"), [] as [String; 0]);
        let kinds: Vec<ScriptKind> = instruction("RUN <<EOF\na\nEOF\n")
            .scripts()
            .iter()
            .map(|script| script.kind)
            .collect();
        assert_eq!(kinds, [ScriptKind::Line, ScriptKind::Heredoc]);
        assert!(
            instruction("RUN [\"sh\", \"-c\", \"a | b\"]")
                .scripts()
                .is_empty()
        );
    }

    #[test]
    fn a_heredoc_body_is_data_unless_a_shell_reads_it() {
        let programs = |script: &str| -> Vec<String> {
            commands(script)
                .iter()
                .filter_map(|command| command.program().map(String::from))
                .collect()
        };
        assert_eq!(
            programs("cat <<'EOF' > /etc/x && echo after\nsudo rm -rf /\nEOF\napt-get update"),
            ["cat", "echo", "apt-get"]
        );
        assert_eq!(programs("tee /x << END\nsudo a\n"), ["tee"]);
        assert_eq!(programs("<<EOF\napk add curl\n"), ["<<EOF", "apk"]);
        assert_eq!(programs("bash <<-EOT\n\tsudo make\n"), ["bash", "sudo"]);
        assert_eq!(programs("echo $((1<<2))\nnext"), ["echo", "next"]);
    }

    #[test]
    fn anything_is_read_without_panicking() {
        for script in [
            "'", "\"", "\\", "$(", "${", "`", "&&&", "|||", "a=", "=a", "$((", "((",
        ] {
            let _ = commands(script);
            let _ = Run::parse(script).commands();
        }
    }
}
