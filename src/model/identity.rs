//! Who is who. Approval rules are only as strong as identity comparison:
//! `Maria@Example.com`, `maria@example.com` and an alias such as
//! `maria@users.noreply.github.com` must all be the same person, or one
//! person could approve their own grant under a second spelling.

use std::collections::HashMap;

use super::policy::Policy;

/// An identity normalised for comparison: trimmed and lower-cased with full
/// Unicode case folding (`str::to_lowercase`).
pub fn fold_identity(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// Prefix of a subject or approver that names a group rather than a person.
pub const GROUP_PREFIX: &str = "group:";

/// Maps every spelling of a person (primary key and aliases, case-folded) to
/// the person's key in `lapse.yaml`.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    canonical: HashMap<String, String>,
}

impl Directory {
    pub fn new(policy: &Policy) -> Self {
        let mut canonical = HashMap::new();
        for (key, person) in &policy.people {
            canonical.insert(fold_identity(key), key.clone());
            for alias in &person.aliases {
                canonical.insert(fold_identity(alias), key.clone());
            }
        }
        Self { canonical }
    }

    /// The person's key in `lapse.yaml`, if the identity is known under any
    /// spelling.
    pub fn person(&self, identity: &str) -> Option<&str> {
        self.canonical
            .get(&fold_identity(identity))
            .map(String::as_str)
    }

    /// A comparable identity: the person's key when known, else the folded
    /// spelling, so unknown identities still compare case-insensitively.
    pub fn resolve(&self, identity: &str) -> String {
        self.person(identity)
            .map(str::to_owned)
            .unwrap_or_else(|| fold_identity(identity))
    }

    pub fn same_person(&self, a: &str, b: &str) -> bool {
        self.resolve(a) == self.resolve(b)
    }
}
