// The fused layer normalization rows: normalization over the last axis of x [rows, C] and its
// gradient, one thread's pass per row where the composition takes a dozen broadcasts and
// reductions (src/fused/normalization.ts).
//
// The forward follows the composition's rounding (every step stored in T, sums in double); the
// backward computes in double. Row functions keep one simple body per loop and __restrict
// pointers so that each loop vectorizes (checked with -fopt-info-vec, as recurrent.cc's are).
// dGamma and dBeta are per-channel sums over rows, accumulated deterministically (channel_sums.h).
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "channel_sums.h"

namespace kiln::cpu {
namespace {

// Elementwise work per element of a row pass, for parallel_elements: three or four loops over it.
constexpr int64_t kRowCost = 4;

// The double sums below run in explicit vectors of four lanes, two accumulators each: GCC
// vectorizes no double reduction by itself (it may not reassociate), and its partial
// vectorization of an eight-lane array from floats left most of the work scalar.
typedef double D4 __attribute__((vector_size(32)));
// The helpers taking and returning D4 are inlined into each clone, so no D4 crosses a call and
// GCC's note on the AVX calling convention does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

// x[i, i + 4) as doubles.
template <class T>
inline D4 load4(const T* x) {
  typedef T V __attribute__((vector_size(4 * sizeof(T))));
  V v;
  std::memcpy(&v, x, sizeof v);
  return __builtin_convertvector(v, D4);
}

// (x[i, i + 4) - m)², the difference and its square rounded to T, as doubles.
template <class T>
inline D4 centred_square4(const T* x, T m) {
  typedef T V __attribute__((vector_size(4 * sizeof(T))));
  V v;
  std::memcpy(&v, x, sizeof v);
  const V d = v - m;
  return __builtin_convertvector(d * d, D4);
}

inline D4 load_d4(const double* p) {
  D4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline void store_d4(double* p, const D4& v) { std::memcpy(p, &v, sizeof v); }

inline double total(const D4& a, const D4& b) {
  const D4 v = a + b;
  return (v[0] + v[1]) + (v[2] + v[3]);
}

// Σ x, in double.
template <class T>
KILN_SIMD double row_total(const T* __restrict x, int64_t n) {
  D4 a = {0, 0, 0, 0}, b = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    a += load4(x + i);
    b += load4(x + i + 4);
  }
  double s = total(a, b);
  for (; i < n; i++) s += double(x[i]);
  return s;
}

// Σ (x - m)², x - m and its square each rounded to T, as the composition's variance.
template <class T>
KILN_SIMD double row_squares(const T* __restrict x, T m, int64_t n) {
  D4 a = {0, 0, 0, 0}, b = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    a += centred_square4(x + i, m);
    b += centred_square4(x + i + 4, m);
  }
  double s = total(a, b);
  for (; i < n; i++) {
    const T d = T(x[i] - m);
    s += double(T(d * d));
  }
  return s;
}

// A row's mean and variance, each step rounded to T.
template <class T>
void row_moments(const T* x, int64_t C, T* mean, T* variance) {
  const T n = T(C);
  const T m = T(T(row_total(x, C)) / n);
  *mean = m;
  *variance = T(T(row_squares(x, m, C)) / n);
}

// out = x · inv + shift with inv = r · gamma and shift = -m · inv + beta, each step in T.
template <class T>
KILN_SIMD void normalize_row(const T* __restrict x, T r, T m, const T* __restrict gamma, const T* __restrict beta, int64_t C, T* __restrict out) {
  for (int64_t c = 0; c < C; c++) {
    const T inv = T(r * gamma[c]);
    const T shift = T(T(-m * inv) + beta[c]);
    out[c] = T(T(x[c] * inv) + shift);
  }
}

// Σ g and Σ g · x̂ over a row, g = dy · gamma and x̂ = (x - m) · r, in double into sums[0, 2);
// with `affine`, in the same pass dGamma += dy · x̂ and dBeta += dy.
template <class T, bool affine>
KILN_SIMD void row_grad_sums(
    const T* __restrict dy, const T* __restrict x, const T* __restrict gamma, double m, double r, int64_t C, double* sums,
    double* __restrict dgamma, double* __restrict dbeta) {
  D4 ag = {0, 0, 0, 0}, agx = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= C; i += 4) {
    const D4 d = load4(dy + i);
    const D4 xh = (load4(x + i) - m) * r;
    const D4 g = d * load4(gamma + i);
    ag += g;
    agx += g * xh;
    if constexpr (affine) {
      store_d4(dgamma + i, load_d4(dgamma + i) + d * xh);
      store_d4(dbeta + i, load_d4(dbeta + i) + d);
    }
  }
  const D4 zero = {0, 0, 0, 0};
  double sg = total(ag, zero), sgx = total(agx, zero);
  for (; i < C; i++) {
    const double d = double(dy[i]);
    const double xh = (double(x[i]) - m) * r;
    const double g = d * double(gamma[i]);
    sg += g;
    sgx += g * xh;
    if constexpr (affine) {
      dgamma[i] += d * xh;
      dbeta[i] += d;
    }
  }
  sums[0] = sg;
  sums[1] = sgx;
}

// dx = r · (g - mean(g) - x̂ · mean(g · x̂)), in double.
template <class T>
KILN_SIMD void dx_row(
    const T* __restrict dy, const T* __restrict x, const T* __restrict gamma, double m, double r, double mean_g, double mean_gx,
    int64_t C, T* __restrict dx) {
  for (int64_t c = 0; c < C; c++) {
    const double g = double(dy[c]) * double(gamma[c]);
    dx[c] = T(r * (g - mean_g - ((double(x[c]) - m) * r) * mean_gx));
  }
}

// dGamma += dy · x̂ and dBeta += dy over a row.
template <class T>
KILN_SIMD void affine_row(const T* __restrict dy, const T* __restrict x, double m, double r, int64_t C, double* __restrict dgamma, double* __restrict dbeta) {
  for (int64_t c = 0; c < C; c++) {
    const double d = double(dy[c]);
    dgamma[c] += d * ((double(x[c]) - m) * r);
    dbeta[c] += d;
  }
}

// x's [rows, C] view, every tensor of x's float dtype and of `sizes[i]` elements (absent ones skipped).
void check_tensors(const char* op, const Call& c, int x_index, int64_t* rows, int64_t* C, std::initializer_list<char> sizes) {
  const TensorRef& x = c.in(x_index);
  if (x.rank < 1 || x.dim(x.rank - 1) < 1) internal_error(std::string(op) + ": x needs a non-empty last axis");
  *C = x.dim(x.rank - 1);
  *rows = x.size / *C;
  int i = 0;
  for (char kind : sizes) {
    const TensorRef& t = c.in(i);
    if (t.present) {
      if (t.dtype != x.dtype) internal_error(std::string(op) + ": tensors of different dtypes");
      if (t.dtype != DType::Float32 && t.dtype != DType::Float64) internal_error(std::string(op) + ": not a float dtype");
      if (t.size != (kind == 'x' ? x.size : *C)) internal_error(std::string(op) + ": tensor " + std::to_string(i) + " is misshapen");
    }
    i++;
  }
}

// gamma, or ones where there is none.
template <class T>
const T* or_ones(const TensorRef& t, std::vector<T>& ones, int64_t C) {
  if (t.present) return t.as<T>();
  ones.assign(static_cast<size_t>(C), T(1));
  return ones.data();
}

// tensors: x [rows, C], gamma?, beta? [C], out [rows, C]; floats: [epsilon].
void layer_norm_kernel(const Call& c) {
  const char* op = "fused layerNorm";
  expect_tensors(op, c, 4);
  int64_t rows, C;
  check_tensors(op, c, 0, &rows, &C, {'x', 'c', 'c', 'x'});
  const double epsilon = c.float_attr(0);
  with_type(c.in(0).dtype, [&](auto t) {
    using T = decltype(t);
    if constexpr (is_float_v<T>) {
      std::vector<T> ones, zeros(static_cast<size_t>(C), T(0));
      const T* gamma = or_ones(c.in(1), ones, C);
      const T* beta = c.in(2).present ? c.in(2).as<T>() : zeros.data();
      const T eps = static_cast<T>(epsilon);
      const T* x = c.in(0).as<T>();
      T* out = c.out().as<T>();
      parallel_elements(rows, C * kRowCost, [&](int64_t lo, int64_t hi) {
        for (int64_t r = lo; r < hi; r++) {
          T m, v;
          row_moments(x + r * C, C, &m, &v);
          // rsqrt as the composition's 1 / sqrt, each rounded to T
          const T inv = T(T(1) / T(std::sqrt(double(T(v + eps)))));
          normalize_row(x + r * C, inv, m, gamma, beta, C, out + r * C);
        }
      });
    }
  });
}

// tensors: dy, x [rows, C], gamma? [C], then the outputs dx? [rows, C], dGamma?, dBeta? [C];
// floats: [epsilon].
void layer_norm_grad_kernel(const Call& c) {
  const char* op = "fused layerNormGrad";
  expect_tensors(op, c, 6);
  int64_t rows, C;
  check_tensors(op, c, 1, &rows, &C, {'x', 'x', 'c', 'x', 'c', 'c'});
  const double epsilon = c.float_attr(0);
  with_type(c.in(0).dtype, [&](auto t) {
    using T = decltype(t);
    if constexpr (is_float_v<T>) {
      std::vector<T> ones;
      const T* dy = c.in(0).as<T>();
      const T* x = c.in(1).as<T>();
      const T* gamma = or_ones(c.in(2), ones, C);
      T* dx = c.in(3).present ? c.in(3).as<T>() : nullptr;
      T* dgamma = c.in(4).present ? c.in(4).as<T>() : nullptr;
      T* dbeta = c.in(5).present ? c.in(5).as<T>() : nullptr;
      const double eps = double(static_cast<T>(epsilon));
      const bool affine = dgamma || dbeta;
      std::vector<double> sums(static_cast<size_t>(2 * C));
      channel_sums(rows, C, affine ? 2 : 0, sums.data(), [&](int64_t lo, int64_t hi, double* acc) {
        for (int64_t r = lo; r < hi; r++) {
          const T* dyr = dy + r * C;
          const T* xr = x + r * C;
          T m, v;
          row_moments(xr, C, &m, &v);
          const double rstd = 1 / std::sqrt(double(v) + eps);
          double s[2];
          if (dx && affine) row_grad_sums<T, true>(dyr, xr, gamma, double(m), rstd, C, s, acc, acc + C);
          else if (dx) row_grad_sums<T, false>(dyr, xr, gamma, double(m), rstd, C, s, nullptr, nullptr);
          else affine_row(dyr, xr, double(m), rstd, C, acc, acc + C);
          if (dx) dx_row(dyr, xr, gamma, double(m), rstd, s[0] / double(C), s[1] / double(C), C, dx + r * C);
        }
      });
      for (int64_t k = 0; k < C; k++) {
        if (dgamma) dgamma[k] = static_cast<T>(sums[k]);
        if (dbeta) dbeta[k] = static_cast<T>(sums[C + k]);
      }
    }
  });
}

}  // namespace

void add_layer_norm_rows(RowSink& sink) {
  // outputs, and whether tensors may be absent (gamma, beta; unwanted gradients)
  sink.add(KernelRow{"fused:layerNorm", layer_norm_kernel, 1, true});
  sink.add(KernelRow{"fused:layerNormGrad", layer_norm_grad_kernel, 3, true});
}

}  // namespace kiln::cpu
