//! The test suite: one binary, one module per scenario family, so the
//! library is linked once. Each test runs the real `lapse` binary against
//! repositories it builds.

mod common;
mod history_support;
mod jsonschema;
mod notify_support;
mod prune_support;
mod render_fixture;
mod repo_fixture;

mod action_install;
mod check_grants;
mod check_output;
mod check_policy;
mod check_robustness;
mod check_targets;
mod codeowners;
mod conventions;
mod expiring;
mod extend;
mod forge_reviews;
mod gitlab_report;
mod history_approvals;
mod history_authority;
mod history_base;
mod history_long;
mod history_signed;
mod history_trailers;
mod history_tree;
mod history_who;
mod identities;
mod init;
mod lifecycle;
mod new;
mod notify;
mod offboard;
mod plain_grant;
mod prune_forge;
mod prune_http_push;
mod prune_lifecycle;
mod prune_local;
mod prune_push;
mod prune_regenerate;
mod prune_subdir;
mod readme;
mod readme_walkthroughs;
mod render_check;
mod render_injection;
mod render_modules;
mod render_snapshots;
mod sarif;
mod schema;
mod terminal_escapes;
mod timestamps;
mod version;
