#!/usr/bin/env bash
# Installs the Debian packages kiln builds and tests with. Idempotent: when
# every package is already installed it does nothing and touches no network.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  llvm-19-dev llvm-19-tools          # ORC JIT (codegen) and FileCheck (IR tests)
  clang-19 libclang-rt-19-dev        # libFuzzer and its sanitizers (scripts/fuzz.sh)
  libopenblas-dev                    # matmul / conv (runtime)
  liblapacke-dev                     # linalg: LAPACKE over OpenBLAS's LAPACK (runtime)
  libgtest-dev libgmock-dev libbenchmark-dev
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd   # OpenCL backend (PoCL: a CPU device for tests)
  libclblast-dev                     # matmul on OpenCL devices (Apache-2.0)
  zlib1g-dev                         # .npz archives (frontend/io_npz.cpp)
  python3
  python3-clang-19 libclang-19-dev   # tools/bindgen: generates the C API op wrappers (kiln::c)
  dataset-fashion-mnist              # examples/fashion_mnist.cpp (gzip idx files, read with zlib)
  fortunes                           # examples/char_lm.cpp (text in /usr/share/games/fortunes)
  python3-matplotlib                 # scripts/plot.py (loss curves from the examples' CSVs)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
