#include "buffers.h"

#include <string>

namespace kiln {

int32_t BufferTable::alloc(DType dtype, int64_t size) {
  if (size < 0) internal_error("alloc: negative size " + std::to_string(size));
  Buffer b;
  b.dtype = dtype;
  b.size = size;
  if (b.bytes() > 0) b.data = device_.allocate(b.bytes());
  int32_t id = next_id_;
  next_id_ = next_id_ == INT32_MAX ? 1 : next_id_ + 1;
  buffers_.emplace(id, b);
  bytes_ += b.bytes();
  return id;
}

void BufferTable::free(int32_t id) {
  auto it = buffers_.find(id);
  if (it == buffers_.end()) internal_error("free: no buffer " + std::to_string(id) + " (freed twice, or from another backend)");
  if (it->second.data) device_.release(it->second.data, it->second.bytes());
  bytes_ -= it->second.bytes();
  buffers_.erase(it);
}

const Buffer& BufferTable::get(int32_t id) const {
  auto it = buffers_.find(id);
  if (it == buffers_.end()) internal_error("no buffer " + std::to_string(id) + " (freed, or from another backend)");
  return it->second;
}

void BufferTable::clear() {
  for (auto& [id, b] : buffers_) {
    if (b.data) device_.release(b.data, b.bytes());
  }
  buffers_.clear();
  bytes_ = 0;
}

}  // namespace kiln
