"""The cached compiled-call overhead from Python: a 3-op function on 4
floats, compiled once, called and evaluated in a loop (the Python
counterpart of kiln-bench's cached_call_3op, which does the same from C++).

  PYTHONPATH=build/python /usr/bin/python3 bench/python_call_overhead.py [--repeats 5]

Prints the median over repeats of the mean time per call, in microseconds.
"""
import argparse
import statistics
import time

import kiln.core as mx


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--iters", type=int, default=20000)
    args = ap.parse_args()
    x = mx.array([1.0, 2.0, 3.0, 4.0])
    f = mx.compile(lambda v: (v * 2.0 + 1.0) * v)
    mx.eval(f(x))
    per_call = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for _ in range(args.iters):
            y = f(x)
            mx.eval(y)
        per_call.append((time.perf_counter() - t0) / args.iters * 1e6)
    print(f"python cached_call_3op: {statistics.median(per_call):.2f} us/call "
          f"(median of {args.repeats} x {args.iters} calls; runs: " +
          ", ".join(f"{t:.2f}" for t in per_call) + ")")


if __name__ == "__main__":
    main()
