// Tests of einsum and einsum_path. Expected values come from NumPy 1.24
// (np.einsum / np.einsum_path(optimize="greedy"); the script is quoted
// below) and, for a sweep of subscripts, from a loop over every assignment
// of the labels written here; gradients through the adjoint identity,
// vmap against a loop.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "test_helpers.h"

namespace {

using namespace kiln;
using kiln_test::array_is;
using kiln_test::noise;
using kiln_test::throws_invalid;
using kiln_test::values;

// Element i of a (row-major) operand is (((i * a) % m) - off) * 0.125, exact
// in float. In Python:
//   def seq(shape, a=37, m=17, off=8):
//       i = np.arange(np.prod(shape)); return ((((i * a) % m) - off) * 0.125).reshape(shape)
array seq(const Shape& shape, int a = 37, int m = 17, int off = 8) {
  int64_t n = 1;
  for (int d : shape) n *= d;
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = float(((i * a) % m) - off) * 0.125f;
  return array(v.data(), shape, float32);
}

struct Case {
  std::string subscripts;
  std::vector<array> operands;
  Shape shape;
  std::vector<double> expected;
};

// Operand k uses seq's parameters (37,17,8), (5,7,3), (3,5,2), (11,13,6); values from
//   np.einsum(subscripts, *[seq(s, *params[k]) for k, s in enumerate(shapes)])
TEST(Einsum, ValuesVsNumpy) {
  std::vector<Case> cases = {
      {"ij,jk->ik", {seq({2,3}), seq({3,4}, 5, 7, 3)}, {2,4}, {0.078125, -0.328125, 0.140625, 0.390625, 0.359375, 0.09375, -0.28125, 0.109375}},
      {"ii", {seq({3,3})}, {}, {-0.625}},
      {"ii->i", {seq({3,3})}, {3}, {-1.0, 0.5, -0.125}},
      {"ij->ji", {seq({2,3})}, {3,2}, {-1.0, 0.125, -0.625, 0.5, -0.25, 0.875}},
      {"ij", {seq({2,3})}, {2,3}, {-1.0, -0.625, -0.25, 0.125, 0.5, 0.875}},
      {"ji", {seq({2,3})}, {3,2}, {-1.0, 0.125, -0.625, 0.5, -0.25, 0.875}},
      {"...ij,...jk->...ik", {seq({2,2,3}), seq({3,4}, 5, 7, 3)}, {2,2,4}, {0.078125, -0.328125, 0.140625, 0.390625, 0.359375, 0.09375, -0.28125, 0.109375, 0.109375, -0.28125, 0.09375, 0.359375, 0.390625, 0.140625, -0.328125, 0.078125}},
      {"...i,...i", {seq({2,1,3}), seq({4,3}, 5, 7, 3)}, {2,4}, {0.21875, -0.015625, 0.296875, 0.0625, 0.078125, 0.265625, 0.015625, 0.203125}},
      {"i...->...", {seq({3,2,2})}, {2,2}, {-0.625, 0.5, -0.5, 0.625}},
      {"i,i", {seq({4}), seq({4}, 5, 7, 3)}, {}, {0.1875}},
      {"i,j", {seq({2}), seq({3}, 5, 7, 3)}, {2,3}, {0.375, -0.25, 0.0, 0.234375, -0.15625, 0.0}},
      {"ijk,ikl,lm->jm", {seq({2,3,2}), seq({2,2,3}, 5, 7, 3), seq({3,2}, 3, 5, 2)}, {3,2}, {-0.15625, 0.193359375, -0.015625, -0.017578125, 0.125, -0.228515625}},
      {"bij,bjk", {seq({2,2,3}), seq({2,3,2}, 5, 7, 3)}, {2,2}, {0.296875, 0.15625, 0.15625, 0.296875}},
      {"iij->j", {seq({3,3,2})}, {2}, {-0.375, -1.375}},
      {"ba,ca", {seq({2,3}), seq({4,3}, 5, 7, 3)}, {2,4}, {0.21875, -0.015625, 0.296875, 0.0625, 0.078125, 0.265625, 0.015625, 0.203125}},
      {"Ab,bA->", {seq({2,3}), seq({3,2}, 5, 7, 3)}, {}, {0.296875}},
      {"i,->i", {seq({3}), seq({}, 5, 7, 3)}, {3}, {0.375, 0.234375, 0.09375}},
      {"ij,ij->ij", {seq({2,3}), seq({2,3}, 5, 7, 3)}, {2,3}, {0.375, -0.15625, 0.0, -0.03125, 0.1875, 0.109375}},
      {"abc,cd,de,ef->af", {seq({2,2,3}), seq({3,2}, 5, 7, 3), seq({2,3}, 3, 5, 2), seq({3,2}, 11, 13, 6)}, {2,2}, {0.15771484375, -0.080078125, 0.15283203125, -0.072265625}},
      {"ij,jk->ik", {seq({2,1}), seq({3,4}, 5, 7, 3)}, {2,4}, {-0.25, -0.375, 0.375, 0.25, -0.15625, -0.234375, 0.234375, 0.15625}},
      {" i j , j k -> k i ", {seq({2,3}), seq({3,2}, 5, 7, 3)}, {2,2}, {0.28125, 0.28125, -0.125, 0.015625}},
      {"ijji->", {seq({2,3,3,2})}, {}, {-0.625}},
      {"ij->", {seq({0,3})}, {}, {0.0}},
  };
  for (const Case& c : cases)
    EXPECT_TRUE(array_is(einsum(c.subscripts, c.operands), float32, c.shape, c.expected, 1e-6)) << c.subscripts;
}

// ---- a sweep against the definition ------------------------------------------------------

// Explicit subscripts without "...": the output element at each assignment
// of the output labels is the sum, over every assignment of the other
// labels, of the product of the operands' elements.
std::vector<double> reference_einsum(const std::string& subscripts, const std::vector<array>& ops, Shape& shape) {
  std::vector<std::string> ins(1);
  std::string out;
  size_t arrow = subscripts.find("->");
  for (char c : subscripts.substr(0, arrow)) {
    if (c == ',') ins.emplace_back();
    else ins.back() += c;
  }
  out = subscripts.substr(arrow + 2);
  std::map<char, int> size;
  std::vector<std::vector<double>> vals;
  for (size_t i = 0; i < ops.size(); ++i) {
    for (size_t d = 0; d < ins[i].size(); ++d) size[ins[i][d]] = ops[i].shape(int(d));
    vals.push_back(values(ops[i]));
  }
  std::string labels;
  for (auto& [c, n] : size) labels += c;
  shape.clear();
  for (char c : out) shape.push_back(size[c]);
  int64_t out_n = 1;
  for (int d : shape) out_n *= d;
  std::vector<double> result(out_n, 0.0);
  std::map<char, int> at;
  for (char c : labels) {
    at[c] = 0;
    if (size[c] == 0) return result;  // an empty sum: zeros (or an empty result)
  }
  for (;;) {
    double prod = 1;
    for (size_t i = 0; i < ops.size(); ++i) {
      int64_t flat = 0;
      for (size_t d = 0; d < ins[i].size(); ++d) flat = flat * ops[i].shape(int(d)) + at[ins[i][d]];
      prod *= vals[i][flat];
    }
    int64_t o = 0;
    for (char c : out) o = o * size[c] + at[c];
    if (out_n > 0) result[o] += prod;
    size_t k = labels.size();
    while (k > 0 && ++at[labels[k - 1]] == size[labels[k - 1]]) at[labels[--k]] = 0;
    if (k == 0) break;
  }
  return result;
}

array random_array(const Shape& shape, uint32_t seed) {
  int64_t n = 1;
  for (int d : shape) n *= d;
  std::vector<float> v = noise(n, seed);
  return array(v.data(), shape, float32);
}

TEST(Einsum, SweepVsDefinition) {
  struct Sweep {
    std::string subscripts;
    std::vector<Shape> shapes;
  };
  std::vector<Sweep> sweeps = {
      {"ij,jk->ik", {{3, 4}, {4, 5}}},
      {"ij,jk->ki", {{3, 4}, {4, 5}}},
      {"bij,bjk->bik", {{2, 3, 4}, {2, 4, 2}}},
      {"bhqd,bhkd->bhqk", {{2, 3, 4, 5}, {2, 3, 6, 5}}},
      {"bhqk,bhkd->bqhd", {{2, 2, 3, 4}, {2, 2, 4, 5}}},
      {"ijk,jkl->il", {{2, 3, 4}, {3, 4, 2}}},
      {"ij,kl->ijkl", {{2, 3}, {4, 2}}},
      {"ij,ij->i", {{3, 4}, {3, 4}}},
      {"ij,j->i", {{3, 4}, {4}}},
      {"i,i->", {{5}, {5}}},
      {"ijk->kji", {{2, 3, 4}}},
      {"ijk->j", {{2, 3, 4}}},
      {"iij->ij", {{3, 3, 2}}},
      {"iii->i", {{3, 3, 3}}},
      {"iji->j", {{3, 2, 3}}},
      {"ij,jk,kl->il", {{2, 3}, {3, 4}, {4, 5}}},
      {"ij,kl,jk->il", {{2, 3}, {4, 2}, {3, 4}}},
      {"ab,bc,cd,de->ae", {{4, 2}, {2, 4}, {4, 2}, {2, 4}}},
      {"ea,fb,abcd,gc,hd->efgh", {{2, 2}, {2, 3}, {2, 3, 2, 2}, {2, 2}, {3, 2}}},
      {"ijk,ikl,lm->jm", {{2, 3, 2}, {2, 2, 3}, {3, 2}}},
      {"i,j,k->ijk", {{2}, {3}, {4}}},
      {"ij,jk,ki->", {{3, 4}, {4, 5}, {5, 3}}},
      {"abc,bcd,cde->ae", {{2, 3, 4}, {3, 4, 2}, {4, 2, 3}}},
      {"ij,ji->ij", {{3, 3}, {3, 3}}},
      {"aab,bc->ac", {{3, 3, 4}, {4, 2}}},
      {"ij,jk->", {{3, 4}, {4, 5}}},
      {"ijkl,jl->ik", {{2, 3, 2, 4}, {3, 4}}},
      {"ij,jk->ik", {{0, 3}, {3, 2}}},
      {"ij,jk->ik", {{2, 0}, {0, 2}}},
  };
  for (size_t i = 0; i < sweeps.size(); ++i) {
    std::vector<array> ops;
    for (size_t k = 0; k < sweeps[i].shapes.size(); ++k)
      ops.push_back(random_array(sweeps[i].shapes[k], uint32_t(100 * i + k)));
    Shape shape;
    std::vector<double> expected = reference_einsum(sweeps[i].subscripts, ops, shape);
    EXPECT_TRUE(array_is(einsum(sweeps[i].subscripts, ops), float32, shape, expected, 1e-5, 1e-5))
        << sweeps[i].subscripts;
  }
}

TEST(Einsum, Dtypes) {
  // Integers (summed with multiply + sum, as matmul is for floats only); values from np.einsum.
  array a = array({1, 2, 3, 4, 5, 6}, {2, 3}), b = array({1, 0, -1, 2, 3, 1}, {3, 2});
  EXPECT_TRUE(array_is(einsum("ij,jk->ik", {a, b}), int32, {2, 2}, {8, 7, 17, 16}));
  EXPECT_TRUE(array_is(einsum("ii", {array({1, 2, 3, 4}, {2, 2})}), int32, {}, {5}));
  // Mixed: promoted as the elementwise ops are.
  array f = seq({2, 3});
  EXPECT_TRUE(array_is(einsum("ij,jk->ik", {f, astype(b, float16)}), float32, {2, 2},
                       values(matmul(f, astype(b, float32)))));
  EXPECT_TRUE(array_is(einsum("ij,jk->ik", {astype(f, float16), astype(b, float16)}), float16, {2, 2},
                       values(matmul(f, astype(b, float32))), 1e-3));
  EXPECT_TRUE(array_is(einsum("ij,jk->ik", {astype(f, float64), astype(b, float64)}), float64, {2, 2},
                       values(matmul(f, astype(b, float32))), 1e-12));
}

// ---- paths ---------------------------------------------------------------------------------

// np.einsum_path(subscripts, *[np.zeros(s) for s in shapes], optimize="greedy")[0][1:]
TEST(EinsumPath, GreedyPathsAsNumpy) {
  auto zeros_of = [](const std::vector<Shape>& shapes) {
    std::vector<array> v;
    for (auto& s : shapes) v.push_back(zeros(s));
    return v;
  };
  using Path = std::vector<std::vector<int>>;
  EXPECT_EQ(einsum_path("ij,jk,kl->il", zeros_of({{2, 3}, {3, 4}, {4, 5}})).first, (Path{{1, 2}, {0, 1}}));
  EXPECT_EQ(einsum_path("abc,cd,de,ef->af", zeros_of({{2, 2, 3}, {3, 2}, {2, 3}, {3, 2}})).first,
            (Path{{0, 1}, {0, 1}, {0, 1}}));
  EXPECT_EQ(einsum_path("ea,fb,abcd,gc,hd->efgh",
                        zeros_of({{10, 10}, {10, 10}, {10, 10, 10, 10}, {10, 10}, {10, 10}}))
                .first,
            (Path{{0, 2}, {0, 3}, {0, 2}, {0, 1}}));
  EXPECT_EQ(einsum_path("ij,kl,jk->il", zeros_of({{3, 4}, {5, 6}, {4, 5}})).first, (Path{{1, 2}, {0, 1}}));
  EXPECT_EQ(einsum_path("i,j,k->ijk", zeros_of({{2}, {3}, {4}})).first, (Path{{0, 1, 2}}));
  EXPECT_EQ(einsum_path("ab,bc,cd,de->ae", zeros_of({{8, 2}, {2, 8}, {8, 2}, {2, 8}})).first,
            (Path{{1, 2}, {0, 2}, {0, 1}}));
  EXPECT_EQ(einsum_path("ij,jk->ik", zeros_of({{2, 3}, {3, 4}})).first, (Path{{0, 1}}));
  EXPECT_EQ(einsum_path("ii", zeros_of({{2, 2}})).first, (Path{{0}}));
}

// NumPy's report for ij,jk,kl->il on (2,3),(3,4),(4,5): naive scaling 4,
// optimized 3, naive FLOP count 3.600e+02, optimized 1.810e+02, largest
// intermediate 1.500e+01 elements.
TEST(EinsumPath, Description) {
  std::string d = einsum_path("ij,jk,kl->il", {zeros({2, 3}), zeros({3, 4}), zeros({4, 5})}).second;
  for (const char* line : {"Complete contraction:  ij,jk,kl->il", "Naive scaling:  4", "Optimized scaling:  3",
                           "Naive FLOP count:  3.600e+02", "Optimized FLOP count:  1.810e+02",
                           "Theoretical speedup:  1.989", "Largest intermediate:  1.500e+01 elements"})
    EXPECT_NE(d.find(line), std::string::npos) << line << " not in\n" << d;
}

// ---- autodiff, vmap, compile -------------------------------------------------------------------

// einsum is multilinear: <d/dA sum(einsum(A, B) * R), V> = sum(einsum(V, B) * R).
TEST(Einsum, GradientsSatisfyTheAdjointIdentity) {
  for (std::string sub : {"bhqd,bhkd->bhqk", "ij,jk,kl->il", "iij,jk->ik", "...i,...i->..."}) {
    std::vector<Shape> shapes = sub[0] == 'b'   ? std::vector<Shape>{{2, 2, 3, 4}, {2, 2, 5, 4}}
                                : sub[1] == 'j' ? std::vector<Shape>{{2, 3}, {3, 4}, {4, 2}}
                                : sub[0] == 'i' ? std::vector<Shape>{{3, 3, 2}, {2, 4}}
                                                : std::vector<Shape>{{2, 3, 4}, {3, 4}};
    std::vector<array> ops;
    for (size_t k = 0; k < shapes.size(); ++k) ops.push_back(random_array(shapes[k], uint32_t(7 * k + 1)));
    array r = random_array(einsum(sub, ops).shape(), 99);
    auto loss = [&](const std::vector<array>& a) { return sum(einsum(sub, a) * r); };
    std::vector<int> all;
    for (size_t k = 0; k < ops.size(); ++k) all.push_back(int(k));
    std::vector<array> g = grad(std::function<array(const std::vector<array>&)>(loss), all)(ops);
    for (size_t k = 0; k < ops.size(); ++k) {
      array v = random_array(shapes[k], uint32_t(50 + k));
      std::vector<array> with_v = ops;
      with_v[k] = v;
      EXPECT_NEAR(sum(g[k] * v).item<float>(), sum(einsum(sub, with_v) * r).item<float>(), 1e-4)
          << sub << " operand " << k;
    }
  }
}

TEST(Einsum, VmapAndCompile) {
  array xs = random_array({3, 2, 4}, 1), w = random_array({4, 5}, 2);
  auto f = std::function<array(const array&)>([&](const array& x) { return einsum("ij,jk->ki", {x, w}); });
  std::vector<array> parts;
  for (int b = 0; b < 3; ++b) parts.push_back(f(take(xs, b, 0)));
  EXPECT_TRUE(array_is(vmap(f)(xs), float32, {3, 5, 2}, values(stack(parts)), 1e-6));
  auto cf = compile(f);
  EXPECT_TRUE(array_is(cf(take(xs, 1, 0)), float32, {5, 2}, values(parts[1]), 1e-6));
}

TEST(Einsum, Errors) {
  array m = zeros({2, 3}), sq = zeros({3, 3});
  EXPECT_TRUE(throws_invalid([&] { einsum("ij", {}); }, "[einsum]"));                      // no operands
  EXPECT_TRUE(throws_invalid([&] { einsum("ij,jk->ik", {m}); }, "[einsum]"));              // count
  EXPECT_TRUE(throws_invalid([&] { einsum("ijk", {m}); }, "[einsum]"));                    // rank
  EXPECT_TRUE(throws_invalid([&] { einsum("i", {m}); }, "[einsum]"));
  EXPECT_TRUE(throws_invalid([&] { einsum("i1", {m}); }, "[einsum]"));                     // not a letter
  EXPECT_TRUE(throws_invalid([&] { einsum("ij->i->j", {m}); }, "[einsum]"));               // two arrows
  EXPECT_TRUE(throws_invalid([&] { einsum("ij-j", {m}); }, "[einsum]"));
  EXPECT_TRUE(throws_invalid([&] { einsum("..i", {zeros({3})}); }, "[einsum]"));
  EXPECT_TRUE(throws_invalid([&] { einsum("...i...", {m}); }, "[einsum]"));                // two ellipses
  EXPECT_TRUE(throws_invalid([&] { einsum("ij->ii", {m}); }, "[einsum]"));                 // repeated output
  EXPECT_TRUE(throws_invalid([&] { einsum("ij->k", {m}); }, "[einsum]"));                  // unknown output
  EXPECT_TRUE(throws_invalid([&] { einsum("ii", {m}); }, "[einsum]"));                     // 2 != 3 on a diagonal
  EXPECT_TRUE(throws_invalid([&] { einsum("ij,jk->ik", {m, zeros({2, 4})}); }, "[einsum]"));  // 3 vs 2
  EXPECT_TRUE(throws_invalid([&] { einsum("...i,...i", {zeros({2, 3}), zeros({4, 3})}); }, "[einsum]"));
  EXPECT_TRUE(throws_invalid([&] { einsum_path("ij,jk", {m, sq, sq}); }, "[einsum_path]"));
  (void)sq;
}

}  // namespace
