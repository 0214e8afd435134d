#pragma once
// Rare inputs on a slow path without losing the vectorized fast path.
//
// A math approximation (math.cpp) is straight-line code that the loop
// vectorizer widens; a branch in the loop body would stop it. Where a few
// inputs need much more work (sin of 1e300 needs a Payne–Hanek reduction),
// the fast result is computed for every lane and then passed through a
// call `wrapper(x, fast)` that returns `cold(x)` for the lanes with
// |x| >= threshold (infinities included) and `fast` for the others. The wrapper is
// memory(none) and declares vector variants of itself (the VFABI
// "vector-function-abi-variant" attribute) for every width the vectorizer
// may pick, so the loop is widened with the call in it. Each vector
// variant tests all its lanes at once and only calls the scalar cold
// function (through a lane loop) when one of them needs it. After
// optimization, inline_cold_lanes inlines the wrappers, which leaves one
// compare, one mask test and a never-taken branch per vector in the hot
// loop. (The preserve_all calling convention would spare the hot loop
// the register spills a call implies, but LLVM 19 miscompiles it with ymm
// arguments on AVX2: upper halves come back zeroed.)
#include <string>

namespace llvm {
class Function;
class IRBuilderBase;
class Module;
class Value;
}  // namespace llvm

namespace kiln::codegen {

// Per lane of x (float or double, scalar or fixed vector): |x| >= threshold
// ? cold(x) : fast (nan takes fast). `cold` is a scalar function T(T) of
// x's element type in the builder's module; it gets infinities too, and
// is marked cold and noinline. The wrapper and its variants are created
// once per module and cold function.
llvm::Value* emit_cold_lanes(llvm::IRBuilderBase& b, llvm::Value* x, llvm::Value* fast, double threshold,
                             llvm::Function* cold);

// Inlines every wrapper emit_cold_lanes made in m (call them after the
// optimization pipeline: inlined earlier, their branch would keep the loop
// from being vectorized) and deletes the variants the vectorizer did not use.
void inline_cold_lanes(llvm::Module& m);

}  // namespace kiln::codegen
