//! A signed agent artifact: one component file with its manifest and its
//! signatures inside.
//!
//! The signatures follow the WebAssembly signatures convention
//! (`tool-conventions/Signatures.md`, implemented by the `wasmsign2`
//! crate): a custom section named `signature`, first in the file, holds
//! Ed25519 signatures over the SHA-256 of every section after it. So one
//! signature covers the code and the manifest together, several signatures
//! (an author and a release approver, say) can sit side by side, and any
//! tool that speaks the convention can check a Floor artifact.

use std::io::Cursor;

use sha2::{Digest, Sha256};
use wasmsign2::{CustomSection, Module, SecretKey, Section, SectionLike, SignatureData};

use super::manifest::{Manifest, SECTION};

/// Why an artifact cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// Not a WebAssembly module or component.
    #[error("it is not a well-formed WebAssembly component ({0}): was it truncated or changed?")]
    Malformed(String),
    /// The embedded manifest is not valid JSON of the right shape.
    #[error("its `floor-manifest` section is not a manifest: {0}")]
    BadManifest(String),
    /// Signing failed.
    #[error("cannot sign: {0}")]
    Sign(String),
}

fn parse(bytes: &[u8]) -> Result<Module, ArtifactError> {
    Module::deserialize(&mut Cursor::new(bytes))
        .map_err(|e| ArtifactError::Malformed(e.to_string()))
}

fn serialize(module: &Module) -> Result<Vec<u8>, ArtifactError> {
    let mut out = Vec::new();
    module
        .serialize(&mut out)
        .map_err(|e| ArtifactError::Malformed(e.to_string()))?;
    Ok(out)
}

fn custom<'a>(section: &'a Section, name: &str) -> Option<&'a CustomSection> {
    match section {
        Section::Custom(c) if c.name() == name => Some(c),
        _ => None,
    }
}

/// The manifest embedded in `bytes`, if any.
///
/// # Errors
/// [`ArtifactError`] when `bytes` is no component or the section is bad.
pub fn manifest(bytes: &[u8]) -> Result<Option<Manifest>, ArtifactError> {
    let module = parse(bytes)?;
    let Some(c) = module.sections.iter().find_map(|s| custom(s, SECTION)) else {
        return Ok(None);
    };
    serde_json::from_slice(c.payload())
        .map(Some)
        .map_err(|e| ArtifactError::BadManifest(e.to_string()))
}

/// `bytes` with `manifest` embedded in place of any earlier one. Earlier
/// signatures are dropped: they were over other content.
///
/// # Errors
/// [`ArtifactError`] when `bytes` is no component.
pub fn with_manifest(bytes: &[u8], manifest: &Manifest) -> Result<Vec<u8>, ArtifactError> {
    let mut module = parse(bytes)?;
    module.sections.retain(|s| {
        custom(s, SECTION).is_none() && !s.is_signature_header() && !s.is_signature_delimiter()
    });
    let json =
        serde_json::to_vec(manifest).map_err(|e| ArtifactError::BadManifest(e.to_string()))?;
    module.sections.push(Section::Custom(CustomSection::new(
        SECTION.to_string(),
        json,
    )));
    serialize(&module)
}

/// `bytes` with one more signature, by `key` (named by `key_id`). Signing
/// content that is already signed adds to its signatures.
///
/// # Errors
/// [`ArtifactError`] when `bytes` is no component, or the key signed it already.
pub fn sign(bytes: &[u8], key: &SecretKey, key_id: &[u8]) -> Result<Vec<u8>, ArtifactError> {
    let module = parse(bytes)?;
    let (signed, _) = key
        .sign_multi(module, Some(&key_id.to_vec()), false, false)
        .map_err(|e| ArtifactError::Sign(e.to_string()))?;
    serialize(&signed)
}

/// The signature data, if `bytes` is signed.
///
/// # Errors
/// [`ArtifactError`] when `bytes` is no component or the section is bad.
pub fn signatures(bytes: &[u8]) -> Result<Option<SignatureData>, ArtifactError> {
    let module = parse(bytes)?;
    match module.sections.first() {
        Some(Section::Custom(c)) if c.is_signature_header() => c
            .signature_data()
            .map(Some)
            .map_err(|e| ArtifactError::Malformed(format!("its signature section: {e}"))),
        _ => Ok(None),
    }
}

/// The SHA-256 of everything the signatures cover: every section but the
/// signatures. It names the artifact whoever signed it (revocation lists
/// use it); it is what a signature's hash must equal.
///
/// # Errors
/// [`ArtifactError`] when `bytes` is no component.
pub fn content_hash(bytes: &[u8]) -> Result<[u8; 32], ArtifactError> {
    let module = parse(bytes)?;
    let mut h = Sha256::new();
    let mut buf = Vec::new();
    for s in module.sections.iter().filter(|s| !s.is_signature_header()) {
        buf.clear();
        s.serialize(&mut buf)
            .map_err(|e| ArtifactError::Malformed(e.to_string()))?;
        h.update(&buf);
    }
    Ok(h.finalize().into())
}

/// Names of the custom sections, in order (for `floor inspect`).
///
/// # Errors
/// [`ArtifactError`] when `bytes` is no component.
pub fn custom_sections(bytes: &[u8]) -> Result<Vec<String>, ArtifactError> {
    Ok(parse(bytes)?
        .sections
        .iter()
        .filter_map(|s| match s {
            Section::Custom(c) => Some(c.name().to_string()),
            Section::Standard(_) => None,
        })
        .collect())
}
