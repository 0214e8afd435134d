#pragma once
// Memory control, as mlx::core's memory.h: the counters and limits of
// kiln's caching allocator (runtime/buffer.h). Sizes are in bytes of the
// blocks the allocator holds, which round requests up (to a power of two
// from 64 bytes, to a multiple of 2 MiB from 1 MiB).
#include <cstddef>

namespace kiln {

// Bytes held by live arrays' buffers (not counting the cache).
size_t get_active_memory();
// The most active memory since the program started or reset_peak_memory().
size_t get_peak_memory();
// Restarts the peak from the current active memory.
void reset_peak_memory();
// Bytes of freed buffers kept for reuse.
size_t get_cache_memory();
// Caps the cache (0 disables caching) and trims it; returns the previous cap.
size_t set_cache_limit(size_t limit);
// Allocations that would take the active memory over `limit` throw
// std::runtime_error (after nothing is allocated); returns the previous
// limit. The default is KILN_MEMORY_LIMIT (bytes, or with a K/M/G/T
// suffix) when set, else the physical memory size.
size_t set_memory_limit(size_t limit);
// The current memory limit.
size_t get_memory_limit();
// As MLX's on machines without wired memory: records the value, has no
// effect; returns the previous value.
size_t set_wired_limit(size_t limit);
// Returns every cached buffer to the system.
void clear_cache();

}  // namespace kiln
