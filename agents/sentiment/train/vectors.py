"""Test vectors for the Rust agent, from a model file and the data set:

- `tests/tokens.tsv`: for every headline of sent_train.csv and
  sent_valid.csv, the first 12 hex digits of the SHA-256 of its ids
  (space-separated decimal). The agent's test tokenizes the same rows and
  names any row whose ids differ, so the two tokenizers cannot drift.
- `tests/vectors.json`: headlines with their ids and the class
  probabilities int8.forward gives; the agent must agree to 1e-4.

    python3 vectors.py [--model ../model/sentiment-v1.safetensors]
"""

import argparse
import hashlib
import json
import os

import numpy as np

import data
import int8
import tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.join(HERE, "..", "tests")

# Headlines picked to cover the classes, cashtags, accents, URLs, long
# text cut at max_len, and the empty string.
EXTRA = [
    "",
    "$TSLA surges after record deliveries, beats estimates",
    "Café owner's shares plunge 40% — https://t.co/abc123 #stocks",
    "Fed holds rates steady; markets flat",
    "Bitcoin crashes below $20,000 as exchange halts withdrawals",
    " ".join(["Apple"] * 80),
]


def ids_key(ids):
    return hashlib.sha256(" ".join(map(str, ids)).encode()).hexdigest()[:12]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(HERE, "..", "model", "sentiment-v1.safetensors"))
    ap.add_argument("--count", type=int, default=30, help="headlines of the tune rows in vectors.json")
    a = ap.parse_args()

    t, meta = int8.read(a.model)
    vocab = int8.vocab_of(t)
    max_len = int(meta["max_len"])
    os.makedirs(TESTS, exist_ok=True)
    with open(os.path.join(TESTS, "tokens.tsv"), "w", encoding="utf-8") as f:
        for name in ("sent_train.csv", "sent_valid.csv"):
            texts, _ = data.load(os.path.join(HERE, data.DATA, name))
            for n, text in enumerate(texts):
                f.write(f"{name}\t{n}\t{ids_key(tokenizer.encode(text, vocab, max_len))}\n")
    d = data.TrainSet(max_len, data.SEED)
    picked = EXTRA + [d.texts[r] for r in d.tune[: a.count]]
    vectors = []
    for text in picked:
        ids = tokenizer.encode(text, vocab, max_len)
        p = int8.forward(t, meta, ids)
        vectors.append({"text": text, "ids": ids, "probs": [float(x) for x in np.asarray(p, dtype=np.float64)]})
    with open(os.path.join(TESTS, "vectors.json"), "w", encoding="utf-8") as f:
        json.dump({"model_version": meta["version"], "vectors": vectors}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"{len(vectors)} vectors and the ids of every data set row in {TESTS}")


if __name__ == "__main__":
    main()
