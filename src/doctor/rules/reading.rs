//! Small readers the rules share: fields of compose's JSON model, and what an image
//! reference says (an unpinned image). Whether a name is a secret's is
//! `compose::secrets::is_secret_name`.

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
