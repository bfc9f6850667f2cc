//! The sentiment model's training scripts still run: the whole chain —
//! fine-tune the teacher, distil its first layers, quantize and export —
//! on a slice of the data, one epoch each. CI never retrains the committed
//! model; this keeps the way to remake it working.

use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};

fn python(train: &Path, args: &[&str]) {
    let out = Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()))
        .current_dir(train)
        .args(args)
        .output()
        .expect("python3 runs (cargo xtask toolchains installs the packages)");
    assert!(
        out.status.success(),
        "python3 {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A safetensors file's header: tensor name → (dtype, shape), and the
/// metadata.
fn header(path: &Path) -> (Vec<(String, String, Vec<u64>)>, serde_json::Value) {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut h: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let meta = h.remove("__metadata__").unwrap();
    let mut tensors: Vec<_> = h
        .into_iter()
        .map(|(name, t)| {
            let shape = t["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap())
                .collect();
            (name, t["dtype"].as_str().unwrap().to_string(), shape)
        })
        .collect();
    tensors.sort();
    (tensors, meta)
}

#[test]
fn the_training_scripts_still_run_on_a_small_slice() {
    let root = floor_tests::workspace();
    let train = root.join("agents/sentiment/train");
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let common = ["--limit", "32", "--epochs", "1", "--batch", "16"];
    python(
        &train,
        &[&["teacher.py"][..], &common, &["--out", &at("teacher.npz")]].concat(),
    );
    python(
        &train,
        &[
            &[
                "distil.py",
                "--init",
                "teacher",
                "--layers",
                "2",
                "--teacher",
                &at("teacher.npz"),
            ][..],
            &common,
            &["--out", &at("student.npz")],
        ]
        .concat(),
    );
    let model = at("m.safetensors");
    python(
        &train,
        &[
            "quantize.py",
            "--student",
            &at("student.npz"),
            "--layers",
            "2",
            "--limit",
            "8",
            "--version",
            "smoke",
            "--out",
            &model,
        ],
    );
    // The export has the committed model's tensors, dtypes and shapes, so
    // the agent reads it; and its hash beside it.
    let (tensors, meta) = header(Path::new(&model));
    let (committed, _) = header(&root.join("agents/sentiment/model/sentiment-v1.safetensors"));
    assert_eq!(tensors, committed);
    assert_eq!(meta["format"], "floor-sentiment/1");
    assert_eq!(meta["version"], "smoke");
    let recorded = std::fs::read_to_string(format!("{model}.sha256")).unwrap();
    let digest = hex::encode(Sha256::digest(std::fs::read(&model).unwrap()));
    assert_eq!(recorded, format!("{digest}  m.safetensors\n"));
}
