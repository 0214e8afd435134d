#!/usr/bin/python3
"""Writes tests/data/every_op_cases.inc: the cases of test_every_op_facets.cpp.

Each case is one IR op (its text name and attributes) applied to fixed
inputs, with the result NumPy (or SciPy) computes for it: that result is
the numeric reference the interpreter must match. The C++ test builds the
op, checks the reference, the JIT, vjp/jvp against finite differences and
vmap against a loop; it fails for an op of ir/ops.h that has no case here.

A case may also say which inputs to differentiate (`wrt`; default: the
floating ones) and, where kiln refuses that derivative, the error it gives
(`grad_error`); and which inputs vmap cannot batch (`unbatchable`), with
the error it gives then (`vmap_error`). Run it after changing a case:
  /usr/bin/python3 tests/every_op_cases.py > tests/data/every_op_cases.inc
"""
import math

import numpy as np
import scipy.linalg
import scipy.special

SHORT = {np.dtype(np.bool_): "bool", np.dtype(np.uint8): "u8", np.dtype(np.uint32): "u32",
         np.dtype(np.int32): "i32", np.dtype(np.int64): "i64", np.dtype(np.float32): "f32",
         np.dtype(np.float64): "f64", np.dtype(np.complex64): "c64", np.dtype(np.uint16): "u16"}

cases = []


def case(label, op, inputs, out, attrs=None, wrt=None, grad_error=None, unbatchable=None, vmap_error=None):
    cases.append(dict(label=label, op=op, inputs=[np.asarray(x) for x in inputs], out=np.asarray(out),
                      attrs=attrs or {}, wrt=wrt, grad_error=grad_error, unbatchable=unbatchable or [],
                      vmap_error=vmap_error))


def smooth(shape, salt, lo=0.2, hi=0.8):
    """float64 values spread over (lo, hi), distinct within and between salts."""
    n = int(np.prod(shape, dtype=np.int64))
    i = np.arange(n, dtype=np.float64)
    v = np.fmod(0.137 * (i + 1) + 0.311 * salt, 1.0)
    return (lo + (hi - lo) * v).reshape(shape)


def ints(shape, salt, lo=-8, hi=8):
    n = int(np.prod(shape, dtype=np.int64))
    i = np.arange(n)
    return (lo + (i * 7 + salt * 5) % (hi - lo + 1)).astype(np.int32).reshape(shape)


def bools(shape, salt):
    n = int(np.prod(shape, dtype=np.int64))
    return ((np.arange(n) * 5 + salt) % 3 == 0).reshape(shape)


SHAPES = [(), (3, 4)]

# ---- unary elementwise ---------------------------------------------------
unary = {
    "abs": np.abs, "negative": np.negative, "square": np.square, "sqrt": np.sqrt,
    "rsqrt": lambda x: 1 / np.sqrt(x), "exp": np.exp, "expm1": np.expm1, "log": np.log,
    "log2": np.log2, "log10": np.log10, "log1p": np.log1p, "sin": np.sin, "cos": np.cos,
    "tan": np.tan, "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan, "sinh": np.sinh,
    "cosh": np.cosh, "tanh": np.tanh, "arcsinh": np.arcsinh, "arccosh": np.arccosh,
    "arctanh": np.arctanh, "sigmoid": lambda x: 1 / (1 + np.exp(-x)), "erf": scipy.special.erf,
    "erfinv": scipy.special.erfinv, "stop_gradient": lambda x: x,
    # piecewise constant: inputs of both signs and beyond one
    "sign": np.sign, "floor": np.floor, "ceil": np.ceil, "round": np.round,
}
for name, fn in unary.items():
    for s in SHAPES:
        if name in ("sign", "floor", "ceil", "round"):
            x = smooth(s, 0, -2.6, 2.6)
        elif name == "arccosh":
            x = smooth(s, 0, 1.2, 1.8)
        elif name == "abs":
            x = smooth(s, 0, -0.8, 0.8)
        else:
            x = smooth(s, 0)
        case(f"{name}{len(s)}", name, [x], fn(x))
case("logical_not", "logical_not", [bools((3, 4), 0)], ~bools((3, 4), 0))
case("bitwise_invert", "bitwise_invert", [ints((3, 4), 0)], ~ints((3, 4), 0))
case("cast_f64_f32", "cast", [smooth((3, 4), 0)], smooth((3, 4), 0).astype(np.float32))
case("cast_i32_f64", "cast", [ints((3, 4), 0)], ints((3, 4), 0).astype(np.float64))
case("cast_f64_i32", "cast", [smooth((3, 4), 0, -9, 9)], np.trunc(smooth((3, 4), 0, -9, 9)).astype(np.int32))

# ---- binary elementwise and comparisons ------------------------------------
binary = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
    "floor_divide": np.floor_divide, "remainder": np.remainder, "power": np.power,
    "maximum": np.maximum, "minimum": np.minimum, "arctan2": np.arctan2, "logaddexp": np.logaddexp,
    "equal": np.equal, "not_equal": np.not_equal, "less": np.less, "less_equal": np.less_equal,
    "greater": np.greater, "greater_equal": np.greater_equal,
}
for name, fn in binary.items():
    for s in SHAPES:
        a, b = smooth(s, 0), smooth(s, 1)
        if name in ("floor_divide", "remainder"):
            a = smooth(s, 0, 0.5, 4.5)
        if fn in (np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal) and s:
            b = np.where(np.arange(12).reshape(s) % 3 == 0, a, b)  # some ties
        case(f"{name}{len(s)}", name, [a, b], fn(a, b))
for name, fn in {"logical_and": np.logical_and, "logical_or": np.logical_or}.items():
    case(name, name, [bools((3, 4), 0), bools((3, 4), 1)], fn(bools((3, 4), 0), bools((3, 4), 1)))
for name, fn in {"bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or,
                 "bitwise_xor": np.bitwise_xor}.items():
    case(name, name, [ints((3, 4), 0), ints((3, 4), 1)], fn(ints((3, 4), 0), ints((3, 4), 1)))
shift = ints((3, 4), 1, 0, 4)
case("left_shift", "left_shift", [ints((3, 4), 0), shift], np.left_shift(ints((3, 4), 0), shift))
case("right_shift", "right_shift", [ints((3, 4), 0), shift], np.right_shift(ints((3, 4), 0), shift))

for s in SHAPES:
    c, a, b = bools(s, 1), smooth(s, 0), smooth(s, 1)
    case(f"select{len(s)}", "select", [c, a, b], np.where(c, a, b))

# ---- reductions and argmax/argmin -----------------------------------------
x34 = smooth((3, 4), 0)
reductions = {"sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min}
for name, fn in reductions.items():
    for axes in ([1], [0], [0, 1], []):
        case(f"{name}_axes{''.join(map(str, axes))}", name, [x34], fn(x34, axis=tuple(axes)),
             {"axes": axes})
    case(f"{name}_rank0", name, [np.float64(0.3)], np.float64(0.3), {"axes": []})
for name, fn in {"all": np.all, "any": np.any}.items():
    for axes in ([1], [0, 1]):
        case(f"{name}_axes{''.join(map(str, axes))}", name, [bools((3, 4), 0)],
             fn(bools((3, 4), 0), axis=tuple(axes)), {"axes": axes})
xt = x34.copy()
xt[1, 2] = xt[1, 0]  # a tie: the first index wins
for name, fn in {"argmax": np.argmax, "argmin": np.argmin}.items():
    for axis in (0, 1):
        case(f"{name}_axis{axis}", name, [xt], fn(xt, axis=axis).astype(np.uint32), {"axis": axis})

# ---- data movement ----------------------------------------------------------
x234 = smooth((2, 3, 4), 0)
case("reshape", "reshape", [x34], x34.reshape(2, 6))
case("reshape_rank0", "reshape", [np.float64(0.5)], np.float64(0.5).reshape(1, 1))
case("transpose2", "transpose", [x34], x34.T, {"perm": [1, 0]})
case("transpose3", "transpose", [x234], x234.transpose(2, 0, 1), {"perm": [2, 0, 1]})
case("broadcast", "broadcast", [smooth((3, 1), 0)], np.broadcast_to(smooth((3, 1), 0), (2, 3, 4)))
case("broadcast_rank0", "broadcast", [np.float64(0.5)], np.broadcast_to(np.float64(0.5), (3, 4)))
sl = {"start": [0, 3], "stop": [3, -1], "strides": [2, -2]}
case("slice", "slice", [x34], x34[0:3:2, 3::-2], sl)
upd = smooth((2, 2), 1)
y = x34.copy()
y[0:3:2, 3::-2] = upd
case("slice_update", "slice_update", [x34, upd], y, sl)
parts = [smooth((3, 2), 0), smooth((3, 1), 1), smooth((3, 4), 2)]
case("concatenate", "concatenate", parts, np.concatenate(parts, axis=1), {"axis": 1})
case("concatenate_one", "concatenate", [x34], x34, {"axis": 0})
pv = np.float64(0.9)
case("pad", "pad", [x34, pv], np.pad(x34, ((1, 0), (0, 2)), constant_values=pv), {"low": [1, 0], "high": [0, 2]})


def norm_idx(idx, dim):
    """kiln's take: a negative index wraps once, then every index clamps."""
    idx = np.where(idx < 0, idx + dim, idx)
    return np.clip(idx, 0, dim - 1)


idx1 = np.array([3, -1, 0, 7, -9], np.int32)  # 7 and -9 clamp
case("take_axis1", "take", [x34, idx1], np.take(x34, norm_idx(idx1, 4), axis=1), {"axis": 1})
idx2 = np.array([[2, 0], [-1, 1]], np.int32)
case("take_axis0_2d", "take", [x34, idx2], np.take(x34, norm_idx(idx2, 3), axis=0), {"axis": 0})
ta = np.array([[3, 0], [-1, 2], [1, 1]], np.int32)
case("take_along_axis", "take_along_axis", [x34, ta], np.take_along_axis(x34, norm_idx(ta, 4), axis=1),
     {"axis": 1})


def scatter_ref(a, idx, updates, axis, reduce):
    """Each update row combines, in order, into a's row at its index (the
    transpose of take along axis)."""
    out = np.moveaxis(a.copy(), axis, 0)
    u = np.moveaxis(updates, axis, 0)  # updates[:axis] + idx.shape + [axis+1:]
    flat = norm_idx(idx.reshape(-1), a.shape[axis])
    u = u.reshape((len(flat),) + out.shape[1:]) if axis == 0 else \
        np.moveaxis(updates.reshape(a.shape[:axis] + (len(flat),) + a.shape[axis + 1:]), axis, 0)
    for j, p in enumerate(flat):
        if reduce == 0:
            out[p] = u[j]
        elif reduce == 1:
            out[p] = out[p] + u[j]
        elif reduce == 2:
            out[p] = out[p] * u[j]
        elif reduce == 3:
            out[p] = np.maximum(out[p], u[j])
        else:
            out[p] = np.minimum(out[p], u[j])
    return np.moveaxis(out, 0, axis)


a43 = smooth((4, 3), 0)
for reduce, name in enumerate(["assign", "add", "prod", "max", "min"]):
    # assign with distinct indices (a duplicate's overwritten update gets a
    # cotangent by kiln's rule, as MLX's and JAX's, which is not the derivative)
    idx = np.array([0, 2, -1], np.int32) if reduce == 0 else np.array([0, 2, -1, 2, 1], np.int32)
    u = smooth((len(idx), 3), 1)
    case(f"scatter_{name}", "scatter", [a43, idx, u], scatter_ref(a43, idx, u, 0, reduce),
         {"axis": 0, "reduce": reduce})
idx = np.array([[1, 3], [3, 0]], np.int32)
u = smooth((3, 2, 2), 2)
case("scatter_add_axis1", "scatter", [x34, idx, u], scatter_ref(x34, idx, u, 1, 1), {"axis": 1, "reduce": 1})

# ---- matmul, bitcast ---------------------------------------------------------
case("matmul", "matmul", [x34, smooth((4, 2), 1)], x34 @ smooth((4, 2), 1))
case("matmul_batched", "matmul", [x234, smooth((2, 4, 5), 1)], x234 @ smooth((2, 4, 5), 1))
case("bitcast_f64_u32", "bitcast", [x34], x34.view(np.uint32))
x34f = x34.astype(np.float32)
case("bitcast_f32_u8", "bitcast", [x34f], x34f.view(np.uint8))
case("bitcast_u16_f32", "bitcast", [np.array([[0, 16320, 0, 49024]], np.uint16)],
     np.array([[0, 16320, 0, 49024]], np.uint16).view(np.float32))  # 1.5, -1.0
case("bitcast_f64_f32", "bitcast", [x34], x34.view(np.float32))  # float output, still no derivative

# ---- scans, sorts ---------------------------------------------------------------
IDENTITY = {"cumsum": 0.0, "cumprod": 1.0, "cummax": -np.inf, "cummin": np.inf, "logcumsumexp": -np.inf}
ACCUMULATE = {"cumsum": np.add.accumulate, "cumprod": np.multiply.accumulate,
              "cummax": np.maximum.accumulate, "cummin": np.minimum.accumulate,
              "logcumsumexp": np.logaddexp.accumulate}


def scan_ref(name, x, axis, reverse, inclusive):
    y = np.flip(x, axis) if reverse else x
    y = ACCUMULATE[name](y, axis=axis)
    if not inclusive:
        y = np.moveaxis(y, axis, 0)
        y = np.concatenate([np.full((1,) + y.shape[1:], IDENTITY[name]), y[:-1]])
        y = np.moveaxis(y, 0, axis)
    return np.flip(y, axis) if reverse else y


for name in ACCUMULATE:
    for axis, reverse, inclusive in ((1, 0, 1), (0, 1, 1), (1, 1, 0)):
        case(f"{name}_a{axis}r{reverse}i{inclusive}", name, [x34], scan_ref(name, x34, axis, reverse, inclusive),
             {"axis": axis, "reverse": reverse, "inclusive": inclusive})
xs = smooth((3, 5), 0)
for axis in (0, 1):
    case(f"sort_axis{axis}", "sort", [xs], np.sort(xs, axis=axis, kind="stable"), {"axis": axis})
ties = np.array([[0.5, 0.25, 0.5, 0.75, 0.25], [1.0, 1.0, 0.0, 1.0, 0.5], [0.3, 0.2, 0.1, 0.2, 0.3]])
for axis in (0, 1):
    case(f"argsort_axis{axis}", "argsort", [ties],
         np.argsort(ties, axis=axis, kind="stable").astype(np.uint32), {"axis": axis})


def argpartition_ref(x, kth, axis):
    """kiln's order: the indices of ranks < kth in index order, the index of
    rank kth, then the rest in index order (ranks of the stable sort)."""
    xm = np.moveaxis(x, axis, -1)
    out = np.zeros(xm.shape, np.uint32)
    for pos in np.ndindex(xm.shape[:-1]):
        order = np.argsort(xm[pos], kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        before = [i for i in range(len(order)) if rank[i] < kth]
        after = [i for i in range(len(order)) if rank[i] > kth]
        out[pos] = before + [order[kth]] + after
    return np.moveaxis(out, -1, axis)


case("argpartition_axis1", "argpartition", [ties], argpartition_ref(ties, 2, 1), {"axis": 1, "kth": 2})
case("argpartition_axis0", "argpartition", [ties], argpartition_ref(ties, 1, 0), {"axis": 0, "kth": 1})

# ---- linalg (kinds of runtime::LinalgKind) ------------------------------------
m33 = smooth((3, 3), 0)
spd = m33 @ m33.T + np.eye(3)
m43 = smooth((4, 3), 1) + np.array([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]])


def la(kind, output, upper=0):
    return {"kind": kind, "output": output, "upper": upper}


case("linalg_inv", "linalg", [spd], np.linalg.inv(spd), la(0, 0))
case("linalg_inv_batched", "linalg", [np.stack([spd, spd.T + np.eye(3)])],
     np.linalg.inv(np.stack([spd, spd.T + np.eye(3)])), la(0, 0))
case("linalg_tri_inv", "linalg", [spd], np.linalg.inv(np.tril(spd)), la(1, 0))
case("linalg_cholesky", "linalg", [spd], np.linalg.cholesky(spd), la(2, 0))
case("linalg_cholesky_upper", "linalg", [spd], np.linalg.cholesky(spd).T, la(2, 0, 1))
q, r = np.linalg.qr(m43)
case("linalg_qr_q", "linalg", [m43], q, la(3, 0))
case("linalg_qr_r", "linalg", [m43], r, la(3, 1))
case("linalg_svdvals", "linalg", [m43], np.linalg.svd(m43, compute_uv=False), la(5, 0))
case("linalg_eigh_w", "linalg", [spd], np.linalg.eigvalsh(spd), la(6, 0))
case("linalg_eigvalsh", "linalg", [spd], np.linalg.eigvalsh(spd), la(7, 0))
pivoted = smooth((3, 3), 2) + np.array([[0.0, 0, 0], [0, 0, 2], [2, 0, 0]])  # row swaps
lu, piv = scipy.linalg.lu_factor(pivoted)
case("linalg_lu", "linalg", [pivoted], lu, la(10, 0), grad_error="not differentiable")
case("linalg_lu_pivots", "linalg", [pivoted], piv.astype(np.uint32), la(10, 1))

# ---- fft, quantized_matmul ---------------------------------------------------------
c4 = (smooth((4,), 0) + 1j * smooth((4,), 1)).astype(np.complex64)
c34 = (smooth((3, 4), 0) + 1j * smooth((3, 4), 1)).astype(np.complex64)
r38 = smooth((3, 8), 2).astype(np.float32)
fa = lambda axes, inverse, real, n: {"axes": axes, "inverse": inverse, "real": real, "n": n}
case("fft", "fft", [c4], np.fft.fft(c4.astype(np.complex128)), fa([0], 0, 0, 0))
case("ifft2", "fft", [c34], np.fft.ifftn(c34.astype(np.complex128), axes=(0, 1)), fa([0, 1], 1, 0, 0))
case("rfft", "fft", [r38], np.fft.rfft(r38.astype(np.float64), axis=1), fa([1], 0, 1, 8))
c35 = (smooth((3, 5), 0) + 1j * smooth((3, 5), 1)).astype(np.complex64)
case("irfft", "fft", [c35], np.fft.irfft(c35.astype(np.complex128), n=8, axis=1).astype(np.float32),
     fa([1], 1, 1, 8))


def quantize_ref(rows, cols, bits, group, salt):
    """Random codes packed as kiln/MLX store them (little-endian bit stream
    per row), with scales and biases; returns (w, scales, biases, W)."""
    codes = ((np.arange(rows * cols).reshape(rows, cols) * 7 + salt) % (1 << bits)).astype(np.uint64)
    words = np.zeros((rows, cols * bits // 32), np.uint32)
    for r in range(rows):
        stream = 0
        for j in range(cols):
            stream |= int(codes[r, j]) << (j * bits)
        for w in range(words.shape[1]):
            words[r, w] = (stream >> (32 * w)) & 0xFFFFFFFF
    scales = (smooth((rows, cols // group), salt, 0.05, 0.2)).astype(np.float32)
    biases = (smooth((rows, cols // group), salt + 1, -0.5, 0.5)).astype(np.float32)
    W = np.repeat(scales.astype(np.float64), group, axis=1) * codes + np.repeat(biases.astype(np.float64), group, axis=1)
    return words, scales, biases, W


qa = lambda t: {"transpose": t, "group_size": 32, "bits": 4}
# As MLX's: vmap batches x only (each batch entry would be another quantized matrix).
qv = dict(unbatchable=[1, 2, 3], vmap_error="vmap over the quantized weights, scales or biases is not supported")
w, sc, bi, W = quantize_ref(3, 64, 4, 32, 0)
xq = smooth((2, 64), 3, -1, 1).astype(np.float32)
case("quantized_matmul_t", "quantized_matmul", [xq, w, sc, bi], (xq.astype(np.float64) @ W.T).astype(np.float32),
     qa(1), wrt=[0], **qv)
# As MLX's: differentiable in the scales and biases too (not in the codes).
case("quantized_matmul_t_scales", "quantized_matmul", [xq, w, sc, bi],
     (xq.astype(np.float64) @ W.T).astype(np.float32), qa(1), wrt=[0, 2, 3], **qv)
w, sc, bi, W = quantize_ref(2, 64, 4, 32, 1)
xq = smooth((3, 2), 4, -1, 1).astype(np.float32)
case("quantized_matmul_n", "quantized_matmul", [xq, w, sc, bi], (xq.astype(np.float64) @ W).astype(np.float32),
     qa(0), wrt=[0], **qv)

# ---- constant, custom ------------------------------------------------------------
case("constant", "constant", [], smooth((3, 4), 5))
# The C++ side builds F(x, y) = sin(x) * y as the custom op's forward function.
case("custom", "custom", [x34, smooth((3, 4), 1)], np.sin(x34) * smooth((3, 4), 1))


# ---- the .inc ------------------------------------------------------------------------
def num(v):
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    v = float(v)
    if math.isnan(v):
        return "kNaN"
    if math.isinf(v):
        return "kInf" if v > 0 else "-kInf"
    return repr(v)


def tensor(x):
    dt = SHORT[x.dtype] if x.dtype in SHORT else None
    if x.dtype == np.complex128:  # references are computed in double precision
        dt = "c64"
    if dt is None:
        raise SystemExit(f"no short name for {x.dtype}")
    flat = x.reshape(-1)
    if np.iscomplexobj(x):
        vals = [num(p) for c in flat for p in (c.real, c.imag)]
    else:
        vals = [num(v) for v in flat]
    return f'{{"{dt}", {{{", ".join(map(str, x.shape))}}}, {{{", ".join(vals)}}}}}'


def attr(v):
    if isinstance(v, list):
        return "std::vector<int64_t>{" + ", ".join(map(str, v)) + "}"
    return f"int64_t({v})"


print("// Generated by tests/every_op_cases.py (NumPy " + np.__version__ + ", SciPy " + scipy.__version__ +
      "): do not edit.")
for c in cases:
    attrs = ", ".join(f'{{"{k}", {attr(v)}}}' for k, v in c["attrs"].items())
    ins = ", ".join(tensor(x) for x in c["inputs"])
    wrt = "{" + ", ".join(map(str, c["wrt"])) + "}" if c["wrt"] is not None else "kFloatingInputs"
    err = f'"{c["grad_error"]}"' if c["grad_error"] else "nullptr"
    unb = "{" + ", ".join(map(str, c["unbatchable"])) + "}"
    verr = f'"{c["vmap_error"]}"' if c["vmap_error"] else "nullptr"
    print(f'{{"{c["label"]}", "{c["op"]}", {{{attrs}}},\n {{{ins}}},\n {tensor(c["out"])},\n {wrt}, {err}, {unb}, {verr}}},')
