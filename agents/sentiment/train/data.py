"""The data set, the seeded split of train into fit and tune, and padded
id batches."""

import csv
import os

import numpy as np

import tokenizer
import weights

DATA = "../../../../shared/data/twitter-financial-news-sentiment"
LABELS = ("bearish", "bullish", "neutral")
# The seed of the fit/tune split (and of the trainings' randomness), and the
# most word-pieces a headline is cut to: every script that trains, measures
# or exports must agree on both.
SEED = 7
MAX_LEN = 48


def load(path):
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], np.array([int(r["label"]) for r in rows], dtype=np.int32)


def split(n, seed, tune_fraction=0.15):
    """Indices of the fit and tune parts of `n` rows (stratification is
    left to the size of the set: 1,400 tune rows)."""
    idx = np.random.default_rng(seed).permutation(n)
    cut = int(round(n * (1.0 - tune_fraction)))
    return idx[:cut], idx[cut:]


def ids_of(texts, vocab, max_len):
    """[N, max_len] ids (0-padded) and the mask."""
    ids = np.zeros((len(texts), max_len), dtype=np.int32)
    mask = np.zeros((len(texts), max_len), dtype=np.float32)
    for i, t in enumerate(texts):
        e = tokenizer.encode(t, vocab, max_len)
        ids[i, : len(e)] = e
        mask[i, : len(e)] = 1.0
    return ids, mask


def macro_f1(y, p, classes=3):
    f1s = []
    for c in range(classes):
        tp = np.sum((p == c) & (y == c))
        fp = np.sum((p == c) & (y != c))
        fn = np.sum((p != c) & (y == c))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f1s))


class TrainSet:
    """sent_train.csv as ids, with its fit/tune split. `limit` keeps only
    that many fit rows (and a quarter as many tune rows): smoke tests."""

    def __init__(self, max_len, seed, limit=0):
        here = os.path.dirname(os.path.abspath(__file__))
        self.texts, self.y = load(os.path.join(here, DATA, "sent_train.csv"))
        self.vocab = tokenizer.load_vocab(os.path.join(weights.minilm_dir(), "vocab.txt"))
        self.ids, self.mask = ids_of(self.texts, self.vocab, max_len)
        self.fit, self.tune = split(len(self.texts), seed)
        if limit:
            self.fit, self.tune = self.fit[:limit], self.tune[: max(limit // 4, 8)]
