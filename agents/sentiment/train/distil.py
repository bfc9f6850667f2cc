"""Train the student — the model the agent runs — from the teacher's
probabilities (teacher.py) and the labels.

By default the student is the fine-tuned teacher cut to its first
`--layers` layers (width 384, MiniLM's 12 heads), trained on: the agent's
model is `python3 distil.py` (2 layers, 4 epochs, lr 1e-4). With
`--init random` it is a smaller transformer of `--width` on MiniLM's
embeddings projected onto their top principal directions, everything
else from a seeded random start (measured: 0.77 on tune, see README.md;
train it with e.g. `--epochs 20 --lr 1e-3 --batch 64`).

    python3 distil.py [--layers 2] [--epochs 4] [--limit N] [--out .cache/student.npz]
"""

import argparse

import jax
import jax.numpy as jnp
import numpy as np

import data
import loop
import model
import weights


def student_init(w, width, layers, ffn, positions, seed, classes=3):
    """A student of `width`: token and position embeddings are MiniLM's
    projected onto their top `width` principal directions (scaled back to
    MiniLM's spread), the rest random (normal, 0.02)."""
    rng = np.random.default_rng(seed)
    tok = w["embeddings.word_embeddings.weight"]
    mean = tok.mean(0)
    _, _, vt = np.linalg.svd(tok[rng.permutation(len(tok))[:8000]] - mean, full_matrices=False)
    proj = vt[:width].T  # [384, width]
    t = (tok - mean) @ proj
    pos = (w["embeddings.position_embeddings.weight"][:positions] + w["embeddings.token_type_embeddings.weight"][0] - mean) @ proj
    scale = tok.std() / t.std()
    normal = lambda *shape: jnp.asarray(rng.normal(0, 0.02, shape).astype(np.float32))
    lin = lambda i, o: (normal(i, o), jnp.zeros(o))
    ln = lambda: (jnp.ones(width), jnp.zeros(width))
    return {
        "tok": jnp.asarray((t * scale).astype(np.float32)),
        "pos": jnp.asarray((pos * scale).astype(np.float32)),
        "ln0": ln(),
        "layers": [
            {
                "q": lin(width, width),
                "k": lin(width, width),
                "v": lin(width, width),
                "o": lin(width, width),
                "ln1": ln(),
                "ff1": lin(width, ffn),
                "ff2": lin(ffn, width),
                "ln2": ln(),
            }
            for _ in range(layers)
        ],
        "head": lin(width, classes),
    }


def truncated(params, layers):
    """`params` with only the first `layers` layers."""
    return {**params, "layers": params["layers"][:layers]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher", default=".cache/teacher.npz")
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=256)
    ap.add_argument("--alpha", type=float, default=0.7, help="weight of the teacher's probabilities against the labels")
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument("--init", choices=("teacher", "random"), default="teacher", help="random layers on MiniLM's projected embeddings, or the teacher's first --layers layers")
    loop.add_training_args(ap, epochs=4, lr=1e-4, out=".cache/student.npz")
    a = ap.parse_args()

    d = data.TrainSet(a.max_len, a.seed, a.limit)
    texts, y, ids, mask, fit, tune = d.texts, d.y, d.ids, d.mask, d.fit, d.tune
    t = np.load(a.teacher)
    soft = np.zeros((len(texts), 3), dtype=np.float32)
    soft[t["rows"]] = t["probs"]

    w = weights.minilm()
    if a.init == "teacher":
        # The fine-tuned teacher's embeddings and first layers: width 384,
        # MiniLM's 12 heads, only the depth cut.
        params = truncated(loop.load(a.teacher, model.from_minilm(w, seed=a.seed)), a.layers)
        a.heads = model.MINILM_HEADS
    else:
        params = student_init(w, a.width, a.layers, a.ffn, a.max_len, a.seed)
    T = a.temperature

    def loss(p, i, m, yy, pt, key):
        lg = model.logits(p, i, m, a.heads, key)
        ce = -jax.nn.log_softmax(lg)[jnp.arange(yy.shape[0]), yy]
        hard = jnp.mean(ce)
        # The teacher's probabilities, softened by T (their logs are the
        # teacher's logits up to a constant).
        pt_t = jax.nn.softmax(jnp.log(pt + 1e-9) / T)
        kd = -jnp.mean(jnp.sum(pt_t * jax.nn.log_softmax(lg / T), -1)) * T * T
        return a.alpha * kd + (1 - a.alpha) * hard

    best_params, best = loop.train(params, loss, ids, mask, y, (y, soft), fit, tune, a.heads, a.epochs, a.batch, a.lr, 0.05, a.seed)
    loop.save(a.out, best_params, tune_f1=best)
    print(f"student: tune macro-F1 {best:.4f} in {a.out}")


if __name__ == "__main__":
    main()
