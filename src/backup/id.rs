//! Backup ids: how they are made from the time and a label (`20261122T143005Z-before-upgrade`),
//! and the check that an id read from a manifest or a folder name is one devctl could have
//! made, so that it is safe to show, to join to a path and to put in a command line.

use std::time::SystemTime;

/// The longest label an id carries.
const LABEL_LENGTH: usize = 40;

/// `20261122T143005Z`: the UTC second of `time`.
pub fn format_time(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time)
        .to_string()
        .replace(['-', ':'], "")
}

/// The time at the start of an id, when it has one.
pub fn parse_time(id: &str) -> Option<SystemTime> {
    let stamp = id.get(..16).filter(|stamp| stamp.is_ascii())?;
    let bytes = stamp.as_bytes();
    if bytes[8] != b'T' || bytes[15] != b'Z' {
        return None;
    }
    if !stamp
        .bytes()
        .enumerate()
        .all(|(index, byte)| index == 8 || index == 15 || byte.is_ascii_digit())
    {
        return None;
    }
    let text = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &stamp[..4],
        &stamp[4..6],
        &stamp[6..8],
        &stamp[9..11],
        &stamp[11..13],
        &stamp[13..15]
    );
    humantime::parse_rfc3339(&text).ok()
}

pub fn truncate_to_second(time: SystemTime) -> SystemTime {
    let since = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(since.as_secs())
}

/// Lower-case letters, digits and dashes, at most 40 characters.
pub fn sanitize_label(label: &str) -> String {
    let mut sanitized: String = label
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    while sanitized.contains("--") {
        sanitized = sanitized.replace("--", "-");
    }
    sanitized
        .trim_matches('-')
        .chars()
        .take(LABEL_LENGTH)
        .collect()
}

/// Whether `id` has the shape of the ids devctl makes: the time stamp, then nothing or `-`
/// and a label of 1 to 40 lower-case ASCII letters, digits and dashes (not starting with a
/// dash, no two dashes in a row). Says what is wrong when it has not.
pub fn check(id: &str) -> Result<(), String> {
    if parse_time(id).is_none() {
        return Err("it does not start with a UTC time stamp `YYYYMMDDTHHMMSSZ`".into());
    }
    let Some(rest) = id.get(16..).filter(|rest| !rest.is_empty()) else {
        return Ok(());
    };
    let Some(label) = rest.strip_prefix('-') else {
        return Err("the time stamp is not followed by `-` and a label".into());
    };
    let well_formed = !label.is_empty()
        && label.len() <= LABEL_LENGTH
        && !label.starts_with('-')
        && !label.contains("--")
        && label
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
    if !well_formed {
        return Err(format!(
            "its label is not 1 to {LABEL_LENGTH} lower-case letters, digits and single dashes"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_devctl_makes_pass_the_check() {
        let now = format_time(SystemTime::now());
        check(&now).unwrap();
        for label in [
            "Before Upgrade!",
            "safety",
            "down -v",
            "compose down --volumes",
            "ünïcödé",
            "2024",
            &"x-".repeat(30),
            &"long".repeat(20),
        ] {
            let sanitized = sanitize_label(label);
            let id = if sanitized.is_empty() {
                now.clone()
            } else {
                format!("{now}-{sanitized}")
            };
            check(&id).unwrap_or_else(|why| panic!("{id}: {why}"));
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for id in [
            "",
            "latest",
            "..",
            "../20261122T143005Z",
            "/etc",
            "2026112T143005Z",
            "20261122X143005Z",
            "20261122T143005",
            "20261322T143005Z",
            "20261122T146005Z",
            "+0261122T143005Z",
            "２0261122T143005Z",
            "20261122T143005Z-",
            "20261122T143005Z_label",
            "20261122T143005Zlabel",
            "20261122T143005Z-Label",
            "20261122T143005Z--x",
            "20261122T143005Z-a--b",
            "20261122T143005Z-a/b",
            "20261122T143005Z-a b",
            "20261122T143005Z-a\nerror: forged",
            "20261122T143005Z-a\u{202e}b",
            "20261122T143005Z-ü",
            &format!("20261122T143005Z-{}", "x".repeat(41)),
        ] {
            assert!(check(id).is_err(), "{id:?} passed");
        }
        for id in [
            "20261122T143005Z",
            "20261122T143005Z-a",
            "20261122T143005Z-a-b-",
            "20261122T143005Z-0",
            &format!("20261122T143005Z-{}", "x".repeat(40)),
        ] {
            check(id).unwrap_or_else(|why| panic!("{id}: {why}"));
        }
    }

    #[test]
    fn times_round_trip() {
        let id = "20261122T143005Z-x";
        assert_eq!(parse_time(id).map(format_time).as_deref(), id.get(..16));
        assert!(parse_time("not-an-id").is_none());
        assert!(parse_time("abcéxyzT123456Z-x").is_none());
        assert!(parse_time("before-upgrade-20261122").is_none());
    }
}
