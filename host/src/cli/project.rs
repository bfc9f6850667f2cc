//! `floor new` and `floor build`: agent projects (see `crate::scaffold`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::scaffold::{self, Kind, Lang};

/// Arguments of `floor new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The agent's name: lower-case letters, digits and dashes.
    name: String,
    /// The language.
    #[arg(long, value_enum, default_value = "rust")]
    lang: Lang,
    /// What it does.
    #[arg(long, value_enum, default_value = "strategy")]
    kind: Kind,
    /// Where to make the project directory (default: here).
    #[arg(long, default_value = ".")]
    dir: PathBuf,
}

/// Arguments of `floor build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The project (default: here).
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Private key to sign with (`floor keygen`); default
    /// `$FLOOR_SIGNING_KEY`, else your development key
    /// (`~/.config/floor/dev.key`, made on first use).
    #[arg(long)]
    key: Option<PathBuf>,
    /// Where to write the component (default `<dir>/<name>.wasm`).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub(super) fn new(args: NewArgs) -> anyhow::Result<ExitCode> {
    let dir = scaffold::create(&args.dir, &args.name, args.lang, args.kind)?;
    println!(
        "made {} ({:?} {}); next:\n  cd {}",
        dir.display(),
        args.lang,
        args.kind.role(),
        dir.display()
    );
    for step in args.lang.next_steps() {
        println!("  {step}");
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn build(args: BuildArgs) -> anyhow::Result<ExitCode> {
    let key = match (&args.key, std::env::var_os("FLOOR_SIGNING_KEY")) {
        (Some(k), _) => k.clone(),
        (None, Some(k)) => PathBuf::from(k),
        (None, None) => dev_key()?,
    };
    let built = scaffold::build(&args.dir, &key, args.out.as_deref())?;
    println!(
        "built {} {} → {} ({} KiB), checked against this host's world, signed with key {} ({})",
        built.name,
        built.version,
        built.path.display(),
        built.bytes.div_ceil(1024),
        built.signer,
        key.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The user's development key, made on first use; says how a host comes
/// to trust it.
fn dev_key() -> anyhow::Result<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))
        .ok_or_else(|| {
            anyhow::anyhow!("neither XDG_CONFIG_HOME nor HOME is set: give a key with --key")
        })?;
    let stem = base.join("floor").join("dev");
    let key = stem.with_extension("key");
    if !key.exists() {
        let (key, public, fp) = crate::signing::keys::generate(&stem)?;
        eprintln!(
            "floor: made your development key {} (fingerprint {fp}); a host trusts what it signs once `{}` is in its [trust] keys (or runs it with --dev)",
            key.display(),
            public.display()
        );
    }
    Ok(key)
}
