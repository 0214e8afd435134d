#include "runtime/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>

#include "runtime/env.h"
#include "runtime/float_control.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

namespace kiln::runtime {

namespace {
constexpr std::chrono::microseconds kSpin{100};

void pause() {
#if defined(__x86_64__) || defined(_M_X64)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Spins while `waiting()` holds, for at most kSpin (not at all unless
// `enabled`), before the caller sleeps on a condition variable: a compiled
// step launches its kernels and products microseconds apart, and a thread
// woken through the condition variable joins tens of microseconds late.
template <class Waiting>
void spin_while(bool enabled, const Waiting& waiting) {
  if (!enabled) return;
  auto until = std::chrono::steady_clock::now() + kSpin;
  while (waiting() && std::chrono::steady_clock::now() < until) pause();
}

// Set while a thread runs chunks of a parallel_for: a nested call runs
// inline instead of waiting for the pool it is part of.
thread_local bool inside_pool = false;
}  // namespace

ThreadPool& ThreadPool::global() {
  static ThreadPool pool(threads_from_environment());
  return pool;
}

int ThreadPool::max_threads() {
  return kMaxThreadsPerCore * int(std::max(1u, std::thread::hardware_concurrency()));
}

int ThreadPool::threads_from_environment() {
  int64_t cores = std::max(1u, std::thread::hardware_concurrency());
  // More threads than a few per core only contend for the cores; an
  // unchecked huge value created threads until the machine stalled.
  return int(env_int("KILN_NUM_THREADS", cores, 1, max_threads()));
}

ThreadPool::ThreadPool(int threads) { start(threads); }
ThreadPool::~ThreadPool() { stop(); }

void ThreadPool::set_size(int threads) {
  if (threads < 1 || threads > max_threads())
    throw std::invalid_argument("[ThreadPool::set_size] " + std::to_string(threads) +
                                " threads: expected 1 to " + std::to_string(max_threads()) + ".");
  std::lock_guard<std::mutex> call(call_mutex_);
  stop();
  start(threads);
}

void ThreadPool::start(int threads) {
  stopping_ = false;
  spin_ = unsigned(threads) <= std::max(1u, std::thread::hardware_concurrency());
  next_.assign(size_t(std::max(1, threads)), 0);
  end_.assign(size_t(std::max(1, threads)), 0);
  for (int i = 1; i < std::max(1, threads); ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

void ThreadPool::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

// Takes chunks until none is left: its own part's first, then the others'.
void ThreadPool::run_chunks(int thread) {
  const size_t parts = next_.size();
  for (;;) {
    int64_t chunk = -1;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (left_ == 0) return;
      for (size_t i = 0; i < parts && chunk < 0; ++i) {
        size_t p = (size_t(thread) + i) % parts;
        if (next_[p] < end_[p]) chunk = next_[p]++;
      }
      --left_;
    }
    int64_t begin = chunk * chunk_;
    (*fn_)(begin, std::min(n_, begin + chunk_));
  }
}

void ThreadPool::worker_loop(int thread) {
  uint64_t seen = 0;
  for (;;) {
    spin_while(spin_, [&] {
      return generation_.load(std::memory_order_acquire) == seen && !stopping_.load(std::memory_order_relaxed);
    });
    uint64_t control;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      control = float_control_;
      ++active_;
    }
    inside_pool = true;
    {
      ScopedFloatControl mode(control);
      run_chunks(thread);
    }
    inside_pool = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--active_ == 0) done_.notify_all();
    }
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain,
                              const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  if (inside_pool || n <= grain) {
    fn(0, n);
    return;
  }
  std::lock_guard<std::mutex> call(call_mutex_);
  if (workers_.empty()) {
    fn(0, n);
    return;
  }
  inside_pool = true;
  struct Reset { ~Reset() { inside_pool = false; } } reset;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fn_ = &fn;
    n_ = n;
    // A few chunks per thread balance uneven progress; never below grain.
    chunk_ = std::max(grain, (n + 4 * size() - 1) / (4 * size()));
    int64_t chunks = (n + chunk_ - 1) / chunk_, parts = size();
    for (int64_t t = 0; t < parts; ++t) {
      next_[size_t(t)] = t * chunks / parts;
      end_[size_t(t)] = (t + 1) * chunks / parts;
    }
    left_ = chunks;
    float_control_ = float_control();
    ++generation_;
  }
  wake_.notify_all();
  run_chunks(0);
  // The workers' last chunks end within microseconds of ours.
  spin_while(spin_, [&] { return active_.load(std::memory_order_acquire) != 0; });
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return active_ == 0 && left_ == 0; });
  fn_ = nullptr;
}

}  // namespace kiln::runtime
