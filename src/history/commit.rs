//! Who made a commit and when: the author, the co-authors its message
//! credits, and the committer time (the moment the change landed).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use git2::{Commit, Oid};

use crate::model::Directory;

use super::object::CommitObject;

/// The facts about one commit that the rules and `lapse who` report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitStamp {
    pub id: Oid,
    /// Committer time: when the change was recorded on its branch, which for
    /// a rebased or cherry-picked commit is later than the author time.
    pub time: DateTime<Utc>,
    /// The author's e-mail as written in the commit.
    pub author: String,
    /// Author and co-authors, resolved through the directory (aliases, case
    /// folding), author first.
    pub people: Vec<String>,
    /// Whether the message carries the `Lapse-Approves: policy` trailer:
    /// an owner's approval of the policy as this commit has it.
    pub approves_policy: bool,
    /// Whether its header carries a `gpgsig` line: a commit without one is
    /// unsigned, and its signature need not be read. (The header is read
    /// as libgit2 keeps it, up to a NUL byte, which can only hide a
    /// signature, and a hidden signature is no signature.)
    pub signed: bool,
    /// The commit object's bytes, kept for a signed commit when the run
    /// checks signatures, so that its check need not read it again.
    pub object: Option<Arc<[u8]>>,
}

impl CommitStamp {
    pub fn read(commit: &CommitObject, directory: &Directory) -> Self {
        let author = String::from_utf8_lossy(commit.author_email()).into_owned();
        let message = String::from_utf8_lossy(commit.message());
        let mut people = vec![directory.resolve(&author)];
        for co_author in co_authors(&message) {
            let person = directory.resolve(&co_author);
            if !people.contains(&person) {
                people.push(person);
            }
        }
        Self {
            id: commit.id,
            time: commit.time(),
            author,
            people,
            approves_policy: approves_policy(&message),
            signed: memchr::memmem::find(commit.raw_header(), b"\ngpgsig ").is_some(),
            object: None,
        }
    }

    /// As `read`, keeping the bytes of a signed commit for its signature
    /// check (reading each signed commit again after the walk was a twelfth
    /// of a signed audit's time).
    pub fn read_keeping_signed(commit: &CommitObject, directory: &Directory) -> Self {
        let mut stamp = Self::read(commit, directory);
        if stamp.signed {
            stamp.object = Some(Arc::clone(commit.bytes()));
        }
        stamp
    }

    /// The abbreviated id people paste into `git show`.
    pub fn short_id(&self) -> String {
        let mut id = self.id.to_string();
        id.truncate(12);
        id
    }

    pub fn is_by(&self, person: &str) -> bool {
        self.people.iter().any(|p| p == person)
    }
}

/// The committer time: when the change was recorded on its branch.
pub fn commit_time(commit: &Commit) -> DateTime<Utc> {
    super::object::time_of(commit.committer().when().seconds())
}

/// E-mails credited by `Co-authored-by:` trailers, read with git's own
/// trailer grammar (`git interpret-trailers`,
/// https://git-scm.com/docs/git-interpret-trailers, and git's trailer.c):
/// the key in any case (git and GitHub both match it case-insensitively,
/// https://docs.github.com/en/pull-requests/committing-changes-to-your-project/creating-and-editing-commits/creating-a-commit-with-multiple-authors),
/// any spaces or tabs between the key and the colon, and a value folded
/// over the lines after it that start with whitespace. Git reads trailers
/// only in the message's last paragraph; lapse reads them on every line,
/// indented or not, so a trailer hidden above the last paragraph still
/// names a co-author: crediting too many people can only make a
/// self-approval finding stricter, too few would let one pass.
pub fn co_authors(message: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut lines = message.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(first) = co_author_value(line) else {
            continue;
        };
        let mut value = first.to_owned();
        while let Some(folded) = lines.next_if(|next| is_continuation(next)) {
            value.push(' ');
            value.push_str(folded.trim());
        }
        push_addresses(&value, &mut found);
    }
    found
}

/// The trailer key by which an owner approves a policy change.
pub const POLICY_APPROVAL_TRAILER: &str = "Lapse-Approves: policy";

/// Whether `message` has a `Lapse-Approves: policy` trailer, read like
/// `Co-authored-by` (key in any case, spaces before the colon, any line).
pub fn approves_policy(message: &str) -> bool {
    message.lines().any(|line| {
        trailer_value(line, "lapse-approves")
            .is_some_and(|value| value.trim().eq_ignore_ascii_case("policy"))
    })
}

/// The value of a `Co-authored-by` trailer line.
fn co_author_value(line: &str) -> Option<&str> {
    trailer_value(line, "co-authored-by")
}

/// The value of a trailer line with `key` (lower case): the key in any
/// case, then spaces or tabs, then git's default separator `:`.
fn trailer_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let line = line.trim_start();
    if !line.get(..key.len())?.eq_ignore_ascii_case(key) {
        return None;
    }
    line[key.len()..]
        .trim_start_matches([' ', '\t'])
        .strip_prefix(':')
}

/// git folds a trailer's value over the next lines that start with
/// whitespace (C `isspace`), like RFC 822 headers; a blank line ends the
/// paragraph, and with it the trailer.
fn is_continuation(line: &str) -> bool {
    line.starts_with([' ', '\t', '\x0b', '\x0c', '\r']) && !line.trim().is_empty()
}

/// Every `<address>` in the value (`Name <a@x>`, and more than one if a
/// commit lists several on one line); a value without brackets is taken
/// as bare addresses, one per word.
fn push_addresses(value: &str, found: &mut Vec<String>) {
    let mut rest = value;
    let mut bracketed = false;
    while let Some((_, after)) = rest.split_once('<') {
        let Some((address, tail)) = after.split_once('>') else {
            break;
        };
        bracketed = true;
        push_nonempty(address, found);
        rest = tail;
    }
    if !bracketed {
        for word in value.split_whitespace() {
            push_nonempty(word.trim_matches(['<', '>', ',', ';']), found);
        }
    }
}

fn push_nonempty(address: &str, found: &mut Vec<String>) {
    let address = address.trim();
    if !address.is_empty() {
        found.push(address.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_co_author_trailers_in_any_case() {
        let message = "Extend grant\n\nCo-authored-by: Maria <Maria@Example.com>\nco-authored-by:li@example.com\nCO-AUTHORED-BY: Nobody <>\nSigned-off-by: X <x@example.com>\n";
        assert_eq!(co_authors(message), ["Maria@Example.com", "li@example.com"]);
    }

    #[test]
    fn reads_spacing_before_the_colon_and_folded_values_as_git_does() {
        let message = "Extend grant\n\nCo-authored-by\t : Maria\n   <maria@example.com>\nCo-authored-by: A <a@example.com>, B <b@example.com>\n";
        assert_eq!(
            co_authors(message),
            ["maria@example.com", "a@example.com", "b@example.com"]
        );
    }

    #[test]
    fn reads_trailers_above_the_last_paragraph_and_indented_ones() {
        let message = "Extend grant\n\n  Co-authored-by: <li@example.com>\n\nMore text\n";
        assert_eq!(co_authors(message), ["li@example.com"]);
    }

    #[test]
    fn a_blank_line_ends_a_folded_value() {
        let message = "T\n\nCo-authored-by: maria@example.com\n \n  indented@example.com\n";
        assert_eq!(co_authors(message), ["maria@example.com"]);
    }

    #[test]
    fn other_keys_that_start_alike_are_not_co_authors() {
        let message = "T\n\nCo-authored-by-bot: x@example.com\nCo-authored-byx: y@example.com\n";
        assert!(co_authors(message).is_empty());
    }
}
