//! How a warning names people: by their key in `people` and their forge
//! login (`github`, `gitlab` or `gitea`), so that they recognise
//! themselves and, on GitHub, are notified by an @-mention.

use crate::forge::ForgeKind;
use crate::model::{Directory, Policy};
use crate::prune::summary::single_line;
use crate::prune::window::EndingGrant;

pub struct Naming<'a> {
    policy: &'a Policy,
    directory: &'a Directory,
    forge: ForgeKind,
}

impl<'a> Naming<'a> {
    pub fn new(policy: &'a Policy, directory: &'a Directory, forge: ForgeKind) -> Self {
        Self {
            policy,
            directory,
            forge,
        }
    }

    /// The person's login on the forge, when `people` has one.
    pub fn login(&self, person: &str) -> Option<&'a str> {
        let key = self.directory.person(person)?;
        self.forge.login_of(self.policy.people.get(key)?)
    }

    /// `alex@example.com (alex-gh)`, or the name alone when no login is
    /// known (and for `group:` subjects), on one line.
    pub fn label(&self, name: &str) -> String {
        let name = single_line(name);
        match self.login(&name) {
            Some(login) => format!("{name} ({})", single_line(login)),
            None => name,
        }
    }

    /// `@alex-gh`, for a GitHub login of a valid form only: a login is at
    /// most 39 letters, digits and inner hyphens
    /// (https://github.com/join), so a policy value cannot mention a team
    /// (`@org/team`) or smuggle text into the comment.
    pub fn mention(&self, person: &str) -> Option<String> {
        let login = self.login(person)?;
        let valid = (1..=39).contains(&login.len())
            && login.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !login.starts_with('-')
            && !login.ends_with('-');
        valid.then(|| format!("@{login}"))
    }

    /// The people a warning about `grant` is for: its subject and approvers.
    pub fn people_of<'g>(&self, grant: &'g EndingGrant) -> impl Iterator<Item = &'g str> {
        grant
            .subject_person
            .iter()
            .chain(&grant.approver_people)
            .map(String::as_str)
    }

    /// "alex@example.com (alex-gh)" for the subject; approvers likewise,
    /// joined, or "none".
    pub fn subject(&self, grant: &EndingGrant) -> String {
        self.label(&grant.summary.subject)
    }

    pub fn approvers(&self, grant: &EndingGrant) -> String {
        if grant.summary.approvers.is_empty() {
            return "none".to_owned();
        }
        grant
            .summary
            .approvers
            .iter()
            .map(|approver| self.label(approver))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
