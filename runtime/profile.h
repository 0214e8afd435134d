#pragma once
// KILN_PROFILE=1: the time of every step of every executable (kernel
// launches and host calls: BLAS, sorts, scatters, ...), summed per step
// over the process and printed to stderr as a table when it exits, the
// costliest first, then the same time by kind of step. A step's label names
// its function (a hash of its IR text) and the value it computes as
// KILN_DUMP=fusion prints it, with the op and the reason it is materialized
// ("f3a0c %107 f32[256,784] kernel add [output]"), so the two can be read
// side by side. Off (and free: one branch per step) unless the variable
// is 1.
#include <string>

namespace kiln::runtime {

bool profiling();

// Adds one run of the step `label` that took `seconds`.
void profile_record(const std::string& label, double seconds);

}  // namespace kiln::runtime
