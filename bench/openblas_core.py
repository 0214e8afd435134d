"""Makes NumPy and PyTorch run the OpenBLAS kernels kiln runs.

Debian's OpenBLAS picks its kernels by CPU model; on a model it does not
know (family 6 model 207 with 0.3.21) it falls back to Prescott's SSE3
kernels, 2-5x slower than the AVX-512 ones. kiln chooses by instruction set
instead (runtime/openblas.cpp). For a fair comparison the Python side must
run the same kernels, and OpenBLAS reads OPENBLAS_CORETYPE only when it is
loaded, so the script is run again with it set, before NumPy is imported.
"""

import os
import subprocess
import sys


def use_kilns_openblas_core(kiln_bench):
    """Re-executes this script with OPENBLAS_CORETYPE set to kiln's choice
    (kiln-bench --openblas_core), unless it is already set."""
    if os.environ.get("OPENBLAS_CORETYPE"):
        return
    if not os.path.exists(kiln_bench):
        print(f"openblas_core: {kiln_bench} not found; NumPy and PyTorch keep OpenBLAS's own choice of kernels",
              file=sys.stderr)
        return
    core = subprocess.run([kiln_bench, "--openblas_core"], capture_output=True, text=True,
                          check=True).stdout.strip()
    if core:
        os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, "OPENBLAS_CORETYPE": core})
