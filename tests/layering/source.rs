//! One Rust source file as the layering check reads it: its code without comments, string
//! and character literals or `#[cfg(test)]` items, and every path that code names.

/// A path named in a file: a `use` entry (a grouped `use a::{b, c::d}` gives one per leaf) or
/// a path written inline in code (`crate::report::failure::find(…)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    /// The segments as written, `crate`, `self` and `super` included; a leading `::` is dropped.
    pub(crate) segments: Vec<String>,
    pub(crate) line: usize,
    pub(crate) kind: Kind,
    /// The inline modules (`mod name { … }`) the path stands in, outermost first.
    pub(crate) inline_modules: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `use a::b;` or `use a::b as c;`: the name it brings into scope (`None` for `as _`).
    Use { binding: Option<String> },
    /// `use a::b::*;`
    Glob,
    /// A path in code.
    Inline,
}

impl Reference {
    /// The path as written, `::*` for a glob.
    pub(crate) fn text(&self) -> String {
        let path = self.segments.join("::");
        match self.kind {
            Kind::Glob => format!("{path}::*"),
            _ => path,
        }
    }
}

/// What the check needs of one file.
#[derive(Debug, Default)]
pub(crate) struct Source {
    pub(crate) references: Vec<Reference>,
    /// Whether the file defines or imports anything besides its child modules (what a glob
    /// import of it can bring in).
    pub(crate) has_items: bool,
    /// The child modules it declares in files of their own (`mod step;`).
    pub(crate) child_modules: Vec<String>,
}

/// Reads a file's text.
pub(crate) fn read(text: &str) -> Source {
    let code = without_test_items(&blank_literals_and_comments(text));
    let tokens = tokenize(&code);
    let has_items = tokens.iter().any(|token| {
        matches!(
            &token.kind,
            Token::Identifier(name) if ITEM_KEYWORDS.contains(&name.as_str())
        )
    });
    let child_modules = (0..tokens.len())
        .filter(|&index| {
            is_identifier(&tokens, index, "mod")
                && is_kind(&tokens, index + 2, &Token::Punctuation(';'))
        })
        .filter_map(|index| identifier(&tokens, index + 1).map(str::to_string))
        .collect();
    Source {
        references: references(&tokens),
        has_items,
        child_modules,
    }
}

const ITEM_KEYWORDS: &[&str] = &[
    "fn",
    "struct",
    "enum",
    "union",
    "trait",
    "type",
    "const",
    "static",
    "use",
    "macro_rules",
];

/// The text with every comment and every string, byte string or character literal replaced by
/// spaces (newlines kept, so line numbers stay).
fn blank_literals_and_comments(text: &str) -> String {
    let characters: Vec<char> = text.chars().collect();
    let mut output = String::with_capacity(text.len());
    let blank = |output: &mut String, span: &[char]| {
        for &character in span {
            output.push(if character == '\n' { '\n' } else { ' ' });
        }
    };
    let mut index = 0;
    while index < characters.len() {
        let character = characters[index];
        let next = characters.get(index + 1).copied();
        let end = if character == '/' && next == Some('/') {
            let mut end = index;
            while end < characters.len() && characters[end] != '\n' {
                end += 1;
            }
            end
        } else if character == '/' && next == Some('*') {
            block_comment_end(&characters, index)
        } else if character == '"' {
            quoted_end(&characters, index, '"')
        } else if character == '\'' {
            match character_literal_end(&characters, index) {
                Some(end) => end,
                None => {
                    // A lifetime or a label.
                    output.push(character);
                    index += 1;
                    continue;
                }
            }
        } else if let Some(end) = raw_string_end(&characters, index) {
            end
        } else {
            output.push(character);
            index += 1;
            continue;
        };
        blank(&mut output, &characters[index..end]);
        index = end;
    }
    output
}

/// The end (exclusive) of the block comment opening at `start`; block comments nest.
fn block_comment_end(characters: &[char], start: usize) -> usize {
    let mut depth = 0;
    let mut index = start;
    while index < characters.len() {
        match (characters[index], characters.get(index + 1).copied()) {
            ('/', Some('*')) => {
                depth += 1;
                index += 2;
            }
            ('*', Some('/')) => {
                depth -= 1;
                index += 2;
                if depth == 0 {
                    return index;
                }
            }
            _ => index += 1,
        }
    }
    characters.len()
}

/// The end (exclusive) of the literal opening with `quote` at `start`, escapes skipped.
fn quoted_end(characters: &[char], start: usize, quote: char) -> usize {
    let mut index = start + 1;
    while index < characters.len() {
        match characters[index] {
            '\\' => index += 2,
            character if character == quote => return index + 1,
            _ => index += 1,
        }
    }
    characters.len()
}

/// The end of a character literal at `start` (`'a'`, `'\n'`, `'\u{1F600}'`), or `None` when
/// the quote opens a lifetime or a label.
fn character_literal_end(characters: &[char], start: usize) -> Option<usize> {
    match characters.get(start + 1)? {
        '\\' => Some(quoted_end(characters, start, '\'')),
        _ if characters.get(start + 2) == Some(&'\'') => Some(start + 3),
        _ => None,
    }
}

/// The end of a raw string (`r"…"`, `r#"…"#`, `br"…"`, `cr#"…"#`) starting at `start`, if one
/// starts there.
fn raw_string_end(characters: &[char], start: usize) -> Option<usize> {
    let is_identifier = |index: usize| {
        characters
            .get(index)
            .is_some_and(|character| character.is_alphanumeric() || *character == '_')
    };
    if start > 0 && is_identifier(start - 1) {
        return None;
    }
    let mut index = start;
    if matches!(characters[index], 'b' | 'c') {
        index += 1;
    }
    if characters.get(index) != Some(&'r') {
        return None;
    }
    index += 1;
    let mut hashes = 0;
    while characters.get(index) == Some(&'#') {
        hashes += 1;
        index += 1;
    }
    if characters.get(index) != Some(&'"') {
        return None;
    }
    index += 1;
    while index < characters.len() {
        if characters[index] == '"'
            && (1..=hashes).all(|offset| characters.get(index + offset) == Some(&'#'))
        {
            return Some(index + 1 + hashes);
        }
        index += 1;
    }
    Some(characters.len())
}

/// The code with every item under `#[cfg(test)]` (in practice `mod tests { … }`) blanked out,
/// or nothing at all if the file itself is `#![cfg(test)]`.
fn without_test_items(code: &str) -> String {
    let mut characters: Vec<char> = code.chars().collect();
    let mut index = 0;
    while index < characters.len() {
        if characters[index] != '#' {
            index += 1;
            continue;
        }
        let Some((inner, attribute_end)) = attribute(&characters, index) else {
            index += 1;
            continue;
        };
        let content: String = characters[index..attribute_end]
            .iter()
            .filter(|character| !character.is_whitespace())
            .collect();
        if !content.ends_with("[cfg(test)]") {
            index = attribute_end;
            continue;
        }
        let end = if inner {
            characters.len()
        } else {
            item_end(&characters, attribute_end)
        };
        for character in &mut characters[index..end] {
            if *character != '\n' {
                *character = ' ';
            }
        }
        index = end;
    }
    characters.into_iter().collect()
}

/// The attribute starting at `start` (`#[…]` or `#![…]`): whether it is an inner attribute, and
/// where it ends (exclusive).
fn attribute(characters: &[char], start: usize) -> Option<(bool, usize)> {
    let mut index = start + 1;
    let inner = characters.get(index) == Some(&'!');
    if inner {
        index += 1;
    }
    while characters
        .get(index)
        .is_some_and(|character| character.is_whitespace())
    {
        index += 1;
    }
    if characters.get(index) != Some(&'[') {
        return None;
    }
    let mut depth = 0;
    while index < characters.len() {
        match characters[index] {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return Some((inner, index + 1));
                }
            }
            _ => {}
        }
        index += 1;
    }
    None
}

/// The end (exclusive) of the item that starts at `start`: its `;`, or the `}` closing its body.
fn item_end(characters: &[char], start: usize) -> usize {
    let mut depth = 0usize;
    let mut index = start;
    while index < characters.len() {
        match characters[index] {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return index + 1;
                }
            }
            ';' if depth == 0 => return index + 1,
            _ => {}
        }
        index += 1;
    }
    characters.len()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Identifier(String),
    /// `::`
    PathSeparator,
    Punctuation(char),
}

#[derive(Debug)]
struct Located {
    kind: Token,
    line: usize,
}

/// Identifiers (`r#` dropped, `$crate` kept whole), `::` and single punctuation; numbers and
/// whitespace are left out.
fn tokenize(code: &str) -> Vec<Located> {
    let characters: Vec<char> = code.chars().collect();
    let is_start = |character: char| character.is_alphabetic() || character == '_';
    let is_continue = |character: char| character.is_alphanumeric() || character == '_';
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut index = 0;
    while index < characters.len() {
        let character = characters[index];
        if character == '\n' {
            line += 1;
            index += 1;
        } else if character.is_whitespace() {
            index += 1;
        } else if character.is_ascii_digit() {
            while index < characters.len() && is_continue(characters[index]) {
                index += 1;
            }
        } else if is_start(character)
            || (character == '$'
                && characters
                    .get(index + 1)
                    .is_some_and(|next| is_start(*next)))
        {
            let start = index;
            index += 1;
            while index < characters.len() && is_continue(characters[index]) {
                index += 1;
            }
            let mut name: String = characters[start..index].iter().collect();
            if name == "r"
                && characters.get(index) == Some(&'#')
                && characters
                    .get(index + 1)
                    .is_some_and(|next| is_start(*next))
            {
                let start = index + 1;
                index = start;
                while index < characters.len() && is_continue(characters[index]) {
                    index += 1;
                }
                name = characters[start..index].iter().collect();
            }
            tokens.push(Located {
                kind: Token::Identifier(name),
                line,
            });
        } else if character == ':' && characters.get(index + 1) == Some(&':') {
            tokens.push(Located {
                kind: Token::PathSeparator,
                line,
            });
            index += 2;
        } else {
            tokens.push(Located {
                kind: Token::Punctuation(character),
                line,
            });
            index += 1;
        }
    }
    tokens
}

fn is_identifier(tokens: &[Located], index: usize, name: &str) -> bool {
    matches!(tokens.get(index), Some(Located { kind: Token::Identifier(found), .. }) if found == name)
}

fn is_kind(tokens: &[Located], index: usize, kind: &Token) -> bool {
    tokens.get(index).is_some_and(|token| token.kind == *kind)
}

fn identifier(tokens: &[Located], index: usize) -> Option<&str> {
    match tokens.get(index) {
        Some(Located {
            kind: Token::Identifier(name),
            ..
        }) => Some(name),
        _ => None,
    }
}

/// Every `use` entry and every path of two segments or more in the tokens.
fn references(tokens: &[Located]) -> Vec<Reference> {
    let mut found = Vec::new();
    // The inline modules open at this point, with the brace depth inside each.
    let mut modules: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut index = 0;
    while index < tokens.len() {
        let inline_modules: Vec<String> = modules.iter().map(|(name, _)| name.clone()).collect();
        match &tokens[index].kind {
            Token::Punctuation('{') => {
                depth += 1;
                index += 1;
            }
            Token::Punctuation('}') => {
                if modules.last().is_some_and(|(_, inside)| *inside == depth) {
                    modules.pop();
                }
                depth = depth.saturating_sub(1);
                index += 1;
            }
            Token::Identifier(keyword) if keyword == "mod" => {
                if let Some(name) = identifier(tokens, index + 1)
                    && is_kind(tokens, index + 2, &Token::Punctuation('{'))
                {
                    depth += 1;
                    modules.push((name.to_string(), depth));
                    index += 3;
                } else {
                    index += 1;
                }
            }
            Token::Identifier(keyword) if keyword == "use" => {
                let line = tokens[index].line;
                index += 1;
                let mut entries = Vec::new();
                use_tree(tokens, &mut index, Vec::new(), &mut entries);
                for (segments, kind) in entries {
                    found.push(Reference {
                        segments,
                        line,
                        kind,
                        inline_modules: inline_modules.clone(),
                    });
                }
                while index < tokens.len() && !is_kind(tokens, index, &Token::Punctuation(';')) {
                    index += 1;
                }
            }
            Token::PathSeparator => {
                let inside_path = index > 0
                    && matches!(
                        tokens[index - 1].kind,
                        Token::Identifier(_) | Token::Punctuation('>')
                    );
                if !inside_path && let Some(reference) = path(tokens, index + 1, &inline_modules) {
                    found.push(reference);
                }
                index += 1;
            }
            Token::Identifier(_) => {
                // After `::` an identifier continues a path (`Vec::<u8>::new`) read already.
                let continues = index > 0 && tokens[index - 1].kind == Token::PathSeparator;
                // `pub(in crate::guard)` names a module for visibility, not for use.
                let visibility = index >= 2
                    && is_identifier(tokens, index - 1, "in")
                    && is_kind(tokens, index - 2, &Token::Punctuation('('));
                if !continues
                    && !visibility
                    && let Some(reference) = path(tokens, index, &inline_modules)
                {
                    found.push(reference);
                }
                index += 1;
            }
            Token::Punctuation(_) => index += 1,
        }
    }
    found
}

/// The path of two segments or more starting at `start` (`a::b::c`, up to any generics).
fn path(tokens: &[Located], start: usize, inline_modules: &[String]) -> Option<Reference> {
    let mut segments = vec![identifier(tokens, start)?.to_string()];
    let mut index = start;
    while is_kind(tokens, index + 1, &Token::PathSeparator) {
        let Some(name) = identifier(tokens, index + 2) else {
            break;
        };
        segments.push(name.to_string());
        index += 2;
    }
    (segments.len() >= 2).then(|| Reference {
        segments,
        line: tokens[start].line,
        kind: Kind::Inline,
        inline_modules: inline_modules.to_vec(),
    })
}

/// Reads one use tree at `index` under `prefix` (`a::b`, `a::b as c`, `a::*`, `a::{…}`), adding
/// its leaves to `entries`; leaves `index` after it.
fn use_tree(
    tokens: &[Located],
    index: &mut usize,
    prefix: Vec<String>,
    entries: &mut Vec<(Vec<String>, Kind)>,
) {
    let mut segments = prefix;
    if is_kind(tokens, *index, &Token::PathSeparator) {
        *index += 1;
    }
    loop {
        match tokens.get(*index).map(|token| &token.kind) {
            Some(Token::Identifier(name)) => {
                segments.push(name.clone());
                *index += 1;
                if is_kind(tokens, *index, &Token::PathSeparator) {
                    *index += 1;
                    continue;
                }
                let mut binding = None;
                if is_identifier(tokens, *index, "as") {
                    binding = identifier(tokens, *index + 1).map(str::to_string);
                    *index += 2;
                }
                // `a::{self}` names `a` itself.
                if segments.len() > 1 && segments.last().is_some_and(|last| last == "self") {
                    segments.pop();
                }
                let binding = match binding {
                    Some(alias) if alias == "_" => None,
                    Some(alias) => Some(alias),
                    None => segments.last().cloned(),
                };
                entries.push((segments, Kind::Use { binding }));
                return;
            }
            Some(Token::Punctuation('*')) => {
                *index += 1;
                entries.push((segments, Kind::Glob));
                return;
            }
            Some(Token::Punctuation('{')) => {
                *index += 1;
                loop {
                    match tokens.get(*index).map(|token| &token.kind) {
                        None => return,
                        Some(Token::Punctuation('}')) => {
                            *index += 1;
                            return;
                        }
                        Some(Token::Punctuation(',')) => *index += 1,
                        Some(_) => {
                            let before = *index;
                            use_tree(tokens, index, segments.clone(), entries);
                            if *index == before {
                                // Not a use tree: give up on this one rather than loop.
                                return;
                            }
                        }
                    }
                }
            }
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(text: &str) -> Vec<String> {
        read(text).references.iter().map(Reference::text).collect()
    }

    #[test]
    fn comments_and_literals_name_no_path() {
        let text = r####"
            //! crate::cli::Cli
            /* crate::cli::A /* nested crate::cli::B */ crate::cli::C */
            fn names<'a>(name: &'a str) -> char {
                let _ = "crate::cli::D \" crate::cli::E";
                let _ = r#"crate::cli::F " crate::cli::G"#;
                let _ = b"crate::cli::H";
                let _ = '"';
                let _ = '\'';
                'outer: loop { break 'outer; }
                crate::report::find(name)
            }
        "####;
        assert_eq!(paths(text), ["crate::report::find"]);
    }

    #[test]
    fn test_items_are_left_out() {
        let text = "
            use crate::a::B;
            #[cfg(test)]
            mod tests {
                use crate::cli::Cli;
                fn inner() { crate::commands::run(); }
            }
            #[cfg( test )] use crate::cli::Other;
            fn after() { crate::c::d(); }
        ";
        assert_eq!(paths(text), ["crate::a::B", "crate::c::d"]);
        assert!(
            read("#![cfg(test)]\nuse crate::cli::Cli;")
                .references
                .is_empty()
        );
    }

    #[test]
    fn grouped_use_gives_one_entry_per_leaf() {
        let source = read(
            "pub(crate) use crate::{backup::target::{self, VolumeTarget as Target}, cli::*, a as _};",
        );
        let found: Vec<(String, Kind)> = source
            .references
            .iter()
            .map(|reference| (reference.text(), reference.kind.clone()))
            .collect();
        let binding = |name: &str| Kind::Use {
            binding: Some(name.to_string()),
        };
        assert_eq!(
            found,
            [
                ("crate::backup::target".to_string(), binding("target")),
                (
                    "crate::backup::target::VolumeTarget".to_string(),
                    binding("Target")
                ),
                ("crate::cli::*".to_string(), Kind::Glob),
                ("crate::a".to_string(), Kind::Use { binding: None }),
            ]
        );
    }

    #[test]
    fn inline_paths_keep_their_line_and_module() {
        let text = "fn a() {\n    let _ = Vec::<u8>::new();\n}\nmod inner {\n    fn b() { super::x::y(); }\n}\npub(in crate::guard) fn c() { ::std::process::exit(1) }\n";
        let found: Vec<(String, usize, Vec<String>)> = read(text)
            .references
            .into_iter()
            .map(|reference| (reference.text(), reference.line, reference.inline_modules))
            .collect();
        assert_eq!(
            found,
            [
                ("super::x::y".to_string(), 5, vec!["inner".to_string()]),
                ("std::process::exit".to_string(), 7, vec![]),
            ]
        );
    }
}
