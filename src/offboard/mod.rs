//! `lapse offboard`: the commit that ends a person's access, made like
//! prune's (in the object database, from the base branch): at once, by
//! removing them from `lapse.yaml` (`people`, every group, role approvers,
//! owners) and removing every grant whose subject they are; or on a date
//! announced ahead, by setting their `contract_ends` (their grants end
//! with it, `model::lifecycle`).
//!
//! Offboarding never waits: the commit must pass `lapse check --base`, so
//! an edit that would make other grants fail it (the person was the last
//! approver of a role) is refused before anything is written, with the fix.

pub mod message;
pub mod policy_edit;
pub mod yaml_tree;

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use git2::Repository;

use crate::diagnostic::Diagnostic;
use crate::load::{self, POLICY_FILE};
use crate::model::identity::GROUP_PREFIX;
use crate::model::lifecycle::{GrantEnd, effective_end};
use crate::model::timestamp::format_timestamp;
use crate::model::{Directory, Grant, Policy};
use crate::prune::snapshot::{self, read_snapshot};
use crate::prune::{Base, PruneError, TreeEdit};
use crate::request::slugify;
use crate::rules::{self, CheckContext, Scope};

pub use policy_edit::{EditError, PolicyEdit};

#[derive(Debug, thiserror::Error)]
pub enum OffboardError {
    #[error(transparent)]
    Prune(#[from] PruneError),
    #[error(transparent)]
    Edit(#[from] EditError),
    #[error(
        "`{0}` is a group; lapse offboard takes a person: offboard each member, or remove the group from lapse.yaml by hand"
    )]
    Group(String),
    #[error(
        "`{name}` is not a person of lapse.yaml on {base} (neither a key of `people` nor an alias); check the spelling"
    )]
    UnknownPerson { name: String, base: String },
    #[error(
        "`{name}` is in the lapse.yaml of your working tree but not in {base}'s, where offboarding starts: there is nobody to offboard there yet; merge the change that adds them first, or pass --base a branch that has them"
    )]
    NotInBase { name: String, base: String },
    #[error("{0}; offboarding edits the base commit's lapse.yaml, so it must load")]
    BasePolicy(String),
    #[error("the edited lapse.yaml does not load ({0}); make the change by hand")]
    EditedPolicy(String),
    #[error(
        "offboarding {person} would make grants fail `lapse check`, so nothing was written ({findings}); name another approver for those roles in lapse.yaml first, or end {person}'s access with `lapse offboard {person} --at <now>`, which keeps them in lapse.yaml with their contract ended (their later approvals count for nothing)"
    )]
    WouldFail { person: String, findings: String },
}

/// What to do: at once, or at a date.
#[derive(Debug, Clone)]
pub struct Request {
    /// The person as given: their key in `people` or any alias.
    pub person: String,
    /// `--at`: end the contract then instead of removing them now.
    pub at: Option<DateTime<Utc>>,
}

/// What an offboarding would change, decided before anything is written.
#[derive(Debug)]
pub struct Offboarding {
    pub base: Base,
    /// Where the grants repository lies in the git work tree.
    pub prefix: PathBuf,
    /// The person's key in `people`.
    pub person: String,
    pub at: Option<DateTime<Utc>>,
    /// The new `lapse.yaml`; `None` when there is nothing to change (the
    /// contract already ends by `--at`).
    pub policy: Option<PolicyEdit>,
    /// The person's `contract_ends` before, when `--at` is given.
    pub contract_was: Option<DateTime<Utc>>,
    /// Grants removed (without `--at`): every grant whose subject is them.
    pub removed: Vec<(Grant, Option<GrantEnd>)>,
    /// Grants whose end moves to `--at`, with their end before.
    pub cut_short: Vec<(Grant, Option<GrantEnd>)>,
    pub has_generated: bool,
    /// Things to tell the person running it (an emptied `owners`).
    pub warnings: Vec<String>,
}

impl Offboarding {
    /// The branch a person's offboarding is written to by default:
    /// `lapse/offboard-<key as lower-case letters, digits and dashes>`.
    pub fn default_branch(person: &str) -> String {
        format!("lapse/offboard-{}", slugify(person))
    }

    /// The change to the base tree.
    pub fn edit(&self) -> TreeEdit {
        TreeEdit {
            prefix: self.prefix.clone(),
            remove: self.removed.iter().map(|(g, _)| g.path.clone()).collect(),
            write: self
                .policy
                .iter()
                .map(|edit| (PathBuf::from(POLICY_FILE), edit.text.clone()))
                .collect(),
        }
    }

    pub fn changes_anything(&self) -> bool {
        self.policy.is_some()
    }
}

/// Reads the base commit and works out the offboarding. `known_in_work_tree`
/// says whether the working tree's policy knows the name, for a better
/// message when the base does not.
pub fn plan(
    repo: &Repository,
    base: Base,
    prefix: PathBuf,
    request: &Request,
    now: DateTime<Utc>,
    known_in_work_tree: &dyn Fn(&str) -> bool,
) -> Result<Offboarding, OffboardError> {
    if request.person.starts_with(GROUP_PREFIX) {
        return Err(OffboardError::Group(request.person.clone()));
    }
    let tree = snapshot::grants_repository_tree(repo, &base.commit(repo)?, &prefix)?;
    let text = snapshot::policy_text(repo, &tree, Path::new(POLICY_FILE))?.ok_or_else(|| {
        OffboardError::BasePolicy(format!(
            "the base commit has no {POLICY_FILE} that lapse can read"
        ))
    })?;
    let policy = load::parse_policy(Path::new(POLICY_FILE), &text).map_err(|findings| {
        let first = findings
            .first()
            .map(Diagnostic::one_line)
            .unwrap_or_default();
        OffboardError::BasePolicy(format!(
            "the base commit's {POLICY_FILE} does not load: {first}"
        ))
    })?;
    let directory = Directory::new(&policy);
    let base_name = format!("{} ({})", base.source, short(&base));
    let Some(person) = directory.person(&request.person).map(str::to_owned) else {
        return Err(if known_in_work_tree(&request.person) {
            OffboardError::NotInBase {
                name: request.person.clone(),
                base: base_name,
            }
        } else {
            OffboardError::UnknownPerson {
                name: request.person.clone(),
                base: base_name,
            }
        });
    };
    let snapshot = read_snapshot(repo, &tree)?;
    let theirs: Vec<Grant> = snapshot
        .grants
        .iter()
        .filter(|grant| !grant.file.subject.starts_with(GROUP_PREFIX))
        .filter(|grant| directory.person(&grant.file.subject) == Some(person.as_str()))
        .cloned()
        .collect();
    let mut offboarding = Offboarding {
        base,
        prefix,
        person: person.clone(),
        at: request.at,
        policy: None,
        contract_was: policy
            .people
            .get(&person)
            .and_then(|p| p.contract_ends_at()),
        removed: Vec::new(),
        cut_short: Vec::new(),
        has_generated: snapshot.has_generated,
        warnings: Vec::new(),
    };
    let ends =
        |grant: &Grant, policy: &Policy| effective_end(grant, policy, &Directory::new(policy));
    match request.at {
        None => {
            let edit = policy_edit::remove_person(&text, &person, &directory)?;
            offboarding.removed = theirs
                .iter()
                .map(|g| (g.clone(), ends(g, &policy)))
                .collect();
            if edit.changes.iter().any(|change| change == "owners") {
                warn_if_no_owners(&edit, &mut offboarding.warnings);
            }
            offboarding.policy = Some(edit);
        }
        Some(at) if offboarding.contract_was.is_some_and(|was| was <= at) => {}
        Some(at) => {
            let edit = policy_edit::set_contract_end(&text, &person, &format_timestamp(&at))?;
            let after = load_edited(&edit)?;
            offboarding.cut_short = theirs
                .iter()
                .filter(|grant| {
                    let before = ends(grant, &policy).map(|end| end.at);
                    let now_ends = ends(grant, &after).map(|end| end.at);
                    now_ends.is_some() && now_ends < before
                })
                .map(|grant| (grant.clone(), ends(grant, &policy)))
                .collect();
            offboarding.policy = Some(edit);
        }
    }
    if let Some(edit) = &offboarding.policy {
        let after = load_edited(edit)?;
        let kept: Vec<Grant> = snapshot
            .grants
            .iter()
            .filter(|grant| {
                !offboarding
                    .removed
                    .iter()
                    .any(|(g, _)| g.path == grant.path)
            })
            .cloned()
            .collect();
        refuse_new_errors(&person, (&policy, &snapshot.grants), (&after, &kept), now)?;
    }
    Ok(offboarding)
}

fn load_edited(edit: &PolicyEdit) -> Result<Policy, OffboardError> {
    load::parse_policy(Path::new(POLICY_FILE), &edit.text).map_err(|findings| {
        OffboardError::EditedPolicy(
            findings
                .first()
                .map(Diagnostic::one_line)
                .unwrap_or_default(),
        )
    })
}

/// Judges the grants as `lapse check --base` judges a change that edits
/// the policy and adds no grant (every grant in full, approvals as the base
/// branch holds them), before and after the edit, and refuses the errors
/// only the edit brings: errors already on the base branch are not the
/// offboarding's, and must not hold it up.
fn refuse_new_errors(
    person: &str,
    before: (&Policy, &[Grant]),
    after: (&Policy, &[Grant]),
    now: DateTime<Utc>,
) -> Result<(), OffboardError> {
    let errors = |(policy, grants): (&Policy, &[Grant])| -> Vec<Diagnostic> {
        let mut context = CheckContext::new(policy, now);
        context.scope = Scope::Change {
            grants: HashSet::new(),
            policy_edited: true,
        };
        rules::check_all(grants, Path::new(POLICY_FILE), &context)
            .into_iter()
            .filter(Diagnostic::is_error)
            .collect()
    };
    let existing: BTreeSet<(&str, PathBuf)> = errors(before)
        .iter()
        .map(|finding| (finding.rule, finding.file.clone()))
        .collect();
    let new: Vec<String> = errors(after)
        .into_iter()
        .filter(|finding| !existing.contains(&(finding.rule, finding.file.clone())))
        .map(|finding| finding.one_line())
        .collect();
    if new.is_empty() {
        Ok(())
    } else {
        Err(OffboardError::WouldFail {
            person: person.to_owned(),
            findings: new.join("; "),
        })
    }
}

/// An `owners` list the edit leaves empty means policy changes need no
/// approval any more: worth saying, not worth blocking an offboarding.
fn warn_if_no_owners(edit: &PolicyEdit, warnings: &mut Vec<String>) {
    if let Ok(policy) = load::parse_policy(Path::new(POLICY_FILE), &edit.text)
        && policy.owners.is_empty()
    {
        warnings.push(
            "`owners` is empty after this change: changes to lapse.yaml, templates/ and modules/ need no approval until you name new owners".to_owned(),
        );
    }
}

fn short(base: &Base) -> String {
    let mut text = base.commit.to_string();
    text.truncate(7);
    text
}
