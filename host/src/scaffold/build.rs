//! `floor build`: a project into a signed component of this host's world.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;

use crate::agent::AgentLinker;
use crate::runtime::{Runtime, RuntimeConfig};
use crate::signing::{Manifest, artifact, keys};

const TARGET: &str = "wasm32-wasip2";

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
    let cargo_toml = dir.join("Cargo.toml");
    let python = dir.join("app.py").is_file();
    anyhow::ensure!(
        cargo_toml.is_file() || python,
        "`{}` has no Cargo.toml and no app.py: `floor build` builds the projects `floor new` makes (Rust and Python today; JavaScript and C follow)",
        dir.display()
    );
    let manifest_path = dir.join("manifest.toml");
    let manifest = Manifest::load(&manifest_path).with_context(|| {
        format!(
            "every agent ships with a manifest (name, version, role, what it asks for): `{}`",
            manifest_path.display()
        )
    })?;
    let component = if python {
        build_python(dir, &manifest.name)?
    } else {
        build_rust(dir, &cargo_toml)?
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

/// `cargo build --release --target wasm32-wasip2`; the component it made.
fn build_rust(dir: &Path, cargo_toml: &Path) -> anyhow::Result<PathBuf> {
    let text = std::fs::read_to_string(cargo_toml)
        .with_context(|| format!("cannot read `{}`", cargo_toml.display()))?;
    let parsed: toml::Table = text
        .parse()
        .with_context(|| format!("`{}` is not valid TOML", cargo_toml.display()))?;
    let package = parsed
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .with_context(|| format!("`{}` has no [package] name", cargo_toml.display()))?
        .to_string();
    if let Ok(o) = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(dir)
        .output()
        && o.status.success()
        && !String::from_utf8_lossy(&o.stdout)
            .lines()
            .any(|l| l.trim() == TARGET)
    {
        anyhow::bail!(
            "the Rust target {TARGET} is not installed for this project's toolchain: run `rustup target add {TARGET}` in `{}` (once)",
            dir.display()
        );
    }
    let target_dir = dir.join("target");
    let status = Command::new("cargo")
        .args(["build", "--release", "--target", TARGET, "--manifest-path"])
        .arg(cargo_toml)
        .arg("--target-dir")
        .arg(&target_dir)
        .current_dir(dir)
        .status()
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot run `cargo` ({e}): install Rust with rustup, then `rustup target add {TARGET}`"
            )
        })?;
    anyhow::ensure!(
        status.success(),
        "`cargo build --release --target {TARGET}` failed in `{}` (its messages are above)",
        dir.display()
    );
    let wasm = target_dir
        .join(TARGET)
        .join("release")
        .join(format!("{}.wasm", package.replace('-', "_")));
    anyhow::ensure!(
        wasm.is_file(),
        "cargo built no `{}`: is the crate a `cdylib` (`[lib] crate-type = [\"cdylib\"]`)?",
        wasm.display()
    );
    Ok(wasm)
}

/// `componentize-py … componentize app`; the component it made.
fn build_python(dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let out_dir = dir.join("target");
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create `{}`", out_dir.display()))?;
    let wasm = out_dir.join(format!("{name}.component.wasm"));
    // Through the interpreter rather than the `componentize-py` script:
    // whatever `pip install` did with scripts, the module is importable.
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let install = "install it with `pip install componentize-py==0.25.1` (set PYTHON for another interpreter)";
    let found = Command::new(&python)
        .args(["-c", "import componentize_py"])
        .output()
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot run `{python}` ({e}): Python 3 is needed to build a Python agent; {install}"
            )
        })?;
    anyhow::ensure!(
        found.status.success(),
        "componentize-py is not installed for `{python}`: {install}"
    );
    let status = Command::new(&python)
        .args([
            "-c",
            "import sys; from componentize_py import script; sys.argv[0] = 'componentize-py'; sys.exit(script())",
            "-d",
            "wit",
            "-w",
            "agent-world",
            "componentize",
            "app",
            "-o",
        ])
        .arg(&wasm)
        .current_dir(dir)
        .status()
        .map_err(|e| anyhow::anyhow!("cannot run `{python}` ({e})"))?;
    anyhow::ensure!(
        status.success(),
        "`componentize-py componentize app` failed in `{}` (its messages are above)",
        dir.display()
    );
    Ok(wasm)
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
