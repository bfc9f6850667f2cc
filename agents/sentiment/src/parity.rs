//! The agent against the training side: the model file against its
//! recorded hash, the tokenizer against `train/tokenizer.py` on every
//! headline of the data set, and the forward pass against `train/int8.py`
//! (`train/vectors.py` wrote both references).

use crate::model::Model;
use crate::{MODEL_FILE, signal_of};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn here() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn model() -> Model<'static> {
    Model::parse(MODEL_FILE).expect("the embedded model loads")
}

#[test]
fn the_embedded_model_is_the_file_its_hash_names() {
    let (hash, name) = crate::MODEL_SHA256.trim().split_once("  ").unwrap();
    assert_eq!(name, "sentiment-v1.safetensors");
    assert_eq!(hex::encode(Sha256::digest(MODEL_FILE)), hash);
    assert_eq!(model().meta.version, "1");
}

#[test]
fn forward_pass_agrees_with_the_training_side() {
    let m = model();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(here().join("tests/vectors.json")).unwrap())
            .unwrap();
    assert_eq!(v["model_version"], m.meta.version.as_str());
    let vectors = v["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 30);
    for case in vectors {
        let text = case["text"].as_str().unwrap();
        let ids: Vec<u32> = serde_json::from_value(case["ids"].clone()).unwrap();
        assert_eq!(m.ids(text), ids, "ids of {text:?}");
        let want: Vec<f64> = serde_json::from_value(case["probs"].clone()).unwrap();
        let got = m.classify(text);
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (f64::from(*g) - w).abs() < 1e-4,
                "{text:?}: agent {got:?}, training side {want:?}"
            );
        }
    }
}

#[test]
fn no_ids_read_as_the_empty_headline() {
    let m = model();
    assert_eq!(m.forward(&[]), m.classify(""));
}

#[test]
fn the_same_headline_gives_the_same_bits() {
    let m = model();
    let text = "$AAPL slides as iPhone sales miss estimates";
    let a = m.classify(text);
    assert_eq!(a.map(f32::to_bits), m.classify(text).map(f32::to_bits));
    let (score, confidence) = signal_of(a);
    assert!(
        score < -5.0 && confidence > 0.5,
        "a clear bearish headline: {a:?}"
    );
}

fn data_dir() -> PathBuf {
    here().join("../../../shared/data/twitter-financial-news-sentiment")
}

#[test]
fn tokenizer_agrees_with_the_training_side_on_every_headline() {
    let m = model();
    let expected = std::fs::read_to_string(here().join("tests/tokens.tsv")).unwrap();
    let mut mismatches = Vec::new();
    let mut rows = 0;
    for name in ["sent_train.csv", "sent_valid.csv"] {
        let path = data_dir().join(name);
        let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (the data set lives in ../shared beside the checkout)",
                path.display()
            )
        });
        let want: Vec<&str> = expected
            .lines()
            .filter_map(|l| l.strip_prefix(name)?.strip_prefix('\t'))
            .map(|l| l.rsplit('\t').next().unwrap())
            .collect();
        let mut file_rows = 0;
        for (n, record) in reader.records().enumerate() {
            let text = record.unwrap()[0].to_string();
            let ids = m.ids(&text);
            let joined = ids.iter().map(u32::to_string).collect::<Vec<_>>().join(" ");
            let key = &hex::encode(Sha256::digest(joined.as_bytes()))[..12];
            if want.get(n) != Some(&key) {
                mismatches.push(format!("{name} row {n}: {text:?} → {ids:?}"));
            }
            file_rows += 1;
        }
        assert_eq!(
            want.len(),
            file_rows,
            "{name}: rows in the reference and in the data set"
        );
        rows += file_rows;
    }
    assert!(rows > 11_000, "{rows} rows");
    assert!(
        mismatches.is_empty(),
        "{} rows differ, e.g.:\n{}",
        mismatches.len(),
        mismatches[..mismatches.len().min(5)].join("\n")
    );
}

#[test]
fn a_damaged_model_file_is_refused_with_what_is_wrong() {
    let e = Model::parse(&MODEL_FILE[..1000]).err().unwrap();
    assert!(e.contains("not a safetensors file"), "{e}");
    let mut other = MODEL_FILE.to_vec();
    let at = other
        .windows(17)
        .position(|w| w == b"floor-sentiment/1")
        .unwrap();
    other[at + 16] = b'9';
    let e = Model::parse(&other).err().unwrap();
    assert!(
        e.contains("floor-sentiment/9") && e.contains("floor-sentiment/1"),
        "{e}"
    );
    assert!(Model::parse(b"").is_err());
}
