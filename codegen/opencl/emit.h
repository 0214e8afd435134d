#pragma once
// The OpenCL C renderer: one kernel::Kernel (passes/kernel.h) as an OpenCL
// C 1.2 program, the same kernel that codegen/llvm renders for the CPU, with
// the same results (the reference interpreter's semantics: see the notes in
// emit.cpp and the helper functions of prelude.cpp).
//
// The program has one kernel, `name`, with the signature
//
//   __kernel void name(__global const T0* in0, ..., __global T* out,
//                      __global const long* p, long outer)
//
// where the input kernel.schedule.in_place (if any) is left out (it is read through
// `out`), `p` is the parameter block, with each float32/float16/bfloat16
// constant's value rewritten by the host as the bits of a float
// (float_constant_params), and `outer` the launch's range
// (Kernel::outer_extent). Each work-item computes one unit of that range,
// except for the kernels of opencl_items(): rank-1 kernels with a reduction
// over everything (softmax of a vector) are one work-item, so that the
// reduction is computed once, not once per element.
#include <cstdint>
#include <string>
#include <vector>

#include "passes/kernel.h"

namespace kiln::codegen::opencl {

struct EmitOptions {
  bool float64 = true;  // the device has cl_khr_fp64
};

std::string opencl_source(const kernel::Kernel& k, const std::string& name, const EmitOptions& options = {});

// The work-items of a launch over `outer` units.
int64_t opencl_items(const kernel::Kernel& k, int64_t outer);

// The parameter block as the kernel reads it: a copy of `params` with the
// value of each float32/float16/bfloat16 constant parameter turned from a
// double's bits into a float's (rounded to nearest, as the CPU's fptrunc),
// so that devices without float64 read it too.
std::vector<int64_t> float_constant_params(const kernel::Kernel& k, const int64_t* params);

}  // namespace kiln::codegen::opencl
