// The fused layers' bias and activation, shared by Dense and convolution: forward as a GEMM
// epilogue on each block of the output while it is in cache, backward as one pass that makes
// dz = dy·act'(y) and dBias together.
#pragma once

#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

#include "ew.h"
#include "gemm.h"
#include "vmath.h"

namespace kiln::cpu {

// The order of FUSED_ACTIVATIONS in backends/contract.ts.
enum class Act { Linear = 0, Relu = 1, Sigmoid = 2, Tanh = 3 };

template <Act act, class T>
inline T activate(T v) {
  // relu as kiln's: v <= 0 ? 0 : v, so that NaN stays NaN.
  if constexpr (act == Act::Relu) return v <= T(0) ? T(0) : v;
  else if constexpr (act == Act::Sigmoid) return vsigmoid(v);
  else if constexpr (act == Act::Tanh) return vtanh(v);
  else return v;
}

// act'(z) from y = act(z), times dy. relu's is a select, not dy·[y > 0]: like kiln's composed
// relu (a where), a NaN or infinite dy where y <= 0 gives 0, not NaN.
template <Act act, class T>
inline T derive(T dy, T y) {
  if constexpr (act == Act::Relu) return y > T(0) ? dy : T(0);
  else if constexpr (act == Act::Sigmoid) return dy * (y * (T(1) - y));
  else if constexpr (act == Act::Tanh) return dy * (T(1) - y * y);
  else return dy;
}

// Calls f(std::integral_constant<Act, ...>) for an activation code; `op` names the kernel in
// the error an unknown code raises.
template <class F>
decltype(auto) with_act(const char* op, int32_t code, F&& f) {
  switch (code) {
    case 1: return f(std::integral_constant<Act, Act::Relu>());
    case 2: return f(std::integral_constant<Act, Act::Sigmoid>());
    case 3: return f(std::integral_constant<Act, Act::Tanh>());
    case 0: break;
    default: internal_error(std::string(op) + ": unknown activation " + std::to_string(code));
  }
  return f(std::integral_constant<Act, Act::Linear>());
}

template <Act act, bool bias, class T>
KILN_SIMD void bias_act_row(T* c, const T* b, int64_t n) {
  for (int64_t j = 0; j < n; j++) {
    T v = c[j];
    if constexpr (bias) v = v + b[j];
    c[j] = activate<act>(v);
  }
}

// The epilogue's context: the bias of the GEMM's column 0 (a convolution group's first filter).
template <class T>
struct BiasAct {
  const T* bias;
};

// Runs inside the GEMM's tasks, on a block that the micro-kernel has just stored.
template <Act act, bool bias, class T>
void bias_act_block(const void* ctx, T* c, int64_t ldc, int64_t rows, int64_t cols, int64_t j) {
  const T* b = bias ? static_cast<const BiasAct<T>*>(ctx)->bias + j : nullptr;
  for (int64_t r = 0; r < rows; r++) bias_act_row<act, bias>(c + r * ldc, b, cols);
}

// act(· + bias) as an epilogue; none at all for a linear one without bias.
template <Act act, class T>
Epilogue<T> bias_act_epilogue(const BiasAct<T>* ctx) {
  Epilogue<T> e;
  const bool bias = ctx->bias != nullptr;
  if (act == Act::Linear && !bias) return e;
  e.fn = bias ? bias_act_block<act, true, T> : bias_act_block<act, false, T>;
  e.ctx = ctx;
  return e;
}

// dz = dy·act'(y) for one row's columns, kept when `keep` and added into per-column sums (in
// double, as kiln sums float32) when `sums`.
template <Act act, bool keep, bool sums, class T>
KILN_SIMD void grad_row(const T* dy, const T* y, T* dz, double* acc, int64_t n) {
  for (int64_t j = 0; j < n; j++) {
    const T d = derive<act>(dy[j], y[j]);
    if constexpr (keep) dz[j] = d;
    if constexpr (sums) acc[j] += double(d);
  }
}

// One pass in row blocks across threads (a convolution's dz has many rows of few columns); each
// block sums its columns into its own row of partial sums, which are added in order at the end,
// so the result does not depend on which thread ran what.
template <Act act, bool keep, bool sums, class T>
void grad_rows(int64_t m, int64_t n, const T* dy, const T* y, T* dz, T* dbias) {
  const int64_t threads = ThreadPool::in_task() ? 1 : ThreadPool::instance().threads();
  const int64_t blocks = std::max<int64_t>(1, std::min<int64_t>(threads, m * n / kParallelElements));
  std::vector<double> acc(sums ? blocks * n : 0, 0.0);
  auto block = [&](int64_t b) {
    for (int64_t i = m * b / blocks; i < m * (b + 1) / blocks; i++) {
      grad_row<act, keep, sums>(dy + i * n, y + i * n, keep ? dz + i * n : nullptr, sums ? acc.data() + b * n : nullptr, n);
    }
  };
  if (blocks == 1) block(0);
  else ThreadPool::instance().run(blocks, block);
  if constexpr (sums) {
    for (int64_t j = 0; j < n; j++) {
      double s = acc[j];
      for (int64_t b = 1; b < blocks; b++) s += acc[b * n + j];
      dbias[j] = static_cast<T>(s);
    }
  }
}

// Over [m, n] rows: dz into `dz` when given (linear's dz is dy itself) and dBias = dz's column
// sums when given.
template <Act act, class T>
void dz_and_bias(int64_t m, int64_t n, const T* dy, const T* y, T* dz, T* dbias) {
  if (dz && dbias) grad_rows<act, true, true>(m, n, dy, y, dz, dbias);
  else if (dz) grad_rows<act, true, false>(m, n, dy, y, dz, dbias);
  else if (dbias) grad_rows<act, false, true>(m, n, dy, y, dz, dbias);
}

// One float dtype for every present tensor, and an activation: the fused layers' common check.
inline void check_floats(const char* op, const Call& c) {
  const DType d = c.in(0).dtype;
  if (d != DType::Float32 && d != DType::Float64) internal_error(std::string(op) + ": not a float dtype");
  for (int i = 0; i < c.num_tensors; i++) {
    if (c.in(i).present && c.in(i).dtype != d) internal_error(std::string(op) + ": tensors of different dtypes");
  }
  if (c.num_ints < 1) internal_error(std::string(op) + ": no activation");
}

}  // namespace kiln::cpu
