#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang-19 (KILN_FUZZ=ON:
# coverage, AddressSanitizer, UndefinedBehaviorSanitizer) into build-fuzz/
# and runs each for a bounded time; exits non-zero if any finds a crash, a
# sanitizer error, a leak, a timeout or an out-of-memory input (saved under
# build-fuzz/findings/). scripts/test.sh calls it; KILN_SKIP_FUZZ=1 skips it
# there.
#
#   scripts/fuzz.sh                       # every target
#   scripts/fuzz.sh fuzz_ir               # some targets
#
# Environment: KILN_FUZZ_SECONDS (per target, default 60), KILN_FUZZ_MAX_LEN
# (bytes per input, default 4096), KILN_FUZZ_RSS_MB (default 2048),
# KILN_FUZZ_BUILD_DIR (default build-fuzz), KILN_FUZZ_JOBS (build jobs,
# default: all cores). Each target's corpus grows in build-fuzz/corpus/,
# seeded from tests/fuzz/seeds/ (and tests/ir for the IR readers).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

build="${KILN_FUZZ_BUILD_DIR:-build-fuzz}"
seconds="${KILN_FUZZ_SECONDS:-60}"
max_len="${KILN_FUZZ_MAX_LEN:-4096}"
rss_mb="${KILN_FUZZ_RSS_MB:-2048}"
jobs="${KILN_FUZZ_JOBS:-$(nproc)}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(fuzz_ir fuzz_import fuzz_cache_entry fuzz_npy fuzz_npz fuzz_safetensors fuzz_gguf)
fi

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++-19 \
  -DKILN_FUZZ=ON -DKILN_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target "${targets[@]}"

failed=()
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t"
  mkdir -p "$corpus" "$build/findings"
  seeds=() options=()
  [ -d "tests/fuzz/seeds/$t" ] && seeds+=("tests/fuzz/seeds/$t")
  case "$t" in fuzz_ir | fuzz_import) seeds+=(tests/ir) options+=(-dict=tests/fuzz/ir.dict) ;; esac
  echo "== $t: ${seconds} s"
  # New inputs go to the first directory; the seeds are only read.
  if ! "$build/tests/fuzz/$t" -max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb="$rss_mb" \
      -timeout=60 -print_final_stats=1 -artifact_prefix="$build/findings/$t-" "${options[@]}" \
      "$corpus" "${seeds[@]}" >"$build/$t.log" 2>&1; then
    tail -n 60 "$build/$t.log"
    echo "== $t FAILED: input saved under $build/findings/ (reproduce: $build/tests/fuzz/$t <file>)"
    failed+=("$t")
  else
    grep -E "^stat::number_of_executed_units|^Done" "$build/$t.log" || true
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: findings in ${failed[*]}"
  exit 1
fi
