// The CPU device: a size-class pool over posix_memalign, memcpy for transfers, and the kernel
// table gathered from the family files.
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "../device.h"
#include "ew.h"

namespace kiln {
namespace {

// Freed buffers wait in a free list per size class, so a training loop, which allocates the same
// shapes every step, stops calling malloc after its first step. Four classes per doubling keep
// the rounding waste under 25%.
class SizeClassPool {
 public:
  SizeClassPool() {
    if (const char* env = std::getenv("KILN_POOL_MAX_MB")) {
      char* end = nullptr;
      long mb = std::strtol(env, &end, 10);
      if (end != env && *end == '\0' && mb >= 0) max_cached_ = static_cast<uint64_t>(mb) << 20;
    }
  }
  ~SizeClassPool() { trim(); }

  // With no cache (KILN_POOL_MAX_MB=0) buffers get exactly their size, so memory checkers
  // (test/native/valgrind.sh) see every overrun.
  size_t size_for(size_t bytes) const { return max_cached_ == 0 ? bytes : class_of(bytes); }

  static size_t class_of(size_t bytes) {
    if (bytes <= 64) return 64;
    int e = 63 - __builtin_clzll(static_cast<unsigned long long>(bytes - 1));  // 2^e < bytes <= 2^(e+1)
    size_t step = size_t{1} << (e - 2);
    return (bytes + step - 1) / step * step;
  }

  void* take(size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t cls = size_for(bytes);
    auto it = free_.find(cls);
    if (it != free_.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      stats_.cached_bytes -= cls;
      stats_.hits++;
      return p;
    }
    void* p = nullptr;
    // 64 bytes: a cache line, and the widest vector load.
    if (posix_memalign(&p, 64, cls) != 0) throw std::bad_alloc();
    stats_.reserved_bytes += cls;
    stats_.misses++;
    return p;
  }

  void give(void* p, size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t cls = size_for(bytes);
    if (stats_.cached_bytes + cls > max_cached_) {
      std::free(p);
      stats_.reserved_bytes -= cls;
      return;
    }
    free_[cls].push_back(p);
    stats_.cached_bytes += cls;
  }

  void trim() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [cls, list] : free_) {
      for (void* p : list) std::free(p);
      stats_.reserved_bytes -= cls * list.size();
    }
    free_.clear();
    stats_.cached_bytes = 0;
  }

  PoolStats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

 private:
  // Worker-thread environments share the process's pool; the lock is uncontended otherwise.
  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  PoolStats stats_;
  uint64_t max_cached_ = uint64_t{1} << 30;  // KILN_POOL_MAX_MB overrides
};

class CpuDevice final : public Device {
 public:
  CpuDevice() {
    cpu::RowSink sink{rows_};
    cpu::add_unary_rows(sink);
    cpu::add_binary_rows(sink);
    cpu::add_select_rows(sink);
    cpu::add_reduce_rows(sink);
    cpu::add_matmul_rows(sink);
    cpu::add_movement_rows(sink);
    cpu::add_index_rows(sink);
    cpu::add_creation_rows(sink);
    cpu::add_random_rows(sink);
    cpu::add_dense_rows(sink);
    cpu::add_softmax_rows(sink);
    cpu::add_update_rows(sink);
    cpu::add_conv_rows(sink);
    cpu::add_pool_rows(sink);
    cpu::add_normalization_rows(sink);
    cpu::add_layer_norm_rows(sink);
    cpu::add_attention_rows(sink);
    cpu::add_recurrent_rows(sink);
  }
  const char* name() const override { return "cpu"; }
  void* allocate(size_t bytes) override { return pool_.take(bytes); }
  void release(void* p, size_t bytes) override { pool_.give(p, bytes); }
  void upload(void* dst, const void* src, size_t bytes) override { std::memcpy(dst, src, bytes); }
  void download(void* dst, const void* src, size_t bytes) override { std::memcpy(dst, src, bytes); }
  const KernelRow* kernels(size_t* count) const override {
    *count = rows_.size();
    return rows_.data();
  }
  void trim() override { pool_.trim(); }
  PoolStats stats() const override { return pool_.stats(); }

 private:
  mutable SizeClassPool pool_;
  std::vector<KernelRow> rows_;
};

}  // namespace

Device& cpu_device() {
  static CpuDevice device;
  return device;
}

}  // namespace kiln
