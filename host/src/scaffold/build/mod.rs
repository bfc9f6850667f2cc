//! `floor build`: a project into a signed component of this host's world.
//!
//! Each language's toolchain makes the component its own way (one file
//! each); what follows is the same for all: the component is checked
//! against the host's world, the manifest embedded, the whole signed.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::agent::AgentLinker;
use crate::runtime::{Runtime, RuntimeConfig};
use crate::signing::{Manifest, artifact, keys};

mod c;
mod javascript;
mod python;
mod rust;

pub use c::write_bindings as write_c_bindings;

/// The language of a project, told by the file its template starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Project {
    Rust,
    Python,
    JavaScript,
    C,
}

impl Project {
    /// Which project `dir` holds, by its marker file.
    fn of(dir: &Path) -> Option<Project> {
        [
            ("Cargo.toml", Project::Rust),
            ("app.py", Project::Python),
            ("app.js", Project::JavaScript),
            ("app.c", Project::C),
        ]
        .into_iter()
        .find(|(file, _)| dir.join(file).is_file())
        .map(|(_, p)| p)
    }
}

/// What `floor build` made.
#[derive(Debug)]
pub struct Built {
    /// The signed component.
    pub path: PathBuf,
    /// Its manifest's name and version.
    pub name: String,
    /// Version.
    pub version: String,
    /// Its size, bytes.
    pub bytes: usize,
    /// The key it was signed with: fingerprint, and where the public half is.
    pub signer: String,
}

/// Build the project in `dir` with its language's toolchain, check it
/// against the host's world, embed `dir/manifest.toml` and sign it with
/// `key` (a private key file), writing `out` (default `dir/<name>.wasm`).
///
/// # Errors
/// A project `floor build` does not know, a missing toolchain (saying how
/// to install it), a failed build, a component that does not fit the
/// world, or a bad manifest or key.
pub fn build(dir: &Path, key: &Path, out: Option<&Path>) -> anyhow::Result<Built> {
    let dir =
        &std::path::absolute(dir).with_context(|| format!("cannot resolve `{}`", dir.display()))?;
    let project = Project::of(dir).with_context(|| {
        format!(
            "`{}` holds no agent project `floor build` knows (Cargo.toml, app.py, app.js or app.c): make one with `floor new NAME --lang rust|python|javascript|c`",
            dir.display()
        )
    })?;
    let manifest_path = dir.join("manifest.toml");
    let manifest = Manifest::load(&manifest_path).with_context(|| {
        format!(
            "every agent ships with a manifest (name, version, role, what it asks for): `{}`",
            manifest_path.display()
        )
    })?;
    let component = match project {
        Project::Rust => rust::build(dir)?,
        Project::Python => python::build(dir, &manifest.name)?,
        Project::JavaScript => javascript::build(dir, &manifest.name)?,
        Project::C => c::build(dir, &manifest.name)?,
    };
    let bytes = std::fs::read(&component)
        .with_context(|| format!("cannot read `{}`", component.display()))?;
    check_world(&bytes).map_err(|why| {
        anyhow::anyhow!(
            "`{}` is not an agent of this host's world: {why}; build it against the `wit/` this `floor` writes (`floor new` copies it)",
            component.display()
        )
    })?;
    let key = keys::load_secret(key)?;
    let with = artifact::with_manifest(&bytes, &manifest)?;
    let signed = artifact::sign(&with, &key.secret, key.key_id())
        .map_err(|e| anyhow::anyhow!("signing `{}`: {e}", component.display()))?;
    let path = out.map_or_else(
        || dir.join(format!("{}.wasm", manifest.name)),
        Path::to_path_buf,
    );
    std::fs::write(&path, &signed).with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(Built {
        path,
        name: manifest.name.clone(),
        version: manifest.version.clone(),
        bytes: signed.len(),
        signer: key.fingerprint(),
    })
}

/// Compile `bytes` with this host's engine and check it against the world.
fn check_world(bytes: &[u8]) -> Result<(), String> {
    let runtime = Runtime::new(RuntimeConfig {
        pool_instances: 1,
        ..RuntimeConfig::default()
    })
    .map_err(|e| e.to_string())?;
    let component = wasmtime::component::Component::new(runtime.engine(), bytes)
        .map_err(|e| format!("it does not compile: {e:#}"))?;
    let linker = AgentLinker::new(runtime.engine()).map_err(|e| format!("{e:#}"))?;
    linker.check(&component)
}
