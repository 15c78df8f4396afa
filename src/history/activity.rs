//! `lapse who`: the grants in force at an instant, read from the
//! first-parent history of the default branch, the sequence of states the
//! branch (and so the provisioning pipeline that applies it) actually went
//! through.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use git2::Commit;

use crate::model::lifecycle::is_in_force_at;
use crate::model::{Directory, Grant, Policy};

use super::HistoryError;
use super::authority::Authority;
use super::commit::CommitStamp;
use super::diff::{Parents, Version, parse_version};
use super::mainline::{Mainline, StatePolicies};
use super::repository::GrantRepository;
use super::walk::{CommitLog, Walk, walk_commits};

/// A grant active at the instant asked about, with the commit that put
/// that version in force and the commit that later removed the grant.
#[derive(Debug, Clone)]
pub struct GrantRecord {
    pub grant: Grant,
    pub granted: Arc<CommitStamp>,
    pub removed: Option<Arc<CommitStamp>>,
}

/// What the branch gave at an instant.
#[derive(Debug, Default)]
pub struct ActiveAt {
    /// The grants active then, by grant id.
    pub records: Vec<GrantRecord>,
    /// The policy the branch held then, which decided group membership and
    /// contract ends; `None` when that state has no `lapse.yaml` that
    /// parses, and the caller's policy judged.
    pub policy: Option<Arc<Authority>>,
}

/// Grants active at `at` on the branch whose tip is `tip`. The state at
/// `at` is the branch after its last commit made at or before `at` (a
/// grant merged after `at` was not provisioned at `at`, whatever its
/// `starts` says), judged under that state's own policy: a grant whose
/// subject's contract had ended, or whose subject the policy no longer
/// knew, gave no access. `fallback` judges when the state has no policy
/// that parses.
pub fn grants_active_at(
    repository: &GrantRepository,
    tip: Commit<'_>,
    at: DateTime<Utc>,
    directory: &Directory,
    fallback: (&Policy, &Directory),
) -> Result<ActiveAt, HistoryError> {
    repository.require_full_history()?;
    let mainline = Mainline::read(tip)?;
    let Some(state) = mainline.state_at(at) else {
        return Ok(ActiveAt::default());
    };
    let (until_at, after_at) = mainline.ids().split_at(state + 1);
    let walk = Walk {
        directory,
        parents: Parents::First,
        wanted: |_: &str| true,
        versions: None,
        record_commits: false,
        keep_signed: false,
    };
    let state_commit = repository.git().find_commit(mainline.id(state))?;
    let policy =
        StatePolicies::default().of_blob(repository, repository.policy_blob(&state_commit)?)?;
    let judge = policy
        .as_deref()
        .map_or(fallback, |then| (&then.policy, &then.directory));
    let log = walk_commits(repository, until_at, &walk)?.log;
    let mut records = active_records(repository, versions_in_force(log), at, judge)?;
    if !records.is_empty() {
        let later = walk_commits(repository, after_at, &walk)?.log;
        record_removals(&later, &mut records);
    }
    records.sort_by(|a, b| a.grant.id.cmp(&b.grant.id));
    Ok(ActiveAt { records, policy })
}

/// The version of each grant the branch holds after `log`, by path, with
/// the commit that put it there.
fn versions_in_force(log: CommitLog) -> HashMap<PathBuf, (String, Version, Arc<CommitStamp>)> {
    let mut in_force = HashMap::new();
    for (stamp, changes) in log {
        for change in &changes {
            if let Some(before) = &change.before {
                in_force.remove(&before.path);
            }
        }
        for change in changes {
            if let Some(version) = change.after {
                let path = version.path.clone();
                in_force.insert(path, (change.id, version, Arc::clone(&stamp)));
            }
        }
    }
    in_force
}

/// The versions in force that are valid grants active at `at` under the
/// policy `(policy, directory)`.
fn active_records(
    repository: &GrantRepository,
    in_force: HashMap<PathBuf, (String, Version, Arc<CommitStamp>)>,
    at: DateTime<Utc>,
    (policy, directory): (&Policy, &Directory),
) -> Result<Vec<GrantRecord>, HistoryError> {
    let mut reader = repository.reader()?;
    let mut records = Vec::new();
    for (id, version, granted) in in_force.into_values() {
        let text = reader.grant_text(version.blob)?;
        let Some(file) = parse_version(&version.path, text.as_deref()) else {
            continue;
        };
        let grant = Grant {
            id,
            path: version.path,
            file: Arc::unwrap_or_clone(file),
        };
        if is_in_force_at(&grant, policy, directory, at) {
            records.push(GrantRecord {
                grant,
                granted,
                removed: None,
            });
        }
    }
    Ok(records)
}

/// The first later commit that deleted each active grant, following it
/// through renames.
fn record_removals(later: &CommitLog, records: &mut [GrantRecord]) {
    let mut open: HashMap<PathBuf, usize> = records
        .iter()
        .enumerate()
        .map(|(index, record)| (record.grant.path.clone(), index))
        .collect();
    let mut removals = Vec::new();
    for (stamp, changes) in later {
        let moved: Vec<_> = changes
            .iter()
            .filter_map(|change| {
                let index = open.remove(&change.before.as_ref()?.path)?;
                Some((index, change.after.as_ref()))
            })
            .collect();
        for (index, after) in moved {
            match after {
                Some(version) => {
                    open.insert(version.path.clone(), index);
                }
                None => removals.push((index, Arc::clone(stamp))),
            }
        }
    }
    for (index, stamp) in removals {
        records[index].removed = Some(stamp);
    }
}
