#!/usr/bin/env bash
# One-shot comparison: installs what it needs (idempotent), builds kiln in
# Release with the benchmarks, runs kiln-bench, NumPy, PyTorch and the triad
# bandwidth probe, and prints one markdown table (also saved to
# $BUILD/bench-table.md). Takes a few minutes.
#
#   bench/run.sh                      # everything
#   bench/run.sh --filter gelu        # extra arguments go to bench/compare.py
#
# Environment: KILN_BENCH_BUILD_DIR (default build-bench), KILN_BENCH_JOBS
# (parallel build jobs, default: all cores).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${KILN_BENCH_BUILD_DIR:-$root/build-bench}"
jobs="${KILN_BENCH_JOBS:-$(nproc)}"
command_line="bench/run.sh${*:+ $*}"

# 1. Packages: kiln's own (scripts/setup.sh), then NumPy and PyTorch.
"$root/scripts/setup.sh"
missing=()
for p in python3-numpy python3-torch clinfo; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -ne 0 ]; then
  echo "run.sh: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# 2. Build kiln (Release) with kiln-bench and kiln-triad.
generator=()
if [ ! -f "$build/CMakeCache.txt" ] && command -v ninja >/dev/null; then generator=(-G Ninja); fi
cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DKILN_BUILD_BENCH=ON -DKILN_BUILD_TESTS=OFF >&2
cmake --build "$build" --parallel "$jobs" --target kiln-bench kiln-triad kiln-warm-start >&2

# 3. Measure and print the table.
/usr/bin/python3 "$here/compare.py" --build "$build" --command "$command_line" "$@" | tee "$build/bench-table.md"
