//! Files to model: the policy, the grants tree, with positions kept for
//! every field. Nothing here judges a grant; that is `rules`.

pub mod grant;
pub mod plain_grant;
pub mod policy;
pub mod tree;
pub mod yaml;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::diagnostic::{Diagnostic, Rule, Severity};
use crate::model::{Grant, Policy, Position};

pub use grant::{is_valid_grant_id, parse_grant};
pub use policy::parse_policy;

pub const POLICY_FILE: &str = "lapse.yaml";
pub const GRANTS_DIR: &str = "grants";
/// Template overrides (`lapse render`); part of the policy for `owners`.
pub const TEMPLATES_DIR: &str = "templates";
/// The Terraform modules rendered code calls; part of the policy for `owners`.
pub const MODULES_DIR: &str = "modules";

/// Largest `lapse.yaml` lapse reads. The policy grows with the organisation
/// (a person is about five lines, a role about ten), so the grant bound
/// would refuse the policy of a few hundred people; 1 MiB holds thousands
/// while still stopping a hostile file before it is read into memory.
pub const MAX_POLICY_BYTES: u64 = 1024 * 1024;

pub const DUPLICATE_GRANT_ID: Rule = Rule {
    id: "duplicate-grant-id",
    severity: Severity::Error,
    summary: "two grant files share a file stem, so their ids collide",
    help: "grant ids are unique across the repository: rename one of the files",
};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{} not found: run lapse in a grants repository or pass --repo DIR", .0.display())]
    PolicyMissing(PathBuf),
    #[error("cannot read {}: {reason}", .path.display())]
    Unreadable { path: PathBuf, reason: String },
    #[error("the policy is invalid:\n{}", .0.iter().map(Diagnostic::one_line).collect::<Vec<_>>().join("\n"))]
    InvalidPolicy(Vec<Diagnostic>),
}

impl LoadError {
    /// Findings to show with source snippets, when the error has them.
    pub fn findings(&self) -> &[Diagnostic] {
        match self {
            Self::InvalidPolicy(findings) => findings,
            _ => &[],
        }
    }
}

/// The text of every file findings may point into, for source snippets.
/// Keyed by the path's bytes: hashing a `Path` walks its components, which
/// was a measurable part of loading ten thousand grants.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    texts: HashMap<OsString, String>,
}

impl Sources {
    pub fn insert(&mut self, path: PathBuf, text: String) {
        self.texts.insert(path.into_os_string(), text);
    }

    pub fn reserve(&mut self, additional: usize) {
        self.texts.reserve(additional);
    }

    /// Takes in every text of `other`.
    pub fn append(&mut self, mut other: Sources) {
        // Into the larger map, so that the ten thousand grant texts are
        // not hashed again for the policy's sake.
        if other.texts.len() > self.texts.len() {
            std::mem::swap(self, &mut other);
        }
        self.texts.extend(other.texts);
    }

    pub fn get(&self, path: &Path) -> Option<&str> {
        self.texts.get(path.as_os_str()).map(String::as_str)
    }
}

/// A grants repository as read from disk.
#[derive(Debug)]
pub struct Workspace {
    pub root: PathBuf,
    pub policy: Policy,
    pub grants: Vec<Grant>,
    /// Findings made while loading: unreadable or malformed grant files.
    pub findings: Vec<Diagnostic>,
    pub sources: Sources,
}

/// Reads the policy (fatal if broken) and every grant (findings if broken).
pub fn load_workspace(root: &Path) -> Result<Workspace, LoadError> {
    let mut sources = Sources::default();
    let policy = load_policy(root, &mut sources)?;
    let (grants, findings) = load_grants(root, &mut sources);
    Ok(Workspace {
        root: root.to_path_buf(),
        policy,
        grants,
        findings,
        sources,
    })
}

/// Reads every grant under `grants/`; unreadable or malformed files become
/// findings. The texts are kept in `sources`.
pub fn load_grants(root: &Path, sources: &mut Sources) -> (Vec<Grant>, Vec<Diagnostic>) {
    let (tree, mut findings) = tree::grant_tree_parts(root, Path::new(GRANTS_DIR));
    let loaded = load_parts(&tree);
    let files = loaded.iter().map(|(_, files)| files.len()).sum();
    let mut grants = Vec::with_capacity(files);
    sources.reserve(files);
    for (refusals, files) in loaded {
        findings.extend(refusals);
        for (path, loaded) in files {
            let (text, parsed) = match loaded {
                Ok(read) => read,
                Err(refusal) => {
                    findings.push(refusal);
                    continue;
                }
            };
            match parsed {
                Ok(grant) => grants.push(grant),
                Err(finding) => findings.push(finding),
            }
            sources.insert(path, text);
        }
    }
    findings.extend(duplicate_ids(&grants));
    (grants, findings)
}

/// A grant file's text and what parsing it gave, or why it was not read.
type Loaded = Result<(String, Result<Grant, Diagnostic>), Diagnostic>;

/// One part of the grants tree loaded: the refusals met listing it, and
/// each of its files with what loading it gave.
type LoadedPart = (Vec<Diagnostic>, Vec<(PathBuf, Loaded)>);

/// Lists, reads and parses the parts of the grants tree on every core, each
/// part to whichever thread is free, results in the order of `parts`: for a
/// large repository, opening the files and parsing them are most of the
/// cost of a check.
fn load_parts(tree: &tree::GrantsTree) -> Vec<LoadedPart> {
    let parts = &tree.parts;
    let workers = crate::parallel::cores();
    let next_part = AtomicUsize::new(0);
    let take_parts = || {
        let mut done = Vec::new();
        loop {
            let index = next_part.fetch_add(1, Ordering::Relaxed);
            let Some(part) = parts.get(index) else {
                return done;
            };
            done.push((index, load_part(tree, part)));
        }
    };
    let mut done: Vec<(usize, LoadedPart)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers.min(parts.len()))
            .map(|_| scope.spawn(take_parts))
            .collect();
        crate::parallel::join_all(handles)
            .into_iter()
            .flatten()
            .collect()
    });
    done.sort_unstable_by_key(|(index, _)| *index);
    done.into_iter().map(|(_, part)| part).collect()
}

fn load_part(tree: &tree::GrantsTree, part: &tree::Part) -> LoadedPart {
    let mut refusals = Vec::new();
    let mut files = Vec::new();
    tree::read_part(tree, part, &mut refusals, &mut |path, text| {
        let loaded = text.map(|text| {
            let parsed = parse_grant(&path, &text);
            (text, parsed)
        });
        files.push((path, loaded));
    });
    (refusals, files)
}

/// Reads and validates `lapse.yaml`; its text is kept in `sources`.
pub fn load_policy(root: &Path, sources: &mut Sources) -> Result<Policy, LoadError> {
    let path = root.join(POLICY_FILE);
    let meta =
        std::fs::symlink_metadata(&path).map_err(|_| LoadError::PolicyMissing(path.clone()))?;
    if meta.file_type().is_symlink() {
        return Err(LoadError::Unreadable {
            path,
            reason: "it is a symbolic link; lapse does not follow links".into(),
        });
    }
    let text =
        tree::read_at_most(&path, MAX_POLICY_BYTES).map_err(|reason| LoadError::Unreadable {
            path: path.clone(),
            reason,
        })?;
    let relative = PathBuf::from(POLICY_FILE);
    sources.insert(relative.clone(), text.clone());
    parse_policy(&relative, &text).map_err(LoadError::InvalidPolicy)
}

fn duplicate_ids(grants: &[Grant]) -> Vec<Diagnostic> {
    let mut first_by_id: HashMap<&str, &Grant> = HashMap::with_capacity(grants.len());
    let mut findings = Vec::new();
    for grant in grants {
        match first_by_id.entry(&grant.id) {
            Entry::Occupied(first) => findings.push(DUPLICATE_GRANT_ID.at(
                &grant.path,
                Position::new(1, 1),
                format!(
                    "grant id `{}` is also used by {}",
                    grant.id,
                    first.get().path.display()
                ),
            )),
            Entry::Vacant(slot) => {
                slot.insert(grant);
            }
        }
    }
    findings
}
