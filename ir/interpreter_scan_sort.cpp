// The reference semantics of scans and sorts (scan_sort.h), element by
// element in the wide domain of the dtype (element.h), as the rest of the
// interpreter.
#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <vector>

#include "ir/element.h"
#include "ir/scan_sort.h"

namespace kiln::ir {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

Tensor make_tensor(const Type& t) { return {t, runtime::allocate(size_t(t.nbytes()))}; }

// x viewed as [outer, n, inner] around `axis`.
void split_at(const Shape& s, int64_t axis, int64_t* outer, int64_t* n, int64_t* inner) {
  *outer = *inner = 1;
  for (int64_t d = 0; d < axis; ++d) *outer *= s[size_t(d)];
  for (size_t d = size_t(axis) + 1; d < s.size(); ++d) *inner *= s[d];
  *n = s[size_t(axis)];
}

// The lowest / highest value of an integer dtype (bool: false / true).
int64_t int_lowest(Dtype t) {
  return t == bool_ ? 0 : t == int64 ? std::numeric_limits<int64_t>::min() : -(int64_t(1) << (8 * t.size() - 1));
}
int64_t int_highest(Dtype t) {
  return t == bool_ ? 1 : t == int64 ? std::numeric_limits<int64_t>::max() : (int64_t(1) << (8 * t.size() - 1)) - 1;
}
uint64_t uint_highest(Dtype t) { return t == uint64 ? ~uint64_t(0) : (uint64_t(1) << (8 * t.size())) - 1; }

// One scan over every line: Acc is the wide type, load/store move elements,
// combine(acc, v) is the op, round() takes a wide value to the dtype's.
template <class Acc, class Load, class Store, class Combine, class Round>
void scan_lines(const Op& op, const Shape& s, Acc identity, Load load, Store store, Combine combine, Round round) {
  int64_t outer, n, inner;
  split_at(s, op.int_attr("axis"), &outer, &n, &inner);
  const bool reverse = op.int_attr("reverse") != 0, inclusive = op.int_attr("inclusive") != 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      Acc acc = identity;
      for (int64_t step = 0; step < n; ++step) {
        const int64_t j = reverse ? n - 1 - step : step;
        const int64_t at = (o * n + j) * inner + i;
        const Acc v = load(at);
        if (inclusive) {
          acc = step == 0 ? v : round(combine(acc, v));
          store(at, acc);
        } else {
          store(at, acc);
          acc = step == 0 ? v : round(combine(acc, v));
        }
      }
    }
}

}  // namespace

Tensor interpret_scan(const Op& op, const Tensor& x) {
  const Dtype t = x.type.dtype;
  const void* src = x.buffer->data();
  Tensor out = make_tensor(op.type);
  void* dst = out.buffer->data();
  const OpKind k = op.kind;
  switch (domain_of(t)) {
    case Domain::Int: {  // signed and bool; wrapping through uint64
      const int64_t id = k == OpKind::Cumsum ? 0 : k == OpKind::Cumprod ? 1 : k == OpKind::Cummax ? int_lowest(t) : int_highest(t);
      scan_lines<int64_t>(
          op, x.type.shape, id, [&](int64_t i) { return load_i64(t, src, i); },
          [&](int64_t i, int64_t v) { store_i64(t, dst, i, v); },
          [&](int64_t a, int64_t v) -> int64_t {
            switch (k) {
              case OpKind::Cumsum: return int64_t(uint64_t(a) + uint64_t(v));
              case OpKind::Cumprod: return int64_t(uint64_t(a) * uint64_t(v));
              case OpKind::Cummax: return v > a ? v : a;
              default: return v < a ? v : a;
            }
          },
          [&](int64_t v) {  // to the dtype's range: store and load back
            int64_t buf = 0;
            store_i64(t, &buf, 0, v);
            return load_i64(t, &buf, 0);
          });
      return out;
    }
    case Domain::UInt: {
      const uint64_t id = k == OpKind::Cumsum || k == OpKind::Cummax ? 0 : k == OpKind::Cumprod ? 1 : uint_highest(t);
      scan_lines<uint64_t>(
          op, x.type.shape, id, [&](int64_t i) { return load_u64(t, src, i); },
          [&](int64_t i, uint64_t v) { store_u64(t, dst, i, v); },
          [&](uint64_t a, uint64_t v) -> uint64_t {
            switch (k) {
              case OpKind::Cumsum: return a + v;
              case OpKind::Cumprod: return a * v;
              case OpKind::Cummax: return v > a ? v : a;
              default: return v < a ? v : a;
            }
          },
          [&](uint64_t v) {
            uint64_t buf = 0;
            store_u64(t, &buf, 0, v);
            return load_u64(t, &buf, 0);
          });
      return out;
    }
    case Domain::Float: {
      const double id = k == OpKind::Cumsum ? 0.0 : k == OpKind::Cumprod ? 1.0 : k == OpKind::Cummin ? kInf : -kInf;
      scan_lines<double>(
          op, x.type.shape, id, [&](int64_t i) { return load_f64(t, src, i); },
          [&](int64_t i, double v) { store_f64(t, dst, i, v); },
          [&](double a, double v) -> double {
            switch (k) {
              case OpKind::Cumsum: return a + v;
              case OpKind::Cumprod: return a * v;
              case OpKind::Cummax: return std::isnan(a) ? a : (std::isnan(v) || v > a) ? v : a;
              case OpKind::Cummin: return std::isnan(a) ? a : (std::isnan(v) || v < a) ? v : a;
              default: return scan_logaddexp(a, v);
            }
          },
          [&](double v) {
            double buf = 0;
            store_f64(t, &buf, 0, v);
            return load_f64(t, &buf, 0);
          });
      return out;
    }
    case Domain::Complex: break;  // the type rule refuses complex operands
  }
  throw std::invalid_argument(std::string("[") + op_name(k) + "] is not defined for " + dtype_name(t));
}

Tensor interpret_sort(const Op& op, const Tensor& x) {
  const Dtype t = x.type.dtype;
  const void* src = x.buffer->data();
  const Domain dom = domain_of(t);
  // Whether element i orders strictly before element j (nan last, -0 == +0).
  auto less = [&](int64_t i, int64_t j) -> bool {
    switch (dom) {
      case Domain::Int: return load_i64(t, src, i) < load_i64(t, src, j);
      case Domain::UInt: return load_u64(t, src, i) < load_u64(t, src, j);
      default: {
        const double a = load_f64(t, src, i), b = load_f64(t, src, j);
        if (std::isnan(a)) return false;
        return std::isnan(b) || a < b;
      }
    }
  };
  int64_t outer, n, inner;
  split_at(x.type.shape, op.int_attr("axis"), &outer, &n, &inner);
  Tensor out = make_tensor(op.type);
  char* dst = static_cast<char*>(out.buffer->data());
  const size_t es = t.size();
  std::vector<int64_t> perm(static_cast<size_t>(n)), result(static_cast<size_t>(n));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t j) { return (o * n + j) * inner + i; };
      std::iota(perm.begin(), perm.end(), int64_t(0));
      std::stable_sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) { return less(at(a), at(b)); });
      if (op.kind == OpKind::Argpartition) {
        const int64_t p = perm[size_t(op.int_attr("kth"))];
        std::vector<int64_t> left, right;
        for (int64_t j = 0; j < n; ++j) {
          if (j == p) continue;
          const bool before = less(at(j), at(p)) || (!less(at(p), at(j)) && j < p);
          (before ? left : right).push_back(j);
        }
        left.push_back(p);
        left.insert(left.end(), right.begin(), right.end());
        result = left;
      } else {
        result = perm;
      }
      for (int64_t j = 0; j < n; ++j) {
        if (op.kind == OpKind::Sort)
          std::memcpy(dst + at(j) * int64_t(es), static_cast<const char*>(src) + at(result[size_t(j)]) * int64_t(es), es);
        else
          store_u64(uint32, dst, at(j), uint64_t(result[size_t(j)]));
      }
    }
  return out;
}

}  // namespace kiln::ir
