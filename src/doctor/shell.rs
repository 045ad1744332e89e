//! How the Dockerfile rules read a RUN: its own flags (`--mount=type=cache,target=…`) and its
//! shell script split into simple commands, each with its leading `NAME=value` assignments and
//! its words with quotes removed, and the operator that joins it to the command before it.
//! Enough of POSIX sh for lint rules: quotes, backslashes, `$(…)`, `${…}` and backquotes kept
//! inside their word, comments, and the operators `&&`, `||`, `|`, `;`, `&`, newlines and
//! parentheses; a heredoc's body read as data (`cat <<EOF > file`) unless a shell reads it;
//! and, for a command run through `sudo`, `env`, `nice` and the like, the command it runs.
//! It never fails: text it cannot read as a shell would is read as words.

/// A RUN instruction's arguments: its flags, then its script.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Run {
    pub mounts: Vec<Mount>,
    /// The script, after the flags.
    pub script: String,
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

    /// The script's simple commands.
    pub(crate) fn commands(&self) -> Vec<Command> {
        commands(&self.script)
    }
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
    /// Leading assignments, `NAME=value`, quotes removed.
    pub assignments: Vec<(String, String)>,
    /// The words, quotes removed.
    pub words: Vec<String>,
}

impl Command {
    /// The program's name without its directory: `pip3` for `/usr/bin/pip3`.
    pub(crate) fn program(&self) -> Option<&str> {
        let first = self.words.first()?;
        Some(first.rsplit('/').next().unwrap_or(first))
    }

    /// Whether one of the words is `word`.
    pub(crate) fn has(&self, word: &str) -> bool {
        self.words.iter().any(|candidate| candidate == word)
    }

    /// The programs that only run another command, leading this one (`sudo`, `env`, `nice`,
    /// `nohup`, `time`, `exec`, `command`), by name: `["sudo"]` for `sudo -E apt-get update`.
    pub(crate) fn wrappers(&self) -> Vec<&str> {
        self.split_wrappers().0
    }

    /// The words of the command run through the wrappers, their flags and `env`'s
    /// `NAME=value` skipped: `apt-get update` for `sudo -u root env A=1 apt-get update`.
    pub(crate) fn unwrapped_words(&self) -> &[String] {
        &self.words[self.split_wrappers().1..]
    }

    /// The wrappers' names, and where the wrapped command's words start.
    fn split_wrappers(&self) -> (Vec<&str>, usize) {
        let mut wrappers = Vec::new();
        let mut index = 0;
        while let Some(word) = self.words.get(index) {
            let name = word.rsplit('/').next().unwrap_or(word);
            // The flags of each wrapper that take the next word as their value.
            let valued: &[&str] = match name {
                "sudo" => &["-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T"],
                "env" => &["-u", "-C", "-S", "--unset", "--chdir"],
                "nice" => &["-n", "--adjustment"],
                "exec" => &["-a"],
                "nohup" | "time" | "command" => &[],
                _ => break,
            };
            wrappers.push(name);
            index += 1;
            while let Some(word) = self.words.get(index) {
                if word == "--" {
                    index += 1;
                    break;
                }
                if valued.contains(&word.as_str()) {
                    index += 2;
                } else if word.starts_with('-') || (name == "env" && assignment(word).is_some()) {
                    index += 1;
                } else {
                    break;
                }
            }
        }
        (wrappers, index.min(self.words.len()))
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
                // `$(…)`, `$((…))` and `${…}` stay inside the word, nested as written.
                in_word = true;
                word.push('$');
                let open = chars.next().unwrap_or('(');
                let close = if open == '(' { ')' } else { '}' };
                word.push(open);
                let mut depth = 1;
                for inner in chars.by_ref() {
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

/// The marker of a heredoc (`<<EOF`, `<<-'EOF'`, `<< EOF`) among a command's `words` when its
/// body is data for the command: not a shell's script (`sh <<EOF`), and not BuildKit's
/// `RUN <<EOF`, where the body is the script.
fn heredoc_data_marker(words: &[String]) -> Option<String> {
    let position = words
        .iter()
        .position(|word| word.starts_with("<<") && !word.starts_with("<<<"))?;
    let program = words[0].rsplit('/').next().unwrap_or_default();
    if position == 0 || matches!(program, "sh" | "bash" | "ash" | "dash" | "zsh" | "ksh") {
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

    #[test]
    fn wrappers_and_the_command_they_run() {
        let parsed = commands(
            "sudo -u root -E env -i A=1 nice -n 5 apt-get install -y curl; /usr/bin/sudo; env; apt-get install sudo",
        );
        assert_eq!(parsed[0].wrappers(), ["sudo", "env", "nice"]);
        assert_eq!(
            parsed[0].unwrapped_words(),
            owned(&["apt-get", "install", "-y", "curl"])
        );
        assert_eq!(parsed[1].wrappers(), ["sudo"]);
        assert!(parsed[1].unwrapped_words().is_empty());
        assert_eq!(parsed[2].wrappers(), ["env"]);
        assert!(parsed[3].wrappers().is_empty());
        assert_eq!(parsed[3].unwrapped_words(), parsed[3].words);
        assert_eq!(
            commands("sudo -u")[0].unwrapped_words(),
            [] as [String; 0],
            "a flag missing its value"
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
            let _ = Run::parse(script);
        }
    }
}
