//! Who made a commit and when: the author, the co-authors its message
//! credits, and the committer time (the moment the change landed).

use chrono::{DateTime, Utc};
use git2::{Commit, Oid};

use crate::model::Directory;

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
}

impl CommitStamp {
    pub fn read(commit: &Commit, directory: &Directory) -> Self {
        let author = String::from_utf8_lossy(commit.author().email_bytes()).into_owned();
        let message = String::from_utf8_lossy(commit.message_bytes());
        let mut people = vec![directory.resolve(&author)];
        for co_author in co_authors(&message) {
            let person = directory.resolve(co_author);
            if !people.contains(&person) {
                people.push(person);
            }
        }
        Self {
            id: commit.id(),
            time: commit_time(commit),
            author,
            people,
        }
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
    DateTime::from_timestamp(commit.committer().when().seconds(), 0).unwrap_or_default()
}

/// E-mails credited by `Co-authored-by: Name <email>` lines. GitHub matches
/// the trailer key case-insensitively
/// (https://docs.github.com/en/pull-requests/committing-changes-to-your-project/creating-and-editing-commits/creating-a-commit-with-multiple-authors),
/// so lapse does too, and reads it anywhere in the message: a trailer
/// hidden above the last paragraph still names a co-author.
pub fn co_authors(message: &str) -> impl Iterator<Item = &str> {
    const KEY: &str = "co-authored-by:";
    message.lines().filter_map(|line| {
        let line = line.trim();
        let head = line.get(..KEY.len())?;
        if !head.eq_ignore_ascii_case(KEY) {
            return None;
        }
        let value = &line[KEY.len()..];
        let email = match (value.find('<'), value.rfind('>')) {
            (Some(open), Some(close)) if open < close => &value[open + 1..close],
            _ => value,
        };
        let email = email.trim();
        (!email.is_empty()).then_some(email)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_co_author_trailers_in_any_case() {
        let message = "Extend grant\n\nCo-authored-by: Maria <Maria@Example.com>\nco-authored-by:li@example.com\nCO-AUTHORED-BY: Nobody <>\nSigned-off-by: X <x@example.com>\n";
        let found: Vec<_> = co_authors(message).collect();
        assert_eq!(found, ["Maria@Example.com", "li@example.com"]);
    }
}
