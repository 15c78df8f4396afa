//! The words of an offboarding: the commit message (the record `git log`
//! keeps of who lost which access, and why) and the pull request. Like
//! prune's, none carries the time of the run, so a rerun that changes
//! nothing leaves the pull request alone.

use chrono::{DateTime, Utc};

use crate::model::Grant;
use crate::model::lifecycle::GrantEnd;
use crate::model::timestamp::format_timestamp;
use crate::prune::GrantSummary;
use crate::prune::summary::{markdown_cell, single_line};

use super::Offboarding;

/// A grant the offboarding removes or cuts short, as readers see it.
pub fn summaries(grants: &[(Grant, Option<GrantEnd>)]) -> Vec<GrantSummary> {
    grants
        .iter()
        .map(|(grant, end)| match (grant.expires_at(), end) {
            (Some(expires), Some(end)) => GrantSummary::ending(grant, expires, *end, false),
            _ => {
                let written = grant
                    .file
                    .expires
                    .as_ref()
                    .map_or_else(|| "none".to_owned(), |text| single_line(text));
                GrantSummary::unended(grant, written, false)
            }
        })
        .collect()
}

pub fn title(offboarding: &Offboarding) -> String {
    let person = single_line(&offboarding.person);
    match offboarding.at {
        None => format!("Offboard {person}"),
        Some(at) => format!("End the access of {person} at {}", format_timestamp(&at)),
    }
}

pub fn commit_message(offboarding: &Offboarding) -> String {
    let mut message = format!("{}\n\n{}\n", title(offboarding), intro(offboarding));
    if let Some(edit) = &offboarding.policy {
        message.push_str("\nlapse.yaml:\n");
        for change in &edit.changes {
            message.push_str(&format!("- {}\n", single_line(change)));
        }
    }
    let (heading, grants) = grant_list(offboarding);
    if !grants.is_empty() {
        message.push_str(&format!("\n{heading}:\n"));
    }
    for grant in summaries(grants) {
        message.push_str(&format!(
            "\n- {} ({})\n  role: {}\n  was to end: {}\n  approved by: {}\n",
            single_line(&grant.id),
            single_line(&grant.path.display().to_string()),
            single_line(&grant.role),
            grant.ends_text(),
            single_line(&grant.approvers_text()),
        ));
    }
    message
}

/// What the commit does, in one sentence.
fn intro(offboarding: &Offboarding) -> String {
    let person = single_line(&offboarding.person);
    match (offboarding.at, offboarding.contract_was) {
        (None, _) => format!(
            "lapse offboard removes {person} from lapse.yaml (people, groups, role approvers, owners) and removes every grant whose subject they are; their access ends once this is merged and applied."
        ),
        (Some(at), was) => format!(
            "lapse offboard sets the contract_ends of {person} to {} ({}): every grant of theirs ends then, and approvals they record after it count for nothing.",
            format_timestamp(&at),
            describe_was(was)
        ),
    }
}

fn describe_was(was: Option<DateTime<Utc>>) -> String {
    match was {
        Some(was) => format!("it was {}", format_timestamp(&was)),
        None => "it was not set".to_owned(),
    }
}

/// The grants the commit affects, with how to name them.
fn grant_list(offboarding: &Offboarding) -> (&'static str, &[(Grant, Option<GrantEnd>)]) {
    match offboarding.at {
        None => ("Removed grants", &offboarding.removed),
        Some(_) => (
            "Grants that now end with the contract",
            &offboarding.cut_short,
        ),
    }
}

pub fn pull_request_body(offboarding: &Offboarding, regenerated: bool) -> String {
    let mut body = format!("{}\n\n", markdown_cell(&intro(offboarding)));
    if let Some(edit) = &offboarding.policy {
        body.push_str("Changes to `lapse.yaml`:\n\n");
        for change in &edit.changes {
            body.push_str(&format!("- {}\n", markdown_cell(change)));
        }
        body.push('\n');
    }
    let (heading, grants) = grant_list(offboarding);
    if !grants.is_empty() {
        body.push_str(&format!(
            "{heading}:\n\n| Grant | Role | Was to end | Approvers |\n|---|---|---|---|\n"
        ));
        for grant in summaries(grants) {
            body.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                markdown_cell(&grant.id),
                markdown_cell(&grant.role),
                markdown_cell(&grant.ends_text()),
                markdown_cell(&grant.approvers_text()),
            ));
        }
        body.push('\n');
    }
    if regenerated {
        body.push_str(
            "`generated/` is refreshed, so that the next `terraform apply` revokes the access.\n\n",
        );
    }
    body.push_str(
        "Offboarding never waits: `lapse check` passes on this change, with warnings on grants it cuts short. \
         Opened by `lapse offboard`; do not push other changes to this branch, a rerun replaces it.\n",
    );
    body
}
