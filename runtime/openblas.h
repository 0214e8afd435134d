#pragma once
// How kiln sets up OpenBLAS before its first BLAS or LAPACK call: the
// kernels for this CPU, and one thread per call (kiln's pool runs the
// pieces of a product; DESIGN: threads are the runtime's).
#include <string>

namespace kiln::runtime {

// Idempotent and thread-safe; every BLAS/LAPACK entry point calls it first.
void configure_openblas();

// The core whose kernels OpenBLAS runs ("SkylakeX", "Haswell", ...), after
// configure_openblas; "" when the library does not say.
std::string openblas_core();

}  // namespace kiln::runtime
