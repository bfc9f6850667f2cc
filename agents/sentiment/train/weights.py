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
