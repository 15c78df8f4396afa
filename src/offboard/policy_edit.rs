//! Editing `lapse.yaml` in place for an offboarding: the person's entry
//! out of `people`, their name out of every group, role `approvers` and
//! `owners` list, or their `contract_ends` set. The text is changed only at
//! the positions the parser gives (`yaml_tree`), so comments, order, quoting
//! and blank lines elsewhere stay byte for byte; nothing is re-serialised.
//!
//! Every edit is checked twice before it is used: the edited text must read
//! (as plain YAML data) exactly as the original with the intended change
//! and nothing else, and it must load as a policy. A layout that no edit
//! here can change safely (an alias, a flow-style `people`, an entry that
//! shares its line) is refused with the line to fix by hand.

use std::ops::Range;
use std::path::Path;

use serde_json::Value;

use crate::load::yaml::parse_strict;
use crate::model::Directory;

use super::yaml_tree::{self, Located, Node};

/// The edited policy text and what changed, one line per place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyEdit {
    pub text: String,
    /// `people: alex@example.com`, `groups.oncall`, `roles.r.approvers`,
    /// `owners`, `people.alex@example.com.contract_ends`.
    pub changes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error(
        "lapse.yaml:{line}: {what}; lapse offboard edits lapse.yaml in place, keeping every other byte, and cannot do so here: make this change by hand, or write this part in block style (one entry or item per line), then rerun"
    )]
    Unsafe { line: u64, what: String },
    #[error("lapse.yaml does not parse: {0}")]
    Parse(String),
    #[error(
        "lapse offboard's edit of lapse.yaml would not read as intended ({0}); make the change by hand"
    )]
    Unverified(String),
}

/// A replacement of `range` of the text.
struct Splice {
    range: Range<usize>,
    with: String,
}

/// Removes `person` (a key of `people`) from `people`, and every name that
/// `directory` resolves to them from `groups`, role `approvers` and `owners`.
pub fn remove_person(
    text: &str,
    person: &str,
    directory: &Directory,
) -> Result<PolicyEdit, EditError> {
    let root = parse_unaliased(text)?;
    let (people_key, people) = root.entry("people").ok_or_else(|| EditError::Unsafe {
        line: 1,
        what: "there is no `people` mapping".to_owned(),
    })?;
    let Node::Mapping(entries) = &people.node else {
        return Err(unsafe_at(people, "`people` is not a mapping"));
    };
    let index = entries
        .iter()
        .position(|(key, _)| key.scalar() == Some(person))
        .ok_or_else(|| unsafe_at(people, &format!("`people` has no entry `{person}`")))?;
    let mut splices = remove_entry(text, people_key, people, index)?;
    let mut changes = vec![format!("people: {person}")];
    let named = |item: &Located| {
        item.scalar()
            .is_some_and(|name| directory.person(name) == Some(person))
    };
    for (place, key, list) in name_lists(&root) {
        let Node::Sequence(items) = &list.node else {
            continue;
        };
        let remove: Vec<bool> = items.iter().map(named).collect();
        if remove.contains(&true) {
            splices.extend(remove_items(text, key, list, &remove)?);
            changes.push(place);
        }
    }
    let edited = apply(text, splices)?;
    verify(text, &edited, |data| {
        without_person(data, person, directory);
    })?;
    Ok(PolicyEdit {
        text: edited,
        changes,
    })
}

/// Sets `contract_ends` of `person` to `at` (already formatted), replacing
/// the value there or adding the field first in the person's entry.
pub fn set_contract_end(text: &str, person: &str, at: &str) -> Result<PolicyEdit, EditError> {
    let root = parse_unaliased(text)?;
    let entry = root
        .get("people")
        .and_then(|people| people.get(person))
        .ok_or_else(|| EditError::Unsafe {
            line: 1,
            what: format!("`people` has no entry `{person}`"),
        })?;
    let splice = match entry.entry("contract_ends") {
        Some((_, value)) if value.scalar().is_some() && !value.span.is_empty() => Splice {
            range: value.span.clone(),
            with: at.to_owned(),
        },
        Some((_, value)) => {
            return Err(unsafe_at(value, "`contract_ends` has no value to replace"));
        }
        None => first_field(text, entry, &format!("contract_ends: {at}"))?,
    };
    let edited = apply(text, vec![splice])?;
    verify(text, &edited, |data| {
        if let Some(entry) = data
            .get_mut("people")
            .and_then(|people| people.get_mut(person))
            .and_then(Value::as_object_mut)
        {
            entry.insert("contract_ends".to_owned(), Value::String(at.to_owned()));
        }
    })?;
    Ok(PolicyEdit {
        text: edited,
        changes: vec![format!("people.{person}.contract_ends")],
    })
}

/// The tree of `text`, refused when it uses an alias anywhere: an edit at
/// an anchor would change every place that refers to it.
fn parse_unaliased(text: &str) -> Result<Located, EditError> {
    let root = yaml_tree::parse(text).map_err(|finding| EditError::Parse(finding.one_line()))?;
    if let Some(alias) = root.walk().into_iter().find(|node| node.aliased) {
        return Err(unsafe_at(
            alias,
            "a YAML alias (`*name`) repeats a value written elsewhere",
        ));
    }
    Ok(root)
}

/// The lists that name people: `(place, key, list)` for each group, each
/// role's `approvers` and `owners`.
fn name_lists(root: &Located) -> Vec<(String, &Located, &Located)> {
    let mut lists = Vec::new();
    for (name, members) in entries(root.get("groups")) {
        lists.push((
            format!("groups.{}", name.scalar().unwrap_or_default()),
            name,
            members,
        ));
    }
    for (name, role) in entries(root.get("roles")) {
        if let Some((key, approvers)) = role.entry("approvers") {
            lists.push((
                format!("roles.{}.approvers", name.scalar().unwrap_or_default()),
                key,
                approvers,
            ));
        }
    }
    if let Some((key, owners)) = root.entry("owners") {
        lists.push(("owners".to_owned(), key, owners));
    }
    lists
}

/// The entries of a mapping node; none for anything else.
fn entries(node: Option<&Located>) -> &[(Located, Located)] {
    match node.map(|node| &node.node) {
        Some(Node::Mapping(entries)) => entries,
        _ => &[],
    }
}

/// Removes entry `index` of the block mapping `mapping` (the value of
/// `parent_key`): the lines from its key to its last line of content.
/// Comment and blank lines right after it stay with what follows. When it
/// was the only entry, the mapping becomes `{}`, not null.
fn remove_entry(
    text: &str,
    parent_key: &Located,
    mapping: &Located,
    index: usize,
) -> Result<Vec<Splice>, EditError> {
    let Node::Mapping(entries) = &mapping.node else {
        return Err(unsafe_at(mapping, "not a mapping"));
    };
    let key = &entries[index].0;
    if !starts_its_line(text, key.span.start) {
        return Err(unsafe_at(
            key,
            "the entry does not start its own line (a flow-style `{...}` mapping or an explicit `?` key)",
        ));
    }
    let start = line_start(text, key.span.start);
    let end = block_end(text, start, key.span.start - start);
    let mut splices = vec![Splice {
        range: start..end,
        with: String::new(),
    }];
    if entries.len() == 1 {
        splices.push(empty_value_after(text, parent_key, "{}")?);
    }
    Ok(splices)
}

/// Removes the items of `list` (the value of `key`) whose `remove` is true:
/// in a flow sequence the items and the separators between them, in a
/// block sequence their whole lines. A list left empty becomes `[]`.
fn remove_items(
    text: &str,
    key: &Located,
    list: &Located,
    remove: &[bool],
) -> Result<Vec<Splice>, EditError> {
    let Node::Sequence(items) = &list.node else {
        return Err(unsafe_at(list, "not a list"));
    };
    if text.as_bytes().get(list.span.start) == Some(&b'[') && list.span.len() == 1 {
        return Ok(remove_flow_items(items, remove));
    }
    let mut splices = Vec::new();
    for (item, _) in items.iter().zip(remove).filter(|(_, remove)| **remove) {
        splices.push(block_item_line(text, item)?);
    }
    if remove.iter().all(|remove| *remove) {
        splices.push(empty_value_after(text, key, "[]")?);
    }
    Ok(splices)
}

/// For each maximal run of removed items: from its first item to the next
/// kept item, or, at the end of the list, from the kept item before it to
/// its last item; the whole content when nothing is kept.
fn remove_flow_items(items: &[Located], remove: &[bool]) -> Vec<Splice> {
    let mut splices = Vec::new();
    if remove.iter().all(|remove| *remove) {
        if let (Some(first), Some(last)) = (items.first(), items.last()) {
            splices.push(Splice {
                range: first.span.start..last.span.end,
                with: String::new(),
            });
        }
        return splices;
    }
    let mut index = 0;
    while index < items.len() {
        if !remove[index] {
            index += 1;
            continue;
        }
        let run_start = index;
        while index < items.len() && remove[index] {
            index += 1;
        }
        let range = match items.get(index) {
            Some(next) => items[run_start].span.start..next.span.start,
            None => items[run_start - 1].span.end..items[index - 1].span.end,
        };
        splices.push(Splice {
            range,
            with: String::new(),
        });
    }
    splices
}

/// The whole line of a block sequence item `- name`, which must hold
/// nothing else but a comment.
fn block_item_line(text: &str, item: &Located) -> Result<Splice, EditError> {
    let start = line_start(text, item.span.start);
    let before = text[start..item.span.start].trim();
    let line_end = line_end(text, item.span.end);
    let after = text[item.span.end..line_end].trim();
    let alone = before == "-" && (after.is_empty() || after.starts_with('#'));
    if !alone || item.scalar().is_none() {
        return Err(unsafe_at(item, "the list item shares its line"));
    }
    Ok(Splice {
        range: start..line_end,
        with: String::new(),
    })
}

/// Writes `empty` (`{}` or `[]`) right after the colon that follows `key`,
/// for a block collection whose last entry is removed: `key:` alone would
/// read as null, which the policy does not accept for a list or mapping.
fn empty_value_after(text: &str, key: &Located, empty: &str) -> Result<Splice, EditError> {
    let rest = &text[key.span.end..];
    let colon = rest
        .find(|c: char| c != ' ')
        .filter(|at| rest[*at..].starts_with(':'))
        .ok_or_else(|| unsafe_at(key, "no `:` follows the key"))?;
    let at = key.span.end + colon + 1;
    Ok(Splice {
        range: at..at,
        with: format!(" {empty}"),
    })
}

/// Adds `field` as the first field of the mapping `entry`: a line before
/// its first key, indented like it, in a block mapping; right after the
/// `{` in a flow mapping.
fn first_field(text: &str, entry: &Located, field: &str) -> Result<Splice, EditError> {
    let Node::Mapping(fields) = &entry.node else {
        return Err(unsafe_at(entry, "the person's entry is not a mapping"));
    };
    if text.as_bytes().get(entry.span.start) == Some(&b'{') && entry.span.len() == 1 {
        let at = entry.span.start + 1;
        let with = if fields.is_empty() {
            field.to_owned()
        } else {
            format!("{field}, ")
        };
        return Ok(Splice {
            range: at..at,
            with,
        });
    }
    let start = entry.span.start;
    if fields.is_empty() || !starts_its_line(text, start) {
        return Err(unsafe_at(
            entry,
            "the person's first field does not start its line",
        ));
    }
    let line = line_start(text, start);
    Ok(Splice {
        range: line..line,
        with: format!("{}{field}\n", &text[line..start]),
    })
}

/// Applies non-overlapping splices.
fn apply(text: &str, mut splices: Vec<Splice>) -> Result<String, EditError> {
    splices.sort_by_key(|splice| (splice.range.start, splice.range.end));
    let mut edited = String::with_capacity(text.len());
    let mut at = 0;
    for splice in splices {
        if splice.range.start < at {
            return Err(EditError::Unverified("two changes overlap".to_owned()));
        }
        edited.push_str(&text[at..splice.range.start]);
        edited.push_str(&splice.with);
        at = splice.range.end;
    }
    edited.push_str(&text[at..]);
    Ok(edited)
}

/// The edited text must read as the original with `intended` applied to
/// its data, and nothing else.
fn verify(before: &str, after: &str, intended: impl FnOnce(&mut Value)) -> Result<(), EditError> {
    let read = |text: &str| {
        parse_strict::<Value>(Path::new("lapse.yaml"), text)
            .map_err(|finding| EditError::Unverified(finding.one_line()))
    };
    let mut expected = read(before)?;
    intended(&mut expected);
    if read(after)? == expected {
        Ok(())
    } else {
        Err(EditError::Unverified(
            "the result differs elsewhere too".to_owned(),
        ))
    }
}

/// `data` (lapse.yaml as plain data) without `person`.
fn without_person(data: &mut Value, person: &str, directory: &Directory) {
    if let Some(people) = data.get_mut("people").and_then(Value::as_object_mut) {
        people.remove(person);
    }
    let named = |name: &Value| {
        name.as_str()
            .is_some_and(|name| directory.person(name) == Some(person))
    };
    let retain = |list: Option<&mut Value>| {
        if let Some(items) = list.and_then(Value::as_array_mut) {
            items.retain(|item| !named(item));
        }
    };
    if let Some(groups) = data.get_mut("groups").and_then(Value::as_object_mut) {
        groups
            .values_mut()
            .for_each(|members| retain(Some(members)));
    }
    if let Some(roles) = data.get_mut("roles").and_then(Value::as_object_mut) {
        roles
            .values_mut()
            .for_each(|role| retain(role.get_mut("approvers")));
    }
    retain(data.get_mut("owners"));
}

fn unsafe_at(node: &Located, what: &str) -> EditError {
    EditError::Unsafe {
        line: node.line,
        what: what.to_owned(),
    }
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |newline| newline + 1)
}

/// The end of the line holding `at`, its line break included.
fn line_end(text: &str, at: usize) -> usize {
    text[at..]
        .find('\n')
        .map_or(text.len(), |newline| at + newline + 1)
}

fn starts_its_line(text: &str, at: usize) -> bool {
    text[line_start(text, at)..at].chars().all(|c| c == ' ')
}

/// The end of the block that starts at line `start` with its key indented
/// by `indent`: the end of its last line of content before the next line
/// of content indented no deeper (a sibling or a parent key), or the end of
/// the text. Comments and blank lines are not content.
fn block_end(text: &str, start: usize, indent: usize) -> usize {
    let mut end = line_end(text, start);
    let mut at = end;
    while at < text.len() {
        let next = line_end(text, at);
        let line = &text[at..next];
        let content = line.trim_start_matches(' ');
        let is_content = !content.trim().is_empty() && !content.starts_with('#');
        if is_content {
            if line.len() - content.len() <= indent {
                break;
            }
            end = next;
        }
        at = next;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::parse_policy;

    const POLICY: &str = "\
version: 1
people:
  # The contractor.
  alex@example.com:
    aliases: [alex@users.noreply.github.com]  # commit identity
    github: alex-gh

  # Our own.
  sam@example.com: {}
  maria@example.com: {github: maria-gh}
groups:
  oncall: [sam@example.com, alex@users.noreply.github.com]
  leads:
    - maria@example.com
    - ALEX@example.com   # co-lead
  solo: [alex@example.com]
roles:
  r:
    approvers:
      - alex@example.com
    github: {repository: o/r, permission: push}
owners: [group:leads, alex@example.com, sam@example.com]
";

    fn directory() -> Directory {
        Directory::new(&parse_policy(Path::new("lapse.yaml"), POLICY).unwrap())
    }

    #[test]
    fn removing_a_person_keeps_every_other_byte() {
        let edit = remove_person(POLICY, "alex@example.com", &directory()).unwrap();
        let expected = "\
version: 1
people:
  # The contractor.

  # Our own.
  sam@example.com: {}
  maria@example.com: {github: maria-gh}
groups:
  oncall: [sam@example.com]
  leads:
    - maria@example.com
  solo: []
roles:
  r:
    approvers: []
    github: {repository: o/r, permission: push}
owners: [group:leads, sam@example.com]
";
        assert_eq!(edit.text, expected);
        assert_eq!(
            edit.changes,
            [
                "people: alex@example.com",
                "groups.oncall",
                "groups.leads",
                "groups.solo",
                "roles.r.approvers",
                "owners"
            ]
        );
    }

    #[test]
    fn a_contract_end_is_replaced_or_added_first() {
        let edit = set_contract_end(POLICY, "alex@example.com", "2026-12-15T00:00:00Z").unwrap();
        assert!(edit.text.contains(
            "  alex@example.com:\n    contract_ends: 2026-12-15T00:00:00Z\n    aliases:"
        ));
        let again =
            set_contract_end(&edit.text, "alex@example.com", "2026-12-10T00:00:00Z").unwrap();
        assert!(
            again
                .text
                .contains("    contract_ends: 2026-12-10T00:00:00Z\n")
        );
        let flow = set_contract_end(POLICY, "sam@example.com", "2026-12-15T00:00:00Z").unwrap();
        assert!(
            flow.text
                .contains("  sam@example.com: {contract_ends: 2026-12-15T00:00:00Z}\n")
        );
        let flow = set_contract_end(POLICY, "maria@example.com", "2026-12-15T00:00:00Z").unwrap();
        assert!(
            flow.text
                .contains("{contract_ends: 2026-12-15T00:00:00Z, github: maria-gh}")
        );
    }

    #[test]
    fn unsafe_layouts_are_refused_with_the_line() {
        let flow = "version: 1\npeople: {alex@example.com: {}, sam@example.com: {}}\n";
        let directory = Directory::new(&parse_policy(Path::new("lapse.yaml"), flow).unwrap());
        let error = remove_person(flow, "alex@example.com", &directory).unwrap_err();
        assert!(
            matches!(error, EditError::Unsafe { line: 2, .. }),
            "{error}"
        );

        let aliased = "version: 1\npeople:\n  alex@example.com: {}\n  sam@example.com: {}\ngroups:\n  a: &m [alex@example.com]\n  b: *m\n";
        let directory = Directory::new(&parse_policy(Path::new("lapse.yaml"), aliased).unwrap());
        let error = remove_person(aliased, "alex@example.com", &directory).unwrap_err();
        assert!(
            matches!(error, EditError::Unsafe { line: 7, .. }),
            "{error}"
        );

        let explicit = "version: 1\npeople:\n  ? alex@example.com\n  : {}\n  sam@example.com: {}\n";
        let directory = Directory::new(&parse_policy(Path::new("lapse.yaml"), explicit).unwrap());
        let error = remove_person(explicit, "alex@example.com", &directory).unwrap_err();
        assert!(
            matches!(error, EditError::Unsafe { line: 3, .. }),
            "{error}"
        );
    }
}
