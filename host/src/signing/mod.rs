//! Signed agent artifacts: a host never runs code, or grants rights, that
//! an authorised key did not sign.
//!
//! - [`manifest`]: what an agent is and asks for; the host grants exactly
//!   that, when the config allows it all.
//! - [`artifact`]: the manifest and the signatures inside one component
//!   file (the WebAssembly signatures convention).
//! - [`keys`]: Ed25519 key files.
//! - [`trust`]: which keys may sign for which roles, revocations, and the
//!   verdict on an artifact.

pub mod artifact;
pub mod keys;
pub mod manifest;
pub mod trust;

#[cfg(test)]
mod tests;

pub use manifest::Manifest;
pub use trust::{Refused, TrustStore, Verified};
