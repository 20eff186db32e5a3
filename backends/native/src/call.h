// The device-neutral shape of one kernel call: what the N-API boundary decodes from JavaScript
// and what every device's kernel table receives. Nothing here knows about the CPU, so a CUDA
// device can implement the same rows over device pointers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace kiln {

// Values match the order of NativeDType in addon.ts.
enum class DType : int32_t { Float32 = 0, Float64 = 1, Int32 = 2, Bool = 3 };

inline size_t bytes_per(DType d) {
  switch (d) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int32: return 4;
    case DType::Bool: return 1;
  }
  return 0;
}

inline const char* dtype_name(DType d) {
  switch (d) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int32: return "int32";
    case DType::Bool: return "bool";
  }
  return "?";
}

// An error a kernel can only reach through a bug above it (core checks everything first); it
// still must not corrupt memory, so the boundary turns it into a JavaScript Error.
[[noreturn]] inline void internal_error(const std::string& what) {
  throw std::runtime_error("native: " + what);
}

// Deep enough for any real tensor; the boundary refuses deeper ones so kernels can keep their
// index arithmetic in fixed arrays instead of allocating per call.
constexpr int kMaxRank = 32;

// A buffer viewed with a shape. `dims` points into the call's argument array and lives only for
// the duration of the call. A fused kernel's optional tensor (Dense without a bias, a gradient
// nobody wants) may be absent: JavaScript sends buffer id 0 with rank 0, and the ref is empty
// with `present` false.
struct TensorRef {
  void* data = nullptr;
  DType dtype = DType::Float32;
  int64_t size = 0;
  int rank = 0;
  const int32_t* dims = nullptr;
  bool present = true;

  int64_t dim(int i) const { return dims[i]; }
  template <class T> T* as() const { return static_cast<T*>(data); }
};

// Inputs first, the outputs last (core allocated them with their final shapes and dtypes).
struct Call {
  const TensorRef* tensors = nullptr;
  int num_tensors = 0;
  const int32_t* ints = nullptr;  // the kernel's integer attributes (axes, perm, flags, ...)
  int num_ints = 0;
  const double* floats = nullptr;  // its float attributes (pad's fill value, epsilons, hyper-parameters)
  int num_floats = 0;

  const TensorRef& in(int i) const { return tensors[i]; }
  // Float attribute i, checked: the boundary cannot know how many each row takes.
  double float_attr(int i) const {
    if (i >= num_floats) internal_error("a kernel call without its float attribute " + std::to_string(i));
    return floats[i];
  }
  const TensorRef& out() const { return tensors[num_tensors - 1]; }
  int num_inputs() const { return num_tensors - 1; }
};

using KernelFn = void (*)(const Call&);

// One row of a device's kernel table, named as the contract's rows are ("unary:exp", "matmul",
// "fused:dense"). The boundary skips a call whose `outputs` (its trailing tensors) are all
// empty or absent, as core never makes one, and refuses absent tensors unless the row takes
// `optional` ones (its kernel checks `present`).
struct KernelRow {
  const char* name;
  KernelFn fn;
  int outputs = 1;
  bool optional = false;
};

}  // namespace kiln
