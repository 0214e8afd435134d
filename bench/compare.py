#!/usr/bin/python3
"""kiln vs NumPy vs PyTorch vs the machine's copy bandwidth, in one run.

Runs kiln-bench (Google Benchmark, JSON; it measures a copy through kiln's
allocator and thread pool right before each memory-bound workload), measures
the same workloads in NumPy (its ufuncs run on one thread) and in eager
PyTorch (2 threads), measures the triad bandwidth with kiln-triad (printed
for reference only), and prints one markdown table. bench/run.sh builds the
binaries and calls this script; it can also be run by hand:

    /usr/bin/python3 bench/compare.py --build build-bench
    /usr/bin/python3 bench/compare.py --kiln-json kiln.json --triad build-bench/bench/kiln-triad

Every time is a median of repeated runs: the machine is small and shared.
The formulas, sizes and names must match bench/kiln_bench.cpp.
"""

import argparse
import ctypes
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time

import numpy as np

from openblas_core import use_kilns_openblas_core

N16M = 1 << 24
N4M = 1 << 22  # sort, argsort
ROWS = COLS = 4096
# The training step of issue 4 (kiln_bench.cpp: mlp_*): MLP 784-512-512-10,
# relu, softmax cross-entropy, mean over the batch, plain SGD.
MLP_BATCH, MLP_IN, MLP_HIDDEN, MLP_OUT, MLP_LR = 256, 784, 512, 10, 0.01
# quantized_matmul rows: x [batch, 4096] times a 4096x4096 weight.
QMM_DIM = 4096
# Multiply-adds x 2 of the eight products (three forward, two input
# gradients, three weight gradients).
# The ResNet-like convolution of issue 11 (kiln_bench.cpp: conv2d_resnet_*):
# 8x56x56x64 -> 64 channels, 3x3, padding 1; its GEMM's FLOPs.
CONV_N, CONV_HW, CONV_C = 8, 56, 64
CONV_FLOPS = 2 * CONV_N * CONV_HW * CONV_HW * 9 * CONV_C * CONV_C
ATTN_FLOPS = 2 * 8 * 8 * 512 * 512 * 64
MLP_FLOPS = 2 * MLP_BATCH * (3 * (MLP_IN * MLP_HIDDEN + MLP_HIDDEN * MLP_HIDDEN + MLP_HIDDEN * MLP_OUT)
                             - MLP_IN * MLP_HIDDEN)


# ---- workloads ------------------------------------------------------------
# name (kiln-bench's run name) -> label, bytes moved (the numerator of "% of
# copy bandwidth": what must cross memory at least once), and the
# NumPy/PyTorch implementations. kind: "stream" (held to the copy that
# kiln-bench measured right before it, copy/<name>), "matmul" (vs OpenBLAS
# sgemm alone), "mlp" (vs the step's products by sgemm alone), "latency",
# "fft" and "plain" (no roof: NumPy/PyTorch are the comparison),
# "qmm" (4-bit quantized_matmul, held to kiln's float32 matmul of the same
# shapes; NumPy/PyTorch columns: their float32 matmul, having no 4-bit one).

def np_gelu(x):
    return 0.5 * x * (1.0 + np.tanh(np.float32(0.7978845608028654) * (x + np.float32(0.044715) * x * x * x)))


def chain10(x, mod):
    y = x * 1.5
    y = y + 0.25
    y = y * x
    y = y - 0.75
    y = mod.abs(y)
    y = y + 1.0
    y = mod.sqrt(y)
    y = y * 0.5
    y = mod.maximum(y, x)
    y = y - 0.125
    return y


def np_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def np_layernorm(x, w, b):
    mu = x.mean(axis=-1, keepdims=True)
    xc = x - mu
    var = (xc * xc).mean(axis=-1, keepdims=True)
    return xc * (np.float32(1.0) / np.sqrt(var + np.float32(1e-5))) * w + b


def mlp_params(rng):
    """w1, b1, w2, b2, w3, b3, initialized as torch.nn.Linear does (uniform
    +-1/sqrt(fan_in)); weights are (in, out), as in kiln_bench.cpp."""
    shapes = [((MLP_IN, MLP_HIDDEN), MLP_IN), ((MLP_HIDDEN,), MLP_IN),
              ((MLP_HIDDEN, MLP_HIDDEN), MLP_HIDDEN), ((MLP_HIDDEN,), MLP_HIDDEN),
              ((MLP_HIDDEN, MLP_OUT), MLP_HIDDEN), ((MLP_OUT,), MLP_HIDDEN)]
    return [rng.uniform(-fan ** -0.5, fan ** -0.5, size=shape).astype(np.float32) for shape, fan in shapes]


def torch_mlp(torch, params, x, y):
    """PyTorch eager autograd: the parameters (copies, requiring grad) and the
    loss function of the same model as kiln_bench.cpp's mlp_loss."""
    F = torch.nn.functional
    ps = [torch.tensor(p, requires_grad=True) for p in params]
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))

    def loss_fn():
        w1, b1, w2, b2, w3, b3 = ps
        h = torch.relu(torch.addmm(b1, xt, w1))
        h = torch.relu(torch.addmm(b2, h, w2))
        return F.cross_entropy(torch.addmm(b3, h, w3), yt)
    return ps, loss_fn


def torch_mlp_step(torch, params, x, y):
    """One training step per call: forward, loss.backward(), then
    p -= lr * p.grad under no_grad and the gradients zeroed (no optimizer).
    The parameters are updated in place, as kiln's step feeds them back."""
    ps, loss_fn = torch_mlp(torch, params, x, y)

    def step():
        with torch.enable_grad():
            loss = loss_fn()
            loss.backward()
        with torch.no_grad():
            for p in ps:
                p -= MLP_LR * p.grad
                p.grad.zero_()
        return loss
    return step


GATHER_N = 4 << 20
SCATTER_OUT = 1 << 20


def np_scatter_add(idx, upd):
    out = np.zeros(SCATTER_OUT, np.float32)
    np.add.at(out, idx, upd)
    return out


def torch_scatter_add(torch, idx, upd):
    # The index conversion is part of the call, as NumPy takes int32 as is.
    return torch.zeros(SCATTER_OUT).index_add_(0, idx.long(), upd)


def make_inputs(rng):
    def u(shape, lo, hi):
        return rng.uniform(lo, hi, size=shape).astype(np.float32)

    return {
        "x16m": u((N16M,), -3, 3),
        "x4k": u((ROWS, COLS), -3, 3),
        "x4m": u((N4M,), -3, 3),
        "w4k": u((COLS,), 0.5, 1.5),
        "b4k": u((COLS,), -0.5, 0.5),
        "ma1024": u((1024, 1024), -1, 1), "mb1024": u((1024, 1024), -1, 1), "bias1024": u((1024,), -1, 1),
        "ma2048": u((2048, 2048), -1, 1), "mb2048": u((2048, 2048), -1, 1), "bias2048": u((2048,), -1, 1),
        "x4": u((4,), -3, 3),
        "idx4m_of_16m": rng.integers(0, N16M, size=GATHER_N).astype(np.int32),
        "idx4m_of_1m": rng.integers(0, SCATTER_OUT, size=GATHER_N).astype(np.int32),
        "u4m": u((GATHER_N,), -3, 3),
        "mlp_params": mlp_params(rng),
        "mlp_x": u((MLP_BATCH, MLP_IN), -1, 1),
        "mlp_y": rng.integers(0, MLP_OUT, size=MLP_BATCH).astype(np.int32),
        "conv_x": u((CONV_N, CONV_HW, CONV_HW, CONV_C), -1, 1),
        "conv_w": u((CONV_C, 3, 3, CONV_C), -0.1, 0.1),
        "conv_r": u((CONV_N, CONV_HW, CONV_HW, CONV_C), -1, 1),
        "attn_q": u((8, 8, 512, 64), -1, 1),
        "attn_k": u((8, 8, 512, 64), -1, 1),
        # Spectra and quantized weights (issue 12; kiln_bench.cpp: fft_*, rfft_*, *_4096).
        "fft1m": (u((1 << 20,), -1, 1) + 1j * u((1 << 20,), -1, 1)).astype(np.complex64),
        "fft1024sq": (u((1024, 1024), -1, 1) + 1j * u((1024, 1024), -1, 1)).astype(np.complex64),
        "rfft4096x1024": u((4096, 1024), -1, 1),
        "qmm_w": u((QMM_DIM, QMM_DIM), -1, 1),
        "qmm_x1": u((1, QMM_DIM), -1, 1), "qmm_x32": u((32, QMM_DIM), -1, 1),
    }


def np_conv2d(x, w):
    """conv2d, channels-last, 3x3, padding 1: im2col by a sliding-window view, then one tensordot."""
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(1, 2))  # N, H, W, C, 3, 3
    return np.tensordot(windows, w, axes=([3, 4, 5], [3, 1, 2]))


def torch_conv2d(torch, t):
    """PyTorch's conv2d on channels_last tensors (its fast CPU layout for NHWC data), forward."""
    F = torch.nn.functional
    x = t["conv_x"].permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
    w = t["conv_w"].permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
    return lambda: F.conv2d(x, w, padding=1)


def torch_conv2d_backward(torch, t):
    """The gradients of sum(conv2d(x, w) * r) with respect to x and w."""
    F = torch.nn.functional
    x = t["conv_x"].permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last).requires_grad_()
    w = t["conv_w"].permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last).requires_grad_()
    r = t["conv_r"].permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)

    def step():
        with torch.enable_grad():
            y = F.conv2d(x, w, padding=1)
            return torch.autograd.grad(y, (x, w), r)
    return step


def workloads(inp, torch):
    """(kiln name, label, kind, bytes, numpy thunk, torch thunk)."""
    t = {k: torch.from_numpy(v) for k, v in inp.items() if isinstance(v, np.ndarray)} if torch else {}
    F = torch.nn.functional if torch else None
    x16, x4k = inp["x16m"], inp["x4k"]
    w = []
    w.append(("gelu_16M/real_time", "GELU (tanh), 16M", "stream", 2 * 4 * N16M,
              lambda: np_gelu(x16),
              (lambda: F.gelu(t["x16m"], approximate="tanh")) if torch else None))
    w.append(("chain10_16M/real_time", "10-op elementwise chain, 16M", "stream", 2 * 4 * N16M,
              lambda: chain10(x16, np),
              (lambda: chain10(t["x16m"], torch)) if torch else None))
    w.append(("softmax_4096x4096/real_time", "softmax, last axis, 4096²", "stream", 2 * 4 * ROWS * COLS,
              lambda: np_softmax(x4k),
              (lambda: torch.softmax(t["x4k"], -1)) if torch else None))
    w.append(("layernorm_4096x4096/real_time", "layernorm (w, b), rows, 4096²", "stream", 2 * 4 * ROWS * COLS,
              lambda: np_layernorm(x4k, inp["w4k"], inp["b4k"]),
              (lambda: F.layer_norm(t["x4k"], (COLS,), t["w4k"], t["b4k"], 1e-5)) if torch else None))
    w.append(("sum_last_4096x4096/real_time", "sum, last axis, 4096²", "stream", 4 * ROWS * COLS,
              lambda: x4k.sum(axis=-1),
              (lambda: t["x4k"].sum(-1)) if torch else None))
    w.append(("sum_first_4096x4096/real_time", "sum, first axis, 4096²", "stream", 4 * ROWS * COLS,
              lambda: x4k.sum(axis=0),
              (lambda: t["x4k"].sum(0)) if torch else None))
    # Random floats in [0, 1): kiln's Threefry (one kernel), NumPy's PCG64
    # Generator (one thread), PyTorch's Mersenne Twister (torch.rand).
    gen = np.random.default_rng(0)
    w.append(("uniform_16M/real_time", "uniform random floats, 4096²", "stream", 4 * ROWS * COLS,
              lambda: gen.random((ROWS, COLS), dtype=np.float32),
              (lambda: torch.rand(ROWS, COLS)) if torch else None))
    # Scans, sorts and selection (issue 11). NumPy and PyTorch use their
    # default (unstable) sorts; kiln's is stable. kind "sort": no roofline.
    x4m = inp["x4m"]
    w.append(("cumsum_16M/real_time", "cumsum, 16M", "stream", 2 * 4 * N16M,
              lambda: np.cumsum(x16),
              (lambda: torch.cumsum(t["x16m"], 0)) if torch else None))
    w.append(("cumsum_rows_4096x4096/real_time", "cumsum, last axis, 4096²", "stream", 2 * 4 * ROWS * COLS,
              lambda: np.cumsum(x4k, axis=-1),
              (lambda: torch.cumsum(t["x4k"], -1)) if torch else None))
    w.append(("sort_4M/real_time", "sort, 4M float32", "sort", 2 * 4 * N4M,
              lambda: np.sort(x4m),
              (lambda: torch.sort(t["x4m"])) if torch else None))
    w.append(("argsort_4M/real_time", "argsort, 4M float32", "sort", 2 * 4 * N4M,
              lambda: np.argsort(x4m),
              (lambda: torch.argsort(t["x4m"])) if torch else None))
    w.append(("topk10_rows_4096x4096/real_time", "topk (k=10), rows of 4096²", "sort", 4 * ROWS * COLS,
              lambda: np.partition(x4k, COLS - 10, axis=-1)[:, COLS - 10:],
              (lambda: torch.topk(t["x4k"], 10, -1, sorted=False)) if torch else None))
    g_idx, s_idx, s_upd = inp["idx4m_of_16m"], inp["idx4m_of_1m"], inp["u4m"]
    w.append(("gather_4M_of_16M/real_time", "gather 4M random of 16M", "stream", 3 * 4 * GATHER_N,
              lambda: np.take(x16, g_idx),
              (lambda: torch.take(t["x16m"], t["idx4m_of_16m"].long())) if torch else None))
    w.append(("gather_4M_of_16M_elementwise/real_time", "gather 4M random of 16M, then * 0.5 + 1", "stream",
              3 * 4 * GATHER_N,
              lambda: np.take(x16, g_idx) * np.float32(0.5) + np.float32(1.0),
              (lambda: torch.take(t["x16m"], t["idx4m_of_16m"].long()) * 0.5 + 1.0) if torch else None))
    w.append(("scatter_add_4M_into_1M/real_time", "scatter_add 4M into 1M (collisions)", "stream",
              2 * 4 * SCATTER_OUT + 2 * 4 * GATHER_N,
              lambda: np_scatter_add(s_idx, s_upd),
              (lambda: torch_scatter_add(torch, t["idx4m_of_1m"], t["u4m"])) if torch else None))
    for n in (1024, 2048):
        a, b, bias = inp[f"ma{n}"], inp[f"mb{n}"], inp[f"bias{n}"]
        w.append((f"matmul_bias_relu/{n}/real_time", f"matmul {n} + bias + relu", "matmul", 2 * n ** 3,
                  (lambda a=a, b=b, bias=bias: np.maximum(a @ b + bias, np.float32(0))),
                  (lambda n=n: torch.relu(torch.addmm(t[f"bias{n}"], t[f"ma{n}"], t[f"mb{n}"]))) if torch else None))
    w.append(("conv2d_resnet_fwd/real_time", "conv2d 3×3, 8×56×56×64 → 64, forward", "conv", CONV_FLOPS,
              lambda: np_conv2d(inp["conv_x"], inp["conv_w"]),
              torch_conv2d(torch, t) if torch else None))
    w.append(("conv2d_resnet_bwd/real_time", "conv2d 3×3, 8×56×56×64 → 64, backward (x and w)", "conv",
              2 * CONV_FLOPS, None, torch_conv2d_backward(torch, t) if torch else None))
    w.append(("einsum_attention/real_time", "einsum bhqd,bhkd→bhqk, 8×8×512×64", "einsum", ATTN_FLOPS,
              lambda: np.einsum("bhqd,bhkd->bhqk", inp["attn_q"], inp["attn_k"], optimize=True),
              (lambda: torch.einsum("bhqd,bhkd->bhqk", t["attn_q"], t["attn_k"])) if torch else None))
    # NumPy 1.x's pocketfft computes complex128 (kiln: complex64).
    w.append(("fft_1d_1M/real_time", "FFT, 2^20 complex64", "fft", 16 * (1 << 20),
              lambda: np.fft.fft(inp["fft1m"]),
              (lambda: torch.fft.fft(t["fft1m"])) if torch else None))
    w.append(("fft2_1024x1024/real_time", "FFT 2-D, 1024² complex64", "fft", 16 * 1024 * 1024,
              lambda: np.fft.fft2(inp["fft1024sq"]),
              (lambda: torch.fft.fft2(t["fft1024sq"])) if torch else None))
    w.append(("rfft_4096x1024/real_time", "real FFT, 4096 rows of 1024", "fft", 4 * 4096 * 1024 + 8 * 4096 * 513,
              lambda: np.fft.rfft(inp["rfft4096x1024"]),
              (lambda: torch.fft.rfft(t["rfft4096x1024"])) if torch else None))
    for b in (1, 32):
        x = inp[f"qmm_x{b}"]
        w.append((f"quantized_matmul_4bit_4096/{b}/real_time", f"4-bit quantized matmul 4096², batch {b}", "qmm",
                  2 * b * QMM_DIM ** 2, (lambda x=x: x @ inp["qmm_w"].T),
                  (lambda b=b: t[f"qmm_x{b}"] @ t["qmm_w"].T) if torch else None))
        w.append((f"matmul_f32_4096/{b}/real_time", f"float32 matmul 4096², batch {b}", "plain",
                  2 * b * QMM_DIM ** 2, (lambda x=x: x @ inp["qmm_w"].T),
                  (lambda b=b: t[f"qmm_x{b}"] @ t["qmm_w"].T) if torch else None))
    # One PyTorch step serves both kiln rows (measured once).
    mlp_step = torch_mlp_step(torch, inp["mlp_params"], inp["mlp_x"], inp["mlp_y"]) if torch else None
    w.append(("mlp_train_step/real_time", "MLP 784-512-512-10 train step, batch 256", "mlp", MLP_FLOPS,
              None, mlp_step))
    w.append(("mlp_train_step_eager/real_time", "MLP 784-512-512-10 train step, batch 256, kiln eager", "mlp",
              MLP_FLOPS, None, mlp_step))
    w.append(("first_call_10op/iterations:10/real_time", "first call, fresh 10-op function", "latency", 0,
              None, None))
    x4 = inp["x4"]
    w.append(("cached_call_3op/real_time", "cached call, 3 ops on 4 floats", "latency", 0,
              lambda: (x4 * 2.0 + 1.0) * x4,
              (lambda: (t["x4"] * 2.0 + 1.0) * t["x4"]) if torch else None))
    return w


# ---- timing -----------------------------------------------------------------

def median_time(fn, budget_s, min_reps, max_reps):
    """Median wall time of fn() over repeated calls (after one warm-up)."""
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < max_reps and (len(times) < min_reps or time.perf_counter() - start < budget_s):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def median_time_tiny(fn, budget_s=1.0, batches=15):
    """Per-call median for a call of a few microseconds: median over batches."""
    fn()
    n = 1
    while True:  # a batch of about 20 ms
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - t0 > 0.02 or n > 1 << 20:
            break
        n *= 2
    per = []
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        per.append((time.perf_counter() - t0) / n)
    return statistics.median(per)


def run(cmd, **kw):
    print("+ " + " ".join(shlex.quote(c) for c in cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, check=True, **kw)


# The workloads measured again on Device::gpu (the OpenCL backend).
OPENCL_FILTER = ("^(gelu_16M|chain10_16M|softmax_4096x4096|layernorm_4096x4096|sum_last_4096x4096|"
                 "sum_first_4096x4096|matmul_bias_relu)")


def kiln_results(args, device=None):
    """kiln-bench's medians by run name. device="gpu": the OpenCL column
    (KILN_DEVICE=gpu, fewer workloads); None when kiln has no OpenCL device."""
    if args.kiln_json and device is None:
        path = args.kiln_json
    elif device:
        path = os.path.join(args.build, "kiln-bench-gpu.json")
        cmd = [os.path.join(args.build, "bench", "kiln-bench"), f"--benchmark_out={path}",
               "--benchmark_out_format=json", f"--benchmark_repetitions={args.opencl_repetitions}",
               "--benchmark_report_aggregates_only=true", f"--benchmark_filter={args.filter or OPENCL_FILTER}"]
        env = {**os.environ, "KILN_CACHE": "off", "KILN_DEVICE": device}
        print("+ KILN_DEVICE=gpu " + " ".join(shlex.quote(c) for c in cmd), file=sys.stderr, flush=True)
        p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # kiln warns and falls back to the cpu when KILN_DEVICE names no device.
        if p.returncode != 0 or "KILN_DEVICE" in p.stderr:
            print(f"no OpenCL column: {p.stderr.strip()[-300:]}", file=sys.stderr)
            return None, {}
    else:
        path = os.path.join(args.build, "kiln-bench.json")
        cmd = [os.path.join(args.build, "bench", "kiln-bench"), f"--benchmark_out={path}",
               "--benchmark_out_format=json", f"--benchmark_repetitions={args.repetitions}",
               "--benchmark_report_aggregates_only=true"]
        if args.filter:
            cmd.append(f"--benchmark_filter={args.filter}")
        # In-process numbers: the first-call benchmark must compile, not load
        # what an earlier run left in the disk cache (warm_start() measures that).
        run(cmd, stdout=sys.stderr, env={**os.environ, "KILN_CACHE": "off"})
    with open(path) as f:
        data = json.load(f)
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    out = {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name = b.get("run_name", b["name"])
        out[name] = {"s": b["real_time"] * scale[b["time_unit"]], **b}
    return out, data.get("context", {})


def opencl_device_name():
    """The OpenCL device kiln picks (KILN_OPENCL_DEVICE, else the first GPU,
    else the first device), as clinfo names it; "unknown" without clinfo."""
    try:
        p = subprocess.run(["clinfo", "--list"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    devices = [line.split(":", 1)[1].strip() for line in p.stdout.splitlines() if "Device #" in line]
    return devices[0] if devices else "unknown"


def warm_start(args):
    """First calls in fresh processes with an empty and a filled disk cache."""
    exe = os.path.join(args.build, "bench", "kiln-warm-start")
    if not os.path.exists(exe):
        return None
    p = run([exe, "7"], stdout=subprocess.PIPE, text=True)
    return {k: float(v) for k, v in (line.split() for line in p.stdout.splitlines() if line.strip())}


def copy_bandwidth(kiln, name):
    """Bytes per second (read + write) of the copy kiln-bench measured right
    before workload `name` (copy/<name>, median of its repetitions); None
    when that run has none (an older JSON)."""
    c = kiln.get("copy/" + name)
    return c.get("bytes_per_second") if c else None


def triad(args):
    exe = args.triad or os.path.join(args.build, "bench", "kiln-triad")
    p = run([exe, "2"], stdout=subprocess.PIPE, text=True)
    vals = dict(line.split() for line in p.stdout.splitlines() if line.strip())
    return float(vals["triad_best_GBps"]), float(vals["triad_median_GBps"])


def openblas_threads(n):
    """Sets the thread count of the process's OpenBLAS (NumPy's and
    PyTorch's, Debian's libblas.so.3) and returns the previous one; None where
    it cannot be set."""
    try:
        lib = ctypes.CDLL("libblas.so.3")
        old = lib.openblas_get_num_threads()
        lib.openblas_set_num_threads(n)
        return old
    except (OSError, AttributeError):
        return None


def mlp_check(args, torch):
    """Checks kiln's training step once, outside any timing: this script
    writes parameters and data (raw float32/int32) to BUILD/mlp-check,
    kiln-bench --mlp_check reads them and writes its loss, gradient of w1 and
    20-step loss curve, and PyTorch computes the same on the same numbers.
    Returns a line for the report and whether it passed."""
    exe = os.path.join(args.build, "bench", "kiln-bench")
    if not os.path.exists(exe):
        return None, True
    d = os.path.join(args.build, "mlp-check")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(4)
    params = mlp_params(rng)
    x = rng.uniform(-1, 1, size=(MLP_BATCH, MLP_IN)).astype(np.float32)
    # Labels the network can learn: the argmax of a fixed random linear map.
    y = np.argmax(x @ rng.standard_normal((MLP_IN, MLP_OUT)).astype(np.float32), axis=1).astype(np.int32)
    for name, a in zip(("w1", "b1", "w2", "b2", "w3", "b3", "x"), params + [x]):
        a.tofile(os.path.join(d, name + ".f32"))
    y.tofile(os.path.join(d, "y.i32"))
    run([exe, f"--mlp_check={d}"], stdout=sys.stderr)
    vals = {}
    with open(os.path.join(d, "kiln_check.txt")) as f:
        for line in f:
            key, *v = line.split()
            vals[key] = [float(a) for a in v]
    kl = vals["losses"]
    decreasing = all(b < a for a, b in zip(kl, kl[1:]))
    ok = decreasing
    parts = [f"kiln's loss over 20 compiled SGD steps (lr {MLP_LR}): {kl[0]:.4f} → {kl[-1]:.4f}, "
             f"{'lower at every step ✓' if decreasing else 'NOT decreasing at every step ✗'}"]
    if torch:
        ps, loss_fn = torch_mlp(torch, params, x, y)
        with torch.enable_grad():
            loss = loss_fn()
            loss.backward()
        gt = ps[0].grad.numpy().astype(np.float64)
        errs = []
        for v, lbl in (("compiled", "compiled"), ("eager", "eager"), ("gather", "take_along_axis loss")):
            gk = np.fromfile(os.path.join(d, f"gw1_{v}.f32"), dtype=np.float32).reshape(MLP_IN, MLP_HIDDEN)
            errs.append((lbl, np.linalg.norm(gk - gt) / np.linalg.norm(gt), vals[f"loss0_{v}"][0]))
        grad_ok = all(e <= 1e-3 for _, e, _ in errs)
        loss0_err = max(abs(l - loss.item()) / loss.item() for *_, l in errs)
        step = torch_mlp_step(torch, params, x, y)
        tl = [step().item() for _ in range(len(kl))]
        curve_err = max(abs(a - b) / b for a, b in zip(kl, tl))
        ok = ok and grad_ok and loss0_err <= 1e-5
        parts.insert(0, f"same weights and data in both (written by compare.py, read by `kiln-bench --mlp_check`): "
                        f"step-0 loss kiln {errs[0][2]:.6f}, PyTorch {loss.item():.6f} "
                        f"(largest relative difference of kiln's three variants {loss0_err:.1e}); "
                        f"‖∇w1 kiln − ∇w1 PyTorch‖₂ / ‖∇w1 PyTorch‖₂: " +
                        ", ".join(f"{lbl} {e:.1e}" for lbl, e, _ in errs) +
                        f" (≤ 1e-3 {'✓' if grad_ok else '✗'})")
        parts.append(f"PyTorch's 20-step curve matches kiln's within {curve_err:.1e} relative")
    return "MLP check (outside timing): " + "; ".join(parts) + ".", ok


# ---- formatting ---------------------------------------------------------------

def fmt_time(s):
    if s is None:
        return "—"
    if s < 1e-4:
        return f"{s * 1e6:.2f} µs"
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 0.01:
        return f"{s * 1e3:.2f} ms"
    if s < 1:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def fmt_ratio(other, kiln):
    if other is None or kiln is None:
        return "—"
    r = other / kiln
    return f"{r:.2f}×" if r < 10 else f"{r:.0f}×"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build-bench", help="kiln build directory (has bench/kiln-bench)")
    ap.add_argument("--kiln-json", help="use this kiln-bench JSON instead of running kiln-bench")
    ap.add_argument("--triad", help="the kiln-triad binary (default: BUILD/bench/kiln-triad)")
    ap.add_argument("--repetitions", type=int, default=5, help="kiln-bench repetitions (median reported)")
    ap.add_argument("--budget", type=float, default=2.0, help="seconds per NumPy/PyTorch workload")
    ap.add_argument("--filter", help="kiln-bench --benchmark_filter (for quick checks)")
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    ap.add_argument("--no-opencl", action="store_true", help="skip the OpenCL (Device::gpu) column")
    ap.add_argument("--opencl-repetitions", type=int, default=3, help="kiln-bench repetitions on Device::gpu")
    ap.add_argument("--command", help="the command line to print at the top (bench/run.sh passes its own)")
    args = ap.parse_args()
    use_kilns_openblas_core(os.path.join(args.build, "bench", "kiln-bench"))

    command = args.command or " ".join(shlex.quote(a) for a in ["/usr/bin/python3"] + sys.argv)
    load_before = os.getloadavg()[0]
    t_start = time.time()

    # 1. kiln, alone on the machine (Python not yet holding big arrays).
    kiln, context = kiln_results(args)
    warm = None if args.filter else warm_start(args)
    gpu, gpu_context = (None, {}) if args.no_opencl else kiln_results(args, device="gpu")
    # 2. The triad, another process's bandwidth: printed for reference only
    # (the column's denominator is the copy kiln-bench measured in-process).
    triad_best, triad_median = triad(args)

    # 3. NumPy and PyTorch.
    torch = None
    torch_version = "not installed"
    if not args.no_torch:
        try:
            import torch as torch_mod
            torch = torch_mod
            torch.set_num_threads(2)
            torch.set_grad_enabled(False)
            torch_version = torch.__version__
        except ImportError:
            pass
    check_line, check_ok = (mlp_check(args, torch) if "mlp_train_step/real_time" in kiln
                            else (None, True))
    inp = make_inputs(np.random.default_rng(0))
    rows = []
    measured = {}  # one measurement per function (the MLP rows share PyTorch's step)

    def timed(fn, tiny):
        if fn is None:
            return None
        if fn not in measured:
            measured[fn] = median_time_tiny(fn) if tiny else median_time(fn, args.budget, 3, 50)
        return measured[fn]

    for name, label, kind, work, np_fn, torch_fn in workloads(inp, torch):
        if args.filter and name not in kiln:
            continue
        print(f"measuring {label}", file=sys.stderr, flush=True)
        k = kiln.get(name, {}).get("s")
        tiny = kind == "latency" and np_fn is not None
        rows.append((name, label, kind, work, k, timed(np_fn, tiny), timed(torch_fn, tiny)))

    # PyTorch's MLP step again with OpenBLAS on one thread: Debian's PyTorch
    # runs its own OpenMP threads and OpenBLAS's pthreads side by side, which
    # oversubscribes two cores; this is PyTorch without that contention.
    torch_mlp_1blas = None
    if torch and "mlp_train_step/real_time" in kiln:
        old = openblas_threads(1)
        if old is not None:
            print("measuring PyTorch MLP step, OpenBLAS on 1 thread", file=sys.stderr, flush=True)
            torch_mlp_1blas = median_time(torch_mlp_step(torch, inp["mlp_params"], inp["mlp_x"], inp["mlp_y"]),
                                          args.budget, 3, 50)
            openblas_threads(old)

    sgemm = {n: kiln.get(f"sgemm_openblas/{n}/real_time", {}).get("s") for n in (1024, 2048)}
    mlp_sgemm = kiln.get("mlp_sgemm_openblas/real_time", {}).get("s")
    conv_sgemm = kiln.get("conv2d_resnet_sgemm/real_time", {}).get("s")

    # What a fresh 64 MiB result costs here compared with writing into a
    # reused buffer: on some VMs first-touch page faults dominate eager
    # frameworks (PyTorch's CPU allocator returns big blocks to the OS;
    # NumPy asks for huge pages), which inflates the ratios against them.
    fresh = {}
    x16 = inp["x16m"]
    y16 = np.empty_like(x16)
    fresh["NumPy"] = (median_time(lambda: x16 * 2.0, 1.0, 3, 20),
                      median_time(lambda: np.multiply(x16, 2.0, out=y16), 1.0, 3, 20))
    if torch:
        tx = torch.from_numpy(x16)
        ty = torch.empty_like(tx)
        fresh["PyTorch"] = (median_time(lambda: tx * 2.0, 1.0, 3, 20),
                            median_time(lambda: torch.mul(tx, 2.0, out=ty), 1.0, 3, 20))
    del y16

    # 4. The table.
    rev = subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "describe", "--always", "--dirty"],
                         capture_output=True, text=True).stdout.strip() or "unknown"
    print(f"Command: `{command}`")
    print()
    print(f"kiln {rev}; NumPy {np.__version__}; PyTorch {torch_version} (eager, 2 threads); "
          f"Python {platform.python_version()}; {os.cpu_count()} cores; "
          f"load average {load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end; "
          f"{time.time() - t_start:.0f} s in all.")
    copies = [v["bytes_per_second"] for nm, v in kiln.items() if nm.startswith("copy/") and "bytes_per_second" in v]
    if copies:
        print(f"Copy bandwidth (64 MiB → 64 MiB through kiln's allocator and thread pool, non-temporal stores, "
              f"read + write counted; measured in kiln-bench right before each memory-bound workload): "
              f"{min(copies) * 1e-9:.1f}–{max(copies) * 1e-9:.1f} GB/s. For reference only, the triad "
              f"(kiln-triad, another process, 2 threads, 768 MiB of plain pages, 3 streams counted): "
              f"best {triad_best:.1f} GB/s, median {triad_median:.1f} GB/s.")
    else:
        print(f"Triad bandwidth (for reference; 2 threads, 3 streams): best {triad_best:.1f} GB/s, "
              f"median {triad_median:.1f} GB/s.")
    print(f"Times are medians of repeated runs (kiln: {args.repetitions} Google Benchmark repetitions). "
          f"kiln and PyTorch use 2 threads; NumPy runs its ufuncs on one thread (its matmul goes to "
          f"OpenBLAS, 2 threads). Every side runs OpenBLAS's "
          f"{os.environ.get('OPENBLAS_CORETYPE', 'own choice of')} kernels (bench/openblas_core.py).")
    print()
    print("| workload | kiln | NumPy | PyTorch | kiln vs NumPy | kiln vs PyTorch | % of copy bandwidth "
          "| kiln OpenCL |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, label, kind, work, k, n, t in rows:
        copy = copy_bandwidth(kiln, name)
        if kind == "stream" and k and copy:
            roof = f"{100 * work / k / copy:.0f}%"
        elif kind == "matmul" and k:
            size = int(name.split("/")[1])
            s = sgemm.get(size)
            roof = f"{100 * s / k:.0f}% of sgemm ({fmt_time(s)})" if s else "—"
        elif kind == "conv" and k and conv_sgemm:
            gemms = work / CONV_FLOPS  # the backward pass is two GEMMs of the forward's size
            roof = f"{100 * gemms * conv_sgemm / k:.0f}% of sgemm ({fmt_time(gemms * conv_sgemm)})"
        elif kind == "qmm" and k:
            f32 = kiln.get(name.replace("quantized_matmul_4bit_4096", "matmul_f32_4096"), {}).get("s")
            roof = f"{f32 / k:.1f}× kiln float32 ({fmt_time(f32)})" if f32 else "—"
        elif kind == "mlp" and k and mlp_sgemm:
            roof = f"{100 * mlp_sgemm / k:.0f}% of sgemm ({fmt_time(mlp_sgemm)})"
        else:
            roof = "—"
        g = gpu.get(name, {}).get("s") if gpu else None
        print(f"| {label} | {fmt_time(k)} | {fmt_time(n)} | {fmt_time(t)} | {fmt_ratio(n, k)} | "
              f"{fmt_ratio(t, k)} | {roof} | {fmt_time(g)} |")
    print()
    print("Ratios are the other framework's time over kiln's (above 1: kiln is faster). "
          "NumPy's ufuncs run on one thread, so against NumPy it is kiln's 2 threads against NumPy's one. "
          "% of copy bandwidth: bytes that must move (inputs read once, output written once) / kiln's time / "
          "the bandwidth of a 64 MiB → 64 MiB copy measured in the same process just before (kiln's "
          "allocator and thread pool, non-temporal stores: the counted bytes are all that crosses memory); "
          "kiln's elementwise kernels store normally, which reads each output line first, so they top out "
          "below 100% (see the one-op kernel below); the sums only read, and reading alone can stream faster "
          "than a copy, so theirs is not bounded by 100%; "
          "for matmul: OpenBLAS cblas_sgemm alone (same operands, preallocated output, "
          "timed in kiln-bench) over kiln's matmul+bias+relu; for the MLP step: the step's eight products "
          "by cblas_sgemm alone (transposes as CblasTrans flags) over kiln's whole step; "
          "for the 4-bit quantized matmul (group 64, MLX's layout): kiln's float32 matmul of the same shapes over "
          "it, while its NumPy and PyTorch columns are their float32 matmuls (they have no 4-bit one); "
          "FFTs: kiln's own transforms in complex64, NumPy's pocketfft in complex128, torch.fft in complex64. "
          "NumPy and PyTorch run the same formulas; "
          "PyTorch uses its own gelu(approximate='tanh'), softmax, layer_norm and addmm, and for the MLP "
          "step addmm, relu, cross_entropy and loss.backward(), then p -= lr * p.grad under no_grad and "
          "p.grad.zero_() (kiln: compile of value_and_grad plus the update, new parameters fed back; "
          "eager: the same without compile). "
          "kiln OpenCL: the same kiln-bench workloads with KILN_DEVICE=gpu (the OpenCL backend; "
          + (f"device: {opencl_device_name()}; " if gpu else "no OpenCL device here; ")
          + "medians of " + str(args.opencl_repetitions) + " repetitions). Where the device is PoCL on "
          "this CPU these times check that the backend runs, they are not a speed claim.")
    # Targets of the JIT issue, stated next to the measurement.
    by = {r[0]: r for r in rows}
    checks = []

    def pct(name):
        r = by.get(name)
        copy = copy_bandwidth(kiln, name)
        return 100 * r[3] / r[4] / copy if r and r[4] and copy else None

    def ratio(name, col):
        r = by.get(name)
        return r[col] / r[4] if r and r[4] and r[col] else None

    for nm, lbl, goal in (("gelu_16M/real_time", "GELU", 60), ("chain10_16M/real_time", "10-op chain", 60),
                          ("softmax_4096x4096/real_time", "softmax", 50),
                          ("layernorm_4096x4096/real_time", "layernorm", 50)):
        p = pct(nm)
        if p is not None:
            checks.append(f"{lbl} ≥ {goal}% of copy bandwidth: {p:.0f}% {'✓' if p >= goal else '✗'}")
    r = ratio("gelu_16M/real_time", 5)
    if r:
        checks.append(f"GELU ≥ 10× NumPy: {r:.1f}× {'✓' if r >= 10 else '✗'}")
    for nm, lbl in (("gelu_16M/real_time", "GELU"), ("softmax_4096x4096/real_time", "softmax"),
                    ("layernorm_4096x4096/real_time", "layernorm")):
        r = ratio(nm, 6)
        if r:
            checks.append(f"{lbl} ≥ 2× PyTorch: {r:.1f}× {'✓' if r >= 2 else '✗'}")
    for n in (1024, 2048):
        r = by.get(f"matmul_bias_relu/{n}/real_time")
        if r and r[4] and sgemm.get(n):
            over = 100 * (r[4] / sgemm[n] - 1)
            checks.append(f"matmul {n}+bias+relu within 10% of sgemm: {over:+.0f}% {'✓' if over <= 10 else '✗'}")
    for nm, lbl, gemms in (("conv2d_resnet_fwd/real_time", "conv2d forward", 1),
                           ("conv2d_resnet_bwd/real_time", "conv2d backward", 2)):
        r = by.get(nm)
        if r and r[4] and conv_sgemm:
            over = r[4] / (gemms * conv_sgemm)
            checks.append(f"{lbl} within 1.5× of its GEMM{'s' if gemms > 1 else ''}: {over:.2f}× "
                          f"{'✓' if over <= 1.5 else '✗'}")
    for nm, lbl in (("conv2d_resnet_fwd/real_time", "conv2d forward"),
                    ("conv2d_resnet_bwd/real_time", "conv2d backward"),
                    ("einsum_attention/real_time", "einsum attention")):
        r = by.get(nm)
        others = [v for v in (r[5], r[6]) if v] if r else []
        if r and r[4] and others:
            best = min(others) / r[4]
            checks.append(f"{lbl} ≥ the faster of NumPy and PyTorch: {best:.2f}× {'✓' if best >= 1 else '✗'}")
    r = ratio("mlp_train_step/real_time", 6)
    if r:
        checks.append(f"MLP train step ≥ 1.5× PyTorch: {r:.1f}× {'✓' if r >= 1.5 else '✗'}")
    if check_line:
        checks.append(f"MLP step numerically checked{' against PyTorch' if torch else ''}: "
                      f"{'✓' if check_ok else '✗'}")
    r = by.get("first_call_10op/iterations:10/real_time")
    if r and r[4]:
        checks.append(f"first call < 20 ms: {fmt_time(r[4])} {'✓' if r[4] < 0.020 else '✗'}")
    r = by.get("cached_call_3op/real_time")
    if r and r[4]:
        checks.append(f"cached call < 5 µs: {fmt_time(r[4])} {'✓' if r[4] < 5e-6 else '✗'}")
    if warm:
        speedup = warm["cold_first_call_ms"] / warm["warm_first_call_ms"]
        checks.append(f"warm-start first call ≥ 10× faster than cold: {speedup:.1f}× {'✓' if speedup >= 10 else '✗'}")
    if checks:
        print()
        print("Targets: " + "; ".join(checks) + ".")
    if warm:
        print()
        print(f"Disk kernel cache (kiln-warm-start, medians of 7 fresh processes each; the first call of a "
              f"compiled MLP forward, 64×256 → 256 → 10, JIT start-up included): cold cache "
              f"{warm['cold_first_call_ms']:.1f} ms ({warm['cold_kernels_compiled']:.0f} kernels compiled), "
              f"warm cache {warm['warm_first_call_ms']:.2f} ms ({warm['warm_kernels_compiled']:.0f} compiled, "
              f"{warm['warm_kernels_loaded']:.0f} loaded from disk).")
    faults = [(lbl, kiln[nm].get("faults/iter")) for nm, lbl, *_ in rows
              if nm in kiln and kiln[nm].get("faults/iter", 0) >= 1000]
    if faults:
        print()
        print("kiln page faults per call (first touches of freshly mapped output/intermediate buffers): " +
              "; ".join(f"{lbl}: {f / 1000:.1f}K" for lbl, f in faults) + ".")
    neg, neg_copy = kiln.get("neg_16M/real_time"), copy_bandwidth(kiln, "neg_16M/real_time")
    if neg and neg_copy:
        print()
        print(f"kiln's cheapest elementwise kernel, -x on 16M float32 (one read, one write, plain stores, "
              f"as every elementwise kernel): {fmt_time(neg['s'])}, "
              f"{100 * 2 * 4 * N16M / neg['s'] / neg_copy:.0f}% of copy bandwidth: as far as kiln's elementwise "
              f"kernels get while their stores first read the output lines.")
    print()
    print("Cost of a fresh 64 MiB result (x * 2 on 16M floats) vs the same op into a reused buffer: " +
          "; ".join(f"{k}: {fmt_time(v[0])} vs {fmt_time(v[1])}" for k, v in fresh.items()) +
          ". A large gap means this machine's first-touch page faults dominate that framework's "
          "eager ops (kiln reuses freed buffers).")
    step = kiln.get("mlp_train_step/real_time", {}).get("s")
    if step:
        notes = []
        eager = kiln.get("mlp_train_step_eager/real_time", {}).get("s")
        if eager:
            notes.append(f"eager (value_and_grad traced and differentiated on every call) "
                         f"{fmt_time(eager)}, {fmt_time(eager - step)} more than compiled")
        gather = kiln.get("mlp_train_step_gather/real_time", {}).get("s")
        if gather:
            notes.append(f"compiled with the label picked by take_along_axis (a host-kernel gather) "
                         f"instead of a one-hot mask: {fmt_time(gather)}")
        if mlp_sgemm:
            notes.append(f"the eight products by cblas_sgemm alone: {fmt_time(mlp_sgemm)} "
                         f"({MLP_FLOPS / mlp_sgemm * 1e-9:.0f} GFLOP/s; kiln's whole step "
                         f"{MLP_FLOPS / step * 1e-9:.0f} GFLOP/s)")
        if torch_mlp_1blas:
            notes.append(f"PyTorch with OpenBLAS on 1 thread (no OpenMP/OpenBLAS oversubscription): "
                         f"{fmt_time(torch_mlp_1blas)}, {fmt_ratio(torch_mlp_1blas, step)} kiln's compiled step")
        if notes:
            print()
            print("MLP train step: " + "; ".join(notes) + ".")
    if check_line:
        print()
        print(check_line)
    fc = kiln.get("first_call_10op/iterations:10/real_time")
    if fc and "kernels/iter" in fc:
        print()
        print(f"First call: {fc['kernels/iter']:.0f} kernel(s) compiled per call, "
              f"{fc.get('llvm_ms/iter', 0):.1f} ms of it in LLVM.")


if __name__ == "__main__":
    main()
