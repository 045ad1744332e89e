//! Small readers the rules share: fields of compose's JSON model, and what an image
//! reference says (an unpinned image). Whether a name is a secret's is
//! `compose::secrets::is_secret_name`.

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
