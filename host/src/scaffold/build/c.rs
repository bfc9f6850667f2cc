//! C: the world's bindings are generated here (`wit-bindgen-c`), a C
//! compiler for `wasm32-wasi` links a core module, and the component is
//! made here too (`wit-component`, with the WASI reactor adapter). So a C
//! developer needs a C compiler and nothing else: no wit-bindgen or
//! wasm-tools CLI to install.
//!
//! The compiler is, in this order: `$CC` (a command line, e.g. `clang
//! --sysroot=/opt/wasi-sysroot`), zig through Python (`pip install
//! ziglang`: a C compiler with wasi-libc built in, no root needed), or
//! Debian's clang when its wasi-libc sysroot is installed.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::Resolve;

/// The world every agent is a component of.
const WORLD: &str = "agent-world";

/// Where Debian's `wasi-libc` puts its sysroot.
const DEBIAN_SYSROOT: &str = "/usr/share/wasi-sysroot";

/// How to get a compiler, for the error that finds none.
const INSTALL: &str = "install one: `pip install ziglang==0.17.1` (zig's C compiler, with wasi-libc; no root needed), or Debian's `apt-get install clang lld wasi-libc libclang-rt-dev-wasm32`; or point CC at a clang that has a wasm32-wasi sysroot (`CC=\"clang --sysroot=DIR\"`)";

/// Defines what the generated `agent_world.c` calls to force the
/// component-type object file into the link; `build` embeds that type
/// after linking instead.
const FORCE_LINK_STUB: &str = "\n// Added by floor build: the component type is embedded after linking.\nvoid __component_type_object_force_link_agent_world(void) {}\n";

/// Parse `dir/wit` and pick the agent world.
fn world(dir: &Path) -> anyhow::Result<(Resolve, wit_parser::WorldId)> {
    let wit = dir.join("wit");
    let mut resolve = Resolve::default();
    let (package, _) = resolve.push_dir(&wit).with_context(|| {
        format!(
            "cannot read the contract in `{}` (floor new copies it there)",
            wit.display()
        )
    })?;
    let world = resolve
        .select_world(&[package], Some(WORLD))
        .with_context(|| format!("`{}` has no world `{WORLD}`", wit.display()))?;
    Ok((resolve, world))
}

/// Generate the C bindings of the project's `wit/` into `dir/bindings/`
/// (`agent_world.h`, `agent_world.c`): the types, the host's functions and
/// the exports the agent implements. `floor new` and `floor build` both
/// write them, so an editor sees the header before the first build.
///
/// # Errors
/// A contract that does not parse, or a file that cannot be written.
pub fn write_bindings(dir: &Path) -> anyhow::Result<()> {
    let (mut resolve, world) = world(dir)?;
    let mut files = wit_bindgen_core::Files::default();
    let opts = wit_bindgen_c::Opts {
        // The component type goes in after linking (see `build`), so no
        // object file passes through the user's compiler.
        no_object_file: true,
        ..Default::default()
    };
    opts.build()
        .generate(&mut resolve, world, &mut files)
        .context("generating the C bindings")?;
    let out = dir.join("bindings");
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create `{}`", out.display()))?;
    for (name, bytes) in files.iter() {
        let mut bytes = bytes.to_vec();
        if name.ends_with(".c") {
            // The generated code links in the object file it did not
            // make (see above) by calling this symbol: define it empty.
            bytes.extend_from_slice(FORCE_LINK_STUB.as_bytes());
        }
        let path = out.join(name);
        std::fs::write(&path, bytes)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    Ok(())
}

/// The compiler command (program, leading arguments) and what it is.
fn compiler() -> anyhow::Result<(Vec<String>, String)> {
    if let Ok(cc) = std::env::var("CC")
        && !cc.trim().is_empty()
    {
        let words: Vec<String> = cc.split_whitespace().map(str::to_string).collect();
        return Ok((words, format!("CC=`{cc}`")));
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    if Command::new(&python)
        .args(["-c", "import ziglang"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Ok((
            vec![python.clone(), "-m".into(), "ziglang".into(), "cc".into()],
            format!("zig cc (through `{python} -m ziglang`)"),
        ));
    }
    if Path::new(DEBIAN_SYSROOT).join("include").is_dir()
        && Command::new("clang").arg("--version").output().is_ok()
    {
        return Ok((
            vec!["clang".into(), format!("--sysroot={DEBIAN_SYSROOT}")],
            "clang with Debian's wasi-libc".into(),
        ));
    }
    anyhow::bail!("no C compiler for wasm32-wasi found: {INSTALL}")
}

/// The project's C sources: every `*.c` at its top level but the tests
/// (`test_*.c`, which run natively), sorted.
fn sources(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("cannot list `{}`", dir.display()))?
    {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".c") && !name.starts_with("test_") {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// Bindings, compile and link, component; the component it made.
pub(super) fn build(dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    write_bindings(dir)?;
    let (cc, what) = compiler()?;
    let out_dir = dir.join("target");
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create `{}`", out_dir.display()))?;
    let core = out_dir.join(format!("{name}.core.wasm"));
    let mut cmd = Command::new(&cc[0]);
    cmd.args(&cc[1..])
        .args([
            "--target=wasm32-wasi",
            "-mexec-model=reactor",
            "-O2",
            // No debug info: it is most of the module's size.
            "-g0",
            "-Wl,--strip-debug",
            "-Wall",
            "-Ibindings",
            "-o",
        ])
        .arg(&core)
        .args(sources(dir)?)
        .arg(Path::new("bindings").join("agent_world.c"))
        .current_dir(dir);
    let status = cmd
        .status()
        .map_err(|e| anyhow::anyhow!("cannot run {what} ({e}): {INSTALL}"))?;
    anyhow::ensure!(
        status.success(),
        "{what} failed to build `{}` for wasm32-wasi (its messages are above)",
        dir.display()
    );
    let mut module =
        std::fs::read(&core).with_context(|| format!("cannot read `{}`", core.display()))?;
    let (resolve, world) = world(dir)?;
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        StringEncoding::UTF8,
        false,
    )
    .context("embedding the world's type in the core module")?;
    let component = ComponentEncoder::default()
        .module(&module)
        .and_then(|e| {
            e.adapter(
                wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
                wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
            )
        })
        .and_then(|e| e.validate(true).encode())
        .map_err(|e| {
            anyhow::anyhow!(
                "the core module `{}` does not make a component of the agent world: {e:#} (does it define every `exports_floor_agent_agent_*` function of bindings/agent_world.h?)",
                core.display()
            )
        })?;
    let wasm = out_dir.join(format!("{name}.component.wasm"));
    std::fs::write(&wasm, component)
        .with_context(|| format!("cannot write `{}`", wasm.display()))?;
    Ok(wasm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bindings_declare_every_export_and_host_function() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        std::fs::create_dir(tmp.path().join("wit")).unwrap();
        for e in std::fs::read_dir(root.join("wit")).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, tmp.path().join("wit").join(p.file_name().unwrap())).unwrap();
        }
        write_bindings(tmp.path()).unwrap();
        let h = std::fs::read_to_string(tmp.path().join("bindings/agent_world.h")).unwrap();
        for f in [
            "exports_floor_agent_agent_init(",
            "exports_floor_agent_agent_on_message(",
            "exports_floor_agent_agent_snapshot(",
            "exports_floor_agent_agent_restore(",
            "floor_agent_host_log(",
            "floor_agent_host_set_timer(",
        ] {
            assert!(h.contains(f), "{f} missing from agent_world.h");
        }
        assert!(tmp.path().join("bindings/agent_world.c").is_file());
        if let Ok(keep) = std::env::var("FLOOR_KEEP_BINDINGS") {
            std::fs::copy(tmp.path().join("bindings/agent_world.h"), keep).unwrap();
        }
    }

    #[test]
    fn a_broken_contract_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("wit")).unwrap();
        std::fs::write(tmp.path().join("wit/world.wit"), "package a:b; world x {").unwrap();
        let e = format!("{:#}", write_bindings(tmp.path()).unwrap_err());
        assert!(e.contains("cannot read the contract"), "{e}");
    }
}
