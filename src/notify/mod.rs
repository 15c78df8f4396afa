//! Warnings that reach people: `lapse expiring --notify slack|teams|github-issue`.
//!
//! Each grant is announced once per window, not every day, without a
//! database:
//! - **GitHub issue**: one issue, found by its label and marker, is the
//!   state. Its body lists what ends in the window now and, in a hidden
//!   marker, which grants (and contract ends) were announced; a run posts
//!   one comment, naming the people by their GitHub logins, for what is in
//!   the window and not yet announced, then rewrites the body. A rerun
//!   finds everything announced and sends nothing.
//! - **Slack and Teams webhooks** keep no state, so a run announces what
//!   enters the window during the run's slot: with `--every 1d` (the
//!   schedule's period), the UTC day the run falls in. A grant enters the
//!   window when its end is `within` away, or when it starts, if it starts
//!   inside the window. A daily job therefore announces each grant on one
//!   day, whatever hour the job runs at.
//!
//! Break-glass grants (roles with `break_glass`) are announced loudly in
//! every channel.

pub mod github_issue;
mod people;
pub mod slack;
pub mod teams;
mod webhook;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::forge::{ForgeError, ForgeKind};
use crate::model::{Directory, GrantDuration, Policy};
use crate::prune::summary::single_line;
use crate::prune::window::{ContractEnd, EndingGrant, ExpiryWindow};

pub use people::Naming;

/// Where warnings go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    /// A Slack incoming webhook, from LAPSE_SLACK_WEBHOOK.
    Slack,
    /// A Microsoft Teams webhook (Workflows, or a legacy incoming
    /// webhook), from LAPSE_TEAMS_WEBHOOK.
    Teams,
    /// One GitHub issue kept up to date (GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_TOKEN).
    GithubIssue,
}

impl Channel {
    pub fn name(self) -> &'static str {
        match self {
            Self::Slack => "Slack",
            Self::Teams => "Teams",
            Self::GithubIssue => "the GitHub issue",
        }
    }
}

/// What a run knows before it notifies anyone.
pub struct Warnings<'a> {
    pub now: DateTime<Utc>,
    pub within: GrantDuration,
    /// How often the job runs: a webhook run announces what enters the
    /// window in this period.
    pub every: GrantDuration,
    pub policy: &'a Policy,
    pub directory: &'a Directory,
    /// Every grant ending by the end of the run's slot plus the window,
    /// soonest first (`ExpiryWindow::select` over `Warnings::horizon`).
    pub grants: &'a [EndingGrant],
    /// Every contract ending by the same instant.
    pub contracts: &'a [ContractEnd],
}

/// What one channel announced.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub channel: Channel,
    /// Ids of the grants announced in this run.
    pub grants: Vec<String>,
    /// People whose contract end was announced in this run.
    pub contracts: Vec<String>,
    /// The GitHub issue that holds the warnings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue: Option<IssueLink>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IssueLink {
    pub number: u64,
    pub url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Forge(#[from] ForgeError),
    #[error(
        "--notify {channel} needs {variable}: the webhook URL, kept in a CI secret (it is a credential: anyone who has it can post)"
    )]
    MissingWebhook {
        channel: &'static str,
        variable: &'static str,
    },
    #[error(
        "{variable} is not an http or https URL; set it to the webhook URL that {service} gave"
    )]
    InvalidWebhook {
        service: &'static str,
        variable: &'static str,
    },
    #[error(
        "cannot reach {service} at {origin} ({reason}); check {variable} and the network, then rerun lapse expiring"
    )]
    WebhookUnreachable {
        service: &'static str,
        origin: String,
        reason: String,
        variable: &'static str,
    },
    #[error(
        "{service} answered {status} to the webhook ({said}); {fix}, then rerun lapse expiring"
    )]
    WebhookRefused {
        service: &'static str,
        status: String,
        said: String,
        fix: String,
    },
}

impl<'a> Warnings<'a> {
    /// The last instant a run at `now` with `every` and `within` may need:
    /// grants ending later enter the window after this run's slot.
    pub fn horizon(
        now: DateTime<Utc>,
        within: GrantDuration,
        every: GrantDuration,
    ) -> ExpiryWindow {
        let slot = Slot::containing(now, every);
        ExpiryWindow {
            from: now,
            until: slot.until.max(now) + within.as_time_delta(),
        }
    }

    /// The window the report shows: `(now, now + within]`.
    pub fn window(&self) -> ExpiryWindow {
        ExpiryWindow::starting_at(self.now, self.within)
    }

    /// The grants whose access ends in the window now.
    pub fn grants_in_window(&self) -> impl Iterator<Item = &'a EndingGrant> + use<'a> {
        let window = self.window();
        self.grants
            .iter()
            .filter(move |grant| window.contains(grant.end.at))
    }

    pub fn contracts_in_window(&self) -> impl Iterator<Item = &'a ContractEnd> + use<'a> {
        let window = self.window();
        self.contracts
            .iter()
            .filter(move |contract| window.contains(contract.at))
    }

    /// The grants that enter the window during this run's slot, for
    /// channels that keep no state.
    pub fn grants_entering(&self) -> Vec<&'a EndingGrant> {
        let slot = Slot::containing(self.now, self.every);
        let within = self.within.as_time_delta();
        self.grants
            .iter()
            .filter(|grant| grant.end.at > self.now)
            .filter(|grant| {
                let entry = grant.starts.map_or(grant.end.at - within, |starts| {
                    (grant.end.at - within).max(starts)
                });
                slot.contains(entry)
            })
            .collect()
    }

    pub fn contracts_entering(&self) -> Vec<&'a ContractEnd> {
        let slot = Slot::containing(self.now, self.every);
        let within = self.within.as_time_delta();
        self.contracts
            .iter()
            .filter(|contract| contract.at > self.now && slot.contains(contract.at - within))
            .collect()
    }

    /// How people are named in this run's messages.
    pub fn naming(&self, forge: ForgeKind) -> Naming<'a> {
        Naming::new(self.policy, self.directory, forge)
    }
}

/// One grant or contract end in a chat message, in plain words; each
/// channel formats and escapes it its own way.
struct Item {
    /// A break-glass grant, shown so that nobody misses it.
    loud: bool,
    title: String,
    detail: String,
}

/// The chat items for what this run announces: break-glass grants first
/// (then soonest first), then contract ends.
fn chat_items(
    warnings: &Warnings,
    grants: &[&EndingGrant],
    contracts: &[&ContractEnd],
    naming: &Naming,
) -> Vec<Item> {
    let mut ordered: Vec<&&EndingGrant> = grants.iter().collect();
    ordered.sort_by_key(|grant| !grant.summary.break_glass);
    let grant_items = ordered.into_iter().map(|grant| {
        let summary = &grant.summary;
        let loud = if summary.break_glass {
            "BREAK-GLASS grant "
        } else {
            ""
        };
        Item {
            loud: summary.break_glass,
            title: format!(
                "{loud}{} ends {} at {}",
                single_line(&summary.id),
                time_until(warnings.now, grant.end.at),
                summary.ends_text(),
            ),
            detail: format!(
                "{} · {} · approved by {}",
                naming.subject(grant),
                single_line(&summary.role),
                naming.approvers(grant),
            ),
        }
    });
    let contract_items = contracts.iter().map(|contract| Item {
        loud: false,
        title: contract_sentence(contract, &naming.label(&contract.person), warnings.now),
        detail: match contract.grants.as_slice() {
            [] => "No grant ends with it.".to_owned(),
            ids => format!(
                "Ending with it: {}",
                ids.iter()
                    .map(|id| single_line(id))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    });
    grant_items.chain(contract_items).collect()
}

/// "2 grants and 1 contract end within 7d".
fn headline(within: GrantDuration, grants: usize, contracts: usize) -> String {
    let contracts_text = match contracts {
        1 => "1 contract".to_owned(),
        n => format!("{n} contracts"),
    };
    match (grants, contracts) {
        (0, _) => format!(
            "{contracts_text} end{} within {within}",
            if contracts == 1 { "s" } else { "" }
        ),
        (_, 0) => format!("{} within {within}", count_grants(grants, "ends", "end")),
        _ => format!(
            "{} and {contracts_text} end within {within}",
            match grants {
                1 => "1 grant".to_owned(),
                n => format!("{n} grants"),
            }
        ),
    }
}

/// What a webhook run announces, and the delivery that records it.
fn entering<'a>(
    warnings: &Warnings<'a>,
    channel: Channel,
) -> (Vec<&'a EndingGrant>, Vec<&'a ContractEnd>, Delivery) {
    let grants = warnings.grants_entering();
    let contracts = warnings.contracts_entering();
    let delivery = Delivery {
        channel,
        grants: grants.iter().map(|g| g.summary.id.clone()).collect(),
        contracts: contracts.iter().map(|c| c.person.clone()).collect(),
        issue: None,
    };
    (grants, contracts, delivery)
}

/// The forge whose logins name people in chat: the one the job's
/// environment names, else GitHub.
fn chat_forge(env: &dyn Fn(&str) -> Option<String>) -> ForgeKind {
    crate::forge::detect(env, crate::forge::Purpose::KeepIssue).unwrap_or(ForgeKind::GitHub)
}

/// Sends the warnings to `channel`.
pub fn deliver(
    channel: Channel,
    warnings: &Warnings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Delivery, NotifyError> {
    match channel {
        Channel::Slack => slack::announce(warnings, env),
        Channel::Teams => teams::announce(warnings, env),
        Channel::GithubIssue => github_issue::keep(warnings, env),
    }
}

/// The period of the schedule a run falls in, aligned on the Unix epoch:
/// `[from, until)`. Daily slots are UTC days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    from: DateTime<Utc>,
    until: DateTime<Utc>,
}

impl Slot {
    fn containing(now: DateTime<Utc>, every: GrantDuration) -> Self {
        let length = every.as_time_delta().num_seconds().max(1);
        let start = now.timestamp().div_euclid(length) * length;
        let from = DateTime::from_timestamp(start, 0).unwrap_or(now);
        Self {
            from,
            until: from + TimeDelta::seconds(length),
        }
    }

    fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.from <= instant && instant < self.until
    }
}

/// "in 5 days", "in 3 hours", "within the hour": how far off an end is,
/// for a sentence.
pub fn time_until(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    let left = at - now;
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("in 1 {unit}")
        } else {
            format!("in {n} {unit}s")
        }
    };
    match (left.num_days(), left.num_hours()) {
        (days, _) if days >= 1 => plural(days, "day"),
        (_, hours) if hours >= 1 => plural(hours, "hour"),
        _ => "within the hour".to_owned(),
    }
}

/// "3 grants end", "1 grant ends".
pub fn count_grants(count: usize, verb_singular: &str, verb_plural: &str) -> String {
    match count {
        1 => format!("1 grant {verb_singular}"),
        n => format!("{n} grants {verb_plural}"),
    }
}

/// The sentence for a contract end: "Contract of alex@example.com (alex-gh)
/// ends in 5 days (2026-12-15T00:00:00Z): 3 grants end with it".
pub fn contract_sentence(contract: &ContractEnd, who: &str, now: DateTime<Utc>) -> String {
    format!(
        "Contract of {who} ends {} ({}): {} with it",
        time_until(now, contract.at),
        contract.ends,
        count_grants(contract.grants.len(), "ends", "end"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::timestamp::parse_timestamp;

    fn at(text: &str) -> DateTime<Utc> {
        parse_timestamp(text).unwrap()
    }

    #[test]
    fn daily_slots_are_utc_days_whatever_the_hour_of_the_run() {
        let day: GrantDuration = "1d".parse().unwrap();
        for now in [
            "2026-12-10T00:00:00Z",
            "2026-12-10T06:30:00Z",
            "2026-12-10T23:59:59Z",
        ] {
            let slot = Slot::containing(at(now), day);
            assert_eq!(slot.from, at("2026-12-10T00:00:00Z"), "{now}");
            assert_eq!(slot.until, at("2026-12-11T00:00:00Z"), "{now}");
        }
        let slot = Slot::containing(at("2026-12-10T13:10:00Z"), "6h".parse().unwrap());
        assert_eq!(slot.from, at("2026-12-10T12:00:00Z"));
    }

    #[test]
    fn headlines_count_grants_and_contracts() {
        let week: GrantDuration = "7d".parse().unwrap();
        assert_eq!(headline(week, 1, 0), "1 grant ends within 7d");
        assert_eq!(headline(week, 3, 0), "3 grants end within 7d");
        assert_eq!(headline(week, 0, 1), "1 contract ends within 7d");
        assert_eq!(
            headline(week, 2, 1),
            "2 grants and 1 contract end within 7d"
        );
    }

    #[test]
    fn times_until_read_as_sentences() {
        let now = at("2026-12-10T00:00:00Z");
        assert_eq!(time_until(now, at("2026-12-15T12:00:00Z")), "in 5 days");
        assert_eq!(time_until(now, at("2026-12-11T00:00:00Z")), "in 1 day");
        assert_eq!(time_until(now, at("2026-12-10T03:00:00Z")), "in 3 hours");
        assert_eq!(
            time_until(now, at("2026-12-10T00:20:00Z")),
            "within the hour"
        );
    }
}
