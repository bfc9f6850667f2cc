//! Compiled components, cached on disk by content hash.
//!
//! Compiling a component takes tens of milliseconds (Rust) to seconds
//! (Python, JavaScript); loading a compiled one is a memory map. The key is
//! SHA-256 of the component bytes plus the engine's compatibility hash, so a
//! different wasmtime or engine configuration never loads a stale artifact.
//!
//! Only files this host wrote are deserialised: the cache directory is the
//! host's own, and wasmtime trusts compiled code completely. The key is the
//! hash of the bytes the trust store verified, so a cached file is never
//! chosen by anything a user hands in; and a cache directory (or file) that
//! others may write to is not used at all — anyone who can write there could
//! plant native code under a hash the host will ask for. The host creates
//! the directory owner-only (0700).
//!
//! Artifacts are memory-mapped (fast: about 150 µs for a Rust agent), and
//! the whole file is read once at load so its pages sit in the page cache:
//! otherwise code pages come in on first use, and under heavy disk I/O one
//! page-in can stall for seconds *inside an agent's call*, where the
//! wall-clock deadline would blame the agent for the host's disk (seen here
//! while a build ran beside the tests). Copying the artifact into memory
//! instead costs about 350 µs more per load. The host replaces cache files
//! only by renaming a complete new file over the old one, which leaves
//! existing mappings intact; truncating one in place under a running host
//! would crash it (SIGBUS), so nothing else may write into the directory.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Errors loading a component.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The component file could not be read.
    #[error("cannot read component `{path}`: {source}; check the agent's `path` in the config")]
    Read {
        /// The path.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The bytes are not a valid component for this engine.
    #[error(
        "`{path}` is not a valid WebAssembly component: {source:#}; build it for wasm32-wasip2 against wit/"
    )]
    Compile {
        /// The path.
        path: PathBuf,
        /// wasmtime's error.
        source: wasmtime::Error,
    },
}

/// A component loaded through the cache, with its content hash.
pub struct Loaded {
    /// The compiled component.
    pub component: Component,
    /// Hex SHA-256 of the component file.
    pub sha256: String,
    /// True if it came from the cache rather than the compiler.
    pub from_cache: bool,
}

/// The on-disk cache of compiled components.
pub struct ComponentCache {
    dir: Option<PathBuf>,
    engine_key: String,
}

impl ComponentCache {
    /// A cache in `dir` (created on first write), or none: compile every time.
    pub fn new(engine: &Engine, dir: Option<PathBuf>) -> Self {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        Self {
            dir,
            engine_key: format!("{:016x}", h.finish()),
        }
    }

    /// The file a component with this hash is cached in.
    pub fn path_for(&self, sha256: &str) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.join(format!("{sha256}-{}.cwasm", self.engine_key)))
    }

    /// Load the component at `path`, compiling only on a cache miss.
    ///
    /// # Errors
    /// [`CacheError`] when the file cannot be read or is not a component.
    /// A cache that cannot be written is logged and otherwise ignored.
    pub fn load(&self, engine: &Engine, path: &Path) -> Result<Loaded, CacheError> {
        let bytes = std::fs::read(path).map_err(|source| CacheError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        self.load_bytes(engine, &bytes, path)
    }

    /// Load a component from its bytes (a deploy sends them over the admin
    /// API); `origin` names them in errors.
    ///
    /// # Errors
    /// [`CacheError::Compile`] when the bytes are not a component.
    pub fn load_bytes(
        &self,
        engine: &Engine,
        bytes: &[u8],
        origin: &Path,
    ) -> Result<Loaded, CacheError> {
        let path = origin;
        let sha256 = hex::encode(Sha256::digest(bytes));
        let usable = self.dir.as_deref().is_some_and(|d| match private(d) {
            Ok(()) => true,
            Err(why) => {
                tracing::warn!(dir = %d.display(), "compiling without the cache: {why}");
                false
            }
        });
        if let Some(cached) = self.path_for(&sha256).filter(|_| usable)
            && cached.exists()
            && !writable_by_others(&cached).unwrap_or(true)
        {
            match deserialize_own(engine, &cached) {
                Ok(component) => {
                    return Ok(Loaded {
                        component,
                        sha256,
                        from_cache: true,
                    });
                }
                Err(e) => {
                    tracing::warn!(path = %cached.display(), "recompiling: cached artifact unusable: {e:#}")
                }
            }
        }
        let component = Component::new(engine, bytes).map_err(|source| CacheError::Compile {
            path: path.to_path_buf(),
            source,
        })?;
        if let Some(cached) = self.path_for(&sha256).filter(|_| usable)
            && let Err(e) = write_atomically(&cached, &component)
        {
            tracing::warn!(path = %cached.display(), "cannot write the compile cache: {e:#}");
        }
        Ok(Loaded {
            component,
            sha256,
            from_cache: false,
        })
    }
}

/// Deserialise a compiled component that this host wrote itself, with its
/// pages read into the page cache first (see the module docs for why).
#[allow(unsafe_code)]
pub fn deserialize_own(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    warm_page_cache(path)?;
    // SAFETY: `path` lies in the host's own cache directory and was written by
    // `write_atomically` from `Component::serialize` with an engine of the same
    // compatibility hash (it is part of the file name). wasmtime checks the
    // header and refuses artifacts from another version or configuration.
    unsafe { Component::deserialize_file(engine, path) }
}

/// Whether users other than the owner may write to `path`.
fn writable_by_others(path: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::PermissionsExt;
    Ok(std::fs::metadata(path)?.permissions().mode() & 0o022 != 0)
}

/// Ok when only its owner may write to `dir` (made owner-only if it is
/// missing); otherwise why not. (A cached file others may write to is
/// recompiled instead of loaded.)
fn private(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create it: {e}"))?;
    }
    if writable_by_others(dir).map_err(|e| e.to_string())? {
        return Err(format!(
            "others may write to it, and could plant compiled code there; `chmod go-w {}` or choose another [node] cache_dir",
            dir.display()
        ));
    }
    Ok(())
}

/// Read `path` once, in chunks, so its pages are resident.
fn warm_page_cache(path: &Path) -> std::io::Result<()> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut buf = [0u8; 64 << 10];
    while f.read(&mut buf)? > 0 {}
    Ok(())
}

fn write_atomically(path: &Path, component: &Component) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    // Unique per writer, so hosts (or threads) sharing a cache never write
    // the same temporary file; the rename makes the result appear whole.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp.{}.{n}", std::process::id()));
    std::fs::write(&tmp, component.serialize()?)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
