//! Signed artifacts through the real path: `floor keygen` and `floor sign`
//! make them, a node with `[trust]` runs what verifies and refuses the
//! rest with the reason, and a deploy of an untrusted version leaves the
//! running one untouched.

use std::path::{Path, PathBuf};

use floor_host::config::NodeConfig;
use floor_host::config::Role;
use floor_host::deploy::{DeployError, DeployRequest};
use floor_host::node::Node;
use floor_host::signing::trust::trusted;
use floor_host::signing::{Manifest, TrustStore, artifact, keys};
use floor_tests::{BTCUSDT, agent, dev_key, fixture, floor, test_cache, test_venue};
use proptest::prelude::*;
use proptest::sample::Index;

/// `floor` in `dir`, which must succeed.
fn run(args: &[&str]) -> String {
    let out = floor(args, None);
    assert!(
        out.status.success(),
        "floor {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Keys {
    dir: tempfile::TempDir,
}

impl Keys {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for who in ["alice", "mallory"] {
            let out = dir.path().join(who);
            run(&["keygen", "--out", out.to_str().unwrap()]);
        }
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The counter fixture with [`MANIFEST`] embedded and no signature
    /// (`cargo xtask` signs the fixture with the development key; this
    /// drops that signature).
    fn unsigned(&self) -> PathBuf {
        let bytes = std::fs::read(fixture("counter")).unwrap();
        let m: Manifest = toml::from_str(MANIFEST).unwrap();
        let target = self.path("unsigned.wasm");
        std::fs::write(&target, artifact::with_manifest(&bytes, &m).unwrap()).unwrap();
        target
    }

    /// The counter fixture with `manifest` (TOML), signed by `key`.
    fn signed(&self, out: &str, manifest: &str, key: &str) -> PathBuf {
        let m = self.path(&format!("{out}.toml"));
        std::fs::write(&m, manifest).unwrap();
        let target = self.path(out);
        run(&[
            "sign",
            fixture("counter").to_str().unwrap(),
            "--key",
            self.path(&format!("{key}.key")).to_str().unwrap(),
            "--manifest",
            m.to_str().unwrap(),
            "-o",
            target.to_str().unwrap(),
        ]);
        target
    }
}

const MANIFEST: &str =
    "name = \"counter\"\nversion = \"1.0.0\"\nrole = \"model\"\npublish = [\"swap.count.*\"]\n";

/// A config running `component` as the counter (publish `swap.#`),
/// trusting alice.
fn config(keys: &Keys, component: &Path, trust_extra: &str) -> (String, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let text = format!(
        "[node]\ndata_dir = \"{}\"\ncache_dir = \"{}\"\n{BTCUSDT}\n[trust]\n{trust_extra}\n[[trust.keys]]\nname = \"alice\"\npublic_key = \"{}\"\n\n[[agents]]\nname = \"counter\"\npath = \"{}\"\nrole = \"model\"\nsubscribe = [\"test.#\"]\npublish = [\"swap.#\"]\n",
        data.path().display(),
        test_cache().display(),
        keys.path("alice.pub").display(),
        component.display()
    );
    (text, data)
}

fn start(text: &str) -> anyhow::Result<Node> {
    let cfg = NodeConfig::parse(text, "<test>", Path::new("."))?;
    let venue = test_venue(&cfg);
    Node::new(&cfg, Box::new(venue))
}

#[test]
fn a_node_runs_what_a_trusted_key_signed_and_refuses_the_rest() {
    let keys = Keys::new();
    let good = keys.signed("good.wasm", MANIFEST, "alice");
    let (text, _d) = config(&keys, &good, "");
    let node = start(&text).unwrap();
    assert_eq!(node.status()["trust"]["signatures"], "checked");

    let unsigned = keys.unsigned();
    let err = start(&config(&keys, &unsigned, "").0)
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        err,
        format!(
            "refused to run agent `counter` from `{}`: it is unsigned; sign it with `floor sign FILE --key KEY.key --manifest manifest.toml` and trust the key in [trust]",
            unsigned.display()
        )
    );

    let stranger = keys.signed("stranger.wasm", MANIFEST, "mallory");
    let err = start(&config(&keys, &stranger, "").0)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("it is signed only by key(s) the host does not trust: "),
        "{err}"
    );

    let err = start(&config(&keys, &good, "revoked_keys = [\"alice\"]").0)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("it is signed by the revoked key `alice`"),
        "{err}"
    );

    let greedy = keys.signed(
        "greedy.wasm",
        "name = \"counter\"\nversion = \"1.0.0\"\nrole = \"model\"\npublish = [\"order.#\"]\n",
        "alice",
    );
    let err = start(&config(&keys, &greedy, "").0)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.ends_with(
            "its manifest asks for more than the config allows: to publish `order.#` (the config's publish = [\"swap.#\"] does not allow it)"
        ),
        "{err}"
    );

    let (text, _d) = config(&keys, &unsigned, "dev = true");
    let node = start(&text).unwrap();
    let s = node.status();
    assert_eq!(s["trust"]["signatures"], "dev");
    assert_eq!(
        s["trust"]["warnings"][0],
        "agent `counter`: unsigned; it runs only because [trust] dev = true"
    );
}

#[test]
fn a_deploy_of_an_untrusted_version_leaves_the_running_one_untouched() {
    let keys = Keys::new();
    let good = keys.signed("good.wasm", MANIFEST, "alice");
    let (text, _d) = config(&keys, &good, "");
    let mut node = start(&text).unwrap();
    let before = node.status()["agents"][0]["version"].clone();
    let request = |component: Vec<u8>| DeployRequest {
        agent: "counter".into(),
        component,
        ..DeployRequest::default()
    };
    let err = node
        .preparer()
        .prepare(&request(std::fs::read(keys.unsigned()).unwrap()))
        .err()
        .unwrap();
    assert!(matches!(err, DeployError::Untrusted(_)), "{err}");
    assert!(err.to_string().contains("it is unsigned"), "{err}");

    // The same code signed by alice with a new version number deploys.
    let next = keys.signed("next.wasm", &MANIFEST.replace("1.0.0", "1.0.1"), "alice");
    let c = node
        .preparer()
        .prepare(&request(std::fs::read(&next).unwrap()))
        .unwrap();
    assert_eq!(
        node.status()["agents"][0]["version"],
        before,
        "not swapped yet"
    );
    node.deploy(c).unwrap();
    assert_ne!(node.status()["agents"][0]["version"], before);
}

#[test]
fn revoking_a_key_in_the_config_file_takes_effect_on_the_next_deploy() {
    let keys = Keys::new();
    let good = keys.signed("good.wasm", MANIFEST, "alice");
    let (text, _d) = config(&keys, &good, "");
    let file = keys.path("floor.toml");
    std::fs::write(&file, &text).unwrap();
    let cfg = NodeConfig::load(&file).unwrap();
    let mut node = Node::new(&cfg, Box::new(test_venue(&cfg))).unwrap();
    let request = |path: &Path| DeployRequest {
        agent: "counter".into(),
        component: std::fs::read(path).unwrap(),
        ..DeployRequest::default()
    };
    let next = keys.signed("next.wasm", &MANIFEST.replace("1.0.0", "1.0.1"), "alice");
    let c = node.preparer().prepare(&request(&next)).unwrap();
    node.deploy(c).unwrap();
    let serving = node.status()["agents"][0]["version"].clone();

    // The operator revokes alice in the file; the host is not restarted.
    std::fs::write(
        &file,
        text.replace("[trust]\n", "[trust]\nrevoked_keys = [\"alice\"]\n"),
    )
    .unwrap();
    let later = keys.signed("later.wasm", &MANIFEST.replace("1.0.0", "1.0.2"), "alice");
    let err = node.preparer().prepare(&request(&later)).err().unwrap();
    assert!(matches!(err, DeployError::Untrusted(_)), "{err}");
    assert!(
        err.to_string()
            .contains("it is signed by the revoked key `alice`"),
        "{err}"
    );
    assert_eq!(node.status()["agents"][0]["version"], serving);

    // A [trust] that no longer reads fails closed, and says where.
    std::fs::write(
        &file,
        text.replace("[trust]\n", "[trust]\nrevoked_keys = 7\n"),
    )
    .unwrap();
    let err = node.preparer().prepare(&request(&later)).err().unwrap();
    assert!(matches!(err, DeployError::TrustStore(_)), "{err}");
    assert!(
        err.to_string().starts_with(&format!(
            "refused: the trust store could not be read again for this deploy (config `{}` is not valid: ",
            file.display()
        )),
        "{err}"
    );
    assert_eq!(node.status()["agents"][0]["version"], serving);
}

/// A dev-signed reference agent, and the store that trusts the dev key.
fn dev_signed_agent() -> &'static (Vec<u8>, TrustStore) {
    static AGENT: std::sync::OnceLock<(Vec<u8>, TrustStore)> = std::sync::OnceLock::new();
    AGENT.get_or_init(|| {
        let bytes = std::fs::read(agent("risk")).unwrap();
        let pk = keys::load_public(&dev_key()).unwrap();
        let store = TrustStore {
            keys: vec![trusted("dev", pk, None)],
            ..TrustStore::default()
        };
        store
            .verify("risk", "risk.wasm", &bytes, Role::Risk)
            .unwrap();
        (bytes, store)
    })
}

fn refused_with_flip(at: usize, flip: u8) -> Result<(), TestCaseError> {
    let (bytes, store) = dev_signed_agent();
    let mut b = bytes.clone();
    b[at] ^= flip;
    let verdict = store.verify("risk", "risk.wasm", &b, Role::Risk);
    prop_assert!(
        verdict.is_err(),
        "byte {at} ^ {flip:#04x} of {} still verifies",
        b.len()
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any byte of a signed component — code, signature section, names,
    /// sizes — changed in any way: refused.
    #[test]
    fn flipping_any_byte_of_a_signed_component_is_refused(at in any::<Index>(), flip in 1u8..) {
        let len = dev_signed_agent().0.len();
        refused_with_flip(at.index(len), flip)?;
    }

    /// The same, aimed at the embedded manifest (a few hundred bytes of a
    /// 100 KB file, which random positions over the whole file seldom
    /// hit): rights cannot change without re-signing.
    #[test]
    fn flipping_any_byte_of_the_manifest_is_refused(at in any::<Index>(), flip in 1u8..) {
        let bytes = &dev_signed_agent().0;
        let name = bytes
            .windows(b"floor-manifest".len())
            .position(|w| w == b"floor-manifest")
            .expect("a manifest section");
        // From the section's id and size (before its name) to the end: the
        // manifest is the last section `floor sign` writes.
        let start = name - 3;
        refused_with_flip(start + at.index(bytes.len() - start), flip)?;
    }
}

#[test]
fn verify_and_inspect_say_who_signed_what() {
    let keys = Keys::new();
    let good = keys.signed("good.wasm", MANIFEST, "alice");
    let out = run(&[
        "verify",
        good.to_str().unwrap(),
        "--trust",
        keys.path("alice.pub").to_str().unwrap(),
    ]);
    assert!(
        out.starts_with("ok: counter 1.0.0 (model) signed by alice\n"),
        "{out}"
    );
    let refused = floor(
        &[
            "verify",
            good.to_str().unwrap(),
            "--trust",
            keys.path("mallory.pub").to_str().unwrap(),
        ],
        None,
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .starts_with("it is signed only by key(s) the host does not trust: "),
    );
    let out = run(&["inspect", good.to_str().unwrap()]);
    assert!(out.contains("  publish = [\"swap.count.*\"]\n"), "{out}");
    assert!(out.contains("import     floor:agent/types@"), "{out}");
    assert!(out.contains("export     floor:agent/agent@"), "{out}");
    assert_eq!(out.matches("signature  key ").count(), 1, "{out}");
}
