//! Signing and verifying real artifacts (a minimal component: the header
//! and a custom section standing in for code).

use std::collections::BTreeSet;

use super::trust::trusted;
use super::{Manifest, TrustStore, artifact};
use crate::config::Role;
use wasmsign2::KeyPair;

/// A component: the layer-1 header and one custom section.
fn component(code: &[u8]) -> Vec<u8> {
    let mut b = b"\0asm\x0d\x00\x01\x00".to_vec();
    let name = b"code";
    let mut body = vec![name.len() as u8];
    body.extend_from_slice(name);
    body.extend_from_slice(code);
    b.push(0);
    b.push(body.len() as u8);
    b.extend_from_slice(&body);
    b
}

fn manifest(role: Role) -> Manifest {
    Manifest {
        name: "trend".into(),
        version: "1.0.0".into(),
        role: Some(role),
        author: None,
        subscribe: None,
        publish: Some(vec!["signal.trend.*".into()]),
        order_symbols: None,
        limits: None,
        read_dirs: None,
    }
}

fn signed_by(keys: &[&KeyPair], role: Role) -> Vec<u8> {
    let mut b = artifact::with_manifest(&component(b"fn main"), &manifest(role)).unwrap();
    for k in keys {
        let pk = k.pk.clone().attach_default_key_id();
        b = artifact::sign(&b, &k.sk, pk.key_id().unwrap()).unwrap();
    }
    b
}

fn store(keys: &[(&str, &KeyPair, Option<Vec<Role>>)]) -> TrustStore {
    TrustStore {
        keys: keys
            .iter()
            .map(|(n, k, r)| trusted(n, k.pk.clone().attach_default_key_id(), r.clone()))
            .collect(),
        ..TrustStore::default()
    }
}

fn reason(s: &TrustStore, bytes: &[u8], role: Role) -> String {
    s.verify("trend", "t.wasm", bytes, role).unwrap_err().reason
}

#[test]
fn a_signed_artifact_verifies_and_names_its_signers() {
    let (a, b) = (KeyPair::generate(), KeyPair::generate());
    let bytes = signed_by(&[&a, &b], Role::Strategy);
    let mut s = store(&[("alice", &a, None), ("bob", &b, None)]);
    s.required.insert(Role::Strategy, 2);
    let v = s.verify("trend", "t.wasm", &bytes, Role::Strategy).unwrap();
    assert_eq!(v.signers, ["alice", "bob"]);
    assert_eq!(v.manifest.unwrap().publish.unwrap(), ["signal.trend.*"]);
    assert!(v.warning.is_none());
}

#[test]
fn every_refusal_says_why() {
    let (a, b) = (KeyPair::generate(), KeyPair::generate());
    let bytes = signed_by(&[&a], Role::Strategy);
    let s = store(&[("alice", &a, None)]);

    let unsigned =
        artifact::with_manifest(&component(b"fn main"), &manifest(Role::Strategy)).unwrap();
    assert!(reason(&s, &unsigned, Role::Strategy).starts_with("it is unsigned"));

    // One byte of the code changed after signing.
    let mut tampered = bytes.clone();
    let at = tampered.len() - 2;
    tampered[at] ^= 1;
    assert!(
        reason(&s, &tampered, Role::Strategy).starts_with("it was changed after it was signed")
    );

    // The manifest's rights grown by hand.
    let mut grown = bytes.clone();
    let at = grown
        .windows(14)
        .position(|w| w == b"signal.trend.*")
        .unwrap();
    grown[at + 13] = b'#';
    assert!(reason(&s, &grown, Role::Strategy).starts_with("it was changed after it was signed"));

    let other = store(&[("bob", &b, None)]);
    let r = reason(&other, &bytes, Role::Strategy);
    assert!(
        r.starts_with("it is signed only by key(s) the host does not trust: "),
        "{r}"
    );

    let mut revoked = store(&[("alice", &a, None)]);
    revoked.revoked_keys = BTreeSet::from(["alice".to_string()]);
    assert!(
        reason(&revoked, &bytes, Role::Strategy)
            .starts_with("it is signed by the revoked key `alice`")
    );

    let mut pulled = store(&[("alice", &a, None)]);
    let content = hex::encode(artifact::content_hash(&bytes).unwrap());
    pulled.revoked_artifacts = BTreeSet::from([content.clone()]);
    assert_eq!(
        reason(&pulled, &bytes, Role::Strategy),
        format!("the artifact {content} is revoked ([trust] revoked_artifacts)")
    );

    let only_models = store(&[("alice", &a, Some(vec![Role::Model]))]);
    assert_eq!(
        reason(&only_models, &bytes, Role::Strategy),
        "a `strategy` agent needs 1 signature(s) by keys allowed for that role, it has 0 (`alice` may sign only for [model])"
    );

    assert_eq!(
        reason(&s, &bytes, Role::Risk),
        "its manifest says role `strategy`, the config runs it as `risk`"
    );
}

#[test]
fn development_mode_runs_unsigned_artifacts_with_a_warning_but_never_tampered_ones() {
    let a = KeyPair::generate();
    let s = TrustStore {
        dev: true,
        ..TrustStore::default()
    };
    let v = s
        .verify("trend", "t.wasm", &component(b"x"), Role::Model)
        .unwrap();
    assert_eq!(
        v.warning.as_deref(),
        Some("unsigned; it runs only because [trust] dev = true")
    );
    let mut tampered = signed_by(&[&a], Role::Model);
    let at = tampered.len() - 2;
    tampered[at] ^= 1;
    assert!(s.verify("trend", "t.wasm", &tampered, Role::Model).is_err());
}

#[test]
fn a_second_signature_adds_to_the_first_and_a_new_manifest_drops_both() {
    let (a, b) = (KeyPair::generate(), KeyPair::generate());
    let bytes = signed_by(&[&a, &b], Role::Risk);
    let count = |b: &[u8]| {
        artifact::signatures(b).unwrap().map_or(0, |d| {
            d.signed_hashes_set
                .iter()
                .map(|s| s.signatures.len())
                .sum::<usize>()
        })
    };
    assert_eq!(count(&bytes), 2);
    let mut m = manifest(Role::Risk);
    m.version = "1.0.1".into();
    let again = artifact::with_manifest(&bytes, &m).unwrap();
    assert_eq!(count(&again), 0, "the signatures were over other content");
    assert_eq!(
        artifact::manifest(&again).unwrap().unwrap().version,
        "1.0.1"
    );
}
