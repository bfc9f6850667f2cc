//! Signed artifacts through the real path: `floor keygen` and `floor sign`
//! make them, a node with `[trust]` runs what verifies and refuses the
//! rest with the reason, and a deploy of an untrusted version leaves the
//! running one untouched.

use std::path::{Path, PathBuf};

use floor_host::config::NodeConfig;
use floor_host::deploy::{DeployError, DeployRequest};
use floor_host::node::Node;
use floor_tests::{BTCUSDT, fixture, floor, test_cache, test_venue};

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

    let unsigned = fixture("counter");
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
        .prepare(&request(std::fs::read(fixture("counter")).unwrap()))
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
