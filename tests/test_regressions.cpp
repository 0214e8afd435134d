// Regression tests of issue 9 (reliability): each case crashed, hung or gave
// a wrong result before its fix. Expected values are known values (NumPy's
// or MLX's answers, worked out by hand where noted), never kiln's own output.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>

#include "test_helpers.h"

using namespace kiln;
using kiln_test::array_is;
using kiln_test::throws_invalid;

namespace {

const float nan_f = std::numeric_limits<float>::quiet_NaN();
const float inf_f = std::numeric_limits<float>::infinity();

}  // namespace

// ---- 1. Reductions of 0-d arrays and over empty axis lists are identities ----

TEST(Regression, ReductionsOfScalars) {
  array s(2.0f);
  EXPECT_TRUE(array_is(sum(s), float32, {}, {2}));
  EXPECT_TRUE(array_is(prod(s), float32, {}, {2}));
  EXPECT_TRUE(array_is(max(s), float32, {}, {2}));
  EXPECT_TRUE(array_is(min(s), float32, {}, {2}));
  EXPECT_TRUE(array_is(mean(s), float32, {}, {2}));
  EXPECT_TRUE(array_is(var(s), float32, {}, {0}));
  EXPECT_TRUE(array_is(kiln::std(s), float32, {}, {0}));
  EXPECT_TRUE(array_is(logsumexp(s), float32, {}, {2}, 1e-6));
  EXPECT_TRUE(array_is(softmax(s), float32, {}, {1}));
  EXPECT_TRUE(array_is(all(array(true)), bool_, {}, {1}));
  EXPECT_TRUE(array_is(any(array(false)), bool_, {}, {0}));
  EXPECT_TRUE(array_is(sum(array(true)), int32, {}, {1}));
  EXPECT_TRUE(array_is(sum(array(int8_t(-3))), int8, {}, {-3}));  // MLX keeps int8
  EXPECT_TRUE(array_is(array_equal(s, s), bool_, {}, {1}));
  EXPECT_TRUE(array_is(allclose(s, array(2.5f)), bool_, {}, {0}));
  // matmul of two vectors is 0-d; a comparison of it is then reduced.
  array dot = matmul(array({1.0f, 2.0f, 3.0f}), array({1.0f, 1.0f, 1.0f}));
  EXPECT_TRUE(array_is(dot > 5.0f, bool_, {}, {1}));
  EXPECT_TRUE(array_is(all(dot > 5.0f), bool_, {}, {1}));
}

TEST(Regression, ReductionsOverEmptyAxisLists) {
  array x = array({1.0f, -2.0f, 3.0f, 4.0f}, {2, 2});
  std::vector<int> none;
  EXPECT_TRUE(array_is(max(x, none), float32, {2, 2}, {1, -2, 3, 4}));
  EXPECT_TRUE(array_is(min(x, none), float32, {2, 2}, {1, -2, 3, 4}));
  EXPECT_TRUE(array_is(sum(x, none), float32, {2, 2}, {1, -2, 3, 4}));
  EXPECT_TRUE(array_is(prod(x, none), float32, {2, 2}, {1, -2, 3, 4}));
  EXPECT_TRUE(array_is(mean(x, none), float32, {2, 2}, {1, -2, 3, 4}));
  EXPECT_TRUE(array_is(var(x, none), float32, {2, 2}, {0, 0, 0, 0}));
  EXPECT_TRUE(array_is(logsumexp(x, none), float32, {2, 2}, {1, -2, 3, 4}, 1e-6));
  EXPECT_TRUE(array_is(softmax(x, none), float32, {2, 2}, {1, 1, 1, 1}));
  EXPECT_TRUE(array_is(sum(kiln_test::bools({1, 0}), none), int32, {2}, {1, 0}));
  EXPECT_TRUE(array_is(any(kiln_test::bools({1, 0}), none), bool_, {2}, {1, 0}));
}

// ---- 2. array({}) and mixed initializer lists ----

TEST(Regression, EmptyAndMixedInitializerLists) {
  array e({});
  EXPECT_TRUE(array_is(e, float32, {0}, {}));
  EXPECT_TRUE(array_is(e + 1.0f, float32, {0}, {}));
  EXPECT_TRUE(array_is(array({}, int32), int32, {0}, {}));
  EXPECT_TRUE(array_is(array({}, bool_), bool_, {0}, {}));
  EXPECT_TRUE(array_is(array({3, 2.73}), float32, {2}, {3, 2.73f}));
  constexpr double inf = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(array_is(array({1.0, inf}), float32, {2}, {1, inf_f}));
  EXPECT_TRUE(array_is(array({1, 2}, float32), float32, {2}, {1, 2}));
  EXPECT_TRUE(array_is(array({1, 2}), int32, {2}, {1, 2}));
}
