//! Python: componentize-py, run through the interpreter it was installed for.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;

/// `componentize-py … componentize app`; the component it made.
pub(super) fn build(dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
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
