#pragma once
// The bits of 2/pi that the Payne-Hanek reduction of huge arguments of sin,
// cos and tan reads: the CPU's (codegen/llvm/payne_hanek.cpp) and the
// OpenCL backend's (codegen/opencl/prelude.cpp), one table for both.
#include <cstdint>

namespace kiln::codegen {

// 2/pi in binary: word k holds the bits b_(64k+1) .. b_(64k+64), most
// significant first, after one word of zeros (so that windows may start a
// little before b_1). Computed with mpmath (floor(2/pi 2^1344)); 21 words
// cover the windows of every finite double.
inline constexpr uint64_t kTwoOverPi[] = {
    0x0000000000000000, 0xa2f9836e4e441529, 0xfc2757d1f534ddc0, 0xdb6295993c439041, 0xfe5163abdebbc561,
    0xb7246e3a424dd2e0, 0x06492eea09d1921c, 0xfe1deb1cb129a73e, 0xe88235f52ebb4484, 0xe99c7026b45f7e41,
    0x3991d639835339f4, 0x9c845f8bbdf9283b, 0x1ff897ffde05980f, 0xef2f118b5a0a6d1f, 0x6d367ecf27cb09b7,
    0x4f463f669e5fea2d, 0x7527bac7ebe5f17b, 0x3d0739f78a5292ea, 0x6bfb5fb11f8d5d08, 0x56033046fc7b6bab,
    0xf0cfbc209af4361d, 0xa9e391615ee61b08,
};

}  // namespace kiln::codegen
