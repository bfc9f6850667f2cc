"""Perturbed copies of the fit rows, labelled by the teacher: what the
student learns the teacher's judgement from. On its own training rows the
teacher is nearly certain (it was trained on them), so their
probabilities carry little beyond the labels; on copies with some
word-pieces dropped or masked it hesitates where the text is
ambiguous, which is the knowledge worth distilling.

    python3 augment.py [--copies 4] [--teacher .cache/teacher.npz] [--out .cache/augmented.npz]
"""

import argparse
import os

import jax
import numpy as np

import data
import loop
import model
import teacher
import tokenizer
import weights


def perturb(ids, mask, rng, drop=0.1, masked=0.1, mask_id=103):
    """A copy of each row with about `drop` of its word-pieces removed and
    `masked` replaced by [MASK]; [CLS] and [SEP] stay."""
    out_ids = np.zeros_like(ids)
    out_mask = np.zeros_like(mask)
    for r in range(len(ids)):
        n = int(mask[r].sum())
        body = list(ids[r, 1 : n - 1])
        kept = [t if rng.random() >= masked else mask_id for t in body if rng.random() >= drop]
        row = [ids[r, 0]] + (kept or body[:1]) + [ids[r, n - 1]]
        out_ids[r, : len(row)] = row
        out_mask[r, : len(row)] = 1.0
    return out_ids, out_mask


def load_teacher(path):
    """The fine-tuned teacher's parameters (teacher.py saves them flat)."""
    w = weights.minilm()
    template = model.from_minilm(w)
    _, tree = jax.tree_util.tree_flatten(template)
    saved = np.load(path)
    n = len([k for k in saved.files if k.startswith("p") and k[1:].isdigit()])
    return jax.tree_util.tree_unflatten(tree, [saved[f"p{i}"] for i in range(n)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--teacher", default=".cache/teacher.npz")
    ap.add_argument("--max-len", type=int, default=48)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=".cache/augmented.npz")
    a = ap.parse_args()

    d = data.TrainSet(a.max_len, a.seed, a.limit)
    vocab, ids, mask, fit = d.vocab, d.ids, d.mask, d.fit
    params = load_teacher(a.teacher)
    rng = np.random.default_rng(a.seed + 1)
    all_ids, all_mask, all_probs, all_rows = [], [], [], []
    for c in range(a.copies):
        i, m = perturb(ids[fit], mask[fit], rng, mask_id=vocab[tokenizer.MASK])
        all_probs.append(loop.predict(params, i, m, teacher.HEADS))
        all_ids.append(i)
        all_mask.append(m)
        all_rows.append(fit)
        print(f"copy {c + 1} of {a.copies} labelled", flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    np.savez(
        a.out,
        ids=np.concatenate(all_ids),
        mask=np.concatenate(all_mask),
        probs=np.concatenate(all_probs),
        rows=np.concatenate(all_rows),
    )
    print(f"{len(fit) * a.copies} perturbed rows in {a.out}")


if __name__ == "__main__":
    main()
