#!/usr/bin/env bash
# Installs what kiln needs, builds everything and runs the whole test suite:
#   1. every test (unit, FileCheck, install of an outside project), optimized,
#      then the Node.js addon's tests (node --test node/test/) and the
#      Python module's pytest suite (python/tests);
#   2. the unit tests again under AddressSanitizer + UBSan;
#   3. the concurrency-heavy tests (compile from several threads, the JIT's
#      kernel cache and thread pool) under ThreadSanitizer;
#   4. the libFuzzer targets of tests/fuzz for a bounded time each
#      (scripts/fuzz.sh; KILN_FUZZ_SECONDS, default 60).
# KILN_SKIP_SANITIZERS=1 skips steps 2 and 3, KILN_SKIP_FUZZ=1 step 4 (for
# quick local runs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc)
# Let ccache hit across clones in different directories (CI clones afresh).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1

# The benchmarks are built (not run) so that they cannot rot unnoticed.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_BUILD_BENCH=ON >/dev/null
cmake --build build -j "$jobs"
# PoCL is installed (setup.sh): the OpenCL tests must find a device.
(cd build && KILN_REQUIRE_OPENCL=1 ctest --output-on-failure -j "$jobs")

# The Node.js addon (node/, built when Node's and node-addon-api's headers
# are there: setup.sh installs them): its tests with Node's own runner,
# against the package as installed (PREFIX/lib/node_modules/kiln).
if command -v node >/dev/null; then
  echo "== Node.js addon (node --test node/test/)"
  if [ ! -f build/node/kiln/kiln.node ]; then
    echo "build/node/kiln/kiln.node is missing: KILN_BUILD_NODE is off (no node-addon-api headers?)" >&2
    exit 1
  fi
  node_prefix="$(mktemp -d)"
  cmake --install build --prefix "$node_prefix" --component node >/dev/null
  NODE_PATH="$node_prefix/lib/node_modules" node --test node/test/
  rm -rf "$node_prefix"
fi

# The Python module (python/), against the build tree's package.
echo "== Python (python/tests)"
PYTHONPATH="$PWD/build/python" /usr/bin/python3 -m pytest -q -p no:cacheprovider python/tests

if [ "${KILN_SKIP_SANITIZERS:-0}" != 1 ]; then
  # The sanitizers see no OpenCL device (an empty ICD vendor directory):
  # PoCL's kernels and threads are not instrumented, and the driver's own
  # allocations are not ours to check for leaks. The gpu tests then skip;
  # they ran above.
  no_opencl="$(mktemp -d)"
  trap 'rmdir "$no_opencl"' EXIT

  echo "== AddressSanitizer + UndefinedBehaviorSanitizer"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DKILN_SANITIZE=ON >/dev/null
  cmake --build build-asan -j "$jobs"
  # The math-approximation sweeps run JIT code, which ASan does not see.
  (cd build-asan && OCL_ICD_VENDORS="$no_opencl" ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j "$jobs" -E 'install|test_math_approx')

  echo "== ThreadSanitizer (test_compile, test_jit)"
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DKILN_TSAN=ON >/dev/null
  cmake --build build-tsan -j "$jobs" --target test_compile test_jit
  (cd build-tsan && OCL_ICD_VENDORS="$no_opencl" TSAN_OPTIONS=halt_on_error=1 \
     ctest --output-on-failure -j "$jobs" -R '^test_(compile|jit)$')
fi

if [ "${KILN_SKIP_FUZZ:-0}" != 1 ]; then
  echo "== libFuzzer (tests/fuzz)"
  scripts/fuzz.sh
fi
