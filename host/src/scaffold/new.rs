//! `floor new`: a project from a template, names filled in.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::files;

/// A language with a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Rust, with Floor's SDK.
    Rust,
    /// Python (componentize-py): strategies.
    Python,
    /// JavaScript (componentize-qjs): strategies.
    Javascript,
    /// C (wit-bindgen's C bindings, any wasm32-wasi C compiler): strategies.
    C,
}

impl Lang {
    /// What to run in a new project: the toolchain (once), the build, the
    /// project's own tests.
    pub fn next_steps(self) -> &'static [&'static str] {
        match self {
            Lang::Rust => &["floor build", "cargo test"],
            Lang::Python => &[
                "pip install componentize-py==0.25.1   # once",
                "floor build",
                "python3 -m unittest",
            ],
            Lang::Javascript => &["npm install   # once", "floor build", "npm test"],
            Lang::C => &[
                "pip install ziglang==0.17.1   # once, or another C compiler: README.md",
                "floor build",
                "make test",
            ],
        }
    }
}

/// What the agent does (its manifest's role).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Reads data, sends order intents (a moving-average crossover).
    Strategy,
    /// Answers every order intent with a verdict (a price-band check).
    Risk,
    /// Publishes a signal (a deviation-from-average score).
    Model,
    /// Watches, alerts, sends nothing (a large-trade watcher).
    Observer,
}

impl Kind {
    /// The role's name in manifests and configs.
    pub fn role(self) -> &'static str {
        match self {
            Kind::Strategy => "strategy",
            Kind::Risk => "risk",
            Kind::Model => "model",
            Kind::Observer => "observer",
        }
    }
}

/// Whether `name` can name an agent, a crate and a topic segment.
fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = (1..=40).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    anyhow::ensure!(
        ok,
        "`{name}` cannot name an agent: use 1 to 40 lower-case letters, digits and dashes, starting with a letter (e.g. `sma-cross`)"
    );
    Ok(())
}

/// Fill a template's `{{placeholders}}`.
fn fill(text: &str, vars: &[(&str, &str)]) -> String {
    let mut out = text.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{{{k}}}}}"), v);
    }
    out
}

/// Write a `lang` project for agent `name` of kind `kind` as
/// `parent/name`; returns its directory.
///
/// # Errors
/// A name that cannot name an agent, a directory that exists, a language
/// without a template yet, or a file that cannot be written.
pub fn create(parent: &Path, name: &str, lang: Lang, kind: Kind) -> anyhow::Result<PathBuf> {
    check_name(name)?;
    anyhow::ensure!(
        lang == Lang::Rust || kind == Kind::Strategy,
        "there is no {lang:?} {} template: Rust has every kind, Python, JavaScript and C a strategy (templates/README.md); start from the strategy, whose glue shows every part of the contract",
        kind.role()
    );
    let dir = parent.join(name);
    anyhow::ensure!(
        !dir.exists(),
        "`{}` exists already: choose another name or directory (--dir), or remove it",
        dir.display()
    );
    let publish = match kind {
        Kind::Strategy | Kind::Model => format!("\"signal.{name}.*\""),
        Kind::Risk | Kind::Observer => String::new(),
    };
    let vars = [
        ("name", name),
        ("kind", kind.role()),
        ("role", kind.role()),
        ("publish", publish.as_str()),
        ("floor_version", env!("CARGO_PKG_VERSION")),
    ];
    let all: Vec<files::File> = match lang {
        Lang::Python | Lang::Javascript | Lang::C => {
            let project = match lang {
                Lang::Python => files::PYTHON_PROJECT,
                Lang::Javascript => files::JAVASCRIPT_PROJECT,
                _ => files::C_PROJECT,
            };
            project.iter().chain(files::WIT).copied().collect()
        }
        Lang::Rust => {
            let lib = match kind {
                Kind::Strategy => files::RUST_STRATEGY,
                Kind::Risk => files::RUST_RISK,
                Kind::Model => files::RUST_MODEL,
                Kind::Observer => files::RUST_OBSERVER,
            };
            files::RUST_PROJECT
                .iter()
                .chain(files::RUST_SDK)
                .chain(files::WIT)
                .copied()
                .chain([("src/lib.rs", lib)])
                .collect()
        }
    };
    for (path, text) in all {
        let dest = dir.join(path);
        if let Some(p) = dest.parent() {
            std::fs::create_dir_all(p)
                .with_context(|| format!("cannot create `{}`", p.display()))?;
        }
        std::fs::write(&dest, fill(text, &vars))
            .with_context(|| format!("cannot write `{}`", dest.display()))?;
    }
    if lang == Lang::C {
        // The header the C code includes, there before the first build.
        super::build::write_c_bindings(&dir)?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_cannot_name_an_agent_are_refused() {
        for bad in [
            "",
            "Sma",
            "1sma",
            "sma_cross",
            "sma.cross",
            "sma-",
            &"a".repeat(41),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        for good in ["sma", "sma-cross", "a1"] {
            check_name(good).unwrap();
        }
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            fill(
                "name = \"{{name}}\" {{role}}",
                &[("name", "x"), ("role", "risk")]
            ),
            "name = \"x\" risk"
        );
    }
}
