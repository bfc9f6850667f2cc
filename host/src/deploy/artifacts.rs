//! Every artifact a node ran, kept by content hash.
//!
//! The journal names agent versions by the SHA-256 of their bytes (at
//! start and at every deploy). A replay needs those exact bytes months
//! later, when the file the config names has long been rebuilt, so the
//! host keeps a copy of each one it admits in `<data_dir>/artifacts/`,
//! named `<sha256>.wasm`. Writing is idempotent (a file already there is
//! left alone) and atomic (a temporary file renamed into place), and
//! reading checks the hash, so a copy that was altered on disk is refused
//! rather than replayed.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Why an artifact cannot be kept or read.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// The directory or file could not be written.
    #[error("cannot keep artifact {sha256} in `{}`: {source}; check that the data directory is writable", dir.display())]
    Write {
        /// The artifact's hash.
        sha256: String,
        /// The artifact directory.
        dir: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// No copy of that version.
    #[error("no copy of artifact {sha256} in `{}` ({source}): the journal names a version this data directory never kept", dir.display())]
    Missing {
        /// The artifact's hash.
        sha256: String,
        /// The artifact directory.
        dir: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The copy's bytes no longer hash to its name.
    #[error("artifact `{}` was altered on disk: its bytes hash to {actual}; restore it from a backup (or the signed build of that version)", path.display())]
    Altered {
        /// The file.
        path: PathBuf,
        /// What its bytes hash to now.
        actual: String,
    },
}

/// A directory of artifacts by content hash.
#[derive(Debug, Clone)]
pub struct Artifacts {
    dir: PathBuf,
}

/// Hex SHA-256 of `bytes`, as artifacts are named.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Artifacts {
    /// The artifacts kept in `dir` (created on the first write).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the artifact with hash `sha256` is kept.
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}.wasm"))
    }

    /// Keep `bytes`; returns their hash.
    ///
    /// # Errors
    /// [`ArtifactError::Write`] when the file cannot be written.
    pub fn keep(&self, bytes: &[u8]) -> Result<String, ArtifactError> {
        let sha256 = sha256_hex(bytes);
        let path = self.path(&sha256);
        if path.is_file() {
            return Ok(sha256);
        }
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(&self.dir)?;
            let tmp = self
                .dir
                .join(format!(".{sha256}.{}.tmp", std::process::id()));
            std::fs::write(&tmp, bytes)?;
            std::fs::rename(&tmp, &path)
        };
        write().map_err(|source| ArtifactError::Write {
            sha256: sha256.clone(),
            dir: self.dir.clone(),
            source,
        })?;
        Ok(sha256)
    }

    /// The bytes of artifact `sha256`, checked against the hash.
    ///
    /// # Errors
    /// [`ArtifactError::Missing`] or [`ArtifactError::Altered`].
    pub fn read(&self, sha256: &str) -> Result<Vec<u8>, ArtifactError> {
        let path = self.path(sha256);
        let bytes = std::fs::read(&path).map_err(|source| ArtifactError::Missing {
            sha256: sha256.to_string(),
            dir: self.dir.clone(),
            source,
        })?;
        let actual = sha256_hex(&bytes);
        if actual != sha256 {
            return Err(ArtifactError::Altered { path, actual });
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_bytes_come_back_and_an_altered_copy_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Artifacts::at(dir.path().join("artifacts"));
        let sha = store.keep(b"component bytes").unwrap();
        assert_eq!(sha, sha256_hex(b"component bytes"));
        assert_eq!(store.keep(b"component bytes").unwrap(), sha, "idempotent");
        assert_eq!(store.read(&sha).unwrap(), b"component bytes");
        std::fs::write(store.path(&sha), b"component bytez").unwrap();
        let err = store.read(&sha).unwrap_err().to_string();
        assert!(err.contains("was altered on disk"), "{err}");
        let missing = store.read(&sha256_hex(b"other")).unwrap_err().to_string();
        assert!(missing.contains("never kept"), "{missing}");
    }
}
