//! `floor keygen | sign | verify | inspect`: make keys, sign agents, and
//! check an artifact the way the host will (docs/signing.md).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use crate::config::Role;
use crate::signing::manifest::role_name;
use crate::signing::trust::trusted;
use crate::signing::{Manifest, TrustStore, artifact, keys};

/// Arguments of `floor keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Writes `NAME.key` (private, mode 0600) and `NAME.pub`.
    #[arg(long)]
    out: PathBuf,
}

/// Arguments of `floor sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The component to sign (in place unless `-o`).
    file: PathBuf,
    /// The private key (`floor keygen` wrote it).
    #[arg(long)]
    key: PathBuf,
    /// Embed this manifest (TOML) first; without it, the one already
    /// embedded is signed.
    #[arg(long)]
    manifest: Option<PathBuf>,
    /// Write the signed component here.
    #[arg(short, long)]
    out: Option<PathBuf>,
}

/// A role on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Reads data, sends order intents.
    Strategy,
    /// Votes on order intents.
    Risk,
    /// Publishes signals.
    Model,
    /// A read-only tap.
    Observer,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Strategy => Role::Strategy,
            RoleArg::Risk => Role::Risk,
            RoleArg::Model => Role::Model,
            RoleArg::Observer => Role::Observer,
        }
    }
}

/// Arguments of `floor verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The component.
    file: PathBuf,
    /// Trusted public keys (`.pub` files).
    #[arg(long, num_args = 1.., required = true)]
    trust: Vec<PathBuf>,
    /// The role to check it for (default: its manifest's).
    #[arg(long, value_enum)]
    role: Option<RoleArg>,
    /// Signatures the role needs.
    #[arg(long, default_value_t = 1)]
    required: u32,
}

/// Arguments of `floor inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The component.
    file: PathBuf,
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))
}

pub(super) fn keygen(args: KeygenArgs) -> anyhow::Result<ExitCode> {
    let (key, public, fp) = keys::generate(&args.out)?;
    println!(
        "wrote {} (private, mode 0600) and {}\nfingerprint {fp}",
        key.display(),
        public.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) fn sign(args: SignArgs) -> anyhow::Result<ExitCode> {
    let key = keys::load_secret(&args.key)?;
    let mut bytes = read(&args.file)?;
    if let Some(m) = &args.manifest {
        bytes = artifact::with_manifest(&bytes, &Manifest::load(m)?)?;
    }
    let Some(manifest) = artifact::manifest(&bytes)? else {
        anyhow::bail!(
            "`{}` has no manifest: give one with --manifest manifest.toml (what the agent is and asks for)",
            args.file.display()
        );
    };
    let signed = artifact::sign(&bytes, &key.secret, key.key_id())
        .map_err(|e| anyhow::anyhow!("`{}`: {e}", args.file.display()))?;
    let out = args.out.as_ref().unwrap_or(&args.file);
    std::fs::write(out, &signed).with_context(|| format!("cannot write `{}`", out.display()))?;
    let count: usize = artifact::signatures(&signed)?.map_or(0, |d| {
        d.signed_hashes_set.iter().map(|s| s.signatures.len()).sum()
    });
    println!(
        "signed {} {} as {} with key {} ({count} signature(s) now)",
        manifest.name,
        manifest.version,
        out.display(),
        key.fingerprint()
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let bytes = read(&args.file)?;
    let manifest = artifact::manifest(&bytes)?;
    let role = match (args.role, manifest.as_ref().and_then(|m| m.role)) {
        (Some(r), _) => Role::from(r),
        (None, Some(r)) => r,
        (None, None) => anyhow::bail!(
            "`{}`: its manifest names no role; say which with --role",
            args.file.display()
        ),
    };
    let mut store = TrustStore::default();
    for p in &args.trust {
        let pk = keys::load_public(p)?;
        let name = p.file_stem().map_or_else(
            || p.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        store.keys.push(trusted(&name, pk, None));
    }
    store.required.insert(role, args.required);
    let name = manifest.as_ref().map_or("?", |m| m.name.as_str());
    match store.verify(name, &format!("`{}`", args.file.display()), &bytes, role) {
        Ok(v) => {
            let m = v.manifest.as_ref().map_or(String::new(), |m| {
                format!("{} {} ({})", m.name, m.version, role_name(role))
            });
            println!("ok: {m} signed by {}", v.signers.join(", "));
            println!("content sha256 {}", v.content_sha256);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{}", e.reason);
            Ok(ExitCode::FAILURE)
        }
    }
}

pub(super) fn inspect(args: InspectArgs) -> anyhow::Result<ExitCode> {
    use sha2::Digest as _;
    let bytes = read(&args.file)?;
    println!("file       {} ({} bytes)", args.file.display(), bytes.len());
    println!("sha256     {}", hex::encode(sha2::Sha256::digest(&bytes)));
    println!(
        "content    {} (what signatures cover; revoke by this)",
        hex::encode(artifact::content_hash(&bytes)?)
    );
    match artifact::manifest(&bytes)? {
        Some(m) => {
            let text = toml::to_string(&m).unwrap_or_default();
            println!("manifest");
            for line in text.lines() {
                println!("  {line}");
            }
        }
        None => println!("manifest   none"),
    }
    match artifact::signatures(&bytes)? {
        Some(d) => {
            for s in d.signed_hashes_set.iter().flat_map(|s| s.signatures.iter()) {
                println!(
                    "signature  key {} (Ed25519)",
                    s.key_id
                        .as_deref()
                        .map_or("(no key id)".into(), hex::encode)
                );
            }
        }
        None => println!("signature  none (unsigned)"),
    }
    let engine = wasmtime::Engine::default();
    let component = wasmtime::component::Component::new(&engine, &bytes)
        .map_err(|e| anyhow::anyhow!("`{}` is not a component: {e}", args.file.display()))?;
    let ty = component.component_type();
    for (name, _) in ty.imports(&engine) {
        println!("import     {name}");
    }
    for (name, _) in ty.exports(&engine) {
        println!("export     {name}");
    }
    Ok(ExitCode::SUCCESS)
}
