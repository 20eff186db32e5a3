// The fused normalization rows, channels last: per-channel moments over every axis but the last
// and their gradient, batch normalization with given statistics and its gradient. Each is one
// or two passes over x where the compositions take a dozen broadcasts and reductions.
//
// Per-channel sums accumulate in double, deterministically (channel_sums.h).
#include <cmath>
#include <vector>

#include "channel_sums.h"

namespace kiln::cpu {
namespace {

// acc[c] += x[r, c] over rows.
template <class T>
KILN_SIMD void add_values(const T* x, int64_t rows, int64_t C, double* acc) {
  for (int64_t r = 0; r < rows; r++) {
    const T* xr = x + r * C;
    for (int64_t c = 0; c < C; c++) acc[c] += double(xr[c]);
  }
}

// acc[c] += (x[r, c] - mean[c])² over rows.
template <class T>
KILN_SIMD void add_squares(const T* x, const T* mean, int64_t rows, int64_t C, double* acc) {
  for (int64_t r = 0; r < rows; r++) {
    const T* xr = x + r * C;
    for (int64_t c = 0; c < C; c++) {
      const double d = double(xr[c]) - double(mean[c]);
      acc[c] += d * d;
    }
  }
}

// sum[c] += dy[r, c] and centred[c] += dy[r, c] · (x[r, c] - mean[c]) over rows.
template <class T>
KILN_SIMD void add_dy_terms(const T* dy, const T* x, const T* mean, int64_t rows, int64_t C, double* sum, double* centred) {
  for (int64_t r = 0; r < rows; r++) {
    const T* dr = dy + r * C;
    const T* xr = x + r * C;
    for (int64_t c = 0; c < C; c++) {
      const double g = double(dr[c]);
      sum[c] += g;
      centred[c] += g * (double(xr[c]) - double(mean[c]));
    }
  }
}

// out[r, c] = x[r, c] · scale[c] + shift[c], in T.
template <class T>
KILN_SIMD void scale_shift(const T* x, const T* scale, const T* shift, int64_t rows, int64_t C, T* out) {
  for (int64_t r = 0; r < rows; r++) {
    const T* xr = x + r * C;
    T* o = out + r * C;
    for (int64_t c = 0; c < C; c++) o[c] = T(xr[c] * scale[c]) + shift[c];
  }
}

// out[r, c] = a[c] + b[c] · (x[r, c] - mean[c]), in T.
template <class T>
KILN_SIMD void affine_centred(const T* x, const T* mean, const T* a, const T* b, int64_t rows, int64_t C, T* out) {
  for (int64_t r = 0; r < rows; r++) {
    const T* xr = x + r * C;
    T* o = out + r * C;
    for (int64_t c = 0; c < C; c++) o[c] = a[c] + b[c] * (xr[c] - mean[c]);
  }
}

// x's [rows, C] view, every other tensor checked against C.
struct Layout {
  int64_t rows, C;
};

Layout layout_of(const char* op, const Call& c, int x_index) {
  const TensorRef& x = c.in(x_index);
  if (x.rank < 1 || x.dim(x.rank - 1) < 1) internal_error(std::string(op) + ": x needs a non-empty last axis");
  for (int i = 0; i < c.num_tensors; i++) {
    const TensorRef& t = c.in(i);
    if (!t.present) continue;
    if (t.dtype != x.dtype) internal_error(std::string(op) + ": tensors of different dtypes");
    if (t.dtype != DType::Float32 && t.dtype != DType::Float64) internal_error(std::string(op) + ": not a float dtype");
  }
  const int64_t C = x.dim(x.rank - 1);
  return {x.size / C, C};
}

void expect_size(const char* op, const Call& c, int i, int64_t size) {
  if (c.in(i).present && c.in(i).size != size) internal_error(std::string(op) + ": tensor " + std::to_string(i) + " is misshapen");
}

// tensors: x [rows, C], out [2, C].
void moments_kernel(const Call& c) {
  const char* op = "fused moments";
  expect_tensors(op, c, 2);
  const Layout l = layout_of(op, c, 0);
  expect_size(op, c, 1, 2 * l.C);
  with_type(c.in(0).dtype, [&](auto t) {
    using T = decltype(t);
    if constexpr (is_float_v<T>) {
      const T* x = c.in(0).as<T>();
      T* out = c.out().as<T>();
      std::vector<double> s(static_cast<size_t>(l.C));
      channel_sums(l.rows, l.C, 1, s.data(), [&](int64_t lo, int64_t hi, double* acc) { add_values(x + lo * l.C, hi - lo, l.C, acc); });
      for (int64_t k = 0; k < l.C; k++) out[k] = static_cast<T>(s[k] / double(l.rows));
      channel_sums(l.rows, l.C, 1, s.data(), [&](int64_t lo, int64_t hi, double* acc) { add_squares(x + lo * l.C, out, hi - lo, l.C, acc); });
      for (int64_t k = 0; k < l.C; k++) out[l.C + k] = static_cast<T>(s[k] / double(l.rows));
    }
  });
}

// tensors: dy [2, C], y [2, C], x [rows, C], dx [rows, C].
void moments_grad_kernel(const Call& c) {
  const char* op = "fused momentsGrad";
  expect_tensors(op, c, 4);
  const Layout l = layout_of(op, c, 2);
  expect_size(op, c, 0, 2 * l.C);
  expect_size(op, c, 1, 2 * l.C);
  expect_size(op, c, 3, l.rows * l.C);
  with_type(c.in(0).dtype, [&](auto t) {
    using T = decltype(t);
    if constexpr (is_float_v<T>) {
      const T* dy = c.in(0).as<T>();
      const T* y = c.in(1).as<T>();
      std::vector<T> a(static_cast<size_t>(l.C)), b(static_cast<size_t>(l.C));
      for (int64_t k = 0; k < l.C; k++) {
        a[k] = static_cast<T>(double(dy[k]) / double(l.rows));
        b[k] = static_cast<T>(2 * double(dy[l.C + k]) / double(l.rows));
      }
      const T* x = c.in(2).as<T>();
      T* dx = c.out().as<T>();
      parallel_elements(l.rows, l.C, [&](int64_t lo, int64_t hi) {
        affine_centred(x + lo * l.C, y, a.data(), b.data(), hi - lo, l.C, dx + lo * l.C);
      });
    }
  });
}

// tensors: x [rows, C], mean, variance, gamma?, beta? [C], out [rows, C]; floats: [epsilon].
void batch_norm_kernel(const Call& c) {
  const char* op = "fused batchNorm";
  expect_tensors(op, c, 6);
  const Layout l = layout_of(op, c, 0);
  for (int i = 1; i < 5; i++) expect_size(op, c, i, l.C);
  expect_size(op, c, 5, l.rows * l.C);
  const double epsilon = c.float_attr(0);
  with_type(c.in(0).dtype, [&](auto t) {
    using T = decltype(t);
    if constexpr (is_float_v<T>) {
      const T* mean = c.in(1).as<T>();
      const T* variance = c.in(2).as<T>();
      const T* gamma = c.in(3).present ? c.in(3).as<T>() : nullptr;
      const T* beta = c.in(4).present ? c.in(4).as<T>() : nullptr;
      // the composition's rounding: each step stored in T
      std::vector<T> inv(static_cast<size_t>(l.C)), shift(static_cast<size_t>(l.C));
      for (int64_t k = 0; k < l.C; k++) {
        const T v = static_cast<T>(double(variance[k]) + epsilon);
        T s = static_cast<T>(1 / std::sqrt(double(v)));
        if (gamma) s = static_cast<T>(s * gamma[k]);
        inv[k] = s;
        const T m = static_cast<T>(-mean[k] * s);
        shift[k] = beta ? static_cast<T>(m + beta[k]) : m;
      }
      const T* x = c.in(0).as<T>();
      T* out = c.out().as<T>();
      parallel_elements(l.rows, l.C, [&](int64_t lo, int64_t hi) {
        scale_shift(x + lo * l.C, inv.data(), shift.data(), hi - lo, l.C, out + lo * l.C);
      });
    }
  });
}

// tensors: dy, x [rows, C], mean, variance, gamma? [C], then the outputs dx? [rows, C],
// dMean?, dVariance?, dGamma?, dBeta? [C]; floats: [epsilon].
void batch_norm_grad_kernel(const Call& c) {
  const char* op = "fused batchNormGrad";
  expect_tensors(op, c, 10);
  const Layout l = layout_of(op, c, 1);
  expect_size(op, c, 0, l.rows * l.C);
  expect_size(op, c, 5, l.rows * l.C);
  for (int i : {2, 3, 4, 6, 7, 8, 9}) expect_size(op, c, i, l.C);
  if (!c.in(2).present || !c.in(3).present) internal_error(std::string(op) + ": no statistics");
  const double epsilon = c.float_attr(0);
  with_type(c.in(0).dtype, [&](auto t) {
    using T = decltype(t);
    if constexpr (is_float_v<T>) {
      const T* dy = c.in(0).as<T>();
      const T* x = c.in(1).as<T>();
      const T* mean = c.in(2).as<T>();
      const T* variance = c.in(3).as<T>();
      const T* gamma = c.in(4).present ? c.in(4).as<T>() : nullptr;
      T* outs[5];
      for (int i = 0; i < 5; i++) outs[i] = c.in(5 + i).present ? c.in(5 + i).as<T>() : nullptr;
      std::vector<double> r(static_cast<size_t>(l.C));
      for (int64_t k = 0; k < l.C; k++) r[k] = 1 / std::sqrt(double(variance[k]) + epsilon);
      const auto g = [&](int64_t k) { return gamma ? double(gamma[k]) : 1.0; };
      if (outs[1] || outs[2] || outs[3] || outs[4]) {
        std::vector<double> sums(static_cast<size_t>(2 * l.C));
        channel_sums(l.rows, l.C, 2, sums.data(), [&](int64_t lo, int64_t hi, double* acc) {
          add_dy_terms(dy + lo * l.C, x + lo * l.C, mean, hi - lo, l.C, acc, acc + l.C);
        });
        for (int64_t k = 0; k < l.C; k++) {
          const double sum = sums[k], centred = sums[l.C + k];
          if (outs[1]) outs[1][k] = static_cast<T>(-sum * r[k] * g(k));
          if (outs[2]) outs[2][k] = static_cast<T>(-0.5 * centred * g(k) * r[k] * r[k] * r[k]);
          if (outs[3]) outs[3][k] = static_cast<T>(centred * r[k]);
          if (outs[4]) outs[4][k] = static_cast<T>(sum);
        }
      }
      if (T* dx = outs[0]) {
        std::vector<T> inv(static_cast<size_t>(l.C)), zero(static_cast<size_t>(l.C), T(0));
        for (int64_t k = 0; k < l.C; k++) inv[k] = static_cast<T>(r[k] * g(k));
        parallel_elements(l.rows, l.C, [&](int64_t lo, int64_t hi) {
          scale_shift(dy + lo * l.C, inv.data(), zero.data(), hi - lo, l.C, dx + lo * l.C);
        });
      }
    }
  });
}

}  // namespace

void add_normalization_rows(RowSink& sink) {
  // outputs, and whether tensors may be absent (gamma, beta; unwanted gradients)
  sink.add(KernelRow{"fused:moments", moments_kernel, 1, false});
  sink.add(KernelRow{"fused:momentsGrad", moments_grad_kernel, 1, false});
  sink.add(KernelRow{"fused:batchNorm", batch_norm_kernel, 1, true});
  sink.add(KernelRow{"fused:batchNormGrad", batch_norm_grad_kernel, 5, true});
}

}  // namespace kiln::cpu
