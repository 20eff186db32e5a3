// Shared by the CPU kernel families: JavaScript's store semantics (the reference backend's
// oracle), dtype dispatch, and the broadcast walk that every strided kernel uses.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <vector>

#include "../call.h"
#include "../threadpool.h"

// Elementwise loops are compiled twice, for AVX2 and for any x86-64, and picked at load time
// (GCC function multiversioning). A loop must sit directly in such a function to be cloned: a
// lambda inside it would be compiled for the baseline only.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define KILN_SIMD __attribute__((target_clones("avx2", "default")))
#else
#define KILN_SIMD
#endif

namespace kiln::cpu {

// ---------------------------------------------------------------------------------------------
// Storing a double into a typed array, as JavaScript does (and so the reference backend): to
// int32 truncates toward zero with NaN and infinities giving 0 and the rest wrapping modulo
// 2^32; to bool (a Uint8Array) the same modulo 2^8; to float32 rounds to nearest.

inline int32_t to_int32(double d) {
  if (d > -2147483649.0 && d < 2147483648.0) return static_cast<int32_t>(d);
  if (!std::isfinite(d)) return 0;
  double m = std::fmod(std::trunc(d), 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return static_cast<int32_t>(static_cast<uint32_t>(m));
}

template <class T> inline T store(double d);
template <> inline float store<float>(double d) { return static_cast<float>(d); }
template <> inline double store<double>(double d) { return d; }
template <> inline int32_t store<int32_t>(double d) { return to_int32(d); }
template <> inline uint8_t store<uint8_t>(double d) { return static_cast<uint8_t>(to_int32(d)); }

template <class T> constexpr bool is_float_v = std::is_floating_point<T>::value;

// Calls f(T()) with T the storage type of `d`: float, double, int32_t, uint8_t (bool).
template <class F>
decltype(auto) with_type(DType d, F&& f) {
  switch (d) {
    case DType::Float32: return f(float());
    case DType::Float64: return f(double());
    case DType::Int32: return f(int32_t());
    case DType::Bool: break;
  }
  return f(uint8_t());
}

// Same, by element size only: for kernels that move bits (movement, gather, where).
template <class F>
decltype(auto) with_bits(DType d, F&& f) {
  switch (bytes_per(d)) {
    case 8: return f(uint64_t());
    case 4: return f(uint32_t());
    default: break;
  }
  return f(uint8_t());
}

// ---------------------------------------------------------------------------------------------
// The broadcast walk. Operand 0 is the contiguous output; the others are read through strides
// (0 along broadcast dims, negative for flipped slices, permuted for transposes). Size-1 dims
// are dropped and neighbouring dims merged wherever every operand steps through them as one, so
// a same-shape, row-broadcast or transpose-of-blocks case becomes a few long rows.

constexpr int kMaxOperands = 4;

struct Walk {
  int rank = 0;
  int operands = 0;
  int64_t shape[kMaxRank];
  int64_t stride[kMaxOperands][kMaxRank];

  int64_t inner() const { return rank > 0 ? shape[rank - 1] : 1; }
  int64_t step(int op) const { return rank > 0 ? stride[op][rank - 1] : 0; }
  int64_t rows() const {
    int64_t r = 1;
    for (int d = 0; d + 1 < rank; d++) r *= shape[d];
    return r;
  }
};

// A walk over out's shape; `strides[k]` (k >= 1) holds operand k's strides over out's dims.
// Operand 0's strides are out's row-major ones, filled in here.
Walk make_walk(const TensorRef& out, int operands, const int64_t (*strides)[kMaxRank]);

// Strides of `x` broadcast to `out` (x's dims aligned right; size-1 or missing dims get 0).
void broadcast_strides(const TensorRef& x, const TensorRef& out, int64_t* strides);

// Row-major strides of a shape.
void row_major_strides(int rank, const int32_t* dims, int64_t* strides);

// Calls row(offsets) for rows [lo, hi) of the walk, offsets[k] being operand k's offset of the
// row's first element; within a row operand k moves by w.step(k).
template <class F>
void for_rows(const Walk& w, int64_t lo, int64_t hi, F&& row) {
  int outer = w.rank - 1;
  int64_t idx[kMaxRank] = {0};
  int64_t off[kMaxOperands] = {0};
  int64_t rem = lo;
  for (int d = outer - 1; d >= 0; d--) {
    idx[d] = rem % w.shape[d];
    rem /= w.shape[d];
    for (int k = 0; k < w.operands; k++) off[k] += idx[d] * w.stride[k][d];
  }
  for (int64_t r = lo; r < hi; r++) {
    row(static_cast<const int64_t*>(off));
    for (int d = outer - 1; d >= 0; d--) {
      for (int k = 0; k < w.operands; k++) off[k] += w.stride[k][d];
      if (++idx[d] < w.shape[d]) break;
      for (int k = 0; k < w.operands; k++) off[k] -= w.stride[k][d] * w.shape[d];
      idx[d] = 0;
    }
  }
}

// for_rows over every row, split across threads when the walk is large.
template <class F>
void walk_rows(const Walk& w, F&& row) {
  parallel_elements(w.rows(), w.inner(), [&](int64_t lo, int64_t hi) { for_rows(w, lo, hi, row); });
}

// [outer, n, inner] around `axis` of x.
inline void around_axis(const TensorRef& x, int axis, int64_t* outer, int64_t* n, int64_t* inner) {
  *outer = 1;
  *inner = 1;
  for (int d = 0; d < axis; d++) *outer *= x.dim(d);
  for (int d = axis + 1; d < x.rank; d++) *inner *= x.dim(d);
  *n = x.rank > 0 ? x.dim(axis) : 1;
}

// The fused kernels' tensors depend on one another's shapes (x [m, k] with w [k, n]), which the
// boundary cannot check. Core checks them first, so only a bug fails these, but without them a
// mismatch would read outside a buffer.
inline void expect_tensors(const char* op, const Call& c, int count) {
  if (c.num_tensors != count) internal_error(std::string(op) + ": expected " + std::to_string(count) + " tensors");
}

// Tensor i is present with exactly `dims`.
inline void expect_shape(const char* op, const Call& c, int i, std::initializer_list<int64_t> dims) {
  const TensorRef& t = c.in(i);
  bool ok = t.present && t.rank == static_cast<int>(dims.size());
  int d = 0;
  for (int64_t want : dims) ok = ok && t.dim(d++) == want;
  if (!ok) internal_error(std::string(op) + ": tensor " + std::to_string(i) + " is absent or misshapen");
}

// Family registration: each appends its rows to the CPU kernel table.
struct RowSink {
  std::vector<KernelRow>& rows;
  void add(const char* name, KernelFn fn) { rows.push_back(KernelRow{name, fn}); }
  void add(const KernelRow& row) { rows.push_back(row); }
};
void add_unary_rows(RowSink& sink);
void add_binary_rows(RowSink& sink);
void add_select_rows(RowSink& sink);
void add_reduce_rows(RowSink& sink);
void add_matmul_rows(RowSink& sink);
void add_movement_rows(RowSink& sink);
void add_index_rows(RowSink& sink);
void add_creation_rows(RowSink& sink);
void add_random_rows(RowSink& sink);
void add_dense_rows(RowSink& sink);
void add_softmax_rows(RowSink& sink);
void add_update_rows(RowSink& sink);
void add_conv_rows(RowSink& sink);
void add_pool_rows(RowSink& sink);
void add_normalization_rows(RowSink& sink);
void add_layer_norm_rows(RowSink& sink);
void add_attention_rows(RowSink& sink);
void add_recurrent_rows(RowSink& sink);

}  // namespace kiln::cpu
