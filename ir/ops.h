#pragma once
// The IR's operation set. Each op is one entry of KILN_OPS: its enum name,
// its name in the text form, its number of operands (-1: one or more), its
// category and its traits. Its type rule is in infer_type() (ops.cpp), its
// semantics in the interpreter (interpreter.cpp); ir/README.md documents
// each. Passes ask the accessors below instead of keeping their own lists
// of ops, so that a new op's traits are stated once, here.
#include <cstdint>
#include <string>

namespace kiln::ir {

// X(Enum, "text name", arity, category, traits).
//
// Ops come in categories, one list each, so that a switch can name a whole
// category (`KILN_UNARY_OPS(KILN_OP_CASE)`) and needs no `default:`:
// -Wswitch then lists every switch that a new op is missing from. The
// category field repeats the list an op is in (ops.cpp checks that they
// agree) so that the table alone answers op_category().
//
// traits: kNone, or any of these or'ed together
//   kDiff  differentiable: the result can carry a derivative of the
//          operands. Not: piecewise constant ops (floor, sign, comparisons),
//          bool/integer-valued ones (logical, bitwise, argmax, all/any),
//          constants, stop_gradient.
//   kView  a pure re-indexing of its one operand that a kernel folds into
//          its loads (no data of its own, no arithmetic).
//   kComm  commutative: swapping the two operands gives the same result
//          for every input (up to nan payloads). maximum/minimum are not:
//          maximum(-0, +0) is the first operand (interpreter.cpp).
#define KILN_UNARY_OPS(X)                                                  \
  /* elementwise, one operand, result has the operand's type unless noted */ \
  X(Abs, "abs", 1, Unary, kDiff) /* complex -> float32 */                  \
  X(Negative, "negative", 1, Unary, kDiff)                                 \
  X(Sign, "sign", 1, Unary, kNone)                                         \
  X(Square, "square", 1, Unary, kDiff)                                     \
  X(Sqrt, "sqrt", 1, Unary, kDiff)                                         \
  X(Rsqrt, "rsqrt", 1, Unary, kDiff)                                       \
  X(Exp, "exp", 1, Unary, kDiff)                                           \
  X(Expm1, "expm1", 1, Unary, kDiff)                                       \
  X(Log, "log", 1, Unary, kDiff)                                           \
  X(Log2, "log2", 1, Unary, kDiff)                                         \
  X(Log10, "log10", 1, Unary, kDiff)                                       \
  X(Log1p, "log1p", 1, Unary, kDiff)                                       \
  X(Sin, "sin", 1, Unary, kDiff)                                           \
  X(Cos, "cos", 1, Unary, kDiff)                                           \
  X(Tan, "tan", 1, Unary, kDiff)                                           \
  X(Arcsin, "arcsin", 1, Unary, kDiff)                                     \
  X(Arccos, "arccos", 1, Unary, kDiff)                                     \
  X(Arctan, "arctan", 1, Unary, kDiff)                                     \
  X(Sinh, "sinh", 1, Unary, kDiff)                                         \
  X(Cosh, "cosh", 1, Unary, kDiff)                                         \
  X(Tanh, "tanh", 1, Unary, kDiff)                                         \
  X(Arcsinh, "arcsinh", 1, Unary, kDiff)                                   \
  X(Arccosh, "arccosh", 1, Unary, kDiff)                                   \
  X(Arctanh, "arctanh", 1, Unary, kDiff)                                   \
  X(Sigmoid, "sigmoid", 1, Unary, kDiff)                                   \
  X(Erf, "erf", 1, Unary, kDiff)                                           \
  X(Erfinv, "erfinv", 1, Unary, kDiff)                                     \
  X(Floor, "floor", 1, Unary, kNone)                                       \
  X(Ceil, "ceil", 1, Unary, kNone)                                         \
  X(Round, "round", 1, Unary, kNone) /* half to even */                    \
  X(LogicalNot, "logical_not", 1, Unary, kNone) /* bool -> bool */         \
  X(BitwiseInvert, "bitwise_invert", 1, Unary, kNone)                      \
  /* identity; blocks autodiff */                                          \
  X(StopGradient, "stop_gradient", 1, Unary, kNone)                        \
  X(Cast, "cast", 1, Unary, kDiff) /* to the result's dtype */

/* elementwise, two operands of one type and shape */
#define KILN_BINARY_OPS(X)                                                 \
  X(Add, "add", 2, Binary, kDiff | kComm)                                  \
  X(Subtract, "subtract", 2, Binary, kDiff)                                \
  X(Multiply, "multiply", 2, Binary, kDiff | kComm)                        \
  X(Divide, "divide", 2, Binary, kDiff)                                    \
  X(FloorDivide, "floor_divide", 2, Binary, kNone)                         \
  /* sign of the divisor, as NumPy */                                      \
  X(Remainder, "remainder", 2, Binary, kDiff)                              \
  X(Power, "power", 2, Binary, kDiff)                                      \
  X(Maximum, "maximum", 2, Binary, kDiff) /* nan-propagating */            \
  X(Minimum, "minimum", 2, Binary, kDiff)                                  \
  X(Arctan2, "arctan2", 2, Binary, kDiff)                                  \
  X(LogAddExp, "logaddexp", 2, Binary, kDiff | kComm)                      \
  X(LogicalAnd, "logical_and", 2, Binary, kComm)                           \
  X(LogicalOr, "logical_or", 2, Binary, kComm)                             \
  X(BitwiseAnd, "bitwise_and", 2, Binary, kComm)                           \
  X(BitwiseOr, "bitwise_or", 2, Binary, kComm)                             \
  X(BitwiseXor, "bitwise_xor", 2, Binary, kComm)                           \
  X(LeftShift, "left_shift", 2, Binary, kNone)                             \
  X(RightShift, "right_shift", 2, Binary, kNone)

/* comparisons: two operands of one type and shape -> bool */
#define KILN_COMPARISON_OPS(X)                                             \
  X(Equal, "equal", 2, Comparison, kComm)                                  \
  X(NotEqual, "not_equal", 2, Comparison, kComm)                           \
  X(Less, "less", 2, Comparison, kNone)                                    \
  X(LessEqual, "less_equal", 2, Comparison, kNone)                         \
  X(Greater, "greater", 2, Comparison, kNone)                              \
  X(GreaterEqual, "greater_equal", 2, Comparison, kNone)

/* reductions over attribute `axes` (sorted, unique); axes are removed */
#define KILN_REDUCTION_OPS(X)                                              \
  X(Sum, "sum", 1, Reduction, kDiff)                                       \
  X(Prod, "prod", 1, Reduction, kDiff)                                     \
  X(Max, "max", 1, Reduction, kDiff)                                       \
  X(Min, "min", 1, Reduction, kDiff)                                       \
  X(All, "all", 1, Reduction, kNone) /* bool -> bool */                    \
  X(Any, "any", 1, Reduction, kNone) /* bool -> bool */

/* data movement */
#define KILN_MOVEMENT_OPS(X)                                               \
  /* to the result's shape, row-major */                                   \
  X(Reshape, "reshape", 1, Movement, kDiff | kView)                        \
  /* result dim i = operand dim perm[i] */                                 \
  X(Transpose, "transpose", 1, Movement, kDiff | kView)                    \
  /* NumPy broadcast to the result shape */                                \
  X(Broadcast, "broadcast", 1, Movement, kDiff | kView)                    \
  X(Slice, "slice", 1, Movement, kDiff | kView) /* start, stop, strides */ \
  /* (src, update) start/stop/strides */                                   \
  X(SliceUpdate, "slice_update", 2, Movement, kDiff)                       \
  X(Concatenate, "concatenate", -1, Movement, kDiff) /* along `axis` */    \
  X(Pad, "pad", 2, Movement, kDiff) /* (x, scalar value) with `low`, `high` */ \
  X(Take, "take", 2, Movement, kDiff) /* (x, int indices) along `axis` */  \
  X(TakeAlongAxis, "take_along_axis", 2, Movement, kDiff) /* along `axis` */

/* bit reinterpretation (frontend view()) */
#define KILN_BITCAST_OPS(X)                                                \
  /* the operand's row-major bytes read as the result's dtype: the same */ \
  /* shape, or the last axis scaled by the ratio of the element sizes */   \
  X(Bitcast, "bitcast", 1, Other, kNone)

#define KILN_OPS(X)                                                        \
  /* a literal array; data in Op::data */                                  \
  X(Constant, "constant", 0, Other, kNone)                                 \
  KILN_UNARY_OPS(X)                                                        \
  KILN_BINARY_OPS(X)                                                       \
  KILN_COMPARISON_OPS(X)                                                   \
  /* select(cond: bool, a, b) -> a where cond else b; all one shape */     \
  X(Select, "select", 3, Select, kDiff)                                    \
  KILN_REDUCTION_OPS(X)                                                    \
  /* index of the first extreme along attribute `axis` (removed), uint32 */ \
  X(Argmax, "argmax", 1, Other, kNone)                                     \
  X(Argmin, "argmin", 1, Other, kNone)                                     \
  KILN_MOVEMENT_OPS(X)                                                     \
  X(Matmul, "matmul", 2, Other, kDiff) /* [..., m, k] x [..., k, n] */     \
  KILN_BITCAST_OPS(X)                                                      \
  /* output `index` of a call of functions with custom rules (custom.h) */ \
  X(Custom, "custom", -1, Other, kDiff)

// `case OpKind::E:` for each op of a list: KILN_BINARY_OPS(KILN_OP_CASE).
// Variadic, as the other expansions here: a field added to the entries
// leaves them unchanged.
#define KILN_OP_CASE(e, ...) case ::kiln::ir::OpKind::e:

enum class OpKind : uint8_t {
#define KILN_OP_ENUM(e, ...) e,
  KILN_OPS(KILN_OP_ENUM)
#undef KILN_OP_ENUM
};

inline constexpr int kNumOpKinds = 0
#define KILN_OP_COUNT(e, ...) +1
    KILN_OPS(KILN_OP_COUNT)
#undef KILN_OP_COUNT
    ;

const char* op_name(OpKind k);
int op_arity(OpKind k);  // -1: variadic (one or more)
// Looks up an op by its text name; returns false if there is none.
bool op_from_name(const std::string& name, OpKind* out);

// The category field of the entries.
enum class OpCategory : uint8_t {
  Unary,       // KILN_UNARY_OPS
  Binary,      // KILN_BINARY_OPS
  Comparison,  // KILN_COMPARISON_OPS
  Select,
  Reduction,   // KILN_REDUCTION_OPS
  Movement,    // KILN_MOVEMENT_OPS
  Other,       // constant, argmax, argmin, matmul, custom
};
OpCategory op_category(OpKind k);

bool is_unary_elementwise(OpKind k);   // OpCategory::Unary
bool is_binary_elementwise(OpKind k);  // OpCategory::Binary
bool is_comparison(OpKind k);          // OpCategory::Comparison
bool is_elementwise(OpKind k);         // any of the above, or Select
bool is_reduction(OpKind k);           // OpCategory::Reduction
bool is_differentiable(OpKind k);      // kDiff
bool is_view(OpKind k);                // kView
bool is_commutative(OpKind k);         // kComm

}  // namespace kiln::ir

