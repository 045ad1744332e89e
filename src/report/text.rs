//! Text from outside devctl made safe to show: `escaped` renders control and invisible
//! characters visibly (so a value cannot forge a line of output), and `shell_quote` makes a
//! value one word of a copy-paste command line.

/// `text` with every control character (newlines, tabs, escape sequences) and every invisible
/// or direction-changing character written as an escape (`\n`, `\u{1b}`, `\u{202e}`), and a
/// backslash doubled; printable text, accented letters included, stays as it is.
pub fn escaped(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    for character in text.chars() {
        if character == '\\' {
            shown.push_str("\\\\");
        } else if character.is_control() {
            shown.extend(character.escape_debug());
        } else if is_invisible(character) {
            shown.extend(character.escape_unicode());
        } else {
            shown.push(character);
        }
    }
    shown
}

/// Whether `text` holds a character `escaped` would rewrite (a backslash aside).
pub fn has_hidden_characters(text: &str) -> bool {
    text.chars()
        .any(|character| character.is_control() || is_invisible(character))
}

/// Characters that show nothing, or change the direction of what follows.
fn is_invisible(character: char) -> bool {
    matches!(
        character,
        '\u{00ad}'
            | '\u{034f}'
            | '\u{061c}'
            | '\u{115f}'
            | '\u{1160}'
            | '\u{17b4}'
            | '\u{17b5}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{3164}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
            | '\u{ffa0}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{e0000}'..='\u{e007f}'
    )
}

/// `value` as one word of a POSIX shell command line: as it is when it holds only characters
/// no shell treats specially, else in single quotes (a single quote inside written `'\''`).
pub fn shell_quote(value: &str) -> String {
    let plain = !value.is_empty()
        && value.chars().all(|character| {
            character.is_ascii_alphanumeric()
                || matches!(
                    character,
                    '-' | '_' | '.' | '/' | ':' | '@' | '%' | '+' | ',' | '='
                )
        })
        // zsh expands a word starting with `=` to a command's path.
        && !value.starts_with('=');
    if plain {
        return value.to_string();
    }
    format!("'{}'", value.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_invisible_characters_are_escaped_and_the_rest_kept() {
        for (text, shown) in [
            ("plain-id_1.2", "plain-id_1.2"),
            ("", ""),
            ("ünïcödé ✓ 数据", "ünïcödé ✓ 数据"),
            ("a\nerror: forged", "a\\nerror: forged"),
            ("a\r\nb", "a\\r\\nb"),
            ("tab\there", "tab\\there"),
            ("\u{1b}[31mred\u{1b}[0m", "\\u{1b}[31mred\\u{1b}[0m"),
            ("nul\0byte", "nul\\0byte"),
            ("\u{7f}del", "\\u{7f}del"),
            ("\u{85}next", "\\u{85}next"),
            ("abc\u{202e}txt.exe", "abc\\u{202e}txt.exe"),
            ("zero\u{200b}width", "zero\\u{200b}width"),
            ("bom\u{feff}", "bom\\u{feff}"),
            ("line\u{2028}separator", "line\\u{2028}separator"),
            ("isolate\u{2066}x\u{2069}", "isolate\\u{2066}x\\u{2069}"),
            ("back\\slash", "back\\\\slash"),
            ("already \\n escaped", "already \\\\n escaped"),
        ] {
            assert_eq!(escaped(text), shown, "{text:?}");
            assert!(!escaped(text).contains('\n'));
            let hidden = text != escaped(text).replace("\\\\", "\\");
            assert_eq!(has_hidden_characters(text), hidden, "{text:?}");
        }
    }

    #[test]
    fn an_escaped_text_cannot_make_a_line_of_its_own() {
        for code in 0..=0x3000u32 {
            let Some(character) = char::from_u32(code) else {
                continue;
            };
            let shown = escaped(&format!("x{character}error: y"));
            assert_eq!(shown.lines().count(), 1, "{code:#x}: {shown:?}");
            assert!(!shown.chars().any(char::is_control), "{code:#x}");
        }
    }

    #[test]
    fn shell_quote_leaves_plain_words_and_quotes_the_rest() {
        for (value, quoted) in [
            (
                "20261122T024635Z-before-upgrade",
                "20261122T024635Z-before-upgrade",
            ),
            ("devctl-t-shop_1", "devctl-t-shop_1"),
            ("/var/backups/shop", "/var/backups/shop"),
            ("", "''"),
            ("two words", "'two words'"),
            ("it's", r"'it'\''s'"),
            ("$(rm -rf ~)", "'$(rm -rf ~)'"),
            ("a;b", "'a;b'"),
            ("`x`", "'`x`'"),
            ("a\nb", "'a\nb'"),
            ("*", "'*'"),
            ("~", "'~'"),
            ("-V", "-V"),
            ("--confirm", "--confirm"),
            ("=x", "'=x'"),
            ("back\\slash", "'back\\slash'"),
            ("'", r"''\'''"),
            ("ü", "'ü'"),
        ] {
            assert_eq!(shell_quote(value), quoted, "{value:?}");
        }
    }
}
