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
  python3-dev pybind11-dev python3-pybind11   # the Python module kiln.core (python/)
  python3-pytest python3-numpy       # its tests (python/tests)
  dataset-fashion-mnist              # examples/fashion_mnist.cpp (gzip idx files, read with zlib)
  fortunes                           # examples/char_lm.cpp (text in /usr/share/games/fortunes)
  python3-matplotlib                 # scripts/plot.py (loss curves from the examples' CSVs)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
updated=0

if [ ${#missing[@]} -ne 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  updated=1
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# node-addon-api (the Node.js addon's C++ headers, node/): Debian's package
# node-addon-api depends on Debian's nodejs and libnode-dev, which conflict
# with the machine's Node.js 20 (NodeSource's, whose headers are in
# /usr/include/node). The package is header-only, so its headers are
# unpacked from the .deb into /usr/local/include/node-addon-api instead.
naa_dir=/usr/local/include/node-addon-api
if command -v node >/dev/null && [ ! -f /usr/share/nodejs/node-addon-api/napi.h ] && [ ! -f "$naa_dir/napi.h" ]; then
  echo "setup: unpacking node-addon-api into $naa_dir"
  [ "$updated" = 1 ] || $SUDO apt-get update -qq
  tmp="$(mktemp -d)"
  (cd "$tmp" && apt-get download -qq node-addon-api && dpkg-deb -x node-addon-api_*.deb root)
  $SUDO mkdir -p "$naa_dir"
  $SUDO cp "$tmp"/root/usr/share/nodejs/node-addon-api/napi*.h "$naa_dir"/
  rm -rf "$tmp"
fi
