#pragma once
// Native kernels for the plan steps that do not fuse (passes/fusion.h,
// Step::HostOp): gathers (take, take_along_axis), concatenation, padding,
// slice updates and views of values the JIT does not fuse, argmax/argmin,
// complex arithmetic and reductions, integer powers, casts the JIT does
// not emit, matmuls of dtypes that BLAS lacks, and the LAPACK
// factorizations of the linalg op. Each computes what the reference
// interpreter (ir/interpreter.h) computes, bit for bit but for the sign and
// payload of a nan (they follow the operand order that the C++ compiler
// picks for an instruction), on typed pointers or whole rows of bytes,
// split over the runtime's thread pool. The exception is linalg: LAPACK in
// the operand's precision here, in double in the interpreter, so the two
// agree to float32 rounding (and eigenvectors up to sign). The interpreter
// itself never runs in production.
//
// Results are fresh buffers, except where the op changes no byte (reshape,
// stop_gradient, a cast to the same dtype, a reduction over no axes): then
// the result shares its operand's buffer, as the interpreter's does. The
// executor never donates a host step's result (codegen/donation.h).
#include <vector>

#include "ir/tensor.h"

namespace kiln::codegen {

// Runs one op on contiguous operand tensors whose types match the op's
// operands. Throws std::logic_error for an op that never runs as a host
// step: a constant (bound before the steps run), a custom op (inlined
// before planning), or an op of a kind and dtype that the JIT always
// fuses (passes/fusion.cpp, is_fusible). Throws std::invalid_argument
// where the interpreter does (a take from an empty axis), and
// std::runtime_error for a factorization that fails (a singular matrix).
ir::Tensor run_host_op(const ir::Op& op, const std::vector<ir::Tensor>& operands);

// Every output of the factorization that a linalg op (ir/linalg.h) is one
// output of, in order, from one LAPACK run per matrix: the executor runs it
// once for the sibling ops that read the same value.
std::vector<ir::Tensor> run_linalg_outputs(const ir::Op& op, const ir::Tensor& a);

}  // namespace kiln::codegen
