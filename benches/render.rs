//! Render of 10,000 active grants, model built in process: the five
//! targets lapse had before Identity Center and GitHub teams, against the
//! same number of grants spread over all seven, in the same run. Prints
//! each total, the cost per grant, and the ratio per grant (goal: at most
//! 1.1x). `cargo bench --bench render`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use lapse::load::{parse_grant, parse_policy};
use lapse::model::{Grant, Policy};
use lapse::render::{RenderOptions, SplitBy, TemplateSet, render_files};

const GRANTS: usize = 10_000;
const TEAMS: usize = 20;
/// Rounds in which the measures take turns; each keeps its best.
const ROUNDS: usize = 5;

const POLICY: &str = r#"version: 1
people:
  alex@contractor.example:
    aws: arn:aws:iam::123456789012:role/contractor-alex
    aws_sso: 906771dd1c-8f2a4c6e-9d1b-4a5e-8f9b-2c4d6e8f0a1b
    gcp: user:alex@contractor.example
    azure: 00000000-0000-0000-0000-000000000001
    github: alex-gh
  maria@example.com:
    aws: arn:aws:iam::123456789012:user/maria
    aws_sso: 3b7e2a41-5c8d-4f19-a6e2-7d9b0c4f1e58
    gcp: user:maria@example.com
    azure: 00000000-0000-0000-0000-000000000002
    github: maria-gh
groups:
  leads: [alex@contractor.example, maria@example.com]
roles:
  deployer:
    aws:
      account: "123456789012"
      statements:
        - actions: [ecs:UpdateService, ecs:DescribeServices]
          resources: ["arn:aws:ecs:eu-west-1:123456789012:service/payments/*"]
  sso-deployer:
    aws_sso:
      instance: arn:aws:sso:::instance/ssoins-1234567890abcdef
      account: "123456789012"
      statements:
        - actions: [ecs:UpdateService, ecs:DescribeServices]
          resources: ["arn:aws:ecs:eu-west-1:123456789012:service/payments/*"]
  reader:
    gcp: {project: payments-prod, role: roles/bigquery.dataViewer}
  rg-reader:
    azure: {scope: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/payments, role: Reader}
  pusher:
    github: {repository: example/payments, permission: push}
  team-member:
    github: {team: example/payments}
  viewer:
    kubernetes: {namespace: payments, cluster_role: view}
"#;

/// The roles of the five targets lapse had before, and of all seven.
const FIVE: &[&str] = &["deployer", "reader", "rg-reader", "pusher", "viewer"];
const SEVEN: &[&str] = &[
    "deployer",
    "sso-deployer",
    "reader",
    "rg-reader",
    "pusher",
    "team-member",
    "viewer",
];

fn grants(roles: &[&str]) -> Vec<Grant> {
    (0..GRANTS)
        .map(|n| {
            let subject = if n % 7 == 0 { "group:leads" } else { "maria@example.com" };
            let text = format!(
                "subject: {subject}\nrole: {}\nreason: \"Grant {n}: deploy ${{x}} \\\" quoted\"\nticket: PAY-{n}\napprovers: [alex@contractor.example]\nexpires: 2026-12-06T17:00:00Z\n",
                roles[n % roles.len()]
            );
            let path = PathBuf::from(format!("grants/team-{}/grant-{n}.yaml", n % TEAMS));
            parse_grant(&path, &text).expect("generated grant parses")
        })
        .collect()
}

/// One measure: a set of grants and a layout.
struct Measure {
    label: &'static str,
    grants: Vec<Grant>,
    split_by: Option<SplitBy>,
    best: f64,
    bytes: usize,
}

impl Measure {
    fn new(label: &'static str, roles: &[&str], split_by: Option<SplitBy>) -> Self {
        Self {
            label,
            grants: grants(roles),
            split_by,
            best: f64::MAX,
            bytes: 0,
        }
    }

    fn run(&mut self, policy: &Policy, now: DateTime<Utc>, templates: &TemplateSet) {
        let options = RenderOptions {
            out_dir: PathBuf::from("generated"),
            split_by: self.split_by,
        };
        let start = Instant::now();
        let files = render_files(policy, &self.grants, now, templates, &options).expect("renders");
        self.best = self.best.min(start.elapsed().as_secs_f64());
        self.bytes = files.values().map(String::len).sum();
        black_box(files);
    }

    fn per_grant(&self) -> f64 {
        self.best * 1e6 / GRANTS as f64
    }
}

fn main() {
    let policy = parse_policy(Path::new("lapse.yaml"), POLICY).expect("policy parses");
    let now: DateTime<Utc> = "2026-11-23T00:00:00Z".parse().expect("timestamp");
    let templates = TemplateSet::builtin();
    let mut measures = [
        Measure::new("five targets, one root module", FIVE, None),
        Measure::new("seven targets, one root module", SEVEN, None),
        Measure::new("seven targets, split by team", SEVEN, Some(SplitBy::Team)),
        Measure::new(
            "seven targets, split by target",
            SEVEN,
            Some(SplitBy::Target),
        ),
    ];
    // A warm-up round, then the measures take turns, so that a slow moment
    // of a shared machine does not fall on one of them only.
    for round in 0..=ROUNDS {
        for measure in &mut measures {
            measure.run(&policy, now, &templates);
            if round == 0 {
                measure.best = f64::MAX;
            }
        }
    }
    for measure in &measures {
        println!(
            "render {GRANTS} grants ({}): {:.1} ms, {:.1} µs per grant, {:.1} MB of HCL",
            measure.label,
            measure.best * 1e3,
            measure.per_grant(),
            measure.bytes as f64 / 1e6
        );
    }
    println!(
        "seven targets against five, per grant: {:.2}x (goal: at most 1.10x)",
        measures[1].per_grant() / measures[0].per_grant()
    );
}
