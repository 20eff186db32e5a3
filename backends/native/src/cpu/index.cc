// The index family: gather and its adjoint scatterAdd, both along one axis with int32 indices.
// Core checks index ranges; they are checked again here because an index out of range would
// read or write outside a buffer.
#include <string>

#include "ew.h"

namespace kiln::cpu {
namespace {

void check_indices(const TensorRef& indices, int64_t n, const char* kernel) {
  if (indices.dtype != DType::Int32) internal_error(std::string(kernel) + ": indices must be int32");
  const int32_t* idx = indices.as<int32_t>();
  for (int64_t t = 0; t < indices.size; t++) {
    if (idx[t] < 0 || idx[t] >= n) {
      internal_error(std::string(kernel) + ": index " + std::to_string(idx[t]) + " out of range [0, " + std::to_string(n) + ")");
    }
  }
}

// out[o, t, i] = x[o, indices[t], i], with x viewed as [outer, n, inner] around the axis.
void gather_kernel(const Call& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& indices = c.in(1);
  const TensorRef& out = c.out();
  int64_t outer, n, inner;
  around_axis(x, c.ints[0], &outer, &n, &inner);
  check_indices(indices, n, "gather");
  const int32_t* idx = indices.as<int32_t>();
  const int64_t count = indices.size;
  const size_t row = inner * bytes_per(x.dtype);
  const char* px = static_cast<const char*>(x.data);
  char* po = static_cast<char*>(out.data);
  parallel_elements(outer * count, inner, [&](int64_t lo, int64_t hi) {
    for (int64_t q = lo; q < hi; q++) {
      const int64_t o = q / count;
      std::memcpy(po + q * row, px + (o * n + idx[q % count]) * row, row);
    }
  });
}

template <class T>
inline T add(T a, T b) {
  if constexpr (is_float_v<T>) return a + b;
  else return static_cast<T>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));  // wraps
}

template <class T>
void scatter_run(const TensorRef& updates, const TensorRef& indices, int axis, const TensorRef& out) {
  int64_t outer, n, inner;
  around_axis(out, axis, &outer, &n, &inner);
  const int32_t* idx = indices.as<int32_t>();
  const int64_t count = indices.size;
  const T* pu = updates.as<T>();
  T* po = out.as<T>();
  // Different outer positions write disjoint rows; within one, repeated indices add up in order.
  parallel_elements(outer, (count > n ? count : n) * inner, [&](int64_t lo, int64_t hi) {
    std::memset(po + lo * n * inner, 0, (hi - lo) * n * inner * sizeof(T));
    for (int64_t o = lo; o < hi; o++) {
      for (int64_t t = 0; t < count; t++) {
        T* to = po + (o * n + idx[t]) * inner;
        const T* from = pu + (o * count + t) * inner;
        for (int64_t i = 0; i < inner; i++) to[i] = add(to[i], from[i]);
      }
    }
  });
}

void scatter_add_kernel(const Call& c) {
  const TensorRef& out = c.out();
  int64_t outer, n, inner;
  around_axis(out, c.ints[0], &outer, &n, &inner);
  check_indices(c.in(1), n, "scatterAdd");
  with_type(out.dtype, [&](auto t) { scatter_run<decltype(t)>(c.in(0), c.in(1), c.ints[0], out); });
}

}  // namespace

void add_index_rows(RowSink& sink) {
  sink.add("gather", gather_kernel);
  sink.add("scatterAdd", scatter_add_kernel);
}

}  // namespace kiln::cpu
