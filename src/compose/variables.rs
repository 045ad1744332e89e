//! The variables a compose file interpolates: `${VAR}`, `$VAR`, `${VAR:-default}`,
//! `${VAR:?message}` and the rest of compose's syntax, with where each is used.
//!
//! A variable is *required* when it is referenced without a default: `${VAR}`, `$VAR`,
//! `${VAR:?message}` and `${VAR?message}`. `${VAR:-x}`, `${VAR-x}`, `${VAR:+x}` and
//! `${VAR+x}` are not; variables inside a default are not either (they are only read when
//! the outer one is unset). `$$` is a literal dollar, and comments are skipped.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// One use of a variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub name: String,
    pub line: usize,
    pub column: usize,
    pub required: bool,
    /// `${VAR:?message}`: an empty value is refused too.
    pub non_empty: bool,
}

impl Reference {
    /// Whether this use fails with the variables `defined`: required and unset, or
    /// `${VAR:?}` and empty.
    pub fn is_unset_in(&self, defined: &BTreeMap<String, String>) -> bool {
        match defined.get(&self.name) {
            None => self.required,
            Some(value) => self.non_empty && value.is_empty(),
        }
    }
}

/// Every variable reference in `text`, in order.
pub fn references(text: &str) -> Vec<Reference> {
    let mut found = Vec::new();
    // Inside a block scalar (`key: |`), a `#` is text, not a comment.
    let mut block: Option<usize> = None;
    for (index, raw) in text.lines().enumerate() {
        let indent = raw.len() - raw.trim_start().len();
        if let Some(parent) = block {
            if raw.trim().is_empty() || indent > parent {
                scan(raw, index, &mut found);
                continue;
            }
            block = None;
        }
        let line = strip_comment(raw);
        let trimmed = line.trim_end();
        if trimmed.ends_with(['|', '>'])
            || trimmed.ends_with("|-")
            || trimmed.ends_with(">-")
            || trimmed.ends_with("|+")
            || trimmed.ends_with(">+")
        {
            block = Some(indent);
        }
        scan(line, index, &mut found);
    }
    found
}

/// The references on one line (`index` counted from 0).
fn scan(line: &str, index: usize, found: &mut Vec<Reference>) {
    {
        let bytes = line.as_bytes();
        let mut position = 0;
        while position < bytes.len() {
            if bytes[position] != b'$' {
                position += 1;
                continue;
            }
            match bytes.get(position + 1) {
                Some(b'$') => position += 2,
                Some(b'{') => {
                    let end = matching_brace(bytes, position + 1);
                    let inner = &line[position + 2..end.min(line.len())];
                    read_braced(inner, index + 1, position + 1, true, found);
                    position = end + 1;
                }
                Some(byte) if byte.is_ascii_alphabetic() || *byte == b'_' => {
                    let name: String = line[position + 1..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    found.push(Reference {
                        name: name.clone(),
                        line: index + 1,
                        column: position + 1,
                        required: true,
                        non_empty: false,
                    });
                    position += 1 + name.len();
                }
                _ => position += 1,
            }
        }
    }
}

/// `NAME[:-?+]…` inside `${…}`; nested references in the rest are never required.
fn read_braced(inner: &str, line: usize, column: usize, outer: bool, found: &mut Vec<Reference>) {
    let name: String = inner
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if name.is_empty() {
        return;
    }
    let rest = &inner[name.len()..];
    let required = outer && (rest.is_empty() || rest.starts_with(":?") || rest.starts_with('?'));
    found.push(Reference {
        name: name.clone(),
        line,
        column,
        required,
        non_empty: outer && rest.starts_with(":?"),
    });
    for nested in references(rest) {
        found.push(Reference {
            line,
            column,
            required: false,
            ..nested
        });
    }
}

fn matching_brace(bytes: &[u8], open: usize) -> usize {
    let mut depth = 0;
    for (offset, byte) in bytes[open..].iter().enumerate() {
        match byte {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return open + offset;
                }
            }
            _ => {}
        }
    }
    bytes.len()
}

/// The line without a YAML comment (a `#` at its start or after whitespace, outside quotes).
fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    for (index, character) in line.char_indices() {
        match (quote, character) {
            // A quote opens a quoted scalar only where one can start (not in `it's`).
            (None, '\'' | '"') if previous.is_whitespace() || "[{,:".contains(previous) => {
                quote = Some(character)
            }
            (Some(open), _) if character == open => quote = None,
            (None, '#') if previous.is_whitespace() => return &line[..index],
            _ => {}
        }
        previous = character;
    }
    line
}

/// The variables an env file sets (`NAME=value`, `export NAME=value`, comments skipped).
pub fn env_file_names(text: &str) -> BTreeMap<String, usize> {
    let mut names = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let name = line.split(['=', ':']).next().unwrap_or_default().trim();
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            names.entry(name.to_string()).or_insert(index + 1);
        }
    }
    names
}

/// The variables set for compose: the env files, then the process environment (which wins,
/// as in compose). Missing files are skipped.
pub fn defined_variables(env_files: &[PathBuf]) -> BTreeMap<String, String> {
    let mut defined = env_file_variables(env_files);
    defined.extend(std::env::vars());
    defined
}

/// The variables the env files set (the later file wins). Missing files are skipped.
pub fn env_file_variables(env_files: &[PathBuf]) -> BTreeMap<String, String> {
    let mut defined = BTreeMap::new();
    for file in env_files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let line = line.strip_prefix("export ").unwrap_or(line);
            if let Some((name, value)) = line.split_once('=') {
                let value = value.trim().trim_matches('"').trim_matches('\'');
                defined.insert(name.trim().to_string(), value.to_string());
            }
        }
    }
    defined
}

#[cfg(test)]
mod tests {
    use super::*;

    fn required(text: &str) -> Vec<(String, bool)> {
        references(text)
            .into_iter()
            .map(|reference| (reference.name, reference.required))
            .collect()
    }

    #[test]
    fn required_means_no_default() {
        assert_eq!(
            required(
                "a: ${A}\nb: ${B:-x}\nc: ${C:?set C}\nd: ${D-x}\ne: $E/x\nf: ${F?}\ng: ${G:+y}\n"
            ),
            [
                ("A".into(), true),
                ("B".into(), false),
                ("C".into(), true),
                ("D".into(), false),
                ("E".into(), true),
                ("F".into(), true),
                ("G".into(), false),
            ]
        );
    }

    #[test]
    fn escapes_comments_and_nesting() {
        assert_eq!(
            required("cmd: echo $$HOME $${X}\n# ${COMMENTED}\nx: 1 # ${ALSO}\n"),
            []
        );
        assert_eq!(
            required("url: ${URL:-http://${HOST}:${PORT:-80}}\n"),
            [
                ("URL".into(), false),
                ("HOST".into(), false),
                ("PORT".into(), false)
            ]
        );
        assert_eq!(
            required("x: \"a # ${QUOTED}\"\n"),
            [("QUOTED".into(), true)]
        );
        assert_eq!(
            required("greeting: it's ${NAME:-x} # was ${OLD}\n"),
            [("NAME".into(), false)]
        );
        assert_eq!(
            required(
                "cmd: |\n  echo start # ${IN_BLOCK:?x}\n  # ${ALSO_TEXT}\nnext: 1 # ${COMMENT}\n"
            ),
            [("IN_BLOCK".into(), true), ("ALSO_TEXT".into(), true)]
        );
        assert!(references("a: ${A:?x}\n")[0].non_empty);
        assert!(!references("a: ${A?x}\n")[0].non_empty);
        let found = references("one: 1\ntwo: x-${TWO}\n");
        assert_eq!((found[0].line, found[0].column), (2, 8));
    }

    #[test]
    fn env_files_name_their_variables() {
        let names = env_file_names("# comment\nA=1\nexport B=2\n\nC=\nlower_case=x\n");
        assert_eq!(
            names.keys().collect::<Vec<_>>(),
            ["A", "B", "C", "lower_case"]
        );
        assert_eq!(names["B"], 3);
    }
}
