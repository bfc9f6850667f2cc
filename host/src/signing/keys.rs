//! Ed25519 key files: `NAME.key` (the private key, PEM PKCS#8, mode 0600)
//! and `NAME.pub` (the public key, PEM SubjectPublicKeyInfo). PEM because
//! `openssl pkey -in NAME.key -text` reads them, and people keep keys in
//! tools that speak PEM.
//!
//! A key is named in signatures and messages by its fingerprint: the
//! convention's default key id (12 bytes, HMAC-SHA-256 of the public key),
//! written in hex.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use wasmsign2::{KeyPair, PublicKey, SecretKey};

/// A private key and what identifies it.
pub struct SigningKey {
    /// The key.
    pub secret: SecretKey,
    /// Its public half, with its key id.
    pub public: PublicKey,
}

impl SigningKey {
    /// The fingerprint: the key id in hex.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.public)
    }

    /// The key id its signatures carry.
    pub fn key_id(&self) -> &[u8] {
        self.public.key_id().map(Vec::as_slice).unwrap_or_default()
    }
}

/// The hex key id of `pk` (computed if it has none).
pub fn fingerprint(pk: &PublicKey) -> String {
    let pk = pk.clone().attach_default_key_id();
    hex::encode(pk.key_id().map(Vec::as_slice).unwrap_or_default())
}

/// Write a new key pair as `<out>.key` and `<out>.pub`. Refuses to
/// overwrite either. Returns both paths and the fingerprint.
///
/// # Errors
/// When a file exists already or cannot be written.
pub fn generate(out: &Path) -> anyhow::Result<(PathBuf, PathBuf, String)> {
    let key_path = out.with_extension("key");
    let pub_path = out.with_extension("pub");
    for p in [&key_path, &pub_path] {
        if p.exists() {
            anyhow::bail!(
                "`{}` exists already; pick another name, or delete it if you mean to replace the key",
                p.display()
            );
        }
    }
    if let Some(dir) = key_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
    }
    let pair = KeyPair::generate();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&key_path)
        .with_context(|| format!("cannot create `{}`", key_path.display()))?;
    f.write_all(pair.sk.to_pem().as_bytes())
        .with_context(|| format!("cannot write `{}`", key_path.display()))?;
    std::fs::write(&pub_path, pair.pk.to_pem())
        .with_context(|| format!("cannot write `{}`", pub_path.display()))?;
    Ok((key_path, pub_path, fingerprint(&pair.pk)))
}

/// Read a private key. It must be readable by its owner only.
///
/// # Errors
/// When the file cannot be read, is readable by others, or holds no key.
pub fn load_secret(path: &Path) -> anyhow::Result<SigningKey> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read the key `{}`", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        anyhow::bail!(
            "the key `{}` is readable by others (mode {mode:o}); `chmod 600 {}` first",
            path.display(),
            path.display()
        );
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the key `{}`", path.display()))?;
    let secret = SecretKey::from_pem(&text).map_err(|e| {
        anyhow::anyhow!(
            "`{}` is no Ed25519 private key in PEM ({e}); `floor keygen` writes one",
            path.display()
        )
    })?;
    let public = PublicKey {
        pk: secret.sk.public_key(),
        key_id: None,
    }
    .attach_default_key_id();
    Ok(SigningKey { secret, public })
}

/// Read a public key (PEM, as `floor keygen` writes it).
///
/// # Errors
/// When the file cannot be read or holds no Ed25519 public key.
pub fn load_public(path: &Path) -> anyhow::Result<PublicKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the public key `{}`", path.display()))?;
    let pk = PublicKey::from_pem(&text).map_err(|e| {
        anyhow::anyhow!(
            "`{}` is no Ed25519 public key in PEM ({e}); give the `.pub` file `floor keygen` wrote",
            path.display()
        )
    })?;
    Ok(pk.attach_default_key_id())
}
