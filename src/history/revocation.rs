//! A change of `lapse.yaml` that only takes access away needs no owners'
//! approval: offboarding never waits ("A person's lifecycle"). Such a
//! change removes people (and every mention of them), moves contract ends
//! earlier, or shortens name lists (group members, role approvers,
//! owners), and nothing else; `templates/` and `modules/` stay as they
//! were. It still needs owners when it would leave fewer owners than
//! `owner_approvals`: emptying `owners` would let the next policy change
//! through without any.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use super::HistoryError;
use super::authority::read_policy_text;
use super::diff::PolicyFiles;
use super::repository::GrantRepository;
use crate::load::{POLICY_FILE, parse_policy, yaml::parse_strict};
use crate::model::timestamp::parse_timestamp;
use crate::model::{Directory, Policy};

/// Whether the change from `before` to `after` only revokes.
pub(super) fn only_revokes(
    repository: &GrantRepository,
    before: PolicyFiles,
    after: PolicyFiles,
) -> Result<bool, HistoryError> {
    if before.templates != after.templates || before.modules != after.modules {
        return Ok(false);
    }
    let (Some(before), Some(after)) = (before.policy, after.policy) else {
        return Ok(false);
    };
    let (Some(before), Some(after)) = (
        read_policy_text(repository, before)?,
        read_policy_text(repository, after)?,
    ) else {
        return Ok(false);
    };
    Ok(text_only_revokes(&before, &after))
}

/// The same judgement on the two texts of `lapse.yaml`.
fn text_only_revokes(before: &str, after: &str) -> bool {
    let file = Path::new(POLICY_FILE);
    let (Ok(policy_before), Ok(policy_after)) =
        (parse_policy(file, before), parse_policy(file, after))
    else {
        return false;
    };
    let (Ok(mut expected), Ok(after)) = (
        parse_strict::<Value>(file, before),
        parse_strict::<Value>(file, after),
    ) else {
        return false;
    };
    let removed: BTreeSet<String> = policy_before
        .people
        .keys()
        .filter(|key| !policy_after.people.contains_key(*key))
        .cloned()
        .collect();
    let directory = Directory::new(&policy_before);
    drop_people(&mut expected, &removed);
    end_contracts_earlier(&mut expected, &after)
        && shorten_name_lists(&mut expected, &after, &removed, &directory)
        && expected == after
        && owners_still_suffice(&policy_before, &policy_after)
}

fn drop_people(data: &mut Value, removed: &BTreeSet<String>) {
    if let Some(people) = data.get_mut("people").and_then(Value::as_object_mut) {
        people.retain(|key, _| !removed.contains(key));
    }
}

/// Copies each `contract_ends` of `after` that moved earlier (or appeared)
/// into `data`; a later one is not a revocation.
fn end_contracts_earlier(data: &mut Value, after: &Value) -> bool {
    let (Some(people), Some(after_people)) = (
        data.get_mut("people").and_then(Value::as_object_mut),
        after.get("people").and_then(Value::as_object),
    ) else {
        return true;
    };
    let instant = |value: Option<&Value>| value.and_then(Value::as_str).map(parse_timestamp);
    for (key, person) in people.iter_mut() {
        let Some(after_person) = after_people.get(key) else {
            continue;
        };
        let was = person.get("contract_ends");
        let now = after_person.get("contract_ends");
        if was == now {
            continue;
        }
        let earlier = match (instant(was), instant(now)) {
            (None, Some(Ok(_))) => true,
            (Some(Ok(was)), Some(Ok(now))) => now < was,
            _ => false,
        };
        if !earlier {
            return false;
        }
        if let (Some(person), Some(now)) = (person.as_object_mut(), now) {
            person.insert("contract_ends".to_owned(), now.clone());
        }
    }
    true
}

/// Every group's members, role's approvers and `owners`: what `after` has
/// where it is `data`'s list with items taken out (the removed people's
/// mentions always go).
fn shorten_name_lists(
    data: &mut Value,
    after: &Value,
    removed: &BTreeSet<String>,
    directory: &Directory,
) -> bool {
    let names_removed = |item: &Value| {
        item.as_str()
            .and_then(|name| directory.person(name))
            .is_some_and(|person| removed.contains(person))
    };
    let mut fits = true;
    let mut shorten = |list: Option<&mut Value>, wanted: Option<&Value>| {
        let Some(items) = list.and_then(Value::as_array_mut) else {
            return;
        };
        items.retain(|item| !names_removed(item));
        match wanted.and_then(Value::as_array) {
            Some(wanted) if is_subsequence(wanted, items) => *items = wanted.clone(),
            Some(_) => fits = false,
            None => {}
        }
    };
    if let Some(groups) = data.get_mut("groups").and_then(Value::as_object_mut) {
        for (name, members) in groups.iter_mut() {
            shorten(Some(members), after.pointer(&pointer(&["groups", name])));
        }
    }
    if let Some(roles) = data.get_mut("roles").and_then(Value::as_object_mut) {
        for (name, role) in roles.iter_mut() {
            let wanted = after.pointer(&pointer(&["roles", name, "approvers"]));
            shorten(role.get_mut("approvers"), wanted);
        }
    }
    shorten(data.get_mut("owners"), after.get("owners"));
    fits
}

/// A JSON pointer (RFC 6901) to the path's keys.
fn pointer(keys: &[&str]) -> String {
    keys.iter()
        .map(|key| format!("/{}", key.replace('~', "~0").replace('/', "~1")))
        .collect()
}

fn is_subsequence(short: &[Value], long: &[Value]) -> bool {
    let mut long = long.iter();
    short
        .iter()
        .all(|item| long.any(|candidate| candidate == item))
}

/// Owners before the change who could approve a policy change are still
/// enough after it.
fn owners_still_suffice(before: &Policy, after: &Policy) -> bool {
    let known = |policy: &Policy| {
        let directory = Directory::new(policy);
        policy
            .owner_people(&directory)
            .into_iter()
            .filter(|person| policy.people.contains_key(person))
            .count()
    };
    known(before) == 0 || known(after) >= after.approvals.owner_approvals as usize
}
