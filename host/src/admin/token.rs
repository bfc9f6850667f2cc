//! The admin API's bearer token.
//!
//! Either the operator's own (a file named by `admin.token_file`, which must
//! not be readable by group or others), or a fresh random one per run,
//! written to `<data_dir>/admin.token` with mode 0600 — so only the user
//! who runs the host (and root) can command it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use rand::RngExt as _;
use sha2::{Digest as _, Sha256};

/// Shortest token accepted from a file.
const MIN_LEN: usize = 16;

/// A bearer token.
#[derive(Clone)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

impl Token {
    /// The token's text, for an `Authorization` header.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `presented` is this token. Both sides are hashed first, so
    /// the comparison takes the same time wherever they differ.
    pub fn accepts(&self, presented: &str) -> bool {
        Sha256::digest(self.0.as_bytes()) == Sha256::digest(presented.as_bytes())
    }

    /// Read a token file, refusing one that others can read.
    ///
    /// # Errors
    /// When the file is missing, too open, or too short.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        check_private(path)?;
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the admin token file `{}`", path.display()))?;
        let token = text.trim().to_string();
        if token.len() < MIN_LEN {
            anyhow::bail!(
                "the admin token in `{}` is {} characters; use at least {MIN_LEN} (e.g. `openssl rand -hex 32 > {0}`)",
                path.display(),
                token.len()
            );
        }
        Ok(Self(token))
    }

    /// A fresh random token (256 bits, hex), written to `path` with mode
    /// 0600. The file is written beside it and renamed into place, so two
    /// hosts starting on one data directory never see half a token.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        let bytes: [u8; 32] = rand::rng().random();
        let token = hex::encode(bytes);
        let dir = path.parent().unwrap_or(Path::new("."));
        let write = || -> std::io::Result<()> {
            // tempfile creates the file with mode 0600.
            let mut f = tempfile::NamedTempFile::new_in(dir)?;
            f.write_all(token.as_bytes())?;
            f.persist(path).map_err(|e| e.error)?;
            Ok(())
        };
        write().with_context(|| format!("cannot write the admin token to `{}`", path.display()))?;
        Ok(Self(token))
    }

    /// The token a host uses: the configured file's, or a fresh one in
    /// `data_dir`. Returns it with the file it lives in.
    ///
    /// # Errors
    /// See [`Token::read`] and [`Token::create`].
    pub fn for_host(configured: Option<&Path>, data_dir: &Path) -> anyhow::Result<(Self, PathBuf)> {
        match configured {
            Some(p) => Ok((Self::read(p)?, p.to_path_buf())),
            None => {
                let p = data_dir.join("admin.token");
                Ok((Self::create(&p)?, p))
            }
        }
    }
}

#[cfg(unix)]
fn check_private(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read the admin token file `{}`", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        anyhow::bail!(
            "the admin token file `{}` has mode {mode:o}: others may read it; run `chmod 600 {0}`",
            path.display()
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_token_is_private_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let (t, path) = Token::for_host(None, dir.path()).unwrap();
        assert_eq!(t.as_str().len(), 64);
        let again = Token::read(&path).unwrap();
        assert!(again.accepts(t.as_str()));
        assert!(!again.accepts("guess"));
        let (other, _) = Token::for_host(None, dir.path()).unwrap();
        assert!(!other.accepts(t.as_str()), "every run gets a fresh token");
    }

    #[cfg(unix)]
    #[test]
    fn an_open_or_short_token_file_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t");
        std::fs::write(&p, "0123456789abcdef0123").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = Token::read(&p).unwrap_err().to_string();
        assert!(e.contains("mode 644") && e.contains("chmod 600"), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Token::read(&p).is_ok());
        std::fs::write(&p, "short").unwrap();
        let e = Token::read(&p).unwrap_err().to_string();
        assert!(e.contains("at least 16"), "{e}");
    }
}
