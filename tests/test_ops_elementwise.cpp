#include "test_helpers.h"
TEST(ElemPlaceholder, HelperCompiles) {
  kiln::array a({1.0f, 2.0f}, {2});
  EXPECT_TRUE(kiln_test::array_is(a, kiln::float32, {2}, {1, 2}));
}
