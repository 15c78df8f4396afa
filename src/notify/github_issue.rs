//! One GitHub issue that says what access ends soon, kept up to date by
//! every run (https://docs.github.com/en/rest/issues/issues,
//! https://docs.github.com/en/rest/issues/comments).
//!
//! The issue carries the label `lapse-expiring` and a marker; it is found
//! by them (open or closed), created once, reopened when something enters
//! the window and closed when nothing is left in it, never duplicated. Its
//! description lists what ends in the window and, in a hidden marker, a
//! fingerprint of each grant (id and end) and contract end (person and
//! end) already announced. What is in the window and not announced yet is
//! announced in one comment that @-mentions the subjects and approvers by
//! their `github` logins, so GitHub notifies them; a grant whose end
//! moves (extended, or cut short by a contract) is in a new window and is
//! announced again. The comment is posted before the description is
//! rewritten: a run that fails between the two announces again on the
//! next run rather than never.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::json;

use super::{
    Channel, Delivery, IssueLink, NotifyError, Warnings, contract_sentence, count_grants, headline,
};
use crate::forge::github::GitHub;
use crate::forge::http::{Api, Write};
use crate::forge::{ForgeKind, Purpose, non_empty};
use crate::prune::summary::{GrantSummary, markdown_cell, markdown_table};
use crate::prune::window::{ContractEnd, EndingGrant};

pub const LABEL: &str = "lapse-expiring";
const MARKER: &str = "<!-- lapse:expiring -->";
const ANNOUNCED: &str = "<!-- lapse:announced";
const TITLE: &str = "Access ending soon";
/// GitHub keeps an issue body to 65,536 characters: the description lists
/// this many grants, and remembers this many announcements (13
/// characters each). Beyond that, the rest is announced again next run.
const MAX_ROWS: usize = 200;
const MAX_KEYS: usize = 3000;
/// GitHub notifies no one in a comment that mentions more than 50 people.
const MAX_MENTIONS: usize = 50;
const PAGE_SIZE: usize = 100;

#[derive(Debug, Deserialize)]
struct Issue {
    number: u64,
    html_url: String,
    state: String,
    #[serde(default)]
    body: Option<String>,
    /// Present when the "issue" is a pull request, which the issues list includes.
    #[serde(default)]
    pull_request: Option<serde_json::Value>,
}

pub fn keep(
    warnings: &Warnings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Delivery, NotifyError> {
    let env = non_empty(env);
    let github = GitHub::from_env(&env, Purpose::KeepIssue)?;
    let (api, repo) = github.repository();
    let grants: Vec<&EndingGrant> = warnings.grants_in_window().collect();
    let contracts: Vec<&ContractEnd> = warnings.contracts_in_window().collect();
    let mut delivery = Delivery {
        channel: Channel::GithubIssue,
        grants: Vec::new(),
        contracts: Vec::new(),
        issue: None,
    };
    let issue = match find(api, repo)? {
        Some(issue) => issue,
        None if grants.is_empty() && contracts.is_empty() => return Ok(delivery),
        None => create(api, repo, &description(warnings, &grants, &contracts, &[]))?,
    };
    let announced = announced_keys(issue.body.as_deref().unwrap_or_default());
    let new_grants: Vec<&EndingGrant> = grants
        .iter()
        .copied()
        .filter(|grant| !announced.contains(&grant_key(grant)))
        .collect();
    let new_contracts: Vec<&ContractEnd> = contracts
        .iter()
        .copied()
        .filter(|contract| !announced.contains(&contract_key(contract)))
        .collect();
    if !new_grants.is_empty() || !new_contracts.is_empty() {
        let body = comment(warnings, &new_grants, &new_contracts);
        let _: serde_json::Value = api.send(
            Write::Post,
            &format!("{repo}/issues/{}/comments", issue.number),
            &json!({ "body": body }),
        )?;
    }
    let keys: Vec<String> = grants
        .iter()
        .map(|grant| grant_key(grant))
        .chain(contracts.iter().map(|contract| contract_key(contract)))
        .collect();
    let body = description(warnings, &grants, &contracts, &keys);
    let state = if grants.is_empty() && contracts.is_empty() {
        "closed"
    } else {
        "open"
    };
    if issue.body.as_deref() != Some(body.as_str()) || issue.state != state {
        let _: serde_json::Value = api.send(
            Write::Patch,
            &format!("{repo}/issues/{}", issue.number),
            &json!({ "body": body, "state": state }),
        )?;
    }
    delivery.grants = new_grants.iter().map(|g| g.summary.id.clone()).collect();
    delivery.contracts = new_contracts.iter().map(|c| c.person.clone()).collect();
    delivery.issue = Some(IssueLink {
        number: issue.number,
        url: issue.html_url,
    });
    Ok(delivery)
}

/// lapse's issue: labelled, carrying the marker, not a pull request;
/// the open one first, then the oldest.
fn find(api: &Api, repo: &str) -> Result<Option<Issue>, NotifyError> {
    let issues: Vec<Issue> = api.get_all(
        &format!("{repo}/issues"),
        &[("labels", LABEL), ("state", "all")],
        ("per_page", PAGE_SIZE),
    )?;
    Ok(issues
        .into_iter()
        .filter(|issue| issue.pull_request.is_none())
        .filter(|issue| {
            issue
                .body
                .as_deref()
                .is_some_and(|body| body.starts_with(MARKER))
        })
        .min_by_key(|issue| (issue.state != "open", issue.number)))
}

fn create(api: &Api, repo: &str, body: &str) -> Result<Issue, NotifyError> {
    Ok(api.send(
        Write::Post,
        &format!("{repo}/issues"),
        &json!({ "title": TITLE, "body": body, "labels": [LABEL] }),
    )?)
}

/// The issue's description: what ends in the window now, in words that
/// do not change from day to day (no "in 5 days"), so an unchanged window
/// leaves the issue untouched, and the announced fingerprints.
fn description(
    warnings: &Warnings,
    grants: &[&EndingGrant],
    contracts: &[&ContractEnd],
    keys: &[String],
) -> String {
    let mut body = format!("{MARKER}\n");
    if grants.is_empty() && contracts.is_empty() {
        body.push_str(&format!(
            "No grant and no contract ends within {}.\n",
            warnings.within
        ));
    } else {
        body.push_str(&format!(
            "## {}\n\n",
            headline(warnings.within, grants.len(), contracts.len())
        ));
        body.push_str(&grant_section(grants));
        body.push_str(&contract_section(warnings, contracts, false));
    }
    body.push_str(
        "\n_Kept up to date by `lapse expiring --notify github-issue`: each run rewrites this description, and comments, mentioning subjects and approvers, when grants enter the window._\n",
    );
    let mut sorted: Vec<&String> = keys.iter().collect();
    sorted.sort();
    sorted.dedup();
    let remembered: Vec<&str> = sorted.iter().take(MAX_KEYS).map(|k| k.as_str()).collect();
    body.push_str(&format!("{ANNOUNCED} {} -->\n", remembered.join(" ")));
    body
}

/// The announcement: mentions, then what entered the window.
fn comment(warnings: &Warnings, grants: &[&EndingGrant], contracts: &[&ContractEnd]) -> String {
    let naming = warnings.naming(ForgeKind::GitHub);
    let mentions: BTreeSet<String> = grants
        .iter()
        .flat_map(|grant| naming.people_of(grant))
        .chain(contracts.iter().map(|contract| contract.person.as_str()))
        .filter_map(|person| naming.mention(person))
        .collect();
    let mentions: Vec<String> = mentions.into_iter().take(MAX_MENTIONS).collect();
    let mut body = String::new();
    if !mentions.is_empty() {
        body.push_str(&format!("{}: ", mentions.join(" ")));
    }
    body.push_str(&format!(
        "{}.\n\n",
        headline(warnings.within, grants.len(), contracts.len())
    ));
    body.push_str(&grant_section(grants));
    body.push_str(&contract_section(warnings, contracts, true));
    body
}

/// A loud line for break-glass grants, then the table.
fn grant_section(grants: &[&EndingGrant]) -> String {
    if grants.is_empty() {
        return String::new();
    }
    let mut section = String::new();
    let loud: Vec<String> = grants
        .iter()
        .filter(|grant| grant.summary.break_glass)
        .map(|grant| markdown_cell(&grant.summary.id))
        .collect();
    if !loud.is_empty() {
        section.push_str(&format!(
            "> [!CAUTION]\n> **BREAK-GLASS**: {} among them: {}\n\n",
            count_grants(loud.len(), "is an emergency grant", "are emergency grants"),
            loud.join(", ")
        ));
    }
    let rows: Vec<GrantSummary> = grants
        .iter()
        .take(MAX_ROWS)
        .map(|grant| grant.summary.clone())
        .collect();
    section.push_str(&markdown_table(&rows));
    if grants.len() > MAX_ROWS {
        section.push_str(&format!(
            "\nand {} more: run `lapse expiring` for the full list.\n",
            grants.len() - MAX_ROWS
        ));
    }
    section
}

/// One line per contract end; with relative times only in comments, which
/// are never rewritten.
fn contract_section(warnings: &Warnings, contracts: &[&ContractEnd], relative: bool) -> String {
    if contracts.is_empty() {
        return String::new();
    }
    let naming = warnings.naming(ForgeKind::GitHub);
    let mut section = String::from("\n");
    for contract in contracts.iter().take(MAX_ROWS) {
        let who = markdown_cell(&naming.label(&contract.person));
        let line = if relative {
            contract_sentence(contract, &who, warnings.now)
        } else {
            format!(
                "Contract of {who} ends {}: {} with it",
                contract.ends,
                count_grants(contract.grants.len(), "ends", "end")
            )
        };
        section.push_str(&format!("- {line}\n"));
    }
    section
}

fn grant_key(grant: &EndingGrant) -> String {
    fingerprint(&format!(
        "grant\u{1f}{}\u{1f}{}",
        grant.summary.id, grant.summary.ends
    ))
}

fn contract_key(contract: &ContractEnd) -> String {
    fingerprint(&format!(
        "contract\u{1f}{}\u{1f}{}",
        contract.person, contract.ends
    ))
}

/// 48 bits of 64-bit FNV-1a (http://www.isthe.com/chongo/tech/comp/fnv/),
/// as 12 hex digits: stable across versions of lapse and Rust (unlike
/// `std`'s hasher), and short enough for thousands in one issue body. A
/// collision, one in 10^10 for a few thousand grants, would leave one
/// grant unannounced in the issue; the description still lists it.
fn fingerprint(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{:012x}", hash & 0xffff_ffff_ffff)
}

/// The fingerprints in the marker, as many as lapse writes at most. Anyone
/// who can edit the issue can change them; the worst they can do is have
/// a grant announced again, or not in this issue.
fn announced_keys(body: &str) -> BTreeSet<String> {
    let Some(start) = body.rfind(ANNOUNCED) else {
        return BTreeSet::new();
    };
    let rest = &body[start + ANNOUNCED.len()..];
    let inside = rest.split("-->").next().unwrap_or_default();
    inside
        .split_whitespace()
        .filter(|token| token.len() == 12 && token.chars().all(|c| c.is_ascii_hexdigit()))
        .take(MAX_KEYS)
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable_and_read_back_from_the_marker() {
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c.
        assert_eq!(fingerprint("a"), "dc4c8601ec8c");
        let body = format!(
            "{MARKER}\ntext\n{ANNOUNCED} dc4c8601ec8c 0123456789ab junk ZZZZZZZZZZZZ -->\n"
        );
        let keys = announced_keys(&body);
        assert_eq!(
            keys.into_iter().collect::<Vec<_>>(),
            ["0123456789ab", "dc4c8601ec8c"]
        );
        assert!(announced_keys("no marker").is_empty());
    }
}
