//! `YamlPositions`: where each key and list item of a YAML file stands (line and column), so
//! that a finding about `services.app.ports[0]` can point at `compose.yaml:12:9`.
//!
//! The file is read with serde-saphyr into a tree of `Spanned` nodes; every map key and
//! sequence item is recorded under its path. A path that is not in the file (compose's
//! resolved model normalises some forms) is answered with its nearest recorded ancestor.

use std::collections::HashMap;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A line and a column, both counted from 1.
pub type Position = (u64, u64);

#[derive(Debug, Clone, Default)]
pub struct YamlPositions {
    positions: HashMap<Vec<String>, Position>,
}

impl YamlPositions {
    /// Reads `text`; a file that is not YAML gives no positions (compose reports it itself).
    pub fn parse(text: &str) -> YamlPositions {
        let mut positions = HashMap::new();
        if let Ok(root) = crate::compose::yaml::from_str::<Node>(text) {
            record(&root, &mut Vec::new(), &mut positions);
        }
        YamlPositions { positions }
    }

    /// The position of `path` (`["services", "app", "ports", "0"]`), or of its nearest
    /// ancestor in the file, with how many of its parts matched.
    pub fn locate(&self, path: &[&str]) -> Option<(Position, usize)> {
        (1..=path.len()).rev().find_map(|length| {
            let key: Vec<String> = path[..length].iter().map(|part| part.to_string()).collect();
            self.positions.get(&key).map(|position| (*position, length))
        })
    }

    /// Whether the file has `path` exactly.
    pub fn has(&self, path: &[&str]) -> bool {
        self.locate(path)
            .is_some_and(|(_, matched)| matched == path.len())
    }
}

fn record(node: &Node, path: &mut Vec<String>, positions: &mut HashMap<Vec<String>, Position>) {
    match &node.value {
        Kind::Map(entries) => {
            for (key, value) in entries {
                path.push(key.value.clone());
                positions.insert(
                    path.clone(),
                    (key.referenced.line(), key.referenced.column()),
                );
                record(value, path, positions);
                path.pop();
            }
        }
        Kind::Sequence(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(index.to_string());
                positions.insert(
                    path.clone(),
                    (item.referenced.line(), item.referenced.column()),
                );
                record(item, path, positions);
                path.pop();
            }
        }
        Kind::Scalar => {}
    }
}

type Node = Spanned<Kind>;

/// A YAML node, keeping only the structure positions need.
#[derive(Debug)]
enum Kind {
    Map(Vec<(Spanned<String>, Node)>),
    Sequence(Vec<Node>),
    Scalar,
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Kind, D::Error> {
        deserializer.deserialize_any(KindVisitor)
    }
}

struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = Kind;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a YAML value")
    }

    fn visit_str<E>(self, _: &str) -> Result<Kind, E> {
        Ok(Kind::Scalar)
    }

    fn visit_string<E>(self, _: String) -> Result<Kind, E> {
        Ok(Kind::Scalar)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Kind, E> {
        Ok(Kind::Scalar)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Kind, E> {
        Ok(Kind::Scalar)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Kind, E> {
        Ok(Kind::Scalar)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Kind, E> {
        Ok(Kind::Scalar)
    }

    fn visit_unit<E>(self) -> Result<Kind, E> {
        Ok(Kind::Scalar)
    }

    fn visit_none<E>(self) -> Result<Kind, E> {
        Ok(Kind::Scalar)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<Kind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = sequence.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Kind::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(Kind::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_items_have_their_lines() {
        let text = "name: shop\nservices:\n  app:\n    image: nginx\n    ports:\n      - \"8080:80\"\n      - 9090:90\n    environment:\n      PASSWORD: hunter2\n";
        let positions = YamlPositions::parse(text);
        assert_eq!(positions.locate(&["services", "app"]), Some(((3, 3), 2)));
        assert_eq!(
            positions.locate(&["services", "app", "ports", "1"]),
            Some(((7, 9), 4))
        );
        assert_eq!(
            positions
                .locate(&["services", "app", "environment", "PASSWORD"])
                .map(|(p, _)| p.0),
            Some(9)
        );
        // Not in the file: its nearest ancestor.
        assert_eq!(
            positions.locate(&["services", "app", "healthcheck"]),
            Some(((3, 3), 2))
        );
        assert!(positions.has(&["name"]));
        assert!(!positions.has(&["version"]));
        assert!(YamlPositions::parse(": : bad").locate(&["x"]).is_none());
    }
}
