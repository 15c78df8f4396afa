//! `lapse render`: the grants active at an instant, as Terraform.
//!
//! [`render_files`] is a pure function from the model to file contents;
//! [`output_dir`] compares them with, or writes them to, a directory.
//! Every value from a grant or the policy reaches HCL only through
//! [`escape::hcl_literal`], which the template environment applies to every
//! `{{ value }}`.

pub mod context;
pub mod escape;
pub mod layout;
pub mod output_dir;
pub mod revocation;
pub mod tags;
pub mod templates;
pub mod terraform_fmt;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use minijinja::Environment;

use crate::model::lifecycle;
use crate::model::{Directory, Grant, Policy};
use crate::targets::{Provider, TargetBlock, TargetKind};

pub use layout::{HEADER, SplitBy};
pub use templates::{TEMPLATES_DIR, TemplateSet};

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("grant `{grant}`: role `{role}` is not in the catalog of lapse.yaml")]
    UnknownRole { grant: String, role: String },
    #[error("grant `{grant}`: `{subject}` is not a person or group of lapse.yaml")]
    UnknownSubject { grant: String, subject: String },
    #[error(
        "grant `{grant}`: {person} has no `{target}` identity in lapse.yaml; add it under people.{person}.{target}"
    )]
    MissingPrincipal {
        grant: String,
        person: String,
        target: &'static str,
    },
    #[error("grant `{grant}` has no valid `expires`; run `lapse check`")]
    NoExpiry { grant: String },
    #[error("`{0}` is not a valid grant id ([a-z0-9][a-z0-9-]*)")]
    InvalidGrantId(String),
    #[error("template {name}: {reason}")]
    Template { name: String, reason: String },
    #[error("{}: lapse has no template of that name (known: {known})", .path.display())]
    UnknownTemplate { path: PathBuf, known: String },
    #[error("template {template} rendered invalid HCL for {}: {reason}", .file.display())]
    InvalidHcl {
        template: String,
        file: PathBuf,
        reason: String,
    },
    #[error("the output directory {} must be a path inside the repository", .0.display())]
    OutDirNotRelative(PathBuf),
}

/// How `render_files` lays out its output.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// The output directory relative to the repository root; module
    /// sources are relative to it.
    pub out_dir: PathBuf,
    /// One root module per group of grants instead of a single one.
    pub split_by: Option<SplitBy>,
}

/// Renders every grant active at `now` into files keyed by their path
/// relative to the output directory. Same input, same bytes: grants, keys
/// and lists are emitted in sorted order, and nothing reads the clock.
pub fn render_files(
    policy: &Policy,
    grants: &[Grant],
    now: DateTime<Utc>,
    templates: &TemplateSet,
    options: &RenderOptions,
) -> Result<BTreeMap<PathBuf, String>, RenderError> {
    let env = templates.environment()?;
    let directory = Directory::new(policy);
    let mut files = BTreeMap::new();
    let mut targets_by_root: BTreeMap<PathBuf, TargetsByName> = BTreeMap::new();
    if options.split_by.is_none() {
        // A repository without active grants still gets a valid, empty root.
        targets_by_root.insert(PathBuf::new(), TargetsByName::new());
    }
    // In force: started, subject still known, effective end (the earlier
    // of `expires` and the subject's contract end) ahead.
    let mut active: Vec<&Grant> = grants
        .iter()
        .filter(|grant| lifecycle::is_in_force_at(grant, policy, &directory, now))
        .collect();
    active.sort_by(|a, b| a.id.cmp(&b.id));
    let renderer = Renderer {
        env: &env,
        policy,
        directory: &directory,
        options,
        now,
    };
    for grant in active {
        let target = target_of(policy, grant)?;
        let root = layout::root_module_of(grant, target.kind(), options.split_by);
        let Some(text) = renderer.grant_file(grant, target, &root)? else {
            continue;
        };
        targets_by_root
            .entry(root.clone())
            .or_default()
            .insert(target.kind().name, target.kind());
        files.insert(root.join(format!("{}.tf", grant.id)), text);
    }
    for (root, targets) in targets_by_root {
        let context = versions_context(&targets);
        let path = root.join(layout::VERSIONS_FILE);
        let text = render_template(&env, "versions.tf.j2", &context, &path)?;
        files.insert(path, text);
    }
    Ok(files)
}

/// The targets the grants of one root module use.
type TargetsByName = BTreeMap<&'static str, &'static TargetKind>;

/// What `versions.tf.j2` sees: the names of the targets used (`targets`)
/// and the requirement of each provider they need, by local name
/// (`providers`).
fn versions_context(used: &TargetsByName) -> minijinja::Value {
    let targets: Vec<&str> = used.keys().copied().collect();
    let providers: BTreeMap<&str, &Provider> = used
        .values()
        .map(|kind| (kind.provider.local, &kind.provider))
        .collect();
    minijinja::context! { targets => targets, providers => providers }
}

/// The target block of the grant's role.
fn target_of<'a>(policy: &'a Policy, grant: &Grant) -> Result<&'a dyn TargetBlock, RenderError> {
    let role_name = grant.file.role.as_str();
    policy
        .role(role_name)
        .and_then(|role| role.target())
        .ok_or_else(|| RenderError::UnknownRole {
            grant: grant.id.clone(),
            role: role_name.to_owned(),
        })
}

/// What every grant's file is rendered with.
struct Renderer<'a> {
    env: &'a Environment<'a>,
    policy: &'a Policy,
    directory: &'a Directory,
    options: &'a RenderOptions,
    now: DateTime<Utc>,
}

impl Renderer<'_> {
    /// One grant's file: its module blocks (see `context::grant_contexts`);
    /// `None` when it has none, every member having left.
    fn grant_file(
        &self,
        grant: &Grant,
        target: &dyn TargetBlock,
        root: &Path,
    ) -> Result<Option<String>, RenderError> {
        let module = target.module();
        let source = layout::module_source(
            self.policy.render.module_source.as_deref(),
            &self.options.out_dir,
            root,
            module,
        )?;
        let contexts = context::grant_contexts(
            self.policy,
            self.directory,
            grant,
            target,
            &source,
            self.now,
        )?;
        if contexts.is_empty() {
            return Ok(None);
        }
        let template = format!("{module}.tf.j2");
        let path = root.join(format!("{}.tf", grant.id));
        let blocks = contexts
            .iter()
            .map(|context| render_raw(self.env, &template, context))
            .collect::<Result<Vec<_>, _>>()?;
        finish(&blocks.join("\n"), &template, &path).map(Some)
    }
}

/// Renders, formats as `terraform fmt` would, prefixes the header, and
/// parses the result: a template override that yields broken HCL fails
/// here, naming the template, instead of at `terraform plan`.
fn render_template<S: serde::Serialize>(
    env: &Environment,
    name: &str,
    context: &S,
    path: &Path,
) -> Result<String, RenderError> {
    finish(&render_raw(env, name, context)?, name, path)
}

fn render_raw<S: serde::Serialize>(
    env: &Environment,
    name: &str,
    context: &S,
) -> Result<String, RenderError> {
    env.get_template(name)
        .and_then(|template| template.render(context))
        .map_err(|error| RenderError::Template {
            name: name.to_owned(),
            reason: format!("{error:#}"),
        })
}

fn finish(rendered: &str, name: &str, path: &Path) -> Result<String, RenderError> {
    let text = format!("{HEADER}\n\n{}", terraform_fmt::terraform_fmt(rendered));
    hcl::parse(&text).map_err(|error| RenderError::InvalidHcl {
        template: name.to_owned(),
        file: path.to_path_buf(),
        reason: error.to_string(),
    })?;
    Ok(text)
}
