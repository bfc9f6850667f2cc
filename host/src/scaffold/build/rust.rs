//! Rust: cargo, for `wasm32-wasip2` (the component comes out of the linker).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;

const TARGET: &str = "wasm32-wasip2";

/// `cargo build --release --target wasm32-wasip2`; the component it made.
pub(super) fn build(dir: &Path) -> anyhow::Result<PathBuf> {
    let cargo_toml = &dir.join("Cargo.toml");
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
