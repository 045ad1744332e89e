//! `Dockerfile`: a Dockerfile read into instructions, each with its line, and split into
//! build stages. Enough of the syntax for the doctor's rules: line continuations, comments,
//! parser directives, and heredocs (`RUN <<EOF … EOF`, kept as the instruction's text).

/// One instruction: its keyword upper-cased, its arguments joined into one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    pub keyword: String,
    pub arguments: String,
    /// The line it starts on, counted from 1.
    pub line: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Dockerfile {
    pub instructions: Vec<Instruction>,
}

impl Dockerfile {
    pub fn parse(text: &str) -> Dockerfile {
        let lines: Vec<&str> = text.lines().collect();
        // The `# escape=` parser directive, before any instruction, sets the continuation.
        let escape = lines
            .iter()
            .take_while(|line| line.trim_start().starts_with('#'))
            .find_map(|line| {
                let directive = line.trim_start().trim_start_matches('#').trim();
                let (key, value) = directive.split_once('=')?;
                (key.trim().eq_ignore_ascii_case("escape")).then(|| value.trim().chars().next())?
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
                // Comment lines inside a continuation are dropped, as Docker does.
                while index < lines.len() && lines[index].trim_start().starts_with('#') {
                    index += 1;
                }
                current = lines
                    .get(index)
                    .map(|l| l.trim().to_string())
                    .unwrap_or_default();
                index += 1;
            }
            if let Some(marker) = heredoc_marker(&text) {
                while index < lines.len() {
                    let body = lines[index];
                    index += 1;
                    if body.trim() == marker {
                        break;
                    }
                    text.push('\n');
                    text.push_str(body);
                }
            }
            let (keyword, arguments) = text.split_once(char::is_whitespace).unwrap_or((&text, ""));
            instructions.push(Instruction {
                keyword: keyword.to_uppercase(),
                arguments: arguments.trim().to_string(),
                line: start,
            });
        }
        Dockerfile { instructions }
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
        self.instructions
            .iter()
            .filter(|instruction| instruction.keyword == "FROM")
            .filter_map(|instruction| {
                let words: Vec<&str> = instruction.arguments.split_whitespace().collect();
                let position = words
                    .iter()
                    .position(|word| word.eq_ignore_ascii_case("as"))?;
                words.get(position + 1).map(|name| name.to_lowercase())
            })
            .collect()
    }
}

/// The image of a `FROM` instruction (flags such as `--platform` skipped).
pub fn from_image(arguments: &str) -> &str {
    arguments
        .split_whitespace()
        .find(|word| !word.starts_with("--"))
        .unwrap_or_default()
}

fn heredoc_marker(text: &str) -> Option<String> {
    let position = text.find("<<")?;
    let rest = &text[position + 2..];
    if rest.starts_with('<') {
        return None; // a here-string, `<<<`
    }
    let marker: String = rest
        .trim_start_matches('-')
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!marker.is_empty()).then_some(marker)
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
}
