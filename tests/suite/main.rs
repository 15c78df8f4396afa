//! The test suite: one binary, one module per scenario family, so the
//! library is linked once. Each test runs the real `lapse` binary against
//! repositories it builds.

mod common;
mod history_support;
mod jsonschema;
mod prune_support;
mod render_fixture;
mod repo_fixture;

mod check_grants;
mod check_identity;
mod check_output;
mod check_policy;
mod check_robustness;
mod check_targets;
mod expiring;
mod history_approvals;
mod history_authority;
mod history_base;
mod history_long;
mod history_tree;
mod history_who;
mod new;
mod plain_grant;
mod prune_forge;
mod prune_http_push;
mod prune_local;
mod prune_push;
mod prune_regenerate;
mod readme;
mod render_check;
mod render_injection;
mod render_modules;
mod render_snapshots;
mod render_terraform;
mod sarif;
mod schema;
