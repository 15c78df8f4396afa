//! Render of 10,000 active grants, model built in process: prints the total
//! time and the cost per grant. `cargo bench --bench render`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use lapse::load::{parse_grant, parse_policy};
use lapse::model::Grant;
use lapse::render::{RenderOptions, SplitBy, TemplateSet, render_files};

const GRANTS: usize = 10_000;
const TEAMS: usize = 20;

const POLICY: &str = r#"version: 1
people:
  alex@contractor.example:
    aws: arn:aws:iam::123456789012:role/contractor-alex
    gcp: user:alex@contractor.example
    azure: 00000000-0000-0000-0000-000000000001
    github: alex-gh
  maria@example.com:
    aws: arn:aws:iam::123456789012:user/maria
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
  reader:
    gcp: {project: payments-prod, role: roles/bigquery.dataViewer}
  rg-reader:
    azure: {scope: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/payments, role: Reader}
  pusher:
    github: {repository: example/payments, permission: push}
  viewer:
    kubernetes: {namespace: payments, cluster_role: view}
"#;

const ROLES: [&str; 5] = ["deployer", "reader", "rg-reader", "pusher", "viewer"];

fn grants() -> Vec<Grant> {
    (0..GRANTS)
        .map(|n| {
            let subject = if n % 7 == 0 { "group:leads" } else { "maria@example.com" };
            let text = format!(
                "subject: {subject}\nrole: {}\nreason: \"Grant {n}: deploy ${{x}} \\\" quoted\"\nticket: PAY-{n}\napprovers: [alex@contractor.example]\nexpires: 2026-12-06T17:00:00Z\n",
                ROLES[n % ROLES.len()]
            );
            let path = PathBuf::from(format!("grants/team-{}/grant-{n}.yaml", n % TEAMS));
            parse_grant(&path, &text).expect("generated grant parses")
        })
        .collect()
}

fn main() {
    let policy = parse_policy(Path::new("lapse.yaml"), POLICY).expect("policy parses");
    let grants = grants();
    let now: DateTime<Utc> = "2026-11-23T00:00:00Z".parse().expect("timestamp");
    let templates = TemplateSet::builtin();
    for (label, split_by) in [
        ("one root module", None),
        ("split by team", Some(SplitBy::Team)),
    ] {
        let options = RenderOptions {
            out_dir: PathBuf::from("generated"),
            split_by,
        };
        // One warm-up run, then the best of three.
        let mut best = f64::MAX;
        let mut bytes = 0;
        for _ in 0..4 {
            let start = Instant::now();
            let files = render_files(&policy, &grants, now, &templates, &options).expect("renders");
            best = best.min(start.elapsed().as_secs_f64());
            bytes = files.values().map(String::len).sum();
            black_box(files);
        }
        println!(
            "render {GRANTS} grants ({label}): {:.1} ms, {:.1} µs per grant, {:.1} MB of HCL",
            best * 1e3,
            best * 1e6 / GRANTS as f64,
            bytes as f64 / 1e6
        );
    }
}
