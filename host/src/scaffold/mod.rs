//! Agent projects: `floor new` scaffolds one from a template, `floor build`
//! turns it into a signed component of this host's world.
//!
//! A new project carries everything it needs to build, wherever it lives:
//! for Rust, the contract (`wit/`) and the SDK (`floor-sdk/`) of the host
//! that made it, so only the language's own toolchain is needed — no
//! checkout of Floor, no package that is not on the public registries.
//! `floor build` runs that toolchain, checks the result against the host's
//! world (every import provided, every export present — nothing runs),
//! embeds the manifest and signs it.
//!
//! - `files`: the templates, SDK and contract built into the binary;
//! - [`new`](mod@new), scaffolding;
//! - [`build`](mod@build), building, checking, signing.

pub mod build;
mod files;
pub mod new;

pub use build::{Built, build};
pub use new::{Kind, Lang, create};
