//! The words of a prune: the commit message, which is the revocation
//! record that `git log` keeps, and the pull-request title and body, each
//! saying why every grant goes and how to ask for it again. None of them
//! carries the time of the run, so a rerun that removes the same grants
//! produces the same text and leaves the pull request alone.

use super::select::{RemovedGrant, Why};
use super::summary::{markdown_cell, single_line};

impl Why {
    /// How the reason reads in a list: "expired", "contract ended", "orphaned".
    pub fn word(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::ContractEnded => "contract ended",
            Self::Orphaned => "orphaned",
        }
    }
}

pub fn title(removed: &[RemovedGrant]) -> String {
    let only = |why| removed.iter().all(|grant| grant.removed_because == why);
    match removed {
        [one] => match one.removed_because {
            Why::Expired => format!("Remove expired grant {}", single_line(&one.summary.id)),
            Why::ContractEnded => format!(
                "Remove grant {}: its subject's contract ended",
                single_line(&one.summary.id)
            ),
            Why::Orphaned => format!("Remove orphaned grant {}", single_line(&one.summary.id)),
        },
        _ if only(Why::Expired) => format!("Remove {} expired grants", removed.len()),
        _ if only(Why::ContractEnded) => format!(
            "Remove {} grants whose subject's contract ended",
            removed.len()
        ),
        _ if only(Why::Orphaned) => format!("Remove {} orphaned grants", removed.len()),
        _ => format!("Remove {} grants: {}", removed.len(), counts(removed)),
    }
}

/// "2 expired, 1 contract ended, 1 orphaned", leaving out the reasons no
/// grant has.
fn counts(removed: &[RemovedGrant]) -> String {
    [Why::Expired, Why::ContractEnded, Why::Orphaned]
        .into_iter()
        .map(|why| {
            let n = removed.iter().filter(|g| g.removed_because == why).count();
            (why, n)
        })
        .filter(|(_, n)| *n > 0)
        .map(|(why, n)| format!("{n} {}", why.word()))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn commit_message(removed: &[RemovedGrant]) -> String {
    let because = if removed.iter().all(|g| g.removed_because == Why::Expired) {
        "they have expired"
    } else {
        "their access has ended (at their own expiry, or with their subject's contract) or their subject is no longer in lapse.yaml"
    };
    let mut message = format!(
        "{}\n\nlapse prune removes these grants because {because}:\n",
        title(removed)
    );
    for grant in removed {
        let summary = &grant.summary;
        message.push_str(&format!(
            "\n- {} ({})\n  subject: {}\n  role: {}\n  {}\n  approved by: {}\n",
            single_line(&summary.id),
            single_line(&summary.path.display().to_string()),
            single_line(&summary.subject),
            single_line(&summary.role),
            reason_line(grant),
            single_line(&summary.approvers_text()),
        ));
        if let Some(command) = &grant.extend {
            let first = grant
                .extend_after
                .as_ref()
                .map(|after| format!("{}, then ", single_line(after)))
                .unwrap_or_default();
            message.push_str(&format!("  to extend: {first}{command}\n"));
        }
    }
    message
}

/// `expired: T`, `contract ended: T (...)` or `orphaned: S is no longer in
/// lapse.yaml`.
fn reason_line(grant: &RemovedGrant) -> String {
    let summary = &grant.summary;
    match grant.removed_because {
        Why::Expired => format!("expired: {}", summary.expires),
        Why::ContractEnded => format!(
            "contract ended: {} (contract_ends of {}; the grant said it expires {})",
            summary.ends,
            single_line(&summary.subject),
            summary.expires
        ),
        Why::Orphaned => format!(
            "orphaned: {} is no longer in lapse.yaml",
            single_line(&summary.subject)
        ),
    }
}

pub fn pull_request_body(removed: &[RemovedGrant], regenerated: bool) -> String {
    let generated = if regenerated {
        " and refreshes `generated/` so that Terraform drops their resources"
    } else {
        ""
    };
    let what = if removed.iter().all(|g| g.removed_because == Why::Expired) {
        "These grants have expired."
    } else {
        "These grants give no access any more: they have expired, their subject's contract has ended, or their subject is no longer in `lapse.yaml`."
    };
    format!(
        "{what} Merging this pull request removes their files{generated}, \
         so that the repository stops describing access that has ended.\n\n{}\n{}\
         Opened by `lapse prune`. It updates this pull request when more grants end; \
         do not push other changes to this branch, the next run replaces it.\n",
        removal_table(removed),
        extensions(removed),
    )
}

/// A markdown table of the removed grants, escaped as
/// `summary::markdown_table` escapes: grant files are written by whoever
/// opens a pull request.
fn removal_table(removed: &[RemovedGrant]) -> String {
    let mut table = String::from(
        "| Grant | Subject | Role | Ended | Why | Approvers |\n|---|---|---|---|---|---|\n",
    );
    for grant in removed {
        let summary = &grant.summary;
        let loud = if summary.break_glass {
            " **BREAK-GLASS**"
        } else {
            ""
        };
        table.push_str(&format!(
            "| {}{loud} | {} | {} | {} | {} | {} |\n",
            markdown_cell(&summary.id),
            markdown_cell(&summary.subject),
            markdown_cell(&summary.role),
            markdown_cell(&summary.ends),
            grant.removed_because.word(),
            markdown_cell(&summary.approvers_text()),
        ));
    }
    table
}

/// The commands that would request each grant again, in one shell block,
/// and what has to change first for those that ended with a contract. The
/// commands are made of grant ids (`[a-z0-9-]`), durations and timestamps
/// only, so no value can close the block.
fn extensions(removed: &[RemovedGrant]) -> String {
    let commands: Vec<&str> = removed
        .iter()
        .filter_map(|grant| grant.extend.as_deref())
        .collect();
    if commands.is_empty() {
        return String::new();
    }
    let mut text = String::from(
        "To keep access, request an extension before this pull request is merged (it reads the grant file; it is approved like any request):\n\n```sh\n",
    );
    for command in commands {
        text.push_str(command);
        text.push('\n');
    }
    text.push_str("```\n\n");
    for grant in removed {
        if let (Some(after), Some(_)) = (&grant.extend_after, &grant.extend) {
            text.push_str(&format!(
                "- `{}` first needs: {}.\n",
                grant.summary.id,
                markdown_cell(after)
            ));
        }
    }
    if removed.iter().any(|g| g.extend_after.is_some()) {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::lifecycle::EndReason;
    use crate::prune::GrantSummary;

    fn removed(subject: &str, why: Why) -> RemovedGrant {
        RemovedGrant {
            summary: GrantSummary {
                id: "alex-deploy".into(),
                path: "grants/payments/alex-deploy.yaml".into(),
                subject: subject.into(),
                role: "payments-deployer".into(),
                expires: "2026-12-06T17:00:00Z".into(),
                ends: "2026-12-06T17:00:00Z".into(),
                end_reason: EndReason::Expires,
                break_glass: false,
                approvers: vec!["maria@example.com".into(), "li@example.com".into()],
            },
            removed_because: why,
            extend: (why != Why::Orphaned).then(|| "lapse extend alex-deploy --for 14d".into()),
            extend_after: None,
        }
    }

    #[test]
    fn the_commit_message_records_subject_role_why_and_approvers() {
        let message = commit_message(&[removed(
            "alex@contractor.example\nSigned-off-by: mallory",
            Why::Expired,
        )]);
        assert!(message.starts_with("Remove expired grant alex-deploy\n\n"));
        assert!(message.contains("  subject: alex@contractor.example Signed-off-by: mallory\n"));
        assert!(message.contains("  role: payments-deployer\n"));
        assert!(message.contains("  expired: 2026-12-06T17:00:00Z\n"));
        assert!(message.contains("  approved by: maria@example.com, li@example.com\n"));
        assert!(message.contains("  to extend: lapse extend alex-deploy --for 14d\n"));
    }

    #[test]
    fn mixed_reasons_are_counted_in_the_title() {
        let grants = [
            removed("a@example.com", Why::Expired),
            removed("b@example.com", Why::Orphaned),
            removed("c@example.com", Why::Expired),
        ];
        assert_eq!(title(&grants), "Remove 3 grants: 2 expired, 1 orphaned");
        let message = commit_message(&grants);
        assert!(message.contains("  orphaned: b@example.com is no longer in lapse.yaml\n"));
    }
}
