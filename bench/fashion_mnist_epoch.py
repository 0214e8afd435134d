#!/usr/bin/python3
"""Time per epoch of the Fashion-MNIST MLP: kiln vs eager PyTorch.

Both train the MLP of examples/fashion_mnist.cpp (784-256-256-10, ReLU,
softmax cross-entropy, Adam lr 1e-3, batch 128, the last batch partial) on
the 60,000 training images in file order (kiln-fashion-mnist --no-shuffle),
with weights drawn as torch.nn.Linear and kiln::nn::Linear do (U(-k, k),
k = 1/sqrt(fan_in); the draws themselves differ). kiln runs its compiled
training step; PyTorch runs eagerly on the same number of threads. Each
side runs --epochs epochs per process, --repeats processes; the table gives
the median epoch time and the test accuracy of each run.

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


def torch_run(epochs, threads, batch=128):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x, y, tx, ty = (torch.from_numpy(a) for a in load())
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                                torch.nn.ReLU(), torch.nn.Linear(256, 10))
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
        acc = (model(tx).argmax(1) == ty).float().mean().item()
    return times, acc


def kiln_run(binary, epochs):
    out = subprocess.run([binary, "--epochs", str(epochs), "--no-shuffle"], capture_output=True, text=True, check=True)
    times = [float(t) for t in re.findall(r"epoch \d+: ([0-9.]+) s", out.stderr)]
    acc = float(re.search(r"test accuracy: ([0-9.]+)", out.stdout).group(1))
    return times, acc


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kiln", default="build-bench/examples/kiln-fashion-mnist")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2, help="PyTorch's intra-op threads")
    args = ap.parse_args()
    rows = []
    for name, run in (("kiln (compiled step)", lambda: kiln_run(args.kiln, args.epochs)),
                      (f"PyTorch eager ({args.threads} threads)", lambda: torch_run(args.epochs, args.threads))):
        times, accs = [], []
        for _ in range(args.repeats):
            t, a = run()
            times += t
            accs.append(a)
        rows.append((name, statistics.median(times), min(times), accs))
    print("| MLP 784-256-256-10, Adam, batch 128 | median s/epoch | best s/epoch | test accuracy |")
    print("|---|---|---|---|")
    for name, med, best, accs in rows:
        print(f"| {name} | {med:.2f} | {best:.2f} | {', '.join(f'{a:.4f}' for a in accs)} |")


if __name__ == "__main__":
    main()
