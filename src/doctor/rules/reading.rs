//! Small readers the rules share: fields of compose's JSON model, and what a name or an
//! image reference says (a secret's name, an unpinned image).

use serde_json::Value;

/// A string field of a compose object, or "".
pub(crate) fn text<'a>(value: &'a Value, field: &str) -> &'a str {
    value.get(field).and_then(Value::as_str).unwrap_or_default()
}

/// The items of a list field of a compose object (none when it is absent).
pub(crate) fn items<'a>(value: &'a Value, field: &str) -> impl Iterator<Item = &'a Value> {
    value
        .get(field)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// The entries of a map field of a compose object (none when it is absent).
pub(crate) fn entries<'a>(
    value: &'a Value,
    field: &str,
) -> impl Iterator<Item = (&'a String, &'a Value)> {
    value
        .get(field)
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
}

/// Whether a variable's name says it holds a secret (not a setting about one, nor where one
/// is).
pub(crate) fn is_secret_name(name: &str) -> bool {
    let upper = name.to_uppercase();
    let hints = [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
        "ACCESS_KEY",
        "CREDENTIAL",
    ];
    let pointer = ["_FILE", "_PATH", "_DIR", "_URL", "_HOST", "_USER", "_NAME"];
    // Settings about a secret, not the secret: ALLOW_EMPTY_PASSWORD, PASSWORD_MIN_LENGTH, …
    let about = [
        "ALLOW", "RANDOM", "LENGTH", "MIN_", "_MIN", "MAX_", "_MAX", "EXPIR", "POLICY", "ROTATION",
    ];
    hints.iter().any(|hint| upper.contains(hint))
        && !pointer.iter().any(|suffix| upper.ends_with(suffix))
        && !about.iter().any(|part| upper.contains(part))
}

/// Untagged or `latest`, not pinned by digest.
pub(crate) fn is_unpinned(image: &str) -> bool {
    if image.contains('@') || image.contains('$') {
        return false;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => true,
        Some((_, tag)) => tag == "latest",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for secret in [
            "DB_PASSWORD",
            "api_key",
            "GITHUB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
        ] {
            assert!(is_secret_name(secret), "{secret}");
        }
        for setting in [
            "DB_PASSWORD_FILE",
            "TOKEN_URL",
            "MYSQL_ALLOW_EMPTY_PASSWORD",
            "PASSWORD_MIN_LENGTH",
            "TOKEN_EXPIRY",
            "DATABASE_HOST",
        ] {
            assert!(!is_secret_name(setting), "{setting}");
        }
    }

    #[test]
    fn pinned_images() {
        for unpinned in [
            "nginx",
            "nginx:latest",
            "registry:5000/team/app",
            "a/b:latest",
        ] {
            assert!(is_unpinned(unpinned), "{unpinned}");
        }
        for pinned in [
            "nginx:1.27",
            "registry:5000/team/app:2",
            "nginx@sha256:0123",
            "${IMAGE}",
        ] {
            assert!(!is_unpinned(pinned), "{pinned}");
        }
    }
}
