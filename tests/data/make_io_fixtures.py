#!/usr/bin/env python3
# Writes the fixture files of tests/test_io.cpp with NumPy (and, for
# bfloat16 bits, PyTorch), independently of kiln: .npy and .npz files by
# NumPy itself; .safetensors and .gguf by hand from their specifications.
# Run from this folder: /usr/bin/python3 make_io_fixtures.py
import json
import struct

import numpy as np
import torch

i = np.arange(6).reshape(2, 3)
# The values test_io.cpp expects, per kind, from i = 0..5 in shape (2, 3).
values = {
    "b1": i % 2 == 1,
    "u1": (i * 40).astype("u1"), "u2": (i * 40).astype("u2"),
    "u4": (i * 40).astype("u4"), "u8": (i * 40).astype("u8"),
    "i1": (i - 2).astype("i1"), "i2": (i - 2).astype("i2"),
    "i4": (i - 2).astype("i4"), "i8": (i - 2).astype("i8"),
    "f2": ((i - 2.5) * 0.5).astype("f2"), "f4": ((i - 2.5) * 0.5).astype("f4"),
    "f8": ((i - 2.5) * 0.5).astype("f8"),
    "c8": ((i - 2.5) + 0.25j * i).astype("c8"),
}
for code, a in values.items():
    np.save(f"npy_{code}.npy", a)
# Other byte order, Fortran order, rank 0, empty, format version 2.
np.save("npy_big_f8.npy", values["f8"].astype(">f8"))
np.save("npy_big_i2.npy", values["i2"].astype(">i2"))
np.save("npy_big_c8.npy", values["c8"].astype(">c8"))
np.save("npy_fortran.npy", np.asfortranarray(np.arange(24, dtype=np.int32).reshape(2, 3, 4)))
np.save("npy_scalar.npy", np.float32(3.5))
np.save("npy_empty.npy", np.zeros((0, 3), np.int64))
with open("npy_v2.npy", "wb") as f:
    np.lib.format.write_array(f, values["f4"], version=(2, 0))

np.savez("npz_stored.npz", a=np.arange(5, dtype=np.int64), b=values["f4"])
np.savez_compressed("npz_deflated.npz", a=np.arange(5, dtype=np.int64), b=values["f4"])

# safetensors: u64 header length, JSON header, data.
bf16_bits = torch.tensor([1.5, -2.0, 0.25], dtype=torch.bfloat16).view(torch.int16).numpy()
tensors = {"w": ("F32", [2, 3], values["f4"].tobytes()),
           "b": ("BF16", [3], bf16_bits.tobytes()),
           "n": ("I64", [], np.int64(-7).tobytes())}
header, data = {"__metadata__": {"format": "pt", "note": "h\u00e9llo \"q\""}}, b""
for name, (dtype, shape, raw) in tensors.items():
    header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
    data += raw
text = json.dumps(header).encode()
with open("reference.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + data)

# GGUF version 3: counts, metadata, tensor descriptions (dims innermost
# first), data aligned to 32.
def gstr(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b

def gguf(path, meta, tens):
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tens), len(meta))
    for key, raw in meta:
        out += gstr(key) + raw
    data, infos = b"", b""
    for name, ggml_type, dims, raw in tens:
        infos += gstr(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        infos += struct.pack("<IQ", ggml_type, len(data))
        data += raw + b"\0" * (-len(raw) % 32)
    out += infos
    out += b"\0" * (-len(out) % 32)
    with open(path, "wb") as f:
        f.write(out + data)

meta = [("general.architecture", struct.pack("<I", 8) + gstr("test")),
        ("count", struct.pack("<II", 4, 7)),
        ("scale", struct.pack("<If", 6, 0.5)),
        ("names", struct.pack("<IIQ", 9, 8, 2) + gstr("a") + gstr("bc")),
        ("ids", struct.pack("<IIQiii", 9, 5, 3, 1, -2, 3))]
tens = [("w", 0, [3, 2], values["f4"].tobytes()),
        ("h", 1, [4], np.array([1, -0.5, 2, 65504], np.float16).tobytes()),
        ("bf", 30, [3], bf16_bits.tobytes()),
        ("i8", 24, [5], np.array([-128, -1, 0, 1, 127], np.int8).tobytes())]
gguf("reference.gguf", meta, tens)
# A Q8_0 tensor (one block: an f16 scale and 32 int8 values).
gguf("quantized.gguf", [], [("q", 8, [32], np.float16(1).tobytes() + bytes(32))])
