//! Who is who. Approval rules are only as strong as identity comparison:
//! `Maria@Example.com`, `maria@example.com` and an alias such as
//! `maria@users.noreply.github.com` must all be the same person, or one
//! person could approve their own grant under a second spelling.

use std::collections::HashMap;

use super::policy::Policy;

/// An identity normalised for comparison: trimmed and lower-cased with full
/// Unicode case folding (`str::to_lowercase`), and a GitHub noreply address
/// in its one form per account.
pub fn fold_identity(raw: &str) -> String {
    let folded = raw.trim().to_lowercase();
    match without_github_noreply_id(&folded) {
        Some(login_address) => login_address,
        None => folded,
    }
}

/// GitHub's private commit e-mail for one account comes in two forms,
/// `ID+login@users.noreply.github.com` and the older
/// `login@users.noreply.github.com`, and GitHub switches an account to the
/// first when its "Keep my email address private" setting is chosen again
/// (https://docs.github.com/en/account-and-profile/setting-up-and-managing-your-personal-account-on-github/managing-email-preferences/setting-your-commit-email-address#about-no-reply-email-addresses).
/// Both are one identity: the listed alias must match either, or a
/// person's own commit would not count as theirs. The numeric ID is
/// dropped only on this domain; elsewhere `+` is a mailbox of its own.
fn without_github_noreply_id(folded: &str) -> Option<String> {
    const DOMAIN: &str = "@users.noreply.github.com";
    let local = folded.strip_suffix(DOMAIN)?;
    let (id, login) = local.split_once('+')?;
    let numeric = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
    (numeric && !login.is_empty()).then(|| format!("{login}{DOMAIN}"))
}

/// Whether `fold_identity` leaves `raw` as it is: ASCII without upper case
/// or surrounding white space, and no GitHub noreply address (which may
/// carry an ID to drop).
fn is_folded(raw: &str) -> bool {
    raw.is_ascii()
        && !raw.bytes().any(|byte| byte.is_ascii_uppercase())
        && raw.trim() == raw
        && !raw.ends_with("@users.noreply.github.com")
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
        // Identities are mostly written folded already; looking those up as
        // they are spares a string per lookup, and an audit looks up every
        // approver of every version of every grant (3% of its time).
        let found = if is_folded(identity) {
            self.canonical.get(identity)
        } else {
            self.canonical.get(&fold_identity(identity))
        };
        found.map(String::as_str)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_numbered_github_noreply_address_folds_to_the_login_form() {
        assert_eq!(
            fold_identity(" 12345678+Maria@Users.Noreply.GitHub.com "),
            "maria@users.noreply.github.com"
        );
        assert_eq!(
            fold_identity("maria@users.noreply.github.com"),
            "maria@users.noreply.github.com"
        );
    }

    #[test]
    fn what_is_taken_as_folded_folds_to_itself() {
        for raw in [
            "maria@example.com",
            "Maria@example.com",
            " maria@example.com",
            "maria@example.com\t",
            "maria@example.com\x0b",
            "1+2+maria@users.noreply.github.com",
            "maria@users.noreply.github.com",
            "ma\u{130}ria@example.com",
            "group:payments-leads",
        ] {
            if is_folded(raw) {
                assert_eq!(fold_identity(raw), raw, "{raw:?}");
            }
        }
        assert!(is_folded("maria@example.com"));
        assert!(!is_folded("1+2+maria@users.noreply.github.com"));
    }

    #[test]
    fn other_plus_addresses_and_non_numeric_prefixes_are_left_alone() {
        for raw in [
            "12345+maria@example.com",
            "x1+maria@users.noreply.github.com",
            "+maria@users.noreply.github.com",
            "12345+@users.noreply.github.com",
            "12345+maria@users.noreply.github.com.evil.example",
        ] {
            assert_eq!(fold_identity(raw), raw, "{raw}");
        }
    }
}
