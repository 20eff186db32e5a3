// What the N-API boundary needs from a device: memory, copies in and out, and a kernel table
// whose rows are named as the contract's. The CPU is the only device today; a CUDA device
// would implement the same interface with device memory and its own kernel files, named by the
// same families (unary, binary, reduce, movement, index, matmul).
#pragma once

#include <cstddef>
#include <cstdint>

#include "call.h"

namespace kiln {

struct PoolStats {
  uint64_t reserved_bytes = 0;  // obtained from the system and not yet returned
  uint64_t cached_bytes = 0;    // of those, parked in free lists for reuse
  uint64_t hits = 0;            // allocations served from a free list
  uint64_t misses = 0;          // allocations that went to the system
};

class Device {
 public:
  virtual ~Device() = default;
  virtual const char* name() const = 0;
  // Memory for `bytes` bytes (bytes > 0), aligned for any vector load the kernels use.
  virtual void* allocate(size_t bytes) = 0;
  virtual void release(void* p, size_t bytes) = 0;
  virtual void upload(void* dst, const void* src, size_t bytes) = 0;
  virtual void download(void* dst, const void* src, size_t bytes) = 0;
  virtual const KernelRow* kernels(size_t* count) const = 0;
  // Gives cached memory back to the system (dispose, tests).
  virtual void trim() = 0;
  virtual PoolStats stats() const = 0;
};

Device& cpu_device();

}  // namespace kiln
