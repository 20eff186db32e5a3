// Buffers by integer id, the only handle JavaScript holds. Counts live buffers and their bytes
// exactly as the contract's memory() reports them (requested sizes, not pooled capacity).
#pragma once

#include <cstdint>
#include <unordered_map>

#include "call.h"
#include "device.h"

namespace kiln {

struct Buffer {
  void* data = nullptr;  // null for size 0
  DType dtype = DType::Float32;
  int64_t size = 0;      // elements
  size_t bytes() const { return static_cast<size_t>(size) * bytes_per(dtype); }
};

class BufferTable {
 public:
  explicit BufferTable(Device& device) : device_(device) {}
  ~BufferTable() { clear(); }

  int32_t alloc(DType dtype, int64_t size);
  void free(int32_t id);
  // Throws for an id that is not live (freed twice, or never allocated here).
  const Buffer& get(int32_t id) const;
  void clear();

  uint64_t num_buffers() const { return buffers_.size(); }
  uint64_t num_bytes() const { return bytes_; }
  Device& device() { return device_; }

 private:
  Device& device_;
  std::unordered_map<int32_t, Buffer> buffers_;
  // Ids are never reused (until 2^31 allocations wrap), so a stale id fails loudly instead of
  // silently naming a newer buffer.
  int32_t next_id_ = 1;
  uint64_t bytes_ = 0;
};

}  // namespace kiln
