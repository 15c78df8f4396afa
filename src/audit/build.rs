//! From the ledger (the one pass over the default branch's history) to the
//! audit: each grant's access spans and events, judged under the policy of
//! the day.
//!
//! Access is read from the branch's states as `lapse who` reads it: in
//! each stretch of states where neither the grant's version nor the
//! branch's policy changes, the grant gives access from its `starts` (or
//! the moment the stretch began) to its effective end (or the moment the
//! stretch ended), under that stretch's policy
//! (`model::lifecycle::access_window`, which `who` applies at an instant).

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use git2::Oid;
use ssh_key::public::KeyData;

use crate::history::ledger::{Held, Ledger, Life};
use crate::history::mainline::StatePolicies;
use crate::history::signature::{Wanted, check_signatures};
use crate::history::timeline::same_terms;
use crate::history::{Authority, CommitObject, CommitStamp, GrantRepository, HistoryError};
use crate::model::identity::GROUP_PREFIX;
use crate::model::lifecycle::{EndReason, SubjectStatus, access_window, subject_status};
use crate::model::policy::Evidence;
use crate::model::{Directory, Grant, GrantFile, Policy};

use super::BranchRead;
use super::approval::{ApprovalContext, judge};
use super::report::{
    Access, AuditEvent, AuditReport, AuditedGrant, CommitRef, EndKind, EventKind, Terms, Window,
};
use super::role::RoleDefinition;
use super::subject::SubjectQuery;

/// What an audit run asks, besides the history.
pub struct AuditRequest<'a> {
    /// This run's policy: it resolves identities, and judges a state of the
    /// branch whose own `lapse.yaml` is missing or does not parse.
    pub policy: &'a Policy,
    pub directory: &'a Directory,
    /// The blob id of this run's `lapse.yaml`.
    pub policy_blob: Oid,
    pub now: DateTime<Utc>,
    pub window: Window,
    pub subject: Option<SubjectQuery>,
    pub role: Option<String>,
}

/// The audit of the branch `branch` whose history `ledger` holds.
pub fn audit(
    repository: &GrantRepository,
    ledger: &Ledger,
    branch: BranchRead,
    request: &AuditRequest,
) -> Result<AuditReport, HistoryError> {
    let states = state_policies(repository, ledger, request)?;
    let signatures = if states
        .iter()
        .any(|state| state.policy.approvals.evidence.value == Evidence::SignedCommit)
    {
        let keys: HashSet<KeyData> = states
            .iter()
            .flat_map(|state| state.policy.people.values())
            .flat_map(|person| person.parsed_signing_keys.iter().cloned())
            .collect();
        let known = |key: &KeyData| keys.contains(key);
        check_signatures(repository, commits_with_events(ledger), &known)?
    } else {
        HashMap::new()
    };
    let builder = Builder {
        repository,
        ledger,
        states: &states,
        by_blob: states
            .iter()
            .map(|state| (state.blob.to_string(), Arc::clone(state)))
            .collect(),
        policy_changes: policy_changes(&states),
        signatures,
        request,
    };
    let mut definitions = BTreeMap::new();
    let mut grants = Vec::new();
    for life in &ledger.lives {
        if !builder.selected(life) {
            continue;
        }
        let grant = builder.grant(life, &mut definitions)?;
        let in_window = grant
            .access
            .iter()
            .any(|access| request.window.overlaps(access))
            || grant
                .events
                .iter()
                .any(|event| request.window.contains(event.time));
        if in_window {
            grants.push(grant);
        }
    }
    grants.sort_by(|a, b| {
        let first = |grant: &AuditedGrant| grant.events.first().map(|event| event.time);
        (first(a), &a.id).cmp(&(first(b), &b.id))
    });
    let used: HashSet<(String, String)> = grants
        .iter()
        .flat_map(|grant| &grant.events)
        .filter_map(|event| Some((event.policy.clone(), event.terms.as_ref()?.role.clone())))
        .collect();
    let roles = definitions
        .into_iter()
        .filter(|(key, _)| used.contains(key))
        .map(|(_, definition)| definition)
        .collect();
    let unreviewed_break_glass = grants
        .iter()
        .flat_map(|grant| &grant.events)
        .filter(|event| matches!(event.kind, EventKind::UnreviewedBreakGlass { .. }))
        .count();
    Ok(AuditReport {
        branch,
        now: request.now,
        window: request.window,
        grants,
        roles,
        unreviewed_break_glass,
        verify: None,
    })
}

/// The policy each state of the branch is judged under.
fn state_policies(
    repository: &GrantRepository,
    ledger: &Ledger,
    request: &AuditRequest,
) -> Result<Vec<Arc<Authority>>, HistoryError> {
    let fallback = Arc::new(Authority {
        policy: request.policy.clone(),
        directory: request.directory.clone(),
        blob: request.policy_blob,
    });
    let mut parsed = StatePolicies::default();
    ledger
        .policies
        .iter()
        .map(|blob| {
            Ok(parsed
                .of_blob(repository, *blob)?
                .unwrap_or_else(|| Arc::clone(&fallback)))
        })
        .collect()
}

/// The states whose policy differs from the state before.
fn policy_changes(states: &[Arc<Authority>]) -> Vec<usize> {
    (1..states.len())
        .filter(|&state| !Arc::ptr_eq(&states[state], &states[state - 1]))
        .collect()
}

/// Every commit that recorded an event of a grant: the ones whose
/// signatures an audit under `signed-commit` evidence reads.
/// Every commit of an event, and whether it recorded an approval (whose
/// signature is always verified; the others only when a policy knows the
/// key, as only then can it name an author).
fn commits_with_events(ledger: &Ledger) -> Wanted {
    let mut wanted = Wanted::default();
    for recorded in ledger.lives.iter().flat_map(|life| &life.events) {
        if let Some(commit) = &recorded.event.commit {
            wanted.add(commit, !recorded.event.approvals.is_empty());
        }
    }
    wanted
}

struct Builder<'a> {
    repository: &'a GrantRepository,
    ledger: &'a Ledger,
    states: &'a [Arc<Authority>],
    /// The same policies by the blob id events name.
    by_blob: HashMap<String, Arc<Authority>>,
    policy_changes: Vec<usize>,
    signatures: HashMap<Oid, crate::history::SignatureCheck>,
    request: &'a AuditRequest<'a>,
}

/// A stretch of states in which neither a grant's version nor the branch's
/// policy changed: from state `from` up to `to` (excluded; `None`: to the
/// tip and on).
#[derive(Debug, Clone, Copy)]
struct Span {
    held: usize,
    from: usize,
    to: Option<usize>,
}

/// Why a span of access ended where it did.
#[derive(Debug, Clone, Copy)]
enum Cause {
    /// Within the stretch: the grant's effective end.
    Within(EndReason),
    /// At the start of state `k`: something that state changed.
    AtState(usize),
}

/// An approval as the in-force events weigh it.
struct Weighed {
    person: String,
    /// The state that brought it to the branch.
    state: usize,
    effective: DateTime<Utc>,
    counted: bool,
    version: Option<Arc<GrantFile>>,
}

impl Weighed {
    fn covers(&self, file: &GrantFile) -> bool {
        self.counted && self.version.as_deref().is_some_and(|v| same_terms(v, file))
    }
}

impl Builder<'_> {
    /// Whether the grant passes `--subject` and `--role`.
    fn selected(&self, life: &Life) -> bool {
        let role = self.request.role.as_deref().is_none_or(|role| {
            life.versions.iter().any(|held| {
                held.file
                    .as_ref()
                    .is_some_and(|file| file.role.value == role)
            })
        });
        let subject = self.request.subject.as_ref().is_none_or(|query| {
            self.spans(life).iter().any(|span| {
                let authority = &self.states[span.from];
                life.versions[span.held].file.as_ref().is_some_and(|file| {
                    query.matches(
                        &file.subject,
                        &authority.policy,
                        &authority.directory,
                        self.request.directory,
                    )
                })
            })
        });
        role && subject
    }

    /// The stretches of the grant's life, in order.
    fn spans(&self, life: &Life) -> Vec<Span> {
        let mut spans = Vec::new();
        for (index, held) in life.versions.iter().enumerate() {
            let end = life
                .versions
                .get(index + 1)
                .map(|next| next.state)
                .or(life.removed);
            let first = self.policy_changes.partition_point(|&s| s <= held.state);
            let cuts = self.policy_changes[first..]
                .iter()
                .take_while(|&&s| end.is_none_or(|end| s < end));
            let mut from = held.state;
            for &cut in cuts {
                spans.push(Span {
                    held: index,
                    from,
                    to: Some(cut),
                });
                from = cut;
            }
            spans.push(Span {
                held: index,
                from,
                to: end,
            });
        }
        spans
    }

    /// The policy an event brought in by state `state` is judged by: the
    /// branch's before that state (for the first state, its own).
    fn judging(&self, state: usize) -> &Arc<Authority> {
        &self.states[state.saturating_sub(1)]
    }

    fn grant(
        &self,
        life: &Life,
        definitions: &mut BTreeMap<(String, String), RoleDefinition>,
    ) -> Result<AuditedGrant, HistoryError> {
        let mut events = Vec::new();
        let weighed = self.authors_events(life, &mut events);
        let access = self.branch_events(life, &weighed, &mut events)?;
        events.extend(self.moves(life)?);
        events.sort_by_key(|event| event.time);
        for event in &events {
            let Some(terms) = &event.terms else { continue };
            let key = (event.policy.clone(), terms.role.clone());
            if let (Entry::Vacant(slot), Some(authority)) =
                (definitions.entry(key), self.by_blob.get(&event.policy))
            {
                let definition = RoleDefinition::of(&authority.policy, &event.policy, &terms.role);
                slot.insert(definition);
            }
        }
        let last = life
            .versions
            .iter()
            .rev()
            .find(|held| held.file.is_some())
            .or(life.versions.last());
        let file = last.and_then(|held| held.file.as_deref());
        Ok(AuditedGrant {
            id: life.id.clone(),
            path: last.map(|held| path_text(&held.path)).unwrap_or_default(),
            subject: file.map(|f| f.subject.value.clone()).unwrap_or_default(),
            role: file.map(|f| f.role.value.clone()).unwrap_or_default(),
            access,
            events,
        })
    }

    /// Requests, changes and approvals, from the commits that wrote the
    /// grant; returns the approvals weighed, for the in-force events.
    fn authors_events(&self, life: &Life, events: &mut Vec<AuditEvent>) -> Vec<Weighed> {
        let mut weighed = Vec::new();
        for (index, recorded) in life.events.iter().enumerate() {
            let Some(commit) = &recorded.event.commit else {
                continue;
            };
            let authority = self.judging(recorded.state);
            let event = |kind| AuditEvent {
                time: commit.time,
                kind,
                commit: Some(commit_ref(commit)),
                policy: authority.blob.to_string(),
                terms: recorded.event.version.as_deref().map(terms),
            };
            if recorded.added {
                events.push(event(EventKind::Requested));
            } else if recorded.event.substantive {
                events.push(event(EventKind::Changed));
            }
            let effective = commit.time.max(self.ledger.mainline.time(recorded.state));
            let context = ApprovalContext {
                authority,
                effective,
                signatures: &self.signatures,
            };
            for person in &recorded.event.approvals {
                let judgement = judge(person, recorded, &life.events[..=index], &context);
                events.push(event(EventKind::Approved {
                    approver: person.clone(),
                    effective,
                    evidence: judgement.evidence,
                    counted: judgement.counted.is_ok(),
                    not_counted: judgement.counted.as_ref().err().cloned(),
                }));
                weighed.push(Weighed {
                    person: person.clone(),
                    state: recorded.state,
                    effective,
                    counted: judgement.counted.is_ok(),
                    version: recorded.event.version.clone(),
                });
            }
        }
        weighed
    }

    /// In force and ended, from the branch's states; returns the spans of
    /// access.
    fn branch_events(
        &self,
        life: &Life,
        weighed: &[Weighed],
        events: &mut Vec<AuditEvent>,
    ) -> Result<Vec<Access>, HistoryError> {
        let mainline = &self.ledger.mainline;
        let mut spans_of_access: Vec<Access> = Vec::new();
        // The open span of access: its terms, and why it ends where it does.
        let mut open: Option<(Arc<GrantFile>, Cause, usize)> = None;
        let mut reviewed = HashSet::new();
        for span in self.spans(life) {
            let held = &life.versions[span.held];
            let authority = &self.states[span.from];
            let start = mainline.held_from(span.from);
            let stop = span.to.map(|state| mainline.held_from(state));
            let access = held.file.as_ref().and_then(|file| {
                let grant = grant_of(&life.id, held, file);
                let (starts, end) = access_window(&grant, &authority.policy, &authority.directory)?;
                let from = starts.map_or(start, |starts| starts.max(start));
                let (until, cause) = match (stop, span.to) {
                    (Some(stop), Some(state)) if stop < end.at => (stop, Cause::AtState(state)),
                    _ => (end.at, Cause::Within(end.reason)),
                };
                (from < until).then(|| (Arc::clone(file), from, until, cause))
            });
            let continues = match (&open, &access, spans_of_access.last()) {
                (Some(_), Some((_, from, ..)), Some(last)) => last.until == *from,
                _ => false,
            };
            if !continues && let Some((file, cause, last_span)) = open.take() {
                let until = spans_of_access.last().map(|a| a.until).unwrap_or(start);
                events.extend(self.ended(life, &file, cause, last_span, until)?);
            }
            let Some((file, from, until, cause)) = access else {
                continue;
            };
            events.extend(self.members_ended(&file, authority, from, until));
            let new_terms = open
                .as_ref()
                .is_none_or(|(terms, ..)| !same_terms(terms, &file));
            if continues {
                if let Some(last) = spans_of_access.last_mut() {
                    last.until = until;
                }
            } else {
                spans_of_access.push(Access { from, until });
            }
            if new_terms {
                events.extend(self.in_force(held, span, &file, from, weighed, &mut reviewed)?);
            }
            open = Some((file, cause, span.from));
        }
        if let Some((file, cause, last_span)) = open {
            let until = spans_of_access.last().map(|a| a.until).unwrap_or_default();
            events.extend(self.ended(life, &file, cause, last_span, until)?);
        }
        Ok(spans_of_access)
    }

    /// A `member-ended` event for each member of a group subject whose
    /// contract ended within the access `from..until` (and by `now`).
    fn members_ended(
        &self,
        file: &GrantFile,
        authority: &Authority,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Vec<AuditEvent> {
        let Some(group) = file.subject.strip_prefix(GROUP_PREFIX) else {
            return Vec::new();
        };
        let policy = &authority.policy;
        policy
            .groups
            .get(group)
            .into_iter()
            .flatten()
            .filter_map(|member| {
                let key = authority.directory.person(member)?;
                let ends = policy.people.get(key)?.contract_ends_at()?;
                (from < ends && ends < until && ends <= self.request.now)
                    .then(|| (key.to_owned(), ends))
            })
            .map(|(member, ends)| AuditEvent {
                time: ends,
                kind: EventKind::MemberEnded { member },
                commit: None,
                policy: authority.blob.to_string(),
                terms: Some(terms(file)),
            })
            .collect()
    }

    /// The event that puts `file` in force at span `span`, and the
    /// `unreviewed-break-glass` line when its review came too late or never.
    fn in_force(
        &self,
        held: &Held,
        span: Span,
        file: &GrantFile,
        access_from: DateTime<Utc>,
        weighed: &[Weighed],
        reviewed: &mut HashSet<usize>,
    ) -> Result<Vec<AuditEvent>, HistoryError> {
        let mainline = &self.ledger.mainline;
        let authority = &self.states[span.from];
        let approved_by: Vec<String> = distinct(
            weighed
                .iter()
                .filter(|w| w.state <= span.from && w.covers(file))
                .map(|w| w.person.clone()),
        );
        let role = authority.policy.role(&file.role);
        let glass = role.and_then(|role| {
            let glass = role.break_glass.as_deref()?;
            (approved_by.len() < role.min_approvals as usize).then_some((role, glass))
        });
        let put_in_force = mainline.held_from(held.state);
        let review_by = glass.map(|(_, glass)| put_in_force + glass.review_within.as_time_delta());
        let commit = self.mainline_commit(span.from)?;
        let mut events = vec![AuditEvent {
            time: mainline.held_from(span.from),
            kind: EventKind::InForce {
                access_from,
                approved_by,
                break_glass_review_by: review_by,
            },
            commit: Some(commit),
            policy: authority.blob.to_string(),
            terms: Some(terms(file)),
        }];
        if let (Some((role, _)), Some(review_by)) = (glass, review_by)
            && review_by <= self.request.now
            && reviewed.insert(span.held)
        {
            let in_time = distinct(
                weighed
                    .iter()
                    .filter(|w| w.covers(file) && w.effective <= review_by)
                    .map(|w| w.person.clone()),
            );
            if in_time.len() < role.min_approvals as usize {
                let approved_late_by = distinct(
                    weighed
                        .iter()
                        .filter(|w| w.covers(file) && w.effective > review_by)
                        .map(|w| w.person.clone()),
                );
                events.push(AuditEvent {
                    time: review_by,
                    kind: EventKind::UnreviewedBreakGlass {
                        in_force_at: put_in_force,
                        approved_late_by,
                    },
                    commit: None,
                    policy: authority.blob.to_string(),
                    terms: Some(terms(file)),
                });
            }
        }
        Ok(events)
    }

    /// The `ended` event of a span of access that stopped at `until`: at
    /// the grant's effective end, or at state `k`, which removed or changed
    /// the grant, or whose policy ended it. An end still ahead of `now`
    /// (the grant's scheduled expiry) is not an event yet.
    fn ended(
        &self,
        life: &Life,
        file: &Arc<GrantFile>,
        cause: Cause,
        last_state: usize,
        until: DateTime<Utc>,
    ) -> Result<Option<AuditEvent>, HistoryError> {
        let (reason, state) = match cause {
            Cause::Within(_) if until > self.request.now => return Ok(None),
            Cause::Within(EndReason::Expires) => (EndKind::Expires, last_state),
            Cause::Within(EndReason::ContractEnds) => (EndKind::ContractEnds, last_state),
            Cause::AtState(k) if life.removed == Some(k) => (EndKind::Removed, k),
            Cause::AtState(k) if life.versions.iter().any(|held| held.state == k) => {
                (EndKind::Changed, k)
            }
            Cause::AtState(k) => {
                let authority = &self.states[k];
                let held = life.versions.iter().rev().find(|held| held.state < k);
                let orphaned = held.is_some_and(|held| {
                    let grant = grant_of(&life.id, held, file);
                    subject_status(&grant, &authority.policy, &authority.directory)
                        == SubjectStatus::Orphaned
                });
                let reason = if orphaned {
                    EndKind::SubjectLeft
                } else {
                    EndKind::ContractEnds
                };
                (reason, k)
            }
        };
        let commit = match cause {
            Cause::AtState(k) => Some(self.mainline_commit(k)?),
            Cause::Within(_) => None,
        };
        Ok(Some(AuditEvent {
            time: until,
            kind: EventKind::Ended { reason },
            commit,
            policy: self.states[state].blob.to_string(),
            terms: Some(terms(file)),
        }))
    }

    /// A `moved` event for each state that moved the grant's file.
    fn moves(&self, life: &Life) -> Result<Vec<AuditEvent>, HistoryError> {
        let mut moves = Vec::new();
        for pair in life.versions.windows(2) {
            let (before, after) = (&pair[0], &pair[1]);
            if before.path == after.path {
                continue;
            }
            moves.push(AuditEvent {
                time: self.ledger.mainline.held_from(after.state),
                kind: EventKind::Moved {
                    from: path_text(&before.path),
                    to: path_text(&after.path),
                },
                commit: Some(self.mainline_commit(after.state)?),
                policy: self.states[after.state].blob.to_string(),
                terms: after.file.as_deref().map(terms),
            });
        }
        Ok(moves)
    }

    /// The commit of state `state`, as events name it.
    fn mainline_commit(&self, state: usize) -> Result<CommitRef, HistoryError> {
        let id = self.ledger.mainline.id(state);
        if let Some(stamp) = self.ledger.stamps.get(&id) {
            return Ok(commit_ref(stamp));
        }
        let odb = self.repository.git().odb()?;
        let commit = CommitObject::read(&odb, id)?;
        Ok(commit_ref(&CommitStamp::read(
            &commit,
            self.request.directory,
        )))
    }
}

fn grant_of(id: &str, held: &Held, file: &GrantFile) -> Grant {
    Grant {
        id: id.to_owned(),
        path: held.path.clone(),
        file: file.clone(),
    }
}

fn distinct(people: impl Iterator<Item = String>) -> Vec<String> {
    let mut people: Vec<String> = people.collect();
    people.sort_unstable();
    people.dedup();
    people
}

fn commit_ref(stamp: &CommitStamp) -> CommitRef {
    CommitRef {
        id: stamp.id.to_string(),
        author: stamp.author.clone(),
        time: stamp.time,
    }
}

fn terms(file: &GrantFile) -> Terms {
    Terms {
        subject: file.subject.value.clone(),
        role: file.role.value.clone(),
        starts: file.starts.as_ref().map(|s| s.value.clone()),
        expires: file.expires.as_ref().map(|s| s.value.clone()),
        approvers: file.approvers.iter().map(|a| a.value.clone()).collect(),
    }
}

fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
