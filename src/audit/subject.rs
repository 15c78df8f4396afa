//! Whom an auditor asks about (`--subject`): a person under any spelling,
//! and through the groups they belonged to at the time. A grant to
//! `group:payments-leads` gave Maria access while the policy of the day
//! listed her in that group, whatever the group holds now.

use chrono::{DateTime, Utc};

use crate::model::identity::GROUP_PREFIX;
use crate::model::{Directory, Policy};

/// A `--subject` as asked.
#[derive(Debug, Clone)]
pub struct SubjectQuery {
    asked: String,
    /// Every spelling this run's policy knows for the person (key and
    /// aliases), so that a policy of the day that knew them under an
    /// older spelling still finds them.
    spellings: Vec<String>,
    /// The person as this run's policy resolves them.
    now: String,
}

impl SubjectQuery {
    pub fn new(asked: &str, policy: &Policy, directory: &Directory) -> Self {
        let mut spellings = vec![asked.to_owned()];
        if let Some(key) = directory.person(asked)
            && let Some(person) = policy.people.get(key)
        {
            spellings.push(key.to_owned());
            spellings.extend(person.aliases.iter().map(|alias| alias.value.clone()));
        }
        Self {
            asked: asked.to_owned(),
            spellings,
            now: directory.resolve(asked),
        }
    }

    /// Whether a grant to `subject` gave the person access under `then`,
    /// the policy in force at the time (`then_directory` its identities):
    /// the subject is the person under a spelling either policy knows, or
    /// a group of `then` that listed them. Asking for `group:<name>` finds
    /// the grants to that group.
    pub fn matches(
        &self,
        subject: &str,
        then: &Policy,
        then_directory: &Directory,
        now_directory: &Directory,
    ) -> bool {
        if self.asked.starts_with(GROUP_PREFIX) {
            return subject.trim() == self.asked.trim();
        }
        let is_person = |identity: &str| {
            now_directory.resolve(identity) == self.now
                || self
                    .spellings
                    .iter()
                    .any(|spelling| then_directory.same_person(spelling, identity))
        };
        then.names_behind(subject).any(is_person)
    }

    /// [`Self::matches`] at the instant `at`: through a group, only while
    /// the person's contract (in `then`) had not ended, since a member's
    /// access ends with their contract (render leaves them out after it).
    pub fn matches_at(
        &self,
        subject: &str,
        then: &Policy,
        then_directory: &Directory,
        now_directory: &Directory,
        at: DateTime<Utc>,
    ) -> bool {
        if !self.matches(subject, then, then_directory, now_directory) {
            return false;
        }
        if self.asked.starts_with(GROUP_PREFIX) || !subject.starts_with(GROUP_PREFIX) {
            return true;
        }
        let ended = then_directory
            .person(&self.asked)
            .or_else(|| then_directory.person(&self.now))
            .and_then(|key| then.people.get(key))
            .and_then(|person| person.contract_ends_at())
            .is_some_and(|ends| ends <= at);
        !ended
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::load::parse_policy;

    fn policy(text: &str) -> (Policy, Directory) {
        let policy = parse_policy(Path::new("lapse.yaml"), text).unwrap();
        let directory = Directory::new(&policy);
        (policy, directory)
    }

    #[test]
    fn a_person_is_found_under_old_spellings_and_through_groups_of_the_day() {
        let (then, then_dir) = policy(
            "version: 1\npeople:\n  maria@old.example: {}\n  li@example.com: {}\ngroups:\n  leads: [maria@old.example]\n",
        );
        let (now, now_dir) = policy(
            "version: 1\npeople:\n  maria@new.example:\n    aliases: [maria@old.example]\n  li@example.com: {}\ngroups:\n  leads: [li@example.com]\n",
        );
        let query = SubjectQuery::new("MARIA@new.example", &now, &now_dir);
        assert!(query.matches("maria@old.example", &then, &then_dir, &now_dir));
        assert!(query.matches("group:leads", &then, &then_dir, &now_dir));
        // Today's membership does not count for the past.
        assert!(!query.matches("group:leads", &now, &now_dir, &now_dir));
        assert!(!query.matches("li@example.com", &then, &then_dir, &now_dir));
        let group = SubjectQuery::new("group:leads", &now, &now_dir);
        assert!(group.matches("group:leads", &then, &then_dir, &now_dir));
        assert!(!group.matches("maria@old.example", &then, &then_dir, &now_dir));
    }
}
