// The traits of KILN_OPS (ir/ops.h) against facts known independently of
// the table: a mistyped flag there changes what autodiff, fusion and
// lowering do, silently.
#include <gtest/gtest.h>

#include "ir/ops.h"

namespace kiln::ir {
namespace {

TEST(OpTraits, Categories) {
  EXPECT_EQ(op_category(OpKind::Exp), OpCategory::Unary);
  EXPECT_EQ(op_category(OpKind::Cast), OpCategory::Unary);
  EXPECT_EQ(op_category(OpKind::Add), OpCategory::Binary);
  EXPECT_EQ(op_category(OpKind::RightShift), OpCategory::Binary);
  EXPECT_EQ(op_category(OpKind::Less), OpCategory::Comparison);
  EXPECT_EQ(op_category(OpKind::Select), OpCategory::Select);
  EXPECT_EQ(op_category(OpKind::Sum), OpCategory::Reduction);
  EXPECT_EQ(op_category(OpKind::Any), OpCategory::Reduction);
  EXPECT_EQ(op_category(OpKind::Broadcast), OpCategory::Movement);
  EXPECT_EQ(op_category(OpKind::Take), OpCategory::Movement);
  EXPECT_EQ(op_category(OpKind::Matmul), OpCategory::Other);
  EXPECT_EQ(op_category(OpKind::Argmax), OpCategory::Other);
  EXPECT_EQ(op_category(OpKind::Constant), OpCategory::Other);

  EXPECT_TRUE(is_unary_elementwise(OpKind::Negative));
  EXPECT_TRUE(is_binary_elementwise(OpKind::Power));
  EXPECT_TRUE(is_comparison(OpKind::Equal));
  EXPECT_TRUE(is_elementwise(OpKind::Select));
  EXPECT_TRUE(is_elementwise(OpKind::GreaterEqual));
  EXPECT_TRUE(is_reduction(OpKind::Sum));
  EXPECT_TRUE(is_reduction(OpKind::Max));
  // Max (a reduction) is not Maximum (elementwise); argmax reduces an axis
  // but is no reduction over `axes`.
  EXPECT_FALSE(is_reduction(OpKind::Maximum));
  EXPECT_FALSE(is_elementwise(OpKind::Max));
  EXPECT_FALSE(is_reduction(OpKind::Argmax));
  EXPECT_FALSE(is_elementwise(OpKind::Broadcast));
  EXPECT_FALSE(is_elementwise(OpKind::Matmul));
  EXPECT_FALSE(is_unary_elementwise(OpKind::Add));
}

TEST(OpTraits, Differentiable) {
  for (OpKind k : {OpKind::Add, OpKind::Multiply, OpKind::Exp, OpKind::Cast, OpKind::Select,
                   OpKind::Sum, OpKind::Max, OpKind::Broadcast, OpKind::Take, OpKind::Matmul,
                   OpKind::Custom})
    EXPECT_TRUE(is_differentiable(k)) << op_name(k);
  // Piecewise constant, bool or integer valued, or a constant; and
  // stop_gradient, whose whole point is to block the derivative.
  for (OpKind k : {OpKind::Equal, OpKind::Less, OpKind::Floor, OpKind::Sign, OpKind::FloorDivide,
                   OpKind::LogicalAnd, OpKind::BitwiseXor, OpKind::All, OpKind::Argmax,
                   OpKind::Constant, OpKind::StopGradient})
    EXPECT_FALSE(is_differentiable(k)) << op_name(k);
}

TEST(OpTraits, Views) {
  for (OpKind k : {OpKind::Broadcast, OpKind::Transpose, OpKind::Slice, OpKind::Reshape})
    EXPECT_TRUE(is_view(k)) << op_name(k);
  // These move data too, but write or gather it: a kernel cannot fold them
  // into one affine load.
  for (OpKind k : {OpKind::SliceUpdate, OpKind::Concatenate, OpKind::Pad, OpKind::Take,
                   OpKind::TakeAlongAxis, OpKind::Cast, OpKind::StopGradient, OpKind::Constant})
    EXPECT_FALSE(is_view(k)) << op_name(k);
}

TEST(OpTraits, Commutative) {
  for (OpKind k : {OpKind::Add, OpKind::Multiply, OpKind::LogicalOr, OpKind::BitwiseAnd,
                   OpKind::Equal, OpKind::NotEqual})
    EXPECT_TRUE(is_commutative(k)) << op_name(k);
  // maximum(-0, +0) is the first operand: not commutative bit for bit.
  for (OpKind k : {OpKind::Subtract, OpKind::Divide, OpKind::Power, OpKind::Less,
                   OpKind::LeftShift, OpKind::Matmul, OpKind::Maximum, OpKind::Minimum,
                   OpKind::Select})
    EXPECT_FALSE(is_commutative(k)) << op_name(k);
}

}  // namespace
}  // namespace kiln::ir
