"""One MLP training step from Python: kiln.core (the step compiled with
mx.compile, as an MLX user writes it) against eager PyTorch, in one run.
The workload is kiln-bench's `mlp_train_step` row: 784-512-512-10 with ReLU,
batch 256, softmax cross-entropy, plain SGD (lr 0.01), float32.

  PYTHONPATH=build/python /usr/bin/python3 bench/python_mlp_step.py [--repeats 7]

Both start from the same weights and data; the script checks that the two
losses of the first step agree before timing. Prints medians (ms per step)
over repeats of the mean of --iters steps.
"""
import argparse
import statistics
import time

import numpy as np
import torch

import kiln.core as mx

SIZES = (784, 512, 512, 10)
BATCH, LR = 256, 0.01


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    weights = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        weights.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32))
        weights.append(np.zeros(fan_out, np.float32))
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    labels = rng.integers(0, SIZES[-1], BATCH)
    onehot = np.eye(SIZES[-1], dtype=np.float32)[labels]
    return weights, x, labels, onehot


def kiln_step_fn():
    def loss_fn(params, x, onehot):
        h = x
        for i in range(0, len(params) - 2, 2):
            h = mx.maximum(h @ params[i] + params[i + 1], 0.0)
        logits = h @ params[-2] + params[-1]
        return mx.mean(mx.logsumexp(logits, axis=-1) - mx.sum(logits * onehot, axis=-1))

    value_and_grad = mx.value_and_grad(loss_fn)

    @mx.compile
    def step(params, x, onehot):
        loss, grads = value_and_grad(params, x, onehot)
        return loss, [p - LR * g for p, g in zip(params, grads)]

    return step


def time_steps(run, iters, repeats):
    run()  # warm-up: tracing, compilation, first-touch of buffers
    means = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(iters):
            run()
        means.append((time.perf_counter() - t0) / iters * 1e3)
    return statistics.median(means), means


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--iters", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(2)
    weights, x_np, labels, onehot_np = make_data()

    # kiln.core
    step = kiln_step_fn()
    params = [mx.array(w) for w in weights]
    x, onehot = mx.array(x_np), mx.array(onehot_np)
    loss, _ = step(params, x, onehot)
    kiln_loss0 = loss.item()
    state = {"params": params}

    def kiln_run():
        loss, state["params"] = step(state["params"], x, onehot)
        mx.eval(loss, state["params"])

    # PyTorch, eager
    tparams = [torch.tensor(w, requires_grad=True) for w in weights]
    tx, tlabels = torch.tensor(x_np), torch.tensor(labels)

    def torch_loss():
        h = tx
        for i in range(0, len(tparams) - 2, 2):
            h = torch.relu(torch.addmm(tparams[i + 1], h, tparams[i]))
        return torch.nn.functional.cross_entropy(torch.addmm(tparams[-1], h, tparams[-2]), tlabels)

    torch_loss0 = torch_loss().item()
    if abs(kiln_loss0 - torch_loss0) > 1e-4 * abs(torch_loss0):
        raise SystemExit(f"first-step losses differ: kiln {kiln_loss0} vs PyTorch {torch_loss0}")

    def torch_run():
        loss = torch_loss()
        loss.backward()
        with torch.no_grad():
            for p in tparams:
                p -= LR * p.grad
                p.grad.zero_()

    # Alternate the two so that both see the same machine.
    k_all, t_all = [], []
    for _ in range(2):
        k_all += time_steps(kiln_run, args.iters, (args.repeats + 1) // 2)[1]
        t_all += time_steps(torch_run, args.iters, (args.repeats + 1) // 2)[1]
    k, t = statistics.median(k_all), statistics.median(t_all)
    print(f"MLP 784-512-512-10 train step, batch {BATCH}, from Python: kiln.core (compiled) {k:.2f} ms, "
          f"PyTorch eager {t:.2f} ms: kiln {t / k:.2f}x faster "
          f"(medians of {len(k_all)} x {args.iters} steps; first-step loss {kiln_loss0:.6f} vs {torch_loss0:.6f})")


if __name__ == "__main__":
    main()
