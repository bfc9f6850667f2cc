"""The tokenizer the model reads headlines with: BERT's uncased WordPiece
over MiniLM's vocabulary (vocab.txt, 30,522 pieces), written out here so
the Rust agent (src/tokenizer.rs) can do exactly the same; a test checks
both give the same ids on every headline of the data set.

Steps: drop URLs; lower-case; decompose (NFD) and drop combining marks
(accents); split on whitespace, then split every character that is neither
alphanumeric nor whitespace off as its own word; each word becomes the
longest vocabulary pieces from the left (`##` marks a piece inside a word),
or [UNK] when it cannot. [CLS] first, [SEP] last, at most `max_len` ids.
"""

import re
import unicodedata

URL = re.compile(r"https?://\S+")

CLS, SEP, UNK, PAD, MASK = "[CLS]", "[SEP]", "[UNK]", "[PAD]", "[MASK]"


def load_vocab(path):
    with open(path, encoding="utf-8") as f:
        pieces = [line.rstrip("\n") for line in f]
    return {p: i for i, p in enumerate(pieces)}


def words(text):
    """The words of `text`, before WordPiece."""
    text = URL.sub(" ", text).lower()
    text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    out = []
    for chunk in text.split():
        word = ""
        for c in chunk:
            if c.isalnum():
                word += c
            else:
                if word:
                    out.append(word)
                    word = ""
                if unicodedata.category(c)[0] != "C":
                    out.append(c)
        if word:
            out.append(word)
    return out


def wordpiece(word, vocab, max_chars=100):
    if len(word) > max_chars:
        return [vocab[UNK]]
    ids, start = [], 0
    while start < len(word):
        end = len(word)
        found = None
        while start < end:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                found = vocab[piece]
                break
            end -= 1
        if found is None:
            return [vocab[UNK]]
        ids.append(found)
        start = end
    return ids


def encode(text, vocab, max_len=64):
    ids = [vocab[CLS]]
    for w in words(text):
        ids.extend(wordpiece(w, vocab))
    ids = ids[: max_len - 1]
    ids.append(vocab[SEP])
    return ids
