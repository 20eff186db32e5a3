// The fused Dense rows: act(x·w + bias) as one GEMM whose epilogue adds the bias and applies the
// activation to each block of the output while it is still in cache, and the backward pass
// (dz = dy·act'(y), then dBias, dx and dw) with dz in one pooled scratch buffer and both
// products reading their operands transposed in place.
#include <algorithm>
#include <vector>

#include "../device.h"
#include "ew.h"
#include "gemm.h"
#include "vmath.h"

namespace kiln::cpu {
namespace {

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

template <Act act, bool bias, class T>
KILN_SIMD void bias_act_row(T* c, const T* b, int64_t n) {
  for (int64_t j = 0; j < n; j++) {
    T v = c[j];
    if constexpr (bias) v = v + b[j];
    c[j] = activate<act>(v);
  }
}

template <class T>
struct DenseEpilogue {
  const T* bias;
};

// Runs inside the GEMM's tasks, on a block that the micro-kernel has just stored.
template <Act act, bool bias, class T>
void bias_act_block(const void* ctx, T* c, int64_t ldc, int64_t rows, int64_t cols, int64_t j) {
  const T* b = bias ? static_cast<const DenseEpilogue<T>*>(ctx)->bias + j : nullptr;
  for (int64_t r = 0; r < rows; r++) bias_act_row<act, bias>(c + r * ldc, b, cols);
}

template <Act act, class T>
Epilogue<T> epilogue_for(bool bias, const DenseEpilogue<T>* ctx) {
  Epilogue<T> e;
  if (act == Act::Linear && !bias) return e;
  e.fn = bias ? bias_act_block<act, true, T> : bias_act_block<act, false, T>;
  e.ctx = ctx;
  return e;
}

template <class F>
decltype(auto) with_act(int32_t code, F&& f) {
  switch (code) {
    case 1: return f(std::integral_constant<Act, Act::Relu>());
    case 2: return f(std::integral_constant<Act, Act::Sigmoid>());
    case 3: return f(std::integral_constant<Act, Act::Tanh>());
    case 0: break;
    default: internal_error("fused dense: unknown activation " + std::to_string(code));
  }
  return f(std::integral_constant<Act, Act::Linear>());
}

// One float dtype for every present tensor, and an activation.
void check_floats(const char* op, const Call& c) {
  const DType d = c.in(0).dtype;
  if (d != DType::Float32 && d != DType::Float64) internal_error(std::string(op) + ": not a float dtype");
  for (int i = 0; i < c.num_tensors; i++) {
    if (c.in(i).present && c.in(i).dtype != d) internal_error(std::string(op) + ": tensors of different dtypes");
  }
  if (c.num_ints < 1) internal_error(std::string(op) + ": no activation");
}

// tensors: x [m, k], w [k, n], bias [n] or absent, out [m, n]; ints: [activation].
void dense_kernel(const Call& c) {
  const char* op = "fused dense";
  expect_tensors(op, c, 4);
  const TensorRef& x = c.in(0);
  const TensorRef& w = c.in(1);
  const TensorRef& bias = c.in(2);
  if (x.rank != 2 || w.rank != 2) internal_error(std::string(op) + ": x and w must be matrices");
  const int64_t m = x.dim(0), k = x.dim(1), n = w.dim(1);
  expect_shape(op, c, 1, {k, n});
  if (bias.present) expect_shape(op, c, 2, {n});
  expect_shape(op, c, 3, {m, n});
  check_floats(op, c);
  with_type(x.dtype, [&](auto t) {
    using T = decltype(t);
    if constexpr (is_float_v<T>) {
      const DenseEpilogue<T> ctx{bias.present ? bias.as<T>() : nullptr};
      const Epilogue<T> epilogue = with_act(c.ints[0], [&](auto a) { return epilogue_for<decltype(a)::value, T>(bias.present, &ctx); });
      gemm<T>(m, n, k, x.as<T>(), k, 1, w.as<T>(), n, 1, c.out().as<T>(), n, epilogue);
    }
  });
}

// A buffer from the device's pool for the duration of one kernel.
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

// One pass over column blocks: each block's sums stay in L1 while its rows stream past, and
// blocks go to threads when the gradient is large. A block is at least a few cache lines wide,
// so that threads do not share lines.
template <Act act, bool keep, bool sums, class T>
void grad_rows(int64_t m, int64_t n, const T* dy, const T* y, T* dz, T* dbias) {
  const int64_t grain = std::max<int64_t>(64, kParallelElements / std::max<int64_t>(m, 1));
  parallel_for(n, grain, [&](int64_t lo, int64_t hi) {
    std::vector<double> acc(sums ? hi - lo : 0, 0.0);
    for (int64_t i = 0; i < m; i++) {
      const int64_t at = i * n + lo;
      grad_row<act, keep, sums>(dy + at, y + at, keep ? dz + at : nullptr, acc.data(), hi - lo);
    }
    if constexpr (sums) {
      for (int64_t j = lo; j < hi; j++) dbias[j] = static_cast<T>(acc[j - lo]);
    }
  });
}

// dz into `dz` when given (linear's dz is dy itself) and dBias = dz's column sums when given.
template <Act act, class T>
void dz_and_bias(int64_t m, int64_t n, const T* dy, const T* y, T* dz, T* dbias) {
  if (dz && dbias) grad_rows<act, true, true>(m, n, dy, y, dz, dbias);
  else if (dz) grad_rows<act, true, false>(m, n, dy, y, dz, dbias);
  else if (dbias) grad_rows<act, false, true>(m, n, dy, y, dz, dbias);
}

// tensors: dy [m, n], y [m, n], x [m, k], w [k, n], then the outputs dx [m, k], dw [k, n] and
// dBias [n], each absent when not wanted; ints: [activation].
void dense_grad_kernel(const Call& c) {
  const char* op = "fused denseGrad";
  expect_tensors(op, c, 7);
  const TensorRef& tdy = c.in(0);
  const TensorRef& tx = c.in(2);
  const TensorRef& tw = c.in(3);
  const TensorRef& tdx = c.in(4);
  const TensorRef& tdw = c.in(5);
  const TensorRef& tdb = c.in(6);
  if (tdy.rank != 2 || tx.rank != 2) internal_error(std::string(op) + ": dy and x must be matrices");
  const int64_t m = tdy.dim(0), n = tdy.dim(1), k = tx.dim(1);
  expect_shape(op, c, 1, {m, n});
  expect_shape(op, c, 2, {m, k});
  expect_shape(op, c, 3, {k, n});
  if (tdx.present) expect_shape(op, c, 4, {m, k});
  if (tdw.present) expect_shape(op, c, 5, {k, n});
  if (tdb.present) expect_shape(op, c, 6, {n});
  check_floats(op, c);
  with_type(tdy.dtype, [&](auto t) {
    using T = decltype(t);
    if constexpr (is_float_v<T>) {
      with_act(c.ints[0], [&](auto a) {
        constexpr Act act = decltype(a)::value;
        const T* dy = tdy.as<T>();
        // Only dx and dw read dz: a bias-only gradient needs no scratch.
        const bool products = tdx.present || tdw.present;
        Scratch scratch(act != Act::Linear && products ? size_t(m * n) * sizeof(T) : 0);
        T* dz = scratch.as<T>();
        dz_and_bias<act, T>(m, n, dy, c.in(1).as<T>(), dz, tdb.present ? tdb.as<T>() : nullptr);
        const T* g = dz ? dz : dy;
        if (tdx.present) gemm<T>(m, k, n, g, n, 1, tw.as<T>(), 1, n, tdx.as<T>(), k);
        if (tdw.present) gemm<T>(k, n, m, tx.as<T>(), 1, k, g, n, 1, tdw.as<T>(), n);
      });
    }
  });
}

}  // namespace

void add_dense_rows(RowSink& sink) {
  // outputs, and whether tensors may be absent (bias; unwanted gradients)
  sink.add(KernelRow{"fused:dense", dense_kernel, 1, true});
  sink.add(KernelRow{"fused:denseGrad", dense_grad_kernel, 3, true});
}

}  // namespace kiln::cpu
