"""Fine-tune MiniLM (all-MiniLM-L6-v2) on the fit part of sent_train.csv:
the teacher. Its class probabilities on the fit and tune rows are what the
student learns from (distil.py). Nothing of it is committed: it is 90 MB
of floats, remade from the pinned package and the seed.

    python3 teacher.py [--epochs 3] [--limit N] [--out .cache/teacher.npz]
"""

import argparse

import jax
import jax.numpy as jnp
import numpy as np

import data
import loop
import model
import weights

HEADS = model.MINILM_HEADS


def main():
    ap = argparse.ArgumentParser()
    loop.add_training_args(ap, epochs=3, lr=5e-5, out=".cache/teacher.npz")
    a = ap.parse_args()

    d = data.TrainSet(a.max_len, a.seed, a.limit)
    y, ids, mask, fit, tune = d.y, d.ids, d.mask, d.fit, d.tune

    params = model.from_minilm(weights.minilm(), seed=a.seed)

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
