#pragma once
// The IR's operation set. Each op is one entry of KILN_OPS: its enum name,
// its name in the text form, and its number of operands (-1: one or more).
// Its type rule is in infer_type() (ops.cpp), its semantics in the
// interpreter (interpreter.cpp); ir/README.md documents each.
#include <cstdint>
#include <string>

namespace kiln::ir {

// X(Enum, "text name", arity). Ops come in categories, one list each, so
// that a switch can name a whole category (`KILN_UNARY_OPS(KILN_OP_CASE)`)
// and needs no `default:`: -Wswitch then lists every switch that a new op
// is missing from.
#define KILN_UNARY_OPS(X)                                                  \
  /* elementwise, one operand, result has the operand's type unless noted */ \
  X(Abs, "abs", 1)            /* complex -> float32 */                     \
  X(Negative, "negative", 1)                                               \
  X(Sign, "sign", 1)                                                       \
  X(Square, "square", 1)                                                   \
  X(Sqrt, "sqrt", 1)                                                       \
  X(Rsqrt, "rsqrt", 1)                                                     \
  X(Exp, "exp", 1)                                                         \
  X(Expm1, "expm1", 1)                                                     \
  X(Log, "log", 1)                                                         \
  X(Log2, "log2", 1)                                                       \
  X(Log10, "log10", 1)                                                     \
  X(Log1p, "log1p", 1)                                                     \
  X(Sin, "sin", 1)                                                         \
  X(Cos, "cos", 1)                                                         \
  X(Tan, "tan", 1)                                                         \
  X(Arcsin, "arcsin", 1)                                                   \
  X(Arccos, "arccos", 1)                                                   \
  X(Arctan, "arctan", 1)                                                   \
  X(Sinh, "sinh", 1)                                                       \
  X(Cosh, "cosh", 1)                                                       \
  X(Tanh, "tanh", 1)                                                       \
  X(Arcsinh, "arcsinh", 1)                                                 \
  X(Arccosh, "arccosh", 1)                                                 \
  X(Arctanh, "arctanh", 1)                                                 \
  X(Sigmoid, "sigmoid", 1)                                                 \
  X(Erf, "erf", 1)                                                         \
  X(Erfinv, "erfinv", 1)                                                   \
  X(Floor, "floor", 1)                                                     \
  X(Ceil, "ceil", 1)                                                       \
  X(Round, "round", 1)        /* half to even */                           \
  X(LogicalNot, "logical_not", 1)  /* bool -> bool */                      \
  X(BitwiseInvert, "bitwise_invert", 1)                                    \
  X(StopGradient, "stop_gradient", 1)  /* identity; blocks autodiff */     \
  X(Cast, "cast", 1)          /* to the result's dtype */

/* elementwise, two operands of one type and shape */
#define KILN_BINARY_OPS(X)                                                 \
  X(Add, "add", 2)                                                         \
  X(Subtract, "subtract", 2)                                               \
  X(Multiply, "multiply", 2)                                               \
  X(Divide, "divide", 2)                                                   \
  X(FloorDivide, "floor_divide", 2)                                        \
  X(Remainder, "remainder", 2)  /* sign of the divisor, as NumPy */        \
  X(Power, "power", 2)                                                     \
  X(Maximum, "maximum", 2)    /* nan-propagating */                        \
  X(Minimum, "minimum", 2)                                                 \
  X(Arctan2, "arctan2", 2)                                                 \
  X(LogAddExp, "logaddexp", 2)                                             \
  X(LogicalAnd, "logical_and", 2)                                          \
  X(LogicalOr, "logical_or", 2)                                            \
  X(BitwiseAnd, "bitwise_and", 2)                                          \
  X(BitwiseOr, "bitwise_or", 2)                                            \
  X(BitwiseXor, "bitwise_xor", 2)                                          \
  X(LeftShift, "left_shift", 2)                                            \
  X(RightShift, "right_shift", 2)

/* comparisons: two operands of one type and shape -> bool */
#define KILN_COMPARISON_OPS(X)                                             \
  X(Equal, "equal", 2)                                                     \
  X(NotEqual, "not_equal", 2)                                              \
  X(Less, "less", 2)                                                       \
  X(LessEqual, "less_equal", 2)                                            \
  X(Greater, "greater", 2)                                                 \
  X(GreaterEqual, "greater_equal", 2)

/* reductions over attribute `axes` (sorted, unique); axes are removed */
#define KILN_REDUCTION_OPS(X)                                              \
  X(Sum, "sum", 1)                                                         \
  X(Prod, "prod", 1)                                                       \
  X(Max, "max", 1)                                                         \
  X(Min, "min", 1)                                                         \
  X(All, "all", 1)            /* bool -> bool */                           \
  X(Any, "any", 1)            /* bool -> bool */

/* data movement */
#define KILN_MOVEMENT_OPS(X)                                               \
  X(Reshape, "reshape", 1)    /* to the result's shape, row-major */      \
  X(Transpose, "transpose", 1)  /* result dim i = operand dim perm[i] */   \
  X(Broadcast, "broadcast", 1)  /* NumPy broadcast to the result shape */  \
  X(Slice, "slice", 1)        /* start, stop, strides */                   \
  X(SliceUpdate, "slice_update", 2)  /* (src, update) start/stop/strides */ \
  X(Concatenate, "concatenate", -1)  /* along `axis` */                    \
  X(Pad, "pad", 2)            /* (x, scalar value) with `low`, `high` */   \
  X(Take, "take", 2)          /* (x, int indices) along `axis` */          \
  X(TakeAlongAxis, "take_along_axis", 2)  /* along `axis` */

#define KILN_OPS(X)                                                        \
  /* a literal array; data in Op::data */                                  \
  X(Constant, "constant", 0)                                               \
  KILN_UNARY_OPS(X)                                                        \
  KILN_BINARY_OPS(X)                                                       \
  KILN_COMPARISON_OPS(X)                                                   \
  /* select(cond: bool, a, b) -> a where cond else b; all one shape */     \
  X(Select, "select", 3)                                                   \
  KILN_REDUCTION_OPS(X)                                                    \
  /* index of the first extreme along attribute `axis` (removed), uint32 */ \
  X(Argmax, "argmax", 1)                                                   \
  X(Argmin, "argmin", 1)                                                   \
  KILN_MOVEMENT_OPS(X)                                                     \
  X(Matmul, "matmul", 2)      /* [..., m, k] x [..., k, n] */              \
  /* output `index` of a call of functions with custom rules (custom.h) */ \
  X(Custom, "custom", -1)

// `case OpKind::E:` for each op of a list: KILN_BINARY_OPS(KILN_OP_CASE).
#define KILN_OP_CASE(e, name, arity) case ::kiln::ir::OpKind::e:

enum class OpKind : uint8_t {
#define KILN_OP_ENUM(e, name, arity) e,
  KILN_OPS(KILN_OP_ENUM)
#undef KILN_OP_ENUM
};

inline constexpr int kNumOpKinds = 0
#define KILN_OP_COUNT(e, name, arity) +1
    KILN_OPS(KILN_OP_COUNT)
#undef KILN_OP_COUNT
    ;

const char* op_name(OpKind k);
int op_arity(OpKind k);  // -1: variadic (one or more)
// Looks up an op by its text name; returns false if there is none.
bool op_from_name(const std::string& name, OpKind* out);

bool is_unary_elementwise(OpKind k);   // Abs .. Cast
bool is_binary_elementwise(OpKind k);  // Add .. RightShift
bool is_comparison(OpKind k);          // Equal .. GreaterEqual
bool is_elementwise(OpKind k);         // any of the above, or Select
bool is_reduction(OpKind k);           // Sum .. Any

}  // namespace kiln::ir
