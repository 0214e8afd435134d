#include "ir/linalg.h"

#include <algorithm>

namespace kiln::ir {

const char* linalg_kind_name(LinalgKind k) {
  switch (k) {
    case LinalgKind::Inv: return "inv";
    case LinalgKind::TriInv: return "tri_inv";
    case LinalgKind::Cholesky: return "cholesky";
    case LinalgKind::Qr: return "qr";
    case LinalgKind::Svd: return "svd";
    case LinalgKind::SvdValues: return "svd_values";
    case LinalgKind::Eigh: return "eigh";
    case LinalgKind::Eigvalsh: return "eigvalsh";
    case LinalgKind::Eig: return "eig";
    case LinalgKind::Eigvals: return "eigvals";
    case LinalgKind::LuFactor: return "lu_factor";
    case LinalgKind::Solve: return "solve";
  }
  return "?";
}

Type linalg_output_type(LinalgKind kind, int64_t output, const Type& in, std::string* problem) {
  problem->clear();
  const Shape& s = in.shape;
  if (in.dtype != float32 && in.dtype != float64) {
    *problem = std::string("expects float32 or float64, got ") + dtype_name(in.dtype);
    return in;
  }
  if (s.size() < 2) {
    *problem = "expects an operand of rank >= 2, got " + type_to_string(in);
    return in;
  }
  if (output < 0 || output >= runtime::linalg_num_outputs(kind)) {
    *problem = "output " + std::to_string(output) + " is out of range for " + linalg_kind_name(kind);
    return in;
  }
  const int32_t m = s[s.size() - 2], n = s[s.size() - 1], k = std::min(m, n);
  const Shape batch(s.begin(), s.end() - 2);
  auto with = [&](std::initializer_list<int32_t> tail, Dtype t) {
    Shape r = batch;
    r.insert(r.end(), tail);
    return Type{t, r};
  };
  const bool square_only = kind != LinalgKind::Qr && kind != LinalgKind::Svd &&
                           kind != LinalgKind::SvdValues && kind != LinalgKind::LuFactor &&
                           kind != LinalgKind::Solve;
  if (square_only && m != n) {
    *problem = std::string(linalg_kind_name(kind)) + " expects square matrices, got " + type_to_string(in);
    return in;
  }
  switch (kind) {
    case LinalgKind::Inv: case LinalgKind::TriInv: case LinalgKind::Cholesky:
      return in;
    case LinalgKind::Qr:
      return output == 0 ? with({m, k}, in.dtype) : with({k, n}, in.dtype);
    case LinalgKind::Svd:
      if (output == 0) return with({m, m}, in.dtype);
      if (output == 1) return with({k}, in.dtype);
      return with({n, n}, in.dtype);
    case LinalgKind::SvdValues:
      return with({k}, in.dtype);
    case LinalgKind::Eigh: case LinalgKind::Eigvalsh:
      return output == 0 ? with({n}, in.dtype) : in;
    case LinalgKind::Eig: case LinalgKind::Eigvals:
      return output == 0 ? with({n}, complex64) : Type{complex64, s};
    case LinalgKind::LuFactor:
      if (output == 0) return in;
      return output == 1 ? with({k}, uint32) : with({m}, uint32);
    case LinalgKind::Solve:  // [A | B]: A square, B its right-hand sides
      if (n < m) {
        *problem = "solve expects [A | B] with at least as many columns as rows, got " + type_to_string(in);
        return in;
      }
      return with({m, n - m}, in.dtype);
  }
  *problem = "unknown kind";
  return in;
}

std::string linalg_failure(LinalgKind kind, int info) {
  std::string name = std::string("[linalg::") + linalg_kind_name(kind) + "] ";
  if (info < 0) return name + "LAPACK rejected argument " + std::to_string(-info) + " (a bug in kiln).";
  switch (kind) {
    case LinalgKind::Inv: case LinalgKind::TriInv: case LinalgKind::Solve:
      return name + "The matrix is singular (its U factor has a zero pivot at " + std::to_string(info - 1) + ").";
    case LinalgKind::Cholesky:
      return name + "The matrix is not positive definite (the leading minor of order " +
             std::to_string(info) + " is not positive).";
    case LinalgKind::Qr: case LinalgKind::Svd: case LinalgKind::SvdValues: case LinalgKind::Eigh:
    case LinalgKind::Eigvalsh: case LinalgKind::Eig: case LinalgKind::Eigvals: case LinalgKind::LuFactor:
      break;
  }
  return name + "The algorithm failed to converge (LAPACK info " + std::to_string(info) + ").";
}

Attrs linalg_attrs(LinalgKind kind, int output, bool upper) {
  return {{"kind", int64_t(kind)}, {"output", int64_t(output)}, {"upper", int64_t(upper)}};
}

LinalgKind linalg_kind(const Op& op) { return LinalgKind(op.int_attr("kind")); }

}  // namespace kiln::ir
