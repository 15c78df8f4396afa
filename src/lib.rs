//! lapse: time-bound access grants kept as YAML in a git repository,
//! checked in CI, rendered to Terraform whose expiry the cloud enforces,
//! and removed through pull requests once expired.

pub mod audit;
pub mod cli;
pub mod codeowners;
pub mod commands;
pub mod diagnostic;
pub mod forge;
pub mod history;
pub mod load;
pub mod model;
pub mod notify;
pub mod offboard;
pub mod output;
pub mod parallel;
pub mod prune;
pub mod render;
pub mod request;
pub mod rules;
pub mod scaffold;
pub mod targets;
pub mod uri;
pub mod verdict;
