#pragma once
// Loop collapsing: loops of a lowered kernel that walk memory as one
// become one loop. Two adjacent output dimensions merge where every load
// steps over the outer one by the inner one's whole extent (a sum over the
// batch of an (N, H, W, C) value computes (H*W, C)-wide rows as one
// dimension of H*W*C); a reduction directly over another of the same kind
// merges with it likewise (a sum over H and W of (H, W, C) is one
// reduction of H*W rows). The kernel schedule then sees the long,
// contiguous loop it handles best: a column reduction in blocks of 256
// contiguous outputs instead of rows of C, where each step read one cache
// line 50 KB from the last (the CNN's bias gradient: 0.74 ms for 6.4 MB).
//
// Elementwise kernels are collapsed too: the emitter vectorizes the
// innermost dimension, so a short one ran a vector and a scalar remainder
// per row (the 9 taps of a one-channel convolution's patch gather; merged
// with the positions, one loop of 7,056: 0.82 -> 0.57 ms per step). Not
// collapsed: kernels with extra outputs, and those whose reduction rebinds
// an output dimension (kernel.h).
#include "passes/fusion.h"

namespace kiln::passes {

// Collapses the loops of every kernel step of `plan` (lowered, not yet
// scheduled); new extents are appended to the step's params.
void collapse_loops(Plan& plan);

}  // namespace kiln::passes
