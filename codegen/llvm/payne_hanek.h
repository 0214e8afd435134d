#pragma once
// Reduction of huge arguments of sin, cos and tan modulo pi/2 (Payne and
// Hanek, 1983), emitted as scalar LLVM IR with integer arithmetic. It is
// exact up to far below double precision for every finite double, which
// the Cody–Waite reduction of the fast path (math.cpp) is only for
// |x| < 2^25; math.cpp calls it on the cold path of cold_lanes.h.

namespace llvm {
class IRBuilderBase;
class Value;
}  // namespace llvm

namespace kiln::codegen {

struct Pio2Reduction {
  llvm::Value* r;   // double: the remainder's head, |r| <= pi/4 (about)
  llvm::Value* rl;  // double: its tail, |rl| <= ulp(r)
  llvm::Value* q;   // i64 in 0..3: the quadrant, x = q pi/2 + r + rl modulo 2 pi
};

// x: a scalar double with 1 <= |x| < inf (smaller |x| give a bounded but
// wrong result; callers use Cody–Waite there).
Pio2Reduction emit_payne_hanek(llvm::IRBuilderBase& b, llvm::Value* x);

}  // namespace kiln::codegen
