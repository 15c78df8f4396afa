//! The domain types: grants, the policy, identities, durations and
//! timestamps. Pure data; loading lives in `load`, judging in `rules`.

pub mod duration;
pub mod grant;
pub mod identity;
pub mod lifecycle;
pub mod policy;
pub mod spanned;
pub mod timestamp;

pub use duration::GrantDuration;
pub use grant::{Grant, GrantFile};
pub use identity::Directory;
pub use policy::{Policy, Role};
pub use spanned::{Position, Spanned};
