//! JavaScript: componentize-qjs, an npm package that embeds QuickJS (a
//! small JavaScript engine compiled to WebAssembly) and snapshots the
//! script's initialised state at build time. Chosen over componentize-js
//! (SpiderMonkey): measured here, its components are 7× smaller (1.6 MB),
//! its calls about 4× faster (6.5 µs) and its builds take 2 s, not 15.
//!
//! The tool is the project's own dev dependency (`npm install` once, in the
//! project), or one installed for everybody (`npm install -g`); the build
//! itself needs no network.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;

/// The version the template pins and the tests use.
const VERSION: &str = "0.4.5";

/// The componentize-qjs command: the project's, else one on PATH.
fn tool(dir: &Path) -> anyhow::Result<PathBuf> {
    let local = dir.join("node_modules/.bin/componentize-qjs");
    if local.is_file() {
        return Ok(local);
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("componentize-qjs"))
        .find(|p| p.is_file());
    on_path.with_context(|| {
        format!(
            "componentize-qjs is not installed: run `npm install` in `{}` (once; it fetches componentize-qjs {VERSION}, the project's dev dependency), or `npm install -g componentize-qjs@{VERSION}`; both need Node.js 18 or newer",
            dir.display()
        )
    })
}

/// `componentize-qjs --wit wit --world agent-world --js app.js --sync`;
/// the component it made.
pub(super) fn build(dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let tool = tool(dir)?;
    let out_dir = dir.join("target");
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create `{}`", out_dir.display()))?;
    let wasm = out_dir.join(format!("{name}.component.wasm"));
    // `--sync`: the host calls agents synchronously (no component-model
    // async), and the synchronous runtime is the smaller one.
    let output = Command::new(&tool)
        .args([
            "--wit",
            "wit",
            "--world",
            "agent-world",
            "--js",
            "app.js",
            "--sync",
            "-o",
        ])
        .arg(&wasm)
        .current_dir(dir)
        .output()
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot run `{}` ({e}): it is a Node.js script; install Node.js 18 or newer",
                tool.display()
            )
        })?;
    if !output.status.success() {
        // Its messages name the script's line: pass them on as they are.
        eprint!("{}", String::from_utf8_lossy(&output.stdout));
        eprint!("{}", String::from_utf8_lossy(&output.stderr));
        anyhow::bail!(
            "componentize-qjs failed to build `{}` (its messages are above; a syntax error or an exception while app.js was loaded stops it)",
            dir.display()
        );
    }
    Ok(wasm)
}
