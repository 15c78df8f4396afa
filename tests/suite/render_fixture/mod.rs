//! A grants repository for render tests: one role per target (GitHub twice:
//! a repository and a team), people with an identity at each, and a grant
//! per role (one of them for a group).

#![allow(dead_code)] // each scenario file uses a different part of it

use std::path::{Path, PathBuf};

use crate::common::{Repo, Run};

pub const NOW: &str = "2026-11-23T00:00:00Z";

pub const POLICY: &str = r#"version: 1
people:
  alex@contractor.example:
    aws: arn:aws:iam::123456789012:role/contractor-alex
    aws_sso: 906771dd1c-8f2a4c6e-9d1b-4a5e-8f9b-2c4d6e8f0a1b
    gcp: user:alex@contractor.example
    azure: 00000000-0000-0000-0000-000000000001
    github: alex-gh
  maria@example.com:
    aws: arn:aws:iam::123456789012:user/maria
    gcp: user:maria@example.com
    azure: 00000000-0000-0000-0000-000000000002
    github: maria-gh
    kubernetes: maria
  li@example.com:
    gcp: user:li@example.com
  sam@example.com: {}
groups:
  payments-leads: [maria@example.com, li@example.com]
roles:
  payments-deployer:
    approvers: [group:payments-leads, sam@example.com]
    aws:
      account: "123456789012"
      statements:
        - actions: [ecs:UpdateService, ecs:DescribeServices]
          resources: ["arn:aws:ecs:eu-west-1:123456789012:service/payments/*"]
  bq-reader:
    approvers: [group:payments-leads, sam@example.com]
    gcp: {project: payments-prod, role: roles/bigquery.dataViewer}
  rg-reader:
    approvers: [group:payments-leads]
    azure: {scope: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/payments, role: Reader}
  repo-push:
    approvers: [group:payments-leads]
    github: {repository: example/payments, permission: push}
  k8s-view:
    approvers: [group:payments-leads]
    kubernetes: {namespace: payments, cluster_role: view}
  k8s-cluster-view:
    approvers: [group:payments-leads]
    kubernetes: {cluster_role: view}
  sso-deployer:
    approvers: [group:payments-leads]
    aws_sso:
      instance: arn:aws:sso:::instance/ssoins-1234567890abcdef
      account: "123456789012"
      statements:
        - actions: [ecs:UpdateService]
          resources: ["arn:aws:ecs:eu-west-1:123456789012:service/payments/*"]
  platform-team:
    approvers: [group:payments-leads]
    github: {team: example/platform}
"#;

/// (path under grants/, text): one active grant per role.
pub const GRANTS: [(&str, &str); 8] = [
    (
        "payments/alex-deploy.yaml",
        "subject: alex@contractor.example\nrole: payments-deployer\nreason: Deploy the payments service for sprint 42\nticket: PAY-123\napprovers: [maria@example.com]\nstarts: 2026-11-22T09:00:00Z\nexpires: 2026-12-06T17:00:00Z\n",
    ),
    (
        "payments/leads-bq.yaml",
        "subject: group:payments-leads\nrole: bq-reader\nreason: Quarterly close analysis\napprovers: [sam@example.com]\nexpires: 2026-12-06T17:00:00+01:00\n",
    ),
    (
        "platform/alex-rg.yaml",
        "subject: alex@contractor.example\nrole: rg-reader\nreason: Read the payments resource group\nticket: OPS-7\napprovers: [maria@example.com]\nexpires: 2026-12-01T00:00:00Z\n",
    ),
    (
        "platform/maria-k8s.yaml",
        "subject: maria@example.com\nrole: k8s-view\nreason: Debug the payments pods\napprovers: [li@example.com]\nexpires: 2026-12-01T00:00:00Z\n",
    ),
    (
        "platform/maria-cluster.yaml",
        "subject: maria@example.com\nrole: k8s-cluster-view\nreason: Look at cluster-wide events\napprovers: [li@example.com]\nexpires: 2026-12-01T00:00:00Z\n",
    ),
    (
        "payments/alex-sso.yaml",
        "subject: alex@contractor.example\nrole: sso-deployer\nreason: Deploy the payments service through the access portal\nticket: PAY-124\napprovers: [maria@example.com]\nstarts: 2026-11-22T09:00:00Z\nexpires: 2026-12-06T17:00:00Z\n",
    ),
    (
        "platform/maria-team.yaml",
        "subject: maria@example.com\nrole: platform-team\nreason: Review the platform team's pull requests\napprovers: [li@example.com]\nexpires: 2026-12-01T00:00:00Z\n",
    ),
    (
        "alex-push.yaml",
        "subject: alex@contractor.example\nrole: repo-push\nreason: Push to the payments repository\napprovers: [maria@example.com]\nexpires: 2026-12-01T00:00:00Z\n",
    ),
];

/// An expired grant and one that has not started at `NOW`: never rendered.
pub const INACTIVE_GRANTS: [(&str, &str); 2] = [
    (
        "payments/old-deploy.yaml",
        "subject: alex@contractor.example\nrole: payments-deployer\nreason: Deploy the payments service last month\napprovers: [maria@example.com]\nexpires: 2026-11-01T00:00:00Z\n",
    ),
    (
        "payments/next-deploy.yaml",
        "subject: alex@contractor.example\nrole: payments-deployer\nreason: Deploy the payments service next month\napprovers: [maria@example.com]\nstarts: 2026-12-07T00:00:00Z\nexpires: 2026-12-10T00:00:00Z\n",
    ),
];

/// The render scenario's repository: `POLICY` and every grant of
/// `GRANTS` and `INACTIVE_GRANTS`.
pub struct Fixture {
    repo: Repo,
}

impl Fixture {
    pub fn new() -> Self {
        let repo = Repo::with_policy(POLICY);
        for (path, text) in GRANTS.iter().chain(&INACTIVE_GRANTS) {
            repo.write(&format!("grants/{path}"), text);
        }
        Self { repo }
    }

    pub fn root(&self) -> &Path {
        self.repo.path()
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.repo.file(relative)
    }

    pub fn write(&self, relative: &str, text: &str) {
        self.repo.write(relative, text);
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).unwrap()
    }

    /// Runs `lapse --repo <fixture> --now NOW render <args>`.
    pub fn render(&self, args: &[&str]) -> Run {
        self.repo.lapse_at(NOW, &[&["render"], args].concat())
    }
}
