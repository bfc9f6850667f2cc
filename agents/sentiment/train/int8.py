"""The model file and the int8 forward pass, in numpy: what the Rust agent
(src/model.rs) computes, step for step, so the figures reported for a
model file are the figures of what the agent runs.

The file is safetensors (`weights.read_safetensors` reads it back):

| tensor | dtype | shape | what |
|---|---|---|---|
| `vocab` | U8 | [bytes] | the WordPiece vocabulary, one piece a line (id = line number) |
| `tok.q`, `tok.scale` | I8, F32 | [V, D], [V] | token embeddings, one scale per token |
| `pos` | F32 | [max_len, D] | position embeddings (token type 0 folded in) |
| `ln0.g`, `ln0.b` | F32 | [D] | the embeddings' LayerNorm |
| `layers.N.{q,k,v,o,ff1,ff2}.q` | I8 | [out, in] | a layer's weights, one row per output channel |
| `layers.N.{q,k,v,o,ff1,ff2}.scale`, `.b` | F32 | [out] | per-output-channel scale, and the bias |
| `layers.N.{ln1,ln2}.{g,b}` | F32 | [D] | the layer's LayerNorms |
| `head.w`, `head.b` | F32 | [3, D], [3] | the classifier: bearish, bullish, neutral |

`__metadata__` holds `format` (`floor-sentiment/1`), `version`, `heads`,
`max_len`, `labels` and the measured figures.

Quantization: weights symmetric int8 per output channel
(`scale = max|w| / 127`); a linear layer's input is quantized per token the
same way at run time; products are summed in int32, then
`y = acc * (s_x * s_w) + b` in f32. Embeddings are int8 with a scale per
token. Attention, LayerNorm and the head stay in f32; GELU reads Φ from a
table (`gelu`).
"""

import json
import struct

import numpy as np

FORMAT = "floor-sentiment/1"
LN_EPS = 1e-12
LINEARS = ("q", "k", "v", "o", "ff1", "ff2")


def quantize_rows(w):
    """Symmetric int8 with one scale per row (`w` is [rows, cols])."""
    m = np.abs(w).max(1)
    scale = np.where(m > 0, m / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def tensors_of(params, vocab_text, max_len):
    """The file's tensors from float parameters (model.py's pytree)."""
    f32 = lambda x: np.asarray(x, dtype=np.float32)
    t = {"vocab": np.frombuffer(vocab_text.encode("utf-8"), dtype=np.uint8)}
    t["tok.q"], t["tok.scale"] = quantize_rows(f32(params["tok"]))
    t["pos"] = f32(params["pos"])[:max_len]
    t["ln0.g"], t["ln0.b"] = map(f32, params["ln0"])
    for n, lp in enumerate(params["layers"]):
        p = f"layers.{n}."
        for name in LINEARS:
            w, b = lp[name]
            t[p + name + ".q"], t[p + name + ".scale"] = quantize_rows(f32(w).T)
            t[p + name + ".b"] = f32(b)
        for name in ("ln1", "ln2"):
            t[p + name + ".g"], t[p + name + ".b"] = map(f32, lp[name])
    t["head.w"] = f32(params["head"][0]).T.copy()
    t["head.b"] = f32(params["head"][1])
    return t


DTYPE_NAMES = {np.dtype(np.float32): "F32", np.dtype(np.int8): "I8", np.dtype(np.uint8): "U8"}


def write(path, tensors, metadata):
    """safetensors: 8-byte little-endian header length, the JSON header
    (padded with spaces to 8 bytes), the tensors back to back in name order
    (the format allows no gaps between them, so none is aligned; the agent
    copies its f32 tensors and reads int8 ones in place)."""
    header, blobs, offset = {"__metadata__": {k: str(v) for k, v in metadata.items()}}, [], 0
    for name in sorted(tensors):
        raw = np.ascontiguousarray(tensors[name]).tobytes()
        a = tensors[name]
        header[name] = {"dtype": DTYPE_NAMES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((-len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def export(path, tensors, metadata):
    """`write`, then the file's SHA-256 beside it (`<path>.sha256`, in
    `sha256sum`'s format); returns the digest."""
    import hashlib
    import os

    write(path, tensors, metadata)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    with open(path + ".sha256", "w") as f:
        f.write(f"{digest}  {os.path.basename(path)}\n")
    return digest


def read(path):
    """The tensors (in their stored dtypes) and the metadata of a model file."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": np.float32, "I8": np.int8, "U8": np.uint8}
    meta = header.pop("__metadata__", {})
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} file (format {meta.get('format')!r})")
    out = {}
    for name, m in header.items():
        s, e = m["data_offsets"]
        out[name] = np.frombuffer(data[s:e], dtype=dtypes[m["dtype"]]).reshape(m["shape"])
    return out, meta


def vocab_of(tensors):
    pieces = tensors["vocab"].tobytes().decode("utf-8").split("\n")
    return {p: i for i, p in enumerate(pieces)}


def quantize_act(x):
    """Per-token symmetric int8 of `x` [L, n]: (int8 values, f32 scales [L])."""
    m = np.abs(x).max(1)
    s = np.where(m > 0, m / np.float32(127.0), np.float32(1.0)).astype(np.float32)
    q = np.clip(np.rint(x / s[:, None]), -127, 127).astype(np.int32)
    return q, s


def linear(t, name, x):
    q, s = quantize_act(x)
    acc = q @ t[name + ".q"].astype(np.int32).T
    return acc.astype(np.float32) * (s[:, None] * t[name + ".scale"][None, :]) + t[name + ".b"]


def layer_norm(x, g, b):
    m = x.mean(-1, keepdims=True, dtype=np.float32)
    v = ((x - m) ** 2).mean(-1, keepdims=True, dtype=np.float32)
    return (x - m) / np.sqrt(v + np.float32(LN_EPS)) * g + b


GELU_LO, GELU_PER_UNIT, GELU_POINTS = -6.0, 256.0, 12 * 256 + 1


def gelu_table():
    """Φ at -6, -6 + 1/256, …, 6 (f32), and the steps between neighbours."""
    from scipy.special import erf

    x = GELU_LO + np.arange(GELU_POINTS, dtype=np.float64) / GELU_PER_UNIT
    phi = (0.5 * (1.0 + erf(x / np.sqrt(2.0)))).astype(np.float32)
    return phi, (phi[1:] - phi[:-1]).astype(np.float32)


GELU_PHI, GELU_STEP = gelu_table()


def gelu(x):
    """x · Φ(x), Φ interpolated from the table (within 5e-7 of exact):
    the agent's GELU, five times cheaper than erf in the sandbox."""
    x = x.astype(np.float32)
    u = (np.clip(x, GELU_LO, -GELU_LO) - np.float32(GELU_LO)) * np.float32(GELU_PER_UNIT)
    i = np.minimum(u.astype(np.int64), len(GELU_STEP) - 1)
    f = u - i.astype(np.float32)
    y = x * (GELU_PHI[i] + f * GELU_STEP[i])
    return np.where(x <= GELU_LO, np.float32(0.0), np.where(x >= -GELU_LO, x, y)).astype(np.float32)


def forward(t, meta, ids):
    """Class probabilities (bearish, bullish, neutral) of one id sequence."""
    heads = int(meta["heads"])
    x = t["tok.q"][ids].astype(np.float32) * t["tok.scale"][ids][:, None] + t["pos"][: len(ids)]
    x = layer_norm(x, t["ln0.g"], t["ln0.b"])
    L, d = x.shape
    hd = d // heads
    n = 0
    while f"layers.{n}.q.q" in t:
        p = f"layers.{n}."
        q, k, v = (linear(t, p + c, x).reshape(L, heads, hd).transpose(1, 0, 2) for c in "qkv")
        a = q @ k.transpose(0, 2, 1) / np.float32(np.sqrt(hd))
        a = np.exp(a - a.max(-1, keepdims=True))
        a = a / a.sum(-1, keepdims=True)
        ctx = (a @ v).transpose(1, 0, 2).reshape(L, d)
        x = layer_norm(x + linear(t, p + "o", ctx), t[p + "ln1.g"], t[p + "ln1.b"])
        h = gelu(linear(t, p + "ff1", x))
        x = layer_norm(x + linear(t, p + "ff2", h), t[p + "ln2.g"], t[p + "ln2.b"])
        n += 1
    pooled = x.mean(0)
    z = t["head.w"] @ pooled + t["head.b"]
    z = np.exp(z - z.max())
    return z / z.sum()
