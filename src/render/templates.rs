//! The minijinja templates: built into the binary, overridable by files of
//! the same name in the grants repository's `templates/`.

use std::collections::BTreeMap;
use std::path::Path;

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, Output, State, UndefinedBehavior};

use super::RenderError;
use super::escape::hcl_literal;
use crate::load::tree::{EntryKind, OpenDirectory};
use crate::targets::TARGETS;

/// Where a grants repository keeps its template overrides.
pub use crate::load::TEMPLATES_DIR;

const LINK_REFUSED: &str = "is a symbolic link; lapse does not follow links";

/// The auto-escape mode of every `.tf.j2` template.
const HCL_ESCAPE: AutoEscape = AutoEscape::Custom("hcl");

/// The templates every render uses besides the targets' own: the module
/// block every grant shares (`grant.tf.j2`, which the target templates
/// extend) and the shared `versions.tf`.
const SHARED: [(&str, &str); 2] = [
    (
        "versions.tf.j2",
        include_str!("../../templates/versions.tf.j2"),
    ),
    ("grant.tf.j2", include_str!("../../templates/grant.tf.j2")),
];

/// Every template lapse renders, with its built-in text: the shared ones,
/// then each target's (`src/targets/`).
fn builtin() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    SHARED
        .iter()
        .chain(TARGETS.iter().flat_map(|kind| kind.templates))
}

/// The template texts a render uses, by template name.
#[derive(Debug, Clone)]
pub struct TemplateSet {
    sources: BTreeMap<&'static str, String>,
}

impl TemplateSet {
    /// The templates compiled into lapse.
    pub fn builtin() -> Self {
        Self {
            sources: builtin()
                .map(|(name, text)| (*name, (*text).to_owned()))
                .collect(),
        }
    }

    /// The built-in templates, each replaced by `templates/<name>` of the
    /// repository when that file exists. Links are refused, not followed:
    /// a template decides what Terraform runs.
    pub fn for_repository(root: &Path) -> Result<Self, RenderError> {
        let refused = |name: &str, reason: &str| RenderError::Template {
            name: name.to_owned(),
            reason: reason.to_owned(),
        };
        let dir = match OpenDirectory::open(&root.join(TEMPLATES_DIR)) {
            Ok(dir) => dir,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::builtin());
            }
            Err(error) if error.raw_os_error() == Some(libc::ELOOP) => {
                return Err(refused(TEMPLATES_DIR, LINK_REFUSED));
            }
            Err(error) => return Err(refused(TEMPLATES_DIR, &error.to_string())),
        };
        let entries = dir
            .entries()
            .map_err(|error| refused(TEMPLATES_DIR, &error.to_string()))?;
        let mut overrides = Vec::new();
        for (name, kind) in entries {
            let file_name = name.to_string_lossy().into_owned();
            if !file_name.ends_with(".j2") {
                continue;
            }
            if matches!(kind, EntryKind::Link { .. }) {
                return Err(refused(&file_name, LINK_REFUSED));
            }
            let text = dir
                .read_file(&name)
                .map_err(|reason| refused(&file_name, &reason))?;
            overrides.push((file_name, text));
        }
        Self::with_overrides(overrides)
    }

    /// The built-in templates with each `(file name, text)` of `overrides`
    /// in place of the one of that name, for callers that read overrides
    /// from elsewhere than a work tree (a commit, for prune). A name lapse
    /// does not know is an error: a misspelt override must not be ignored.
    pub fn with_overrides(
        overrides: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, RenderError> {
        let mut set = Self::builtin();
        let mut overrides: Vec<(String, String)> = overrides.into_iter().collect();
        overrides.sort();
        for (file_name, text) in overrides {
            let Some((name, _)) = builtin().find(|(name, _)| *name == file_name) else {
                return Err(RenderError::UnknownTemplate {
                    path: Path::new(TEMPLATES_DIR).join(file_name),
                    known: builtin()
                        .map(|(name, _)| *name)
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            };
            set.sources.insert(name, text);
        }
        Ok(set)
    }

    /// A template environment in which every `{{ value }}` is escaped for
    /// HCL and nothing can opt out of it.
    pub(super) fn environment(&self) -> Result<Environment<'_>, RenderError> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        // A misspelt variable must fail the render, not write an empty value.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_name| HCL_ESCAPE);
        env.set_formatter(write_hcl);
        // `safe` would let a template write a grant's text unescaped.
        env.remove_filter("safe");
        for (name, text) in &self.sources {
            env.add_template(name, text)
                .map_err(|error| RenderError::Template {
                    name: (*name).to_owned(),
                    reason: format!("{error:#}"),
                })?;
        }
        Ok(env)
    }
}

/// The formatter behind every `{{ value }}`: the value as a complete HCL
/// literal. Output a template already produced (a macro, a `{% set %}`
/// block) is marked safe by minijinja and passes through as it was escaped.
fn write_hcl(out: &mut Output, state: &State, value: &Value) -> Result<(), Error> {
    if value.is_safe() || state.auto_escape() != HCL_ESCAPE {
        return minijinja::escape_formatter(out, state, value);
    }
    let literal = hcl_literal(value)
        .map_err(|error| Error::new(ErrorKind::BadSerialization, error.to_string()))?;
    out.write_str(&literal)
        .map_err(|error| Error::new(ErrorKind::WriteFailure, error.to_string()))
}
