#pragma once
// The `linalg` op: one output of a matrix factorization computed by LAPACK
// (runtime/lapack.h) on the host, batched over the leading dimensions of its
// one operand [..., m, n].
//
//   %q = linalg(%a) {kind = 3, output = 0, upper = 0} : f32[4,3]   // Q of qr
//   %r = linalg(%a) {kind = 3, output = 1, upper = 0} : f32[3,3]   // R of qr
//
// Why one op per output (and not a tuple value, or one packed buffer): the
// IR has one value per op, and a factorization with several outputs of
// different shapes and dtypes (lu_factor: LU f32, pivots u32) packs badly.
// Each op is an ordinary single-result op, so every pass (CSE, DCE, fusion,
// vjp/jvp, vmap) handles it without knowing of the others; a rule that
// needs a sibling output (the vjp of Q needs R) emits the sibling op and
// CSE merges it with the one already there. When a program uses several
// outputs of one factorization of one value, the executor runs LAPACK once
// for them all (codegen/executor.cpp, LinalgSiblings); the single-output
// kinds (svd without UV, eigvalsh, eigvals) skip the work of the others.
// solve's operand is [A | B], A's columns then the right-hand sides'.
//
// Attributes: `kind` (runtime::LinalgKind), `output` (which output of that
// kind), `upper` (0 or 1: the triangle tri_inv, cholesky and eigh read; 0
// for the others). The operand is float32 or float64 (MLX's linalg accepts
// those); results are of the operand's dtype except eig's (complex64) and
// lu_factor's pivots and row indices (uint32).
#include <string>

#include "ir/function.h"
#include "runtime/lapack.h"

namespace kiln::ir {

using runtime::LinalgKind;

const char* linalg_kind_name(LinalgKind k);  // "qr", "svd", ... (MLX's names)

// The type of output `output` of factorization `kind` of an operand of
// type `in`; "" in *problem when the combination is valid, else the reason.
Type linalg_output_type(LinalgKind kind, int64_t output, const Type& in, std::string* problem);

// The error for a factorization that LAPACK reports failed (info > 0):
// "[linalg::inv] The matrix is singular.", ...
std::string linalg_failure(LinalgKind kind, int info);

// A linalg op's attributes.
Attrs linalg_attrs(LinalgKind kind, int output, bool upper = false);
LinalgKind linalg_kind(const Op& op);

}  // namespace kiln::ir
