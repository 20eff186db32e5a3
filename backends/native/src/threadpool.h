// One process-wide pool of worker threads for GEMM and large elementwise kernels. The calling
// (JavaScript) thread takes part in every job, so `threads()` counts it: with the default of one
// thread per core the pool never runs more threads than cores, and a parallel region started
// from inside a task runs serially instead of spawning more work.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln {

// Elementwise work below this many elements stays on the calling thread: waking a worker costs
// more than the work.
constexpr int64_t kParallelElements = 32768;

class ThreadPool {
 public:
  static ThreadPool& instance();

  // Threads that run a job, the caller included.
  int threads() const { return static_cast<int>(workers_.size()) + 1; }
  // Stops the workers and starts n - 1 new ones (n >= 1).
  void resize(int n);
  void shutdown();

  // Runs task(i) for every i in [0, n) and returns when all have finished. The first exception a
  // task throws is rethrown here once every task is done. Thread t (the caller is 0) starts on
  // the t-th of threads() equal runs of i, and only then helps with the others: a task that
  // reads what the same task read in the last job likely finds it in its core's cache.
  void run(int64_t n, const std::function<void(int64_t)>& task);

  // Whether the current thread is inside a task (nested parallel regions run serially).
  static bool in_task();

  ~ThreadPool() { shutdown(); }

 private:
  struct Job;
  // One thread's run of tasks: [next, end) while next < end.
  struct alignas(64) Run {
    std::atomic<int64_t> next{0};
    int64_t end = 0;
  };
  ThreadPool();
  void start(int workers);
  void worker_loop(uint64_t seen, int self);
  void work(Job& job, int self);

  std::mutex run_mu_;  // one job at a time: a second JavaScript thread runs its job serially
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  Job* job_ = nullptr;  // guarded by mu_
  std::atomic<int> active_{0};
  bool stop_ = false;
  std::vector<std::thread> workers_;
  std::unique_ptr<Run[]> runs_;  // threads() of them, set by run() for its job
};

// The default size: KILN_NUM_THREADS when set to a positive integer, else the cores this process
// may run on.
int default_thread_count();

// Splits [0, n) into at most threads() chunks of at least `grain` and runs body(lo, hi) on each.
template <class F>
void parallel_for(int64_t n, int64_t grain, F&& body) {
  ThreadPool& pool = ThreadPool::instance();
  int64_t chunks = grain > 0 ? n / grain : n;
  if (chunks > pool.threads()) chunks = pool.threads();
  if (chunks <= 1 || ThreadPool::in_task()) {
    if (n > 0) body(int64_t{0}, n);
    return;
  }
  pool.run(chunks, [&](int64_t c) { body(n * c / chunks, n * (c + 1) / chunks); });
}

// parallel_for for elementwise loops: serial below kParallelElements elements of work, where
// each of the n items costs `cost` elements.
template <class F>
void parallel_elements(int64_t n, int64_t cost, F&& body) {
  if (cost < 1) cost = 1;
  int64_t grain = kParallelElements / cost;
  parallel_for(n, grain < 1 ? 1 : grain, static_cast<F&&>(body));
}

}  // namespace kiln
