//! `lapse who`: the grants in force at an instant, read from the
//! first-parent history of HEAD, the sequence of states the branch (and so
//! the provisioning pipeline that applies it) actually went through.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use git2::{Commit, Oid};

use crate::model::{Directory, Grant};

use super::HistoryError;
use super::commit::CommitStamp;
use super::diff::{Parents, Version, parse_version};
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

/// Grants active at `at`, by grant id. The state at `at` is the branch
/// after its last commit made at or before `at`: a grant merged after `at`
/// was not provisioned at `at`, whatever its `starts` says.
pub fn grants_active_at(
    repository: &GrantRepository,
    at: DateTime<Utc>,
    directory: &Directory,
) -> Result<Vec<GrantRecord>, HistoryError> {
    repository.require_full_history()?;
    let Some(head) = repository.head()? else {
        return Ok(Vec::new());
    };
    let (ids, times) = first_parent_chain(head)?;
    let in_force_until = times.iter().rposition(|time| *time <= at.timestamp());
    let Some(in_force_until) = in_force_until else {
        return Ok(Vec::new());
    };
    let (until_at, after_at) = ids.split_at(in_force_until + 1);
    let walk = Walk {
        directory,
        parents: Parents::First,
        wanted: |_: &str| true,
        versions: None,
        record_commits: false,
    };
    let log = walk_commits(repository, until_at, &walk)?.log;
    let mut records = active_records(repository, versions_in_force(log), at)?;
    if !records.is_empty() {
        let later = walk_commits(repository, after_at, &walk)?.log;
        record_removals(&later, &mut records);
    }
    records.sort_by(|a, b| a.grant.id.cmp(&b.grant.id));
    Ok(records)
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

/// The versions in force that are valid grants active at `at`.
fn active_records(
    repository: &GrantRepository,
    in_force: HashMap<PathBuf, (String, Version, Arc<CommitStamp>)>,
    at: DateTime<Utc>,
) -> Result<Vec<GrantRecord>, HistoryError> {
    let reader = repository.reader()?;
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
        if grant.is_active_at(at) {
            records.push(GrantRecord {
                grant,
                granted,
                removed: None,
            });
        }
    }
    Ok(records)
}

/// The ids of HEAD and its first parents, oldest first, with their
/// committer times. Only ids are kept: the walk reads each commit on the
/// thread that compares it.
fn first_parent_chain(head: Commit<'_>) -> Result<(Vec<Oid>, Vec<i64>), git2::Error> {
    let (mut ids, mut times) = (Vec::new(), Vec::new());
    let mut commit = head;
    loop {
        ids.push(commit.id());
        times.push(commit.committer().when().seconds());
        if commit.parent_count() == 0 {
            break;
        }
        commit = commit.parent(0)?;
    }
    ids.reverse();
    times.reverse();
    Ok((ids, times))
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
