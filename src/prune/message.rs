//! The words of a prune: the commit message, which is the revocation
//! record that `git log` keeps, and the pull-request title and body.
//! None of them carries the time of the run, so a rerun that removes the
//! same grants produces the same text and leaves the pull request alone.

use super::summary::{GrantSummary, markdown_table, single_line};

pub fn title(removed: &[GrantSummary]) -> String {
    match removed {
        [only] => format!("Remove expired grant {}", single_line(&only.id)),
        _ => format!("Remove {} expired grants", removed.len()),
    }
}

pub fn commit_message(removed: &[GrantSummary]) -> String {
    let mut message = format!(
        "{}\n\nlapse prune removes these grants because they have expired:\n",
        title(removed)
    );
    for grant in removed {
        message.push_str(&format!(
            "\n- {} ({})\n  subject: {}\n  role: {}\n  expired: {}\n  approved by: {}\n",
            single_line(&grant.id),
            single_line(&grant.path.display().to_string()),
            single_line(&grant.subject),
            single_line(&grant.role),
            grant.expires,
            single_line(&grant.approvers_text()),
        ));
    }
    message
}

pub fn pull_request_body(removed: &[GrantSummary], regenerated: bool) -> String {
    let generated = if regenerated {
        " and refreshes `generated/` so that Terraform drops their resources"
    } else {
        ""
    };
    format!(
        "These grants have expired. Merging this pull request removes their files{generated}, \
         so that the repository stops describing access that has ended.\n\n{}\n\
         Opened by `lapse prune`. It updates this pull request when more grants expire; \
         do not push other changes to this branch, the next run replaces it.\n",
        markdown_table(removed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commit_message_records_subject_role_expiry_and_approvers() {
        let removed = [GrantSummary {
            id: "alex-deploy".into(),
            path: "grants/payments/alex-deploy.yaml".into(),
            subject: "alex@contractor.example\nSigned-off-by: mallory".into(),
            role: "payments-deployer".into(),
            expires: "2026-12-06T17:00:00Z".into(),
            ends: "2026-12-06T17:00:00Z".into(),
            end_reason: crate::model::lifecycle::EndReason::Expires,
            break_glass: false,
            approvers: vec!["maria@example.com".into(), "li@example.com".into()],
        }];
        let message = commit_message(&removed);
        assert!(message.starts_with("Remove expired grant alex-deploy\n\n"));
        assert!(message.contains("  subject: alex@contractor.example Signed-off-by: mallory\n"));
        assert!(message.contains("  role: payments-deployer\n"));
        assert!(message.contains("  expired: 2026-12-06T17:00:00Z\n"));
        assert!(message.contains("  approved by: maria@example.com, li@example.com\n"));
    }
}
