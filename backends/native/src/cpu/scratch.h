// A buffer from the device's pool for the duration of one kernel: steady-state training reuses
// the same memory every step instead of calling malloc.
#pragma once

#include <cstddef>

#include "../device.h"

namespace kiln::cpu {

class Scratch {
 public:
  explicit Scratch(size_t bytes) : bytes_(bytes), p_(bytes ? cpu_device().allocate(bytes) : nullptr) {}
  ~Scratch() {
    if (p_) cpu_device().release(p_, bytes_);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <class T> T* as() const { return static_cast<T*>(p_); }

 private:
  size_t bytes_;
  void* p_;
};

}  // namespace kiln::cpu
