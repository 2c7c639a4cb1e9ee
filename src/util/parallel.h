// A minimal parallel loop for the Reader, search and ranking: the Reader is
// thread-safe, and per-run work (loading runs, reading metric histories) is
// independent. Never throws: if no thread can be started, it runs inline.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <system_error>
#include <thread>
#include <vector>

namespace mlruns::detail {

// Threads to use for `n` independent items: one per core, at most n.
inline unsigned worker_count(std::size_t n) {
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return static_cast<unsigned>(std::min<std::size_t>(cores, std::max<std::size_t>(n, 1)));
}

// Calls fn(i) for every i in [0, n) on up to `threads` threads (the caller's
// included), handing items out `batch` at a time (larger batches: fewer
// atomics when items are cheap). fn must not throw.
template <typename Fn>
void parallel_for(std::size_t n, std::size_t threads, Fn&& fn, std::size_t batch = 1) {
  batch = std::max<std::size_t>(batch, 1);
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (;;) {
      std::size_t begin = next.fetch_add(batch, std::memory_order_relaxed);
      if (begin >= n) return;
      std::size_t end = std::min(begin + batch, n);
      for (std::size_t i = begin; i < end; ++i) fn(i);
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads && t < n; ++t) {
    try {
      pool.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // fewer threads; the loop below still covers every item
    }
  }
  work();
  for (std::thread& t : pool) t.join();
}

}  // namespace mlruns::detail
