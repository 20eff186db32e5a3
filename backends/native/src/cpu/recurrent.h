// Shared by the fused recurrent rows (recurrent.cc forward, recurrent_grad.cc backward): a call's
// sizes, where a step's record and previous states sit, and the checks of the tensors.
//
// The record y [B, T, S·U] holds per step S slots of U values (src/fused/recurrent-scan.ts):
// slot 0 the step's output, slot 1 (and 2: LSTM's c) the states after it, then the gates. Every
// GEMM reads its operands in place through strides: the previous h of all rows at step t is a
// [B, U] matrix with row stride T·S·U inside the record.
#pragma once

#include <string>

#include "ew.h"
#include "gemm.h"
#include "vmath.h"

namespace kiln::cpu {

// Elementwise work per unit of a step's gate pass (a few exps and divisions each), for
// parallel_elements: the pass splits over batch rows once B·U·kGateCost passes its threshold.
constexpr int64_t kGateCost = 32;

struct Seq {
  int64_t B, T, U;
  int64_t S;                    // slots per step in the record
  const uint8_t* mask;          // [B, T] or null
  bool zero_output_for_mask;

  int64_t at(int64_t b, int64_t t) const { return (b * T + t) * S * U; }
  int64_t row_stride() const { return T * S * U; }
  bool kept(int64_t b, int64_t t) const { return mask == nullptr || mask[b * T + t] != 0; }
};

// The state in `slot` before step t: the initial one ([B, U], rows U apart) at t = 0, else the
// record's of step t - 1. `row(b)` points at row b.
template <class T>
struct Prev {
  const T* base;
  int64_t stride;
  const T* row(int64_t b) const { return base + b * stride; }
};

template <class T>
Prev<T> prev_state(const Seq& q, const T* y, const T* init, int64_t t, int slot) {
  if (t == 0) return {init, q.U};
  return {y + q.at(0, t - 1) + slot * q.U, q.row_stride()};
}

// Runs row(b) for every batch row, split across threads when the step is large enough (each row
// writes only its own part of every buffer, so the split changes no result).
template <class F>
void each_row(const Seq& q, int64_t cost, F&& row) {
  parallel_elements(q.B, cost, [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; b++) row(b);
  });
}

// Checks a recurrent call: xProj (or the record) [B, T, ·], the states [B, U], the kernel
// [U, G·U], the mask [B, T] bool; all floats of one dtype. Core checked all this; a mismatch
// here is a bug above, which must not read outside a buffer.
inline Seq seq_of(const char* op, const Call& c, int seq_index, int kernel_index, int64_t G, int64_t S, int mask_index,
                  bool zero_output_for_mask) {
  const TensorRef& x = c.in(seq_index);
  const TensorRef& k = c.in(kernel_index);
  if (x.rank != 3 || k.rank != 2) internal_error(std::string(op) + ": misshapen sequence or kernel");
  const int64_t B = x.dim(0), T = x.dim(1), U = k.dim(0);
  expect_shape(op, c, kernel_index, {U, G * U});
  const TensorRef& m = c.in(mask_index);
  if (m.present) {
    expect_shape(op, c, mask_index, {B, T});
    if (m.dtype != DType::Bool) internal_error(std::string(op) + ": the mask is not bool");
  }
  for (int i = 0; i < c.num_tensors; i++) {
    const TensorRef& t = c.in(i);
    if (i == mask_index || !t.present) continue;
    if (t.dtype != x.dtype || (t.dtype != DType::Float32 && t.dtype != DType::Float64)) {
      internal_error(std::string(op) + ": tensors of different or non-float dtypes");
    }
  }
  return {B, T, U, S, m.present ? m.as<uint8_t>() : nullptr, zero_output_for_mask};
}

}  // namespace kiln::cpu
