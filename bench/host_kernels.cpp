// Host kernels (codegen/host_kernels.h) against the reference interpreter
// on a few large host ops: the median of 5 runs of each, in milliseconds.
// Usage: kiln-host-bench
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

#include "codegen/host_kernels.h"
#include "ir/element.h"
#include "ir/interpreter.h"
#include "ir/type_rules.h"

using namespace kiln;
using namespace kiln::ir;

namespace {

Tensor filled(const Type& t, const std::function<double(int64_t)>& value) {
  Tensor x{t, runtime::allocate(size_t(t.nbytes()))};
  for (int64_t i = 0; i < t.size(); ++i) {
    if (is_complex(t.dtype)) store_c128(t.dtype, x.buffer->data(), i, {value(i), value(i + 7)});
    else store_f64(t.dtype, x.buffer->data(), i, value(i));
  }
  return x;
}

double pseudo(int64_t i) { return double((uint64_t(i) * 2654435761u) % 1000003) / 1000003.0 * 4 - 2; }

double median_ms(const std::function<void()>& f) {
  std::vector<double> t;
  for (int r = 0; r < 5; ++r) {
    auto a = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[2];
}

void bench(const char* name, OpKind k, const std::vector<Tensor>& in, const Attrs& attrs = {}, Type declared = {}) {
  std::vector<Type> types;
  for (const Tensor& t : in) types.push_back(t.type);
  Op op = make_op(k, {}, infer_type(k, types, attrs, declared), attrs);
  double interp = median_ms([&] { interpret_op(op, in); });
  double host = median_ms([&] { codegen::run_host_op(op, in); });
  std::printf("%-44s interpreter %9.2f ms   host kernel %8.2f ms   %6.1fx\n", name, interp, host, interp / host);
}

}  // namespace

int main() {
  const int64_t rows = 1 << 20;
  Tensor table = filled({float32, {rows, 16}}, pseudo);
  Tensor idx = filled({int32, {rows}}, [&](int64_t i) { return double((uint64_t(i) * 2654435761u) % rows) - 5; });
  bench("take: 1M rows of 16 float32", OpKind::Take, {table, idx}, {{"axis", int64_t(0)}});
  Tensor big = filled({float32, {4096, 4096}}, pseudo);
  bench("concatenate 2 x 4096x4096 float32, axis 1", OpKind::Concatenate, {big, big}, {{"axis", int64_t(1)}});
  bench("argmax 4096x4096 float32, axis 1", OpKind::Argmax, {big}, {{"axis", int64_t(1)}});
  bench("argmax 4096x4096 float32, axis 0", OpKind::Argmax, {big}, {{"axis", int64_t(0)}});
  Tensor c = filled({complex64, {1 << 20}}, pseudo);
  bench("multiply 1M complex64", OpKind::Multiply, {c, c});
  bench("exp 1M complex64", OpKind::Exp, {c});
  Tensor ints = filled({int32, {1 << 20}}, [](int64_t i) { return double(i % 13) - 3; });
  bench("power 1M int32", OpKind::Power, {ints, ints});
  Tensor d = filled({float64, {1 << 22}}, pseudo);
  bench("cast 4M float64 -> float16", OpKind::Cast, {d}, {}, {float16, {1 << 22}});
  Tensor h = filled({float16, {256, 256}}, pseudo);
  bench("matmul 256x256x256 float16", OpKind::Matmul, {h, h});
  return 0;
}
