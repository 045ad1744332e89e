//! `Dockerfile`: a Dockerfile read into instructions, each with its line, and split into
//! build stages, after the instructions before the first `FROM` (global `ARG`s). Enough of
//! the syntax for the doctor's rules: line continuations, comments, parser directives, and
//! heredocs where BuildKit reads them: in `RUN`, `COPY` and `ADD`, a word that starts with
//! `<<` (`<<-` strips leading tabs; the marker may be quoted), several on one line, each
//! body up to the line that is its marker.

use std::collections::HashMap;

use crate::doctor::shell;

/// A parser directive line, `# key=value`, as its key and value.
fn directive(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.trim_start().strip_prefix('#')?.split_once('=')?;
    let key = key.trim();
    let word = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    word.then(|| (key, value.trim()))
}

/// One instruction: its keyword upper-cased, its arguments joined into one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    pub keyword: String,
    pub arguments: String,
    /// The line it starts on, counted from 1.
    pub line: usize,
    /// Its heredocs, in order (their bodies also follow the first line in `arguments`).
    pub heredocs: Vec<Heredoc>,
}

/// One heredoc of an instruction: `<<EOF` and the lines up to `EOF`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The marker, quotes removed.
    pub name: String,
    /// The lines between the instruction and the marker, each ending in a newline.
    pub body: String,
}

impl Instruction {
    /// The arguments on the instruction's own line(s), without heredoc bodies.
    pub fn command_line(&self) -> &str {
        self.arguments.split('\n').next().unwrap_or_default()
    }

    /// The instruction read as a RUN: its flags, its script, and its heredocs.
    pub(crate) fn run(&self) -> shell::Run {
        shell::Run::with_heredocs(
            self.command_line(),
            self.heredocs.iter().map(|heredoc| heredoc.body.as_str()),
        )
    }
}

#[derive(Debug, Clone, Default)]
pub struct Dockerfile {
    pub instructions: Vec<Instruction>,
}

impl Dockerfile {
    pub fn parse(text: &str) -> Dockerfile {
        // A byte order mark is not part of the first line.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let lines: Vec<&str> = text.lines().collect();
        // Parser directives (`# escape=`, `# syntax=`) count only at the very top: the first
        // comment that is not one, blank line or instruction ends them.
        let escape = lines
            .iter()
            .map_while(|line| directive(line))
            .find_map(|(key, value)| {
                key.eq_ignore_ascii_case("escape")
                    .then(|| value.chars().next())
                    .flatten()
            })
            .unwrap_or('\\');
        let mut instructions = Vec::new();
        let mut index = 0;
        while index < lines.len() {
            let line = lines[index].trim();
            index += 1;
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let start = index;
            let mut text = String::new();
            let mut current = line.to_string();
            loop {
                let continued = current.ends_with(escape);
                text.push_str(current.trim_end_matches(escape).trim_end());
                if !continued || index >= lines.len() {
                    break;
                }
                text.push(' ');
                // Comment and empty lines inside a continuation are dropped, as Docker does.
                while index < lines.len()
                    && (lines[index].trim_start().starts_with('#')
                        || lines[index].trim().is_empty())
                {
                    index += 1;
                }
                current = lines
                    .get(index)
                    .map(|l| l.trim().to_string())
                    .unwrap_or_default();
                index += 1;
            }
            let first_word = text.split_whitespace().next().unwrap_or_default();
            let reads_heredocs = ["RUN", "COPY", "ADD"]
                .iter()
                .any(|keyword| first_word.eq_ignore_ascii_case(keyword));
            let mut heredocs = Vec::new();
            if reads_heredocs {
                for (name, strip_tabs) in heredoc_markers(&text, escape) {
                    let mut body = String::new();
                    while index < lines.len() {
                        let line = lines[index];
                        index += 1;
                        let line = if strip_tabs {
                            line.trim_start_matches('\t')
                        } else {
                            line
                        };
                        if line == name {
                            break;
                        }
                        body.push_str(line);
                        body.push('\n');
                    }
                    text.push('\n');
                    text.push_str(body.trim_end_matches('\n'));
                    heredocs.push(Heredoc { name, body });
                }
            }
            let (keyword, arguments) = text.split_once(char::is_whitespace).unwrap_or((&text, ""));
            instructions.push(Instruction {
                keyword: keyword.to_uppercase(),
                arguments: arguments.trim().to_string(),
                line: start,
                heredocs,
            });
        }
        Dockerfile { instructions }
    }

    /// The instructions before the first `FROM`: the global `ARG`s.
    pub fn preamble(&self) -> &[Instruction] {
        let first = self
            .instructions
            .iter()
            .position(|instruction| instruction.keyword == "FROM")
            .unwrap_or(self.instructions.len());
        &self.instructions[..first]
    }

    /// `text` with the global `ARG`s' defaults put in for `$NAME`, `${NAME}` and
    /// `${NAME:-word}` (`word` when the ARG has no default); what has no value stays as
    /// written.
    pub fn expand_global_arguments(&self, text: &str) -> String {
        let defaults: Vec<(String, String)> = self
            .preamble()
            .iter()
            .filter(|instruction| instruction.keyword == "ARG")
            .flat_map(|instruction| instruction.arguments.split_whitespace())
            .filter_map(|word| {
                let (name, value) = word.split_once('=')?;
                Some((
                    name.to_string(),
                    value.trim_matches(['"', '\'']).to_string(),
                ))
            })
            .collect();
        let value_of = |name: &str| {
            defaults
                .iter()
                .rev()
                .find(|(candidate, _)| candidate == name)
                .map(|(_, value)| value.clone())
        };
        let mut expanded = String::new();
        let mut rest = text;
        while let Some(position) = rest.find('$') {
            expanded.push_str(&rest[..position]);
            let after = &rest[position + 1..];
            let (name, fallback, length) = match after.strip_prefix('{') {
                Some(inner) => match inner.find('}') {
                    Some(close) => {
                        let body = &inner[..close];
                        let (name, fallback) = match body.split_once(":-").or(body.split_once('-'))
                        {
                            Some((name, word)) => (name, Some(word)),
                            None => (body, None),
                        };
                        (name, fallback, close + 2)
                    }
                    None => ("", None, 0),
                },
                None => {
                    let length = after
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(after.len());
                    (&after[..length], None, length)
                }
            };
            match value_of(name).or(fallback.map(String::from)) {
                Some(value) if !name.is_empty() => expanded.push_str(&value),
                _ => expanded.push_str(&rest[position..position + 1 + length]),
            }
            rest = &after[length..];
        }
        expanded.push_str(rest);
        expanded
    }

    /// The build stages: each `FROM` and the instructions up to the next.
    pub fn stages(&self) -> Vec<&[Instruction]> {
        let mut stages = Vec::new();
        let mut start = None;
        for (index, instruction) in self.instructions.iter().enumerate() {
            if instruction.keyword == "FROM" {
                if let Some(begin) = start {
                    stages.push(&self.instructions[begin..index]);
                }
                start = Some(index);
            }
        }
        if let Some(begin) = start {
            stages.push(&self.instructions[begin..]);
        }
        stages
    }

    /// The names given to stages (`FROM image AS name`), lower-cased.
    pub fn stage_names(&self) -> Vec<String> {
        self.stages()
            .iter()
            .filter_map(|stage| stage.first().and_then(stage_name))
            .collect()
    }
}

/// The name a `FROM image AS name` gives its stage, lower-cased.
pub fn stage_name(from: &Instruction) -> Option<String> {
    let mut words = from.arguments.split_whitespace();
    words.find(|word| word.eq_ignore_ascii_case("as"))?;
    words.next().map(str::to_lowercase)
}

/// How the stages of a Dockerfile (`Dockerfile::stages`) are built from each other: a
/// stage's parent is the earlier stage its FROM names (BuildKit reads a later name as an
/// image). Built once, it answers each stage's lineage without searching the stages again.
#[derive(Debug, Clone, Default)]
pub struct StageTree {
    names: Vec<Option<String>>,
    parents: Vec<Option<usize>>,
}

impl StageTree {
    pub fn of(stages: &[&[Instruction]]) -> StageTree {
        let names: Vec<Option<String>> = stages
            .iter()
            .map(|stage| stage.first().and_then(stage_name))
            .collect();
        let mut earlier: HashMap<&str, usize> = HashMap::new();
        let mut parents = Vec::with_capacity(stages.len());
        for (index, stage) in stages.iter().enumerate() {
            let base = stage
                .first()
                .map(|from| from_image(&from.arguments).to_lowercase());
            parents.push(base.and_then(|base| earlier.get(base.as_str()).copied()));
            if let Some(name) = &names[index] {
                earlier.entry(name.as_str()).or_insert(index);
            }
        }
        StageTree { names, parents }
    }

    /// The stage `target` names (case-insensitively), or the last stage for `None`.
    pub fn index(&self, target: Option<&str>) -> Option<usize> {
        match target {
            None => self.names.len().checked_sub(1),
            Some(target) => {
                let target = target.to_lowercase();
                self.names
                    .iter()
                    .position(|name| name.as_deref() == Some(target.as_str()))
            }
        }
    }

    /// The stage `index` is built FROM, when that is a stage of the file.
    pub fn parent(&self, index: usize) -> Option<usize> {
        self.parents.get(index).copied().flatten()
    }

    /// `index`, then the stage it is built FROM, and so on.
    pub fn lineage(&self, index: usize) -> Vec<usize> {
        let mut lineage = vec![index];
        while let Some(parent) = self.parent(*lineage.last().unwrap_or(&index)) {
            lineage.push(parent);
        }
        lineage
    }
}

/// The image of a `FROM` instruction (flags such as `--platform` skipped).
pub fn from_image(arguments: &str) -> &str {
    arguments
        .split_whitespace()
        .find(|word| !word.starts_with("--"))
        .unwrap_or_default()
}

/// The heredocs a logical line opens, as BuildKit finds them: each word that starts with
/// `<<` (after optional file-descriptor digits), not `<<<`, gives its marker, quotes removed,
/// and whether `<<-` strips leading tabs. Words are split as a shell would, so a quoted
/// `"<<EOF"` or `$((1<<2))` opens nothing.
fn heredoc_markers(line: &str, escape: char) -> Vec<(String, bool)> {
    raw_words(line, escape)
        .into_iter()
        .filter_map(|word| {
            let rest = word.trim_start_matches(|c: char| c.is_ascii_digit());
            let rest = rest.strip_prefix("<<")?;
            let (rest, strip_tabs) = match rest.strip_prefix('-') {
                Some(rest) => (rest, true),
                None => (rest, false),
            };
            if rest.is_empty() || rest.contains('<') {
                return None;
            }
            let name: String = rest.chars().filter(|c| !matches!(c, '"' | '\'')).collect();
            (!name.is_empty()).then_some((name, strip_tabs))
        })
        .collect()
}

/// `line` split into words on unquoted whitespace, quotes and escapes kept as written, and
/// `$(…)`, `${…}` and backquotes kept inside their word.
fn raw_words(line: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c == escape => {
                word.push(c);
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            '\'' | '"' | '`' => {
                word.push(c);
                while let Some(inner) = chars.next() {
                    word.push(inner);
                    if inner == c {
                        break;
                    }
                    if inner == escape
                        && c != '\''
                        && let Some(next) = chars.next()
                    {
                        word.push(next);
                    }
                }
            }
            '$' if matches!(chars.peek(), Some('(' | '{')) => {
                shell::push_substitution(&mut chars, &mut word);
            }
            c if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_lines_and_stages() {
        let text = "# syntax=docker/dockerfile:1\nFROM node:20 AS build\nWORKDIR /app\nCOPY package.json \\\n  package-lock.json ./\nRUN npm ci \\\n# a comment inside\n  && npm run build\nFROM nginx:1.27\nCOPY --from=build /app/dist /usr/share/nginx/html\nRUN <<EOF\necho hi\nEOF\nUSER nginx\n";
        let dockerfile = Dockerfile::parse(text);
        let keywords: Vec<(&str, usize)> = dockerfile
            .instructions
            .iter()
            .map(|i| (i.keyword.as_str(), i.line))
            .collect();
        assert_eq!(
            keywords,
            [
                ("FROM", 2),
                ("WORKDIR", 3),
                ("COPY", 4),
                ("RUN", 6),
                ("FROM", 9),
                ("COPY", 10),
                ("RUN", 11),
                ("USER", 14)
            ]
        );
        assert_eq!(
            dockerfile.instructions[2].arguments,
            "package.json package-lock.json ./"
        );
        assert_eq!(
            dockerfile.instructions[3].arguments,
            "npm ci && npm run build"
        );
        assert!(dockerfile.instructions[6].arguments.contains("echo hi"));
        assert_eq!(dockerfile.stages().len(), 2);
        assert_eq!(dockerfile.stage_names(), ["build"]);
        assert_eq!(
            from_image("--platform=linux/amd64 node:20 AS build"),
            "node:20"
        );
    }

    #[test]
    fn stages_are_built_from_earlier_stages_only() {
        let dockerfile = Dockerfile::parse(
            "FROM a:1 AS Base\nFROM base AS build\nFROM later AS test\nFROM build\nFROM a:1 AS later\n",
        );
        let stages = dockerfile.stages();
        let tree = StageTree::of(&stages);
        assert_eq!(tree.lineage(3), [3, 1, 0]);
        // `later` is named after the stage that uses it: an image, as BuildKit reads it.
        assert_eq!(tree.parent(2), None);
        assert_eq!(tree.index(Some("BUILD")), Some(1));
        assert_eq!(tree.index(None), Some(4));
        assert_eq!(tree.index(Some("missing")), None);
        assert_eq!(dockerfile.stage_names(), ["base", "build", "test", "later"]);
    }

    #[test]
    fn a_byte_order_mark_empty_continuation_lines_and_late_directives() {
        let keywords = |text: &str| -> Vec<(String, String)> {
            Dockerfile::parse(text)
                .instructions
                .into_iter()
                .map(|i| (i.keyword, i.arguments))
                .collect()
        };
        let pair = |keyword: &str, arguments: &str| (keyword.to_string(), arguments.to_string());
        // A BOM before `FROM` (and before a directive) hides neither.
        assert_eq!(
            keywords("\u{feff}# escape=`\nFROM a:1\nRUN one `\n  two\n"),
            [pair("FROM", "a:1"), pair("RUN", "one two")]
        );
        // Docker joins a continuation across empty and comment lines.
        assert_eq!(
            keywords(
                "FROM a:1\nRUN apt-get update && \\\n\n    # note\n    apt-get install -y curl\nUSER app\n"
            ),
            [
                pair("FROM", "a:1"),
                pair("RUN", "apt-get update && apt-get install -y curl"),
                pair("USER", "app")
            ]
        );
        // A directive after an ordinary comment is only a comment.
        assert_eq!(
            keywords("# build notes\n# escape=`\nFROM a:1\nRUN one `\nUSER app\n"),
            [
                pair("FROM", "a:1"),
                pair("RUN", "one `"),
                pair("USER", "app")
            ]
        );
    }

    #[test]
    fn heredocs_of_any_marker_and_the_escape_directive() {
        let dockerfile = Dockerfile::parse("FROM a:1\nRUN <<eot1\nFROM evil\neot1\nUSER 1\n");
        let keywords: Vec<&str> = dockerfile
            .instructions
            .iter()
            .map(|i| i.keyword.as_str())
            .collect();
        assert_eq!(keywords, ["FROM", "RUN", "USER"]);
        let windows = Dockerfile::parse(
            "# escape=`\nFROM a:1\nWORKDIR C:\\app\\\nUSER app\nRUN one `\n  two\n",
        );
        let keywords: Vec<(&str, &str)> = windows
            .instructions
            .iter()
            .map(|i| (i.keyword.as_str(), i.arguments.as_str()))
            .collect();
        assert_eq!(
            keywords,
            [
                ("FROM", "a:1"),
                ("WORKDIR", "C:\\app\\"),
                ("USER", "app"),
                ("RUN", "one two")
            ]
        );
    }

    fn keywords(dockerfile: &Dockerfile) -> Vec<(&str, usize)> {
        dockerfile
            .instructions
            .iter()
            .map(|i| (i.keyword.as_str(), i.line))
            .collect()
    }

    #[test]
    fn shift_operators_and_quoted_markers_open_no_heredoc() {
        let dockerfile = Dockerfile::parse(
            "FROM a:1\nRUN echo $((1<<2)) > /n\nRUN echo \"<<EOF\" '<<EOF'\nRUN cat<<<word\nUSER app\n",
        );
        assert_eq!(
            keywords(&dockerfile),
            [("FROM", 1), ("RUN", 2), ("RUN", 3), ("RUN", 4), ("USER", 5)]
        );
        assert!(
            dockerfile
                .instructions
                .iter()
                .all(|i| i.heredocs.is_empty())
        );
        // Only RUN, COPY and ADD read heredocs.
        let label = Dockerfile::parse("FROM a:1\nLABEL note=<<EOF\nUSER app\nEOF\n");
        assert_eq!(
            keywords(&label),
            [("FROM", 1), ("LABEL", 2), ("USER", 3), ("EOF", 4)]
        );
    }

    #[test]
    fn several_heredocs_quoted_and_tab_stripped_markers() {
        let text = "FROM a:1\nCOPY <<one 3<<\"two\" /etc/\nfirst\none\nsecond | x\ntwo\nRUN <<-'END' bash\n\tset -e\n\tEND\nUSER app\n";
        let dockerfile = Dockerfile::parse(text);
        assert_eq!(
            keywords(&dockerfile),
            [("FROM", 1), ("COPY", 2), ("RUN", 7), ("USER", 10)]
        );
        let copy = &dockerfile.instructions[1];
        assert_eq!(
            copy.heredocs,
            [
                Heredoc {
                    name: "one".into(),
                    body: "first\n".into()
                },
                Heredoc {
                    name: "two".into(),
                    body: "second | x\n".into()
                },
            ]
        );
        assert_eq!(copy.command_line(), "<<one 3<<\"two\" /etc/");
        assert_eq!(copy.arguments, "<<one 3<<\"two\" /etc/\nfirst\nsecond | x");
        let run = &dockerfile.instructions[2];
        assert_eq!(run.heredocs[0].name, "END");
        assert_eq!(run.heredocs[0].body, "set -e\n");
        // Without `-`, the marker must stand alone on its line.
        let strict = Dockerfile::parse("FROM a:1\nRUN <<EOF\n\tEOF\nEOF\nUSER app\n");
        assert_eq!(strict.instructions[1].heredocs[0].body, "\tEOF\n");
        assert_eq!(keywords(&strict), [("FROM", 1), ("RUN", 2), ("USER", 5)]);
    }

    #[test]
    fn the_instructions_before_the_first_from_are_the_preamble() {
        let dockerfile = Dockerfile::parse(
            "# syntax=docker/dockerfile:1\nARG BASE=a:1\nARG TOKEN\nFROM $BASE\nARG TOKEN\n",
        );
        let preamble: Vec<&str> = dockerfile
            .preamble()
            .iter()
            .map(|i| i.arguments.as_str())
            .collect();
        assert_eq!(preamble, ["BASE=a:1", "TOKEN"]);
        assert_eq!(dockerfile.stages().len(), 1);
        assert_eq!(dockerfile.stages()[0].len(), 2);
        assert_eq!(Dockerfile::parse("ARG A=1\n").preamble().len(), 1);
        assert!(Dockerfile::parse("FROM a:1\n").preamble().is_empty());
    }

    #[test]
    fn global_argument_defaults_expand_in_from() {
        let dockerfile =
            Dockerfile::parse("ARG BASE=node\nARG TAG=\"20\"\nARG NONE\nFROM ${BASE}:$TAG\n");
        assert_eq!(
            dockerfile.expand_global_arguments("${BASE}:$TAG"),
            "node:20"
        );
        assert_eq!(
            dockerfile.expand_global_arguments("$NONE:${NONE:-1}"),
            "$NONE:1"
        );
        assert_eq!(dockerfile.expand_global_arguments("a${BASE"), "a${BASE");
        assert_eq!(dockerfile.expand_global_arguments("$ $$"), "$ $$");
    }
}
