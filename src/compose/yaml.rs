//! How devctl reads a compose file's YAML itself (to follow includes, to locate findings,
//! to read the file as written): serde-saphyr within a budget, so that a file whose anchors
//! expand without end (`&b [*a, *a, …]` nested) is refused after a bounded amount of work
//! rather than expanded for seconds on every read. Compose reads the file on its own terms.

use serde::Deserialize;

/// The most nodes (scalars, sequences and mappings, each alias's expansion counted) a
/// compose file may hold when devctl reads it: far above a real project (a file of 300
/// services holds a few thousand), far below what serde-saphyr allows by default (250,000).
const MAX_NODES: usize = 50_000;

/// `text` as YAML, into `T`, within the budget.
pub(crate) fn from_str<'de, T: Deserialize<'de>>(text: &'de str) -> Result<T, serde_saphyr::Error> {
    let mut budget = serde_saphyr::budget::Budget::default();
    budget.max_nodes = MAX_NODES;
    // The node budget bounds the work; many services sharing one anchor (`<<: *common`)
    // are no attack.
    budget.enforce_alias_anchor_ratio = false;
    serde_saphyr::from_str_with_options(text, serde_saphyr::options! { budget: Some(budget), })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// Nine anchors of nine aliases each: 9^9 scalars once expanded.
    fn laughs() -> String {
        let mut text = String::from("x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        let letters = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for pair in letters.windows(2) {
            let aliases = vec![format!("*{}", pair[0]); 9].join(", ");
            text.push_str(&format!("x-{}: &{} [{aliases}]\n", pair[1], pair[1]));
        }
        text.push_str("services:\n  app:\n    image: alpine:3.20\n    labels: {bomb: *i}\n");
        text
    }

    #[test]
    fn anchors_that_expand_without_end_stop_at_the_budget() {
        let error = from_str::<Value>(&laughs()).unwrap_err().to_string();
        assert!(
            error.contains(&format!("nodes: {}", MAX_NODES + 1)),
            "{error}"
        );
    }

    /// A thousand services merging one anchor: serde-saphyr's default budget refuses more
    /// than ten aliases per anchor.
    #[test]
    fn a_large_real_file_is_read_whole() {
        let mut text = String::from("x-common: &common {restart: always, init: true}\nservices:\n");
        for service in 0..1_000 {
            text.push_str(&format!(
                "  s{service}:\n    <<: *common\n    image: alpine:3.20\n    ports: ['127.0.0.1:{}:80']\n    environment: {{A: '1', B: '2'}}\n    depends_on: [s0]\n",
                20_000 + service
            ));
        }
        let parsed: Value = from_str(&text).unwrap();
        assert_eq!(parsed["services"].as_object().unwrap().len(), 1_000);
    }
}
