//! `lapse.yaml` as a tree of nodes that know their byte positions, read by
//! the same strict parser as the policy (serde-saphyr, bounded): what an
//! edit needs to change the text at the right place and nowhere else.
//!
//! serde-saphyr reports, for each value, the span of its scalar (quotes
//! included), of the `[` or `{` that opens a flow collection, or the
//! empty span at the first item of a block collection; and where an alias
//! was used, the alias's place and the anchored value's place differ.

use std::ops::Range;
use std::path::Path;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::diagnostic::Diagnostic;
use crate::load::yaml::parse_strict;

/// A node and where it was written.
#[derive(Debug, Clone)]
pub struct Located {
    pub node: Node,
    /// Byte range of the node as serde-saphyr reports it (see the module).
    pub span: Range<usize>,
    pub line: u64,
    /// Whether the node was written through an alias (`*name`): its text
    /// lives elsewhere, and editing either place would change both.
    pub aliased: bool,
}

#[derive(Debug, Clone)]
pub enum Node {
    /// A scalar's value as text (numbers and booleans included); `None` for null.
    Scalar(Option<String>),
    Sequence(Vec<Located>),
    Mapping(Vec<(Located, Located)>),
}

impl Located {
    /// The value of `key` in this mapping, with the key.
    pub fn entry(&self, key: &str) -> Option<(&Located, &Located)> {
        match &self.node {
            Node::Mapping(entries) => entries
                .iter()
                .find(|(k, _)| k.scalar() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Located> {
        self.entry(key).map(|(_, value)| value)
    }

    pub fn scalar(&self) -> Option<&str> {
        match &self.node {
            Node::Scalar(text) => text.as_deref(),
            _ => None,
        }
    }

    /// Every node of the subtree, this one first.
    pub fn walk(&self) -> Vec<&Located> {
        let mut nodes = vec![self];
        let mut index = 0;
        while let Some(node) = nodes.get(index).copied() {
            match &node.node {
                Node::Scalar(_) => {}
                Node::Sequence(items) => nodes.extend(items),
                Node::Mapping(entries) => nodes.extend(entries.iter().flat_map(|(k, v)| [k, v])),
            }
            index += 1;
        }
        nodes
    }
}

/// Parses `text` (`lapse.yaml`) into a tree.
pub fn parse(text: &str) -> Result<Located, Diagnostic> {
    let spanned: serde_saphyr::Spanned<Node> = parse_strict(Path::new("lapse.yaml"), text)?;
    Ok(located(spanned))
}

fn located(spanned: serde_saphyr::Spanned<Node>) -> Located {
    let span = spanned.referenced.span();
    let start = span.byte_offset().unwrap_or(0) as usize;
    let len = span.byte_len().unwrap_or(0) as usize;
    let aliased = spanned.referenced.span() != spanned.defined.span();
    Located {
        node: spanned.value,
        span: start..start + len,
        line: spanned.referenced.line(),
        aliased,
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Node, E> {
        Ok(Node::Scalar(Some(value.to_owned())))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Node, E> {
        Ok(Node::Scalar(Some(value.to_string())))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Node, E> {
        Ok(Node::Scalar(Some(value.to_string())))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Node, E> {
        Ok(Node::Scalar(Some(value.to_string())))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Node, E> {
        Ok(Node::Scalar(Some(value.to_string())))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar(None))
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar(None))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<serde_saphyr::Spanned<Node>>()? {
            items.push(located(item));
        }
        Ok(Node::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) =
            map.next_entry::<serde_saphyr::Spanned<Node>, serde_saphyr::Spanned<Node>>()?
        {
            entries.push((located(key), located(value)));
        }
        Ok(Node::Mapping(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_keys_and_collections_know_their_bytes() {
        let text = "people:\n  'alex@x':\n    aws: arn\n  sam@x: {}\ngroups:\n  g: [alex@x, \"sam@x\"]\n  h:\n    - alex@x\n";
        let root = parse(text).unwrap();
        let people = root.get("people").unwrap();
        let (key, alex) = people.entry("alex@x").unwrap();
        assert_eq!(&text[key.span.clone()], "'alex@x'");
        assert_eq!(
            alex.span.len(),
            0,
            "a block mapping starts at its first key"
        );
        assert_eq!(&text[alex.span.start..alex.span.start + 3], "aws");
        assert_eq!(&text[people.get("sam@x").unwrap().span.clone()], "{");
        let Node::Sequence(members) = &root.get("groups").unwrap().get("g").unwrap().node else {
            panic!("a sequence")
        };
        assert_eq!(&text[members[1].span.clone()], "\"sam@x\"");
        let Node::Sequence(block) = &root.get("groups").unwrap().get("h").unwrap().node else {
            panic!("a sequence")
        };
        assert_eq!(&text[block[0].span.clone()], "alex@x");
    }

    #[test]
    fn aliases_are_marked() {
        let text = "groups:\n  g: &m [a@x]\n  h: *m\n";
        let root = parse(text).unwrap();
        let groups = root.get("groups").unwrap();
        assert!(!groups.get("g").unwrap().aliased);
        assert!(groups.get("h").unwrap().aliased);
    }
}
