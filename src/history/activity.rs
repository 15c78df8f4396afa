//! `lapse who`: the grants in force at an instant, read from the
//! first-parent history of HEAD, the sequence of states the branch (and so
//! the provisioning pipeline that applies it) actually went through.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use git2::Commit;

use crate::model::{Directory, Grant};

use super::HistoryError;
use super::commit::CommitStamp;
use super::diff::{Parents, Version, parse_version};
use super::repository::GrantRepository;

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
    let chain = first_parent_chain(head)?;
    let in_force_until = chain
        .iter()
        .rposition(|commit| commit.committer().when().seconds() <= at.timestamp());
    let Some(in_force_until) = in_force_until else {
        return Ok(Vec::new());
    };
    let mut reader = repository.reader()?;
    let mut in_force: HashMap<String, (Version, Arc<CommitStamp>)> = HashMap::new();
    for commit in &chain[..=in_force_until] {
        let changes = reader.commit_changes(commit, Parents::First)?;
        if changes.is_empty() {
            continue;
        }
        let stamp = Arc::new(CommitStamp::read(commit, directory));
        for change in changes {
            match change.after {
                Some(version) => in_force.insert(change.id, (version, Arc::clone(&stamp))),
                None => in_force.remove(&change.id),
            };
        }
    }
    let mut records = Vec::new();
    for (id, (version, granted)) in in_force {
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
    find_removals(
        repository,
        &chain[in_force_until + 1..],
        &mut records,
        directory,
    )?;
    records.sort_by(|a, b| a.grant.id.cmp(&b.grant.id));
    Ok(records)
}

/// HEAD and its first parents, oldest first.
fn first_parent_chain(head: Commit<'_>) -> Result<Vec<Commit<'_>>, git2::Error> {
    let mut chain = vec![head];
    while let Some(last) = chain.last() {
        if last.parent_count() == 0 {
            break;
        }
        let parent = last.parent(0)?;
        chain.push(parent);
    }
    chain.reverse();
    Ok(chain)
}

/// The first later commit that deleted each active grant; the walk stops
/// as soon as every one is accounted for.
fn find_removals(
    repository: &GrantRepository,
    later: &[Commit<'_>],
    records: &mut [GrantRecord],
    directory: &Directory,
) -> Result<(), HistoryError> {
    let mut open: HashMap<String, usize> = records
        .iter()
        .enumerate()
        .map(|(index, record)| (record.grant.id.clone(), index))
        .collect();
    let mut reader = repository.reader()?;
    for commit in later {
        if open.is_empty() {
            break;
        }
        let changes = reader.commit_changes(commit, Parents::First)?;
        let mut stamp = None;
        for change in changes.iter().filter(|change| change.after.is_none()) {
            if let Some(index) = open.remove(&change.id) {
                let stamp =
                    stamp.get_or_insert_with(|| Arc::new(CommitStamp::read(commit, directory)));
                records[index].removed = Some(Arc::clone(stamp));
            }
        }
    }
    Ok(())
}
