#include "threadpool.h"

#include <sched.h>

#include <chrono>
#include <cstdlib>
#include <exception>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define KILN_PAUSE() _mm_pause()
#else
#define KILN_PAUSE() std::this_thread::yield()
#endif

namespace kiln {

namespace {
thread_local bool tls_in_task = false;
// How long an idle worker spins before it sleeps: long enough to catch the next block of a GEMM
// or the next op of a training step, short enough not to hold a core while JavaScript runs.
constexpr auto kSpinTime = std::chrono::microseconds(100);

// Spins briefly (the other threads usually finish within microseconds), then yields the core:
// on a machine with more runnable threads than cores, spinning would delay the very worker
// being waited for.
template <class F>
void wait_until(F&& ready) {
  for (int k = 0; k < 4096; k++) {
    if (ready()) return;
    KILN_PAUSE();
  }
  while (!ready()) std::this_thread::yield();
}

}  // namespace

struct ThreadPool::Job {
  const std::function<void(int64_t)>* task;
  int64_t n;
  std::atomic<int64_t> done{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
};

int default_thread_count() {
  if (const char* env = std::getenv("KILN_NUM_THREADS")) {
    char* end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n > 0) return n > 1024 ? 1024 : static_cast<int>(n);
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

ThreadPool& ThreadPool::instance() {
  static ThreadPool pool;
  return pool;
}

ThreadPool::ThreadPool() { start(default_thread_count() - 1); }

bool ThreadPool::in_task() { return tls_in_task; }

void ThreadPool::start(int workers) {
  stop_ = false;
  runs_.reset(new Run[workers + 1]);
  uint64_t seen = generation_.load();
  for (int i = 1; i <= workers; i++) workers_.emplace_back([this, seen, i] { worker_loop(seen, i); });
}

void ThreadPool::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void ThreadPool::resize(int n) {
  if (n < 1) n = 1;
  shutdown();
  start(n - 1);
}

void ThreadPool::work(Job& job, int self) {
  const int threads = this->threads();
  for (int s = 0; s < threads; s++) {
    Run& run = runs_[(self + s) % threads];
    for (int64_t i; (i = run.next.fetch_add(1, std::memory_order_relaxed)) < run.end;) {
      if (!job.failed.load(std::memory_order_relaxed)) {
        try {
          (*job.task)(i);
        } catch (...) {
          if (!job.failed.exchange(true)) job.error = std::current_exception();
        }
      }
      job.done.fetch_add(1, std::memory_order_acq_rel);
    }
  }
}

void ThreadPool::worker_loop(uint64_t seen, int self) {
  tls_in_task = true;
  for (;;) {
    auto spin_until = std::chrono::steady_clock::now() + kSpinTime;
    for (int k = 0; generation_.load(std::memory_order_acquire) == seen; k++) {
      KILN_PAUSE();
      if ((k & 63) == 63 && std::chrono::steady_clock::now() > spin_until) break;
    }
    Job* job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || generation_.load() != seen; });
      if (stop_) return;
      seen = generation_.load();
      job = job_;
      if (job == nullptr) continue;
      // Registered under the lock, so the caller cannot retire the job while we still use it.
      active_.fetch_add(1);
    }
    work(*job, self);
    active_.fetch_sub(1, std::memory_order_release);
  }
}

void ThreadPool::run(int64_t n, const std::function<void(int64_t)>& task) {
  if (n <= 0) return;
  std::unique_lock<std::mutex> busy(run_mu_, std::defer_lock);
  if (n == 1 || workers_.empty() || tls_in_task || !busy.try_lock()) {
    for (int64_t i = 0; i < n; i++) task(i);
    return;
  }
  Job job;
  job.task = &task;
  job.n = n;
  const int threads = this->threads();
  for (int t = 0; t < threads; t++) {
    runs_[t].next.store(n * t / threads, std::memory_order_relaxed);
    runs_[t].end = n * (t + 1) / threads;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &job;
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  tls_in_task = true;
  work(job, 0);
  tls_in_task = false;
  wait_until([&] { return job.done.load(std::memory_order_acquire) >= n; });
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = nullptr;
  }
  // A worker that picked the job up may still be leaving work(); the job lives on this stack.
  wait_until([&] { return active_.load(std::memory_order_acquire) == 0; });
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace kiln
