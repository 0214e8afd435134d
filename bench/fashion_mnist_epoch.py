#!/usr/bin/python3
"""Time per epoch of the Fashion-MNIST MLP or CNN: kiln vs eager PyTorch.

Both train the MLP of examples/fashion_mnist.cpp (784-256-256-10, ReLU,
softmax cross-entropy, Adam lr 1e-3, batch 128, the last batch partial) or,
with --model cnn, its CNN (3x3 convolutions 1->16 and 16->32, padding 1,
each with ReLU and 2x2 max pooling, then 1568-128-10; channels-last in
kiln, channels-first in PyTorch, which only permutes the flattened
features) on
the 60,000 training images in file order (kiln-fashion-mnist --no-shuffle),
with weights drawn as torch.nn.Linear and kiln::nn::Linear do (U(-k, k),
k = 1/sqrt(fan_in); the draws themselves differ). kiln runs its compiled
training step; PyTorch runs eagerly on the same number of threads. Each
side runs --epochs epochs per process, --repeats processes; the table gives
the median epoch time (of all epochs, and of the epochs after the first,
which include no tracing or kernel compilation) and the test accuracy of
each run. Both flush subnormal results to zero (kiln's set_flush_denormal,
torch.set_flush_denormal).

    /usr/bin/python3 bench/fashion_mnist_epoch.py --kiln build-bench/examples/kiln-fashion-mnist
"""

import os

# Debian's PyTorch runs its OpenMP pool and OpenBLAS's pthreads side by
# side; on a small machine that oversubscribes the cores (an epoch took 48 s
# instead of 4 s here). One OpenBLAS thread, set before numpy and torch load it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import gzip
import re
import statistics
import subprocess
import time

import numpy as np

from openblas_core import use_kilns_openblas_core

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path, header):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=header)


def load():
    x = read_idx(f"{DATA}/train-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255
    y = read_idx(f"{DATA}/train-labels-idx1-ubyte.gz", 8).astype(np.int64)
    tx = read_idx(f"{DATA}/t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255
    ty = read_idx(f"{DATA}/t10k-labels-idx1-ubyte.gz", 8).astype(np.int64)
    return x, y, tx, ty


def torch_run(epochs, threads, model_name, batch=128):
    import torch
    torch.set_num_threads(threads)
    # kiln-fashion-mnist flushes subnormal results to zero (set_flush_denormal):
    # the same arithmetic here (PyTorch's epoch is ~10% longer without it).
    torch.set_flush_denormal(True)
    torch.manual_seed(0)
    x, y, tx, ty = (torch.from_numpy(a) for a in load())
    nn = torch.nn
    if model_name == "cnn":
        x, tx = x.reshape(-1, 1, 28, 28), tx.reshape(-1, 1, 28, 28)
        model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(7 * 7 * 32, 128), nn.ReLU(), nn.Linear(128, 10))
    else:
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        for i in range(0, len(x), batch):
            loss = torch.nn.functional.cross_entropy(model(x[i:i + batch]), y[i:i + batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss.item()  # as kiln-fashion-mnist, which reads every step's loss
        times.append(time.perf_counter() - start)
    with torch.no_grad():
        correct = sum((model(tx[i:i + 1000]).argmax(1) == ty[i:i + 1000]).sum().item() for i in range(0, len(tx), 1000))
        acc = correct / len(tx)
    return times, acc


def kiln_run(binary, epochs, model_name):
    out = subprocess.run([binary, "--model", model_name, "--epochs", str(epochs), "--no-shuffle"],
                         capture_output=True, text=True, check=True)
    times = [float(t) for t in re.findall(r"epoch \d+: ([0-9.]+) s", out.stderr)]
    acc = float(re.search(r"test accuracy: ([0-9.]+)", out.stdout).group(1))
    return times, acc


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kiln", default="build-bench/examples/kiln-fashion-mnist")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2, help="PyTorch's intra-op threads")
    ap.add_argument("--model", choices=("mlp", "cnn"), default="mlp")
    args = ap.parse_args()
    use_kilns_openblas_core(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(args.kiln))), "bench",
                                         "kiln-bench"))
    runs = {"kiln": lambda: kiln_run(args.kiln, args.epochs, args.model),
            "torch": lambda: torch_run(args.epochs, args.threads, args.model)}
    names = {"kiln": "kiln (compiled step)", "torch": f"PyTorch eager ({args.threads} threads)"}
    times = {k: [] for k in runs}
    later = {k: [] for k in runs}
    accs = {k: [] for k in runs}
    # Alternated, so that both sides see the same load on a shared machine.
    for _ in range(args.repeats):
        for k, run in runs.items():
            t, a = run()
            times[k] += t
            later[k] += t[1:]
            accs[k].append(a)
    title = ("CNN 2 conv + 1568-128-10" if args.model == "cnn" else "MLP 784-256-256-10") + ", Adam, batch 128"
    print(f"OpenBLAS kernels: {os.environ.get('OPENBLAS_CORETYPE', 'its own choice')} (both sides)")
    print(f"| {title} | median s/epoch | median s/epoch after the first | best s/epoch | test accuracy |")
    print("|---|---|---|---|---|")
    for k in runs:
        steady = f"{statistics.median(later[k]):.2f}" if later[k] else "-"
        print(f"| {names[k]} | {statistics.median(times[k]):.2f} | {steady} | {min(times[k]):.2f} | "
              f"{', '.join(f'{a:.4f}' for a in accs[k])} |")
    if later["kiln"] and later["torch"]:
        print(f"kiln is {statistics.median(later['torch']) / statistics.median(later['kiln']):.2f}x PyTorch "
              "per epoch after the first")


if __name__ == "__main__":
    main()
