#pragma once
// The runtime's threads: a kernel's outer range is split across them (no
// OpenMP inside generated code). One process-wide pool; its size defaults
// to the number of cores and can be set (KILN_NUM_THREADS, from 1 to
// kMaxThreadsPerCore per core, or set_size).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln::runtime {

class ThreadPool {
 public:
  static constexpr int kMaxThreadsPerCore = 8;
  static ThreadPool& global();
  // KILN_NUM_THREADS, else the number of cores (a warning if it is not a
  // number from 1 to kMaxThreadsPerCore * cores).
  static int threads_from_environment();
  // The most threads a pool takes (kMaxThreadsPerCore per core); set_size
  // throws std::invalid_argument outside 1..max_threads().
  static int max_threads();
  explicit ThreadPool(int threads);
  ~ThreadPool();

  int size() const { return int(workers_.size()) + 1; }  // workers + the caller
  void set_size(int threads);

  // Calls fn(begin, end) over disjoint chunks covering [0, n), each at least
  // `grain` long (but the last), on the pool's threads and the caller's.
  // Returns when all chunks are done. Calls from several threads serialize.
  // The chunks run under the caller's floating-point mode (float_control.h).
  // Thread t (the caller is 0) first takes the chunks of the t-th of
  // size() equal parts of the range, in order, then helps with the others':
  // consecutive kernels over the same elements find them in the cache of
  // the core that wrote them (with chunks taken first come, first served,
  // which core ran which elements changed from one kernel to the next).
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

 private:
  void start(int threads);
  void stop();
  void worker_loop(int thread);
  void run_chunks(int thread);

  std::vector<std::thread> workers_;
  std::mutex call_mutex_;  // one parallel_for at a time
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0, chunk_ = 0;
  // Per thread: the next chunk of its part and the end of its part (chunk
  // numbers); all taken when left_ is 0.
  std::vector<int64_t> next_, end_;
  int64_t left_ = 0;
  uint64_t float_control_ = 0;  // the caller's, for the workers
  std::atomic<int> active_{0};  // workers in a job (the caller spins on it)
  // Read without the mutex by workers spinning for the next job (atomic);
  // written under it.
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};
  // Threads spin briefly before sleeping (spin_while) only while the pool
  // has no more threads than cores: past that, a spinning thread takes a
  // core from the one it waits for.
  bool spin_ = false;
};

}  // namespace kiln::runtime
