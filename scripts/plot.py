#!/usr/bin/env python3
"""Plots loss curves from the CSV files the examples write (--loss-csv).

    python3 scripts/plot.py OUT.png RUN.csv [RUN2.csv ...] [--title TITLE]

Each CSV has a header with the columns "step" and "loss" (other columns are
ignored). Each file becomes one panel: the loss of every step, faint, and
its moving average over about 2% of the steps. Needs matplotlib (Debian's
python3-matplotlib; scripts/setup.sh installs it).
"""
import argparse
import csv
import os

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402


def read_losses(path):
    steps, losses = [], []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "step" not in reader.fieldnames or "loss" not in reader.fieldnames:
            raise SystemExit(f"{path}: expected a header with 'step' and 'loss' columns")
        for row in reader:
            steps.append(int(row["step"]))
            losses.append(float(row["loss"]))
    if not steps:
        raise SystemExit(f"{path}: no rows")
    return steps, losses


def moving_average(values, window):
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the PNG to write")
    parser.add_argument("csvs", nargs="+", help="loss CSV files (step,loss)")
    parser.add_argument("--title", default="kiln: training loss per step")
    args = parser.parse_args()

    fig, axes = plt.subplots(1, len(args.csvs), figsize=(5 * len(args.csvs), 3.6), squeeze=False)
    for ax, path in zip(axes[0], args.csvs):
        steps, losses = read_losses(path)
        window = max(1, len(losses) // 50)
        ax.plot(steps, losses, color="tab:blue", alpha=0.3, linewidth=0.8, label="per step")
        ax.plot(steps, moving_average(losses, window), color="tab:blue", linewidth=1.8,
                label=f"mean of {window}" if window > 1 else "loss")
        ax.set_title(os.path.splitext(os.path.basename(path))[0])
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(args.title)
    fig.tight_layout()
    fig.savefig(args.out, dpi=80)


if __name__ == "__main__":
    main()
