//! The files `floor new` writes, built into the `floor` binary so that it
//! needs nothing but itself: the language templates, and for Rust the SDK
//! and the contract. A test checks that nothing in `sdk/src` or `wit/` is
//! left out.

/// A file to write: its path in the new project and its text (templates
/// still hold `{{placeholders}}`).
pub type File = (&'static str, &'static str);

macro_rules! embed {
    ($($dest:literal => $src:literal),* $(,)?) => {
        &[$(($dest, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../", $src)))),*]
    };
}

/// The contract, into `wit/`.
pub const WIT: &[File] = embed! {
    "wit/agent.wit" => "wit/agent.wit",
    "wit/host.wit" => "wit/host.wit",
    "wit/market.wit" => "wit/market.wit",
    "wit/types.wit" => "wit/types.wit",
    "wit/world.wit" => "wit/world.wit",
};

/// The Rust SDK's sources, into `floor-sdk/src/` (its `Cargo.toml` is a
/// template: the workspace's inherits what a project on its own cannot).
pub const RUST_SDK: &[File] = embed! {
    "floor-sdk/src/agent.rs" => "sdk/src/agent.rs",
    "floor-sdk/src/bindings.rs" => "sdk/src/bindings.rs",
    "floor-sdk/src/config.rs" => "sdk/src/config.rs",
    "floor-sdk/src/host.rs" => "sdk/src/host.rs",
    "floor-sdk/src/indicators/ema.rs" => "sdk/src/indicators/ema.rs",
    "floor-sdk/src/indicators/mod.rs" => "sdk/src/indicators/mod.rs",
    "floor-sdk/src/indicators/rsi.rs" => "sdk/src/indicators/rsi.rs",
    "floor-sdk/src/indicators/sma.rs" => "sdk/src/indicators/sma.rs",
    "floor-sdk/src/intents.rs" => "sdk/src/intents.rs",
    "floor-sdk/src/kept.rs" => "sdk/src/kept.rs",
    "floor-sdk/src/lib.rs" => "sdk/src/lib.rs",
    "floor-sdk/src/lifecycle.rs" => "sdk/src/lifecycle.rs",
    "floor-sdk/src/market.rs" => "sdk/src/market.rs",
    "floor-sdk/src/orders.rs" => "sdk/src/orders.rs",
    "floor-sdk/src/outputs.rs" => "sdk/src/outputs.rs",
    "floor-sdk/src/position.rs" => "sdk/src/position.rs",
    "floor-sdk/src/signals.rs" => "sdk/src/signals.rs",
    "floor-sdk/src/state.rs" => "sdk/src/state.rs",
    "floor-sdk/src/trader.rs" => "sdk/src/trader.rs",
};

/// The Rust project around the agent.
pub const RUST_PROJECT: &[File] = embed! {
    "Cargo.toml" => "templates/rust/Cargo.toml.tmpl",
    "floor-sdk/Cargo.toml" => "templates/rust/sdk.Cargo.toml.tmpl",
    "manifest.toml" => "templates/manifest.toml.tmpl",
    "README.md" => "templates/rust/README.md.tmpl",
    ".gitignore" => "templates/rust/gitignore.tmpl",
    // The versions this host was built and tested with: a superset, which
    // cargo prunes to what the project uses. With it the first build needs
    // no registry when those crates are in the local cache.
    "Cargo.lock" => "Cargo.lock",
};

/// The Python project (a strategy).
pub const PYTHON_PROJECT: &[File] = embed! {
    "app.py" => "templates/python/app.py.tmpl",
    "logic.py" => "templates/python/logic.py.tmpl",
    "test_logic.py" => "templates/python/test_logic.py.tmpl",
    "manifest.toml" => "templates/manifest.toml.tmpl",
    "README.md" => "templates/python/README.md.tmpl",
    ".gitignore" => "templates/python/gitignore.tmpl",
};

/// The JavaScript project (a strategy; componentize-qjs).
pub const JAVASCRIPT_PROJECT: &[File] = embed! {
    "app.js" => "templates/javascript/app.js.tmpl",
    "logic.js" => "templates/javascript/logic.js.tmpl",
    "logic.test.js" => "templates/javascript/logic.test.js.tmpl",
    "package.json" => "templates/javascript/package.json.tmpl",
    "manifest.toml" => "templates/manifest.toml.tmpl",
    "README.md" => "templates/javascript/README.md.tmpl",
    ".gitignore" => "templates/javascript/gitignore.tmpl",
};

/// The C project (a strategy; `floor build` writes its bindings).
pub const C_PROJECT: &[File] = embed! {
    "app.c" => "templates/c/app.c.tmpl",
    "logic.c" => "templates/c/logic.c.tmpl",
    "logic.h" => "templates/c/logic.h.tmpl",
    "test_logic.c" => "templates/c/test_logic.c.tmpl",
    "Makefile" => "templates/c/Makefile.tmpl",
    "manifest.toml" => "templates/manifest.toml.tmpl",
    "README.md" => "templates/c/README.md.tmpl",
    ".gitignore" => "templates/c/gitignore.tmpl",
};

/// The Rust agent's `src/lib.rs`, by kind.
pub const RUST_STRATEGY: &str = include_str!("../../../templates/rust/strategy.rs.tmpl");
/// A risk check.
pub const RUST_RISK: &str = include_str!("../../../templates/rust/risk.rs.tmpl");
/// A model publishing a signal.
pub const RUST_MODEL: &str = include_str!("../../../templates/rust/model.rs.tmpl");
/// An observer.
pub const RUST_OBSERVER: &str = include_str!("../../../templates/rust/observer.rs.tmpl");

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    fn files_under(dir: &Path, base: &Path, out: &mut BTreeSet<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                files_under(&p, base, out);
            } else {
                out.insert(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }

    #[test]
    fn every_sdk_source_and_wit_file_is_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut on_disk = BTreeSet::new();
        files_under(&root.join("sdk/src"), &root.join("sdk"), &mut on_disk);
        let embedded: BTreeSet<String> = super::RUST_SDK
            .iter()
            .map(|(d, _)| d.trim_start_matches("floor-sdk/").to_string())
            .collect();
        assert_eq!(embedded, on_disk, "sdk/src and the embedded SDK differ");
        let mut wit = BTreeSet::new();
        files_under(&root.join("wit"), &root, &mut wit);
        let embedded: BTreeSet<String> = super::WIT.iter().map(|(d, _)| d.to_string()).collect();
        assert_eq!(embedded, wit, "wit/ and the embedded contract differ");
    }
}
