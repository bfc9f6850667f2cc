"""The transformer both models share, in JAX: BERT's post-LayerNorm
encoder (MiniLM is one: 6 layers, width 384, 12 heads), mean pooling over
the tokens, and a 3-way head (bearish, bullish, neutral: the data set's
labels 0, 1, 2). The teacher is MiniLM itself, fine-tuned; the student is
the same shape made small, and is what the agent runs (src/model.rs)."""

import jax
import jax.numpy as jnp
import numpy as np

LN_EPS = 1e-12
MINILM_HEADS = 12


def from_minilm(w, classes=3, seed=0):
    """Parameters from MiniLM's safetensors (weights.read_safetensors)."""
    lin = lambda p: (jnp.asarray(w[p + ".weight"].T), jnp.asarray(w[p + ".bias"]))
    ln = lambda p: (jnp.asarray(w[p + ".weight"]), jnp.asarray(w[p + ".bias"]))
    layers = []
    i = 0
    while f"encoder.layer.{i}.attention.self.query.weight" in w:
        p = f"encoder.layer.{i}."
        layers.append(
            {
                "q": lin(p + "attention.self.query"),
                "k": lin(p + "attention.self.key"),
                "v": lin(p + "attention.self.value"),
                "o": lin(p + "attention.output.dense"),
                "ln1": ln(p + "attention.output.LayerNorm"),
                "ff1": lin(p + "intermediate.dense"),
                "ff2": lin(p + "output.dense"),
                "ln2": ln(p + "output.LayerNorm"),
            }
        )
        i += 1
    d = w["embeddings.word_embeddings.weight"].shape[1]
    rng = np.random.default_rng(seed)
    return {
        "tok": jnp.asarray(w["embeddings.word_embeddings.weight"]),
        # Token type 0 is the only one used: fold it into the positions.
        "pos": jnp.asarray(w["embeddings.position_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0]),
        "ln0": ln("embeddings.LayerNorm"),
        "layers": layers,
        "head": (jnp.asarray(rng.normal(0, 0.02, (d, classes)).astype(np.float32)), jnp.zeros(classes)),
    }


def layer_norm(x, gb):
    g, b = gb
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / jnp.sqrt(v + LN_EPS) * g + b


def dropout(x, rate, key):
    if key is None or rate == 0.0:
        return x
    keep = jax.random.bernoulli(key, 1.0 - rate, x.shape)
    return jnp.where(keep, x / (1.0 - rate), 0.0)


def encode(params, ids, mask, heads, key=None, rate=0.1):
    """Pooled sentence vectors of a batch: ids and mask are [B, L]."""
    B, L = ids.shape
    x = params["tok"][ids] + params["pos"][:L]
    x = layer_norm(x, params["ln0"])
    keys = jax.random.split(key, 2 * len(params["layers"]) + 1) if key is not None else [None] * (2 * len(params["layers"]) + 1)
    x = dropout(x, rate, keys[-1])
    bias = (1.0 - mask[:, None, None, :]) * -1e9
    for n, lp in enumerate(params["layers"]):
        d = x.shape[-1]
        hd = d // heads
        split = lambda t: t.reshape(B, L, heads, hd).transpose(0, 2, 1, 3)
        q = split(x @ lp["q"][0] + lp["q"][1])
        k = split(x @ lp["k"][0] + lp["k"][1])
        v = split(x @ lp["v"][0] + lp["v"][1])
        a = jax.nn.softmax(q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd) + bias, axis=-1)
        ctx = (a @ v).transpose(0, 2, 1, 3).reshape(B, L, d)
        x = layer_norm(x + dropout(ctx @ lp["o"][0] + lp["o"][1], rate, keys[2 * n]), lp["ln1"])
        h = jax.nn.gelu(x @ lp["ff1"][0] + lp["ff1"][1], approximate=False)
        x = layer_norm(x + dropout(h @ lp["ff2"][0] + lp["ff2"][1], rate, keys[2 * n + 1]), lp["ln2"])
    m = mask[:, :, None]
    return (x * m).sum(1) / m.sum(1)


def logits(params, ids, mask, heads, key=None, rate=0.1):
    pooled = encode(params, ids, mask, heads, key, rate)
    return pooled @ params["head"][0] + params["head"][1]
