"""The one look at the test set: accuracy and macro-F1 of a model file on
sent_valid.csv, computed as the agent computes them (int8.forward), with
the per-class figures and the confusion matrix. Run it for a model that
is final; never to choose between models (that is the tune split's job).

    python3 report.py [--model ../model/sentiment-v1.safetensors]
"""

import argparse
import os

import numpy as np

import data
import int8
import tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(HERE, "..", "model", "sentiment-v1.safetensors"))
    a = ap.parse_args()
    t, meta = int8.read(a.model)
    vocab = int8.vocab_of(t)
    texts, y = data.load(os.path.join(HERE, data.DATA, "sent_valid.csv"))
    pred = np.array([int8.forward(t, meta, tokenizer.encode(s, vocab, int(meta["max_len"]))).argmax() for s in texts])
    print(f"{os.path.basename(a.model)} on sent_valid.csv ({len(y)} rows)")
    print(f"accuracy {float((pred == y).mean()):.4f}, macro-F1 {data.macro_f1(y, pred):.4f}")
    for c, name in enumerate(data.LABELS):
        tp = int(((pred == c) & (y == c)).sum())
        precision = tp / max(int((pred == c).sum()), 1)
        recall = tp / max(int((y == c).sum()), 1)
        print(f"  {name:8} precision {precision:.3f} recall {recall:.3f} ({int((y == c).sum())} rows)")
    print("confusion (rows: truth, columns: predicted; bearish, bullish, neutral)")
    for c in range(3):
        print("  " + " ".join(f"{int(((y == c) & (pred == p)).sum()):5}" for p in range(3)))


if __name__ == "__main__":
    main()
