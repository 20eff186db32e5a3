// The fused softmax rows: softmax and log-softmax over the last axis, their gradient, and
// crossentropy with its gradient, each one pass per row (max, exp-sum, write) with a vectorized
// exp. Rows go to threads only when there are many elements, as elementwise kernels do.
//
// Values follow kiln's compositions: float32 sums accumulate in double and are rounded once;
// everything else is computed in the tensor's type, in the composition's order.
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <limits>

#include "ew.h"
#include "vmath.h"

namespace kiln::cpu {
namespace {

// A row's max, NaN ignored: a NaN element turns the whole row NaN through its exp anyway. In a
// 32-byte vector type, because GCC vectorizes no max reduction of floats unless it may assume
// away NaN and signed zeros.
template <class T>
KILN_SIMD T row_max(const T* x, int64_t n) {
  typedef T V __attribute__((vector_size(32)));
  constexpr int kWidth = sizeof(V) / sizeof(T);
  constexpr T kLow = -std::numeric_limits<T>::infinity();
  V acc;
  for (int j = 0; j < kWidth; j++) acc[j] = kLow;
  int64_t i = 0;
  for (; i + kWidth <= n; i += kWidth) {
    V v;
    std::memcpy(&v, x + i, sizeof v);
    acc = v > acc ? v : acc;
  }
  T m = kLow;
  for (int j = 0; j < kWidth; j++) m = acc[j] > m ? acc[j] : m;
  for (; i < n; i++) m = x[i] > m ? x[i] : m;
  return m;
}

// Σ a·b (or Σ a), the products in T and the sum in double.
template <class T, bool product>
inline double term(const T* a, const T* b, int64_t i) {
  if constexpr (product) return double(T(a[i] * b[i]));
  else return double(a[i]);
}

template <class T, bool product>
KILN_SIMD double row_sum(const T* a, const T* b, int64_t n) {
  double lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; j++) lanes[j] += term<T, product>(a, b, i + j);
  }
  for (; i < n; i++) lanes[0] += term<T, product>(a, b, i);
  double s = 0;
  for (int j = 0; j < 8; j++) s += lanes[j];
  return s;
}

template <class T>
double sum(const T* a, int64_t n) {
  return row_sum<T, false>(a, nullptr, n);
}

template <class T>
KILN_SIMD void exp_shifted(const T* x, T m, T* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = vexp(x[i] - m);
}

// Σ exp(x - m) without a row to write to: through a block on the stack.
template <class T>
double exp_sum(const T* x, T m, int64_t n) {
  constexpr int64_t kBlock = 256;
  alignas(64) T block[kBlock];
  double s = 0;
  for (int64_t i = 0; i < n; i += kBlock) {
    const int64_t len = n - i < kBlock ? n - i : kBlock;
    exp_shifted(x + i, m, block, len);
    s += sum(block, len);
  }
  return s;
}

template <class T>
KILN_SIMD void divide_by(T* out, T s, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = out[i] / s;
}

// log-softmax: (x - m) - log Σ exp(x - m).
template <class T>
KILN_SIMD void log_shifted(const T* x, T m, T log_sum, T* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = (x[i] - m) - log_sum;
}

template <class T>
KILN_SIMD void softmax_grad_row(const T* dy, const T* y, T s, T* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = y[i] * (dy[i] - s);
}

template <class T>
KILN_SIMD void log_softmax_grad_row(const T* dy, const T* y, T s, T* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = dy[i] - vexp(y[i]) * s;
}

// Splits rows of n elements over the threads when there are enough elements.
template <class F>
void each_row(int64_t rows, int64_t n, F&& row) {
  parallel_elements(rows, n, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; r++) row(r);
  });
}

// Checks a call whose tensor 0 is [rows, n] and the others as `shape` says (kRows: [rows],
// kMatrix: [rows, n], kLabels: int32 [rows] or [rows, n]), then calls f(T()) for its float type.
enum Shape { kRows, kMatrix, kLabels };

template <class F>
void with_float(const char* op, const Call& c, std::initializer_list<Shape> shapes, F&& f) {
  expect_tensors(op, c, 1 + static_cast<int>(shapes.size()));
  if (c.in(0).rank != 2) internal_error(std::string(op) + ": expected a matrix");
  if (c.num_ints < 1) internal_error(std::string(op) + ": no flag");
  const int64_t rows = c.in(0).dim(0), n = c.in(0).dim(1);
  const DType d = c.in(0).dtype;
  int i = 1;
  for (Shape s : shapes) {
    const bool sparse = s == kLabels && c.in(i).dtype == DType::Int32;
    if (s == kRows || sparse) expect_shape(op, c, i, {rows});
    else expect_shape(op, c, i, {rows, n});
    if (!sparse && c.in(i).dtype != d) internal_error(std::string(op) + ": tensors of different dtypes");
    i++;
  }
  if (d == DType::Float32) f(float());
  else if (d == DType::Float64) f(double());
  else internal_error(std::string(op) + ": not a float dtype");
}

// tensors: x [rows, n], out; ints: [log].
void softmax_kernel(const Call& c) {
  with_float("fused softmax", c, {kMatrix}, [&](auto t) {
    using T = decltype(t);
    const T* x = c.in(0).as<T>();
    T* out = c.out().as<T>();
    const bool log = c.ints[0] != 0;
    const int64_t n = c.in(0).dim(1);
    each_row(c.in(0).dim(0), n, [&](int64_t r) {
      const T* xr = x + r * n;
      T* o = out + r * n;
      const T m = row_max(xr, n);
      exp_shifted(xr, m, o, n);
      const T s = static_cast<T>(sum(o, n));
      if (log) log_shifted(xr, m, std::log(s), o, n);
      else divide_by(o, s, n);
    });
  });
}

// tensors: dy [rows, n], y [rows, n], out; ints: [log].
void softmax_grad_kernel(const Call& c) {
  with_float("fused softmaxGrad", c, {kMatrix, kMatrix}, [&](auto t) {
    using T = decltype(t);
    const T* dy = c.in(0).as<T>();
    const T* y = c.in(1).as<T>();
    T* out = c.out().as<T>();
    const bool log = c.ints[0] != 0;
    const int64_t n = c.in(0).dim(1);
    each_row(c.in(0).dim(0), n, [&](int64_t r) {
      const int64_t at = r * n;
      if (log) log_softmax_grad_row(dy + at, y + at, static_cast<T>(sum(dy + at, n)), out + at, n);
      else softmax_grad_row(dy + at, y + at, static_cast<T>(row_sum<T, true>(dy + at, y + at, n)), out + at, n);
    });
  });
}

// One row's labels: a class index (sparse) or a row of probabilities. An index out of range
// (core checks them, so only a bug gets here) makes the row NaN rather than a wild read.
template <class T>
struct Labels {
  const int32_t* index = nullptr;
  const T* probs = nullptr;
  int64_t n = 0;

  bool valid(int64_t r) const { return probs || (index[r] >= 0 && index[r] < n); }
  T at(int64_t r, int64_t cls) const { return probs ? probs[r * n + cls] : T(index[r] == cls ? 1 : 0); }
  T total(int64_t r) const { return probs ? static_cast<T>(sum(probs + r * n, n)) : T(1); }
};

template <class T>
Labels<T> labels_of(const TensorRef& t, int64_t n) {
  Labels<T> l;
  l.n = n;
  if (t.dtype == DType::Int32) l.index = t.as<int32_t>();
  else l.probs = t.as<T>();
  return l;
}

// Probabilities kept in [lo, hi] as kiln's clip (maximum, then minimum) keeps them: NaN stays.
template <class T>
struct Clip {
  T lo, hi;
  explicit Clip(double epsilon) : lo(static_cast<T>(epsilon)), hi(static_cast<T>(1 - epsilon)) {}
  T operator()(T q) const { return q != q ? q : q < lo ? lo : q > hi ? hi : q; }
  // Where the clip passes the gradient: maximum's and minimum's rules both pass it at a tie.
  bool passes(T q) const { return q >= lo && q <= hi; }
};

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// From logits: -Σ t_c·((x_c - m) - log Σ exp(x - m)). From probabilities rescaled to sum 1:
// -Σ t_c·log(clip(p_c / Σp)), the log taken only where it can count (t_c ≠ 0, or a NaN that
// would poison the sum).
template <class T>
T cross_entropy_row(const T* x, const Labels<T>& labels, int64_t r, bool logits, const Clip<T>& clip) {
  if (!labels.valid(r)) return T(kNaN);
  const int64_t n = labels.n;
  double s = 0;
  if (logits) {
    const T m = row_max(x, n);
    const T log_sum = std::log(static_cast<T>(exp_sum(x, m, n)));
    if (labels.index) return -((x[labels.index[r]] - m) - log_sum);
    for (int64_t cls = 0; cls < n; cls++) s += double(labels.at(r, cls) * ((x[cls] - m) - log_sum));
  } else {
    const T total = static_cast<T>(sum(x, n));
    if (labels.index) return -std::log(clip(x[labels.index[r]] / total));
    for (int64_t cls = 0; cls < n; cls++) {
      const T t = labels.at(r, cls);
      const T q = clip(x[cls] / total);
      if (t != T(0) || q != q) s += double(t * std::log(q));
    }
  }
  return static_cast<T>(-s);
}

// The exact derivative of cross_entropy_row times the row's dy. From logits:
// dy·(softmax_c·Σt - t_c). From probabilities, with q = p / S and u_c = -dy·t_c·clip'(q_c) /
// clip(q_c) the gradient at q: (u_c - Σ u·q) / S, computed in double.
template <class T>
void cross_entropy_grad_row(const T* x, const Labels<T>& labels, int64_t r, bool logits, const Clip<T>& clip, T dy,
                            T* out) {
  const int64_t n = labels.n;
  if (!labels.valid(r)) {
    for (int64_t cls = 0; cls < n; cls++) out[cls] = T(kNaN);
    return;
  }
  if (logits) {
    const T m = row_max(x, n);
    exp_shifted(x, m, out, n);
    const T s = static_cast<T>(sum(out, n));
    const T total = labels.total(r);
    for (int64_t cls = 0; cls < n; cls++) out[cls] = dy * ((out[cls] / s) * total - labels.at(r, cls));
    return;
  }
  const double total = double(static_cast<T>(sum(x, n)));
  double uq = 0;
  for (int64_t cls = 0; cls < n; cls++) {
    const double q = double(x[cls]) / total;
    const T qt = static_cast<T>(q);
    const double u = -double(dy) * double(labels.at(r, cls)) * (clip.passes(qt) ? 1.0 : 0.0) / double(clip(qt));
    out[cls] = static_cast<T>(u);
    uq += u * q;
  }
  for (int64_t cls = 0; cls < n; cls++) out[cls] = static_cast<T>((double(out[cls]) - uq) / total);
}

// tensors: pred [rows, n], labels (int32 [rows] or [rows, n]), out [rows]; ints: [fromLogits];
// floats: [epsilon].
void cross_entropy_kernel(const Call& c) {
  with_float("fused crossEntropy", c, {kLabels, kRows}, [&](auto t) {
    using T = decltype(t);
    const int64_t n = c.in(0).dim(1);
    const Labels<T> labels = labels_of<T>(c.in(1), n);
    const Clip<T> clip(c.float_attr(0));
    const T* x = c.in(0).as<T>();
    T* out = c.out().as<T>();
    const bool logits = c.ints[0] != 0;
    each_row(c.in(0).dim(0), n, [&](int64_t r) { out[r] = cross_entropy_row(x + r * n, labels, r, logits, clip); });
  });
}

// tensors: pred [rows, n], labels, dy [rows], out [rows, n]; ints: [fromLogits]; floats: [epsilon].
void cross_entropy_grad_kernel(const Call& c) {
  with_float("fused crossEntropyGrad", c, {kLabels, kRows, kMatrix}, [&](auto t) {
    using T = decltype(t);
    const int64_t n = c.in(0).dim(1);
    const Labels<T> labels = labels_of<T>(c.in(1), n);
    const Clip<T> clip(c.float_attr(0));
    const T* x = c.in(0).as<T>();
    const T* dy = c.in(2).as<T>();
    T* out = c.out().as<T>();
    const bool logits = c.ints[0] != 0;
    each_row(c.in(0).dim(0), n, [&](int64_t r) {
      cross_entropy_grad_row(x + r * n, labels, r, logits, clip, dy[r], out + r * n);
    });
  });
}

}  // namespace

void add_softmax_rows(RowSink& sink) {
  sink.add("fused:softmax", softmax_kernel);
  sink.add("fused:softmaxGrad", softmax_grad_kernel);
  sink.add("fused:crossEntropy", cross_entropy_kernel);
  sink.add("fused:crossEntropyGrad", cross_entropy_grad_kernel);
}

}  // namespace kiln::cpu
