// The reduce family: sum, prod, max, min over any set of axes, argmax/argmin, cumsum. Like the
// reference, float32 sums and products accumulate in double (a JS number there), integer ones
// wrap modulo 2^32, and max/min let NaN win.
#include <algorithm>
#include <limits>
#include <vector>

#include "ew.h"

namespace kiln::cpu {
namespace {

enum class R { Sum, Prod, Max, Min };

template <R op, class T>
struct Fold {
  static constexpr bool additive = op == R::Sum || op == R::Prod;
  // The accumulator: double for float sums and products, uint32 for integer ones (unsigned, so
  // wrapping is defined), the element type for max and min.
  using A = typename std::conditional<additive, typename std::conditional<is_float_v<T>, double, uint32_t>::type, T>::type;

  static A init() {
    if constexpr (op == R::Sum) return A(0);
    else if constexpr (op == R::Prod) return A(1);
    else if constexpr (op == R::Max) return is_float_v<T> ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::lowest();
    else return is_float_v<T> ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::max();
  }
  // Folds in an element or another partial result. NaN is tracked apart (see finish), so the
  // max/min comparisons stay plain vector max/min.
  template <class V>
  static A combine(A acc, V v) {
    if constexpr (op == R::Sum) return acc + A(v);
    else if constexpr (op == R::Prod) return acc * A(v);
    else if constexpr (op == R::Max) return v > acc ? A(v) : acc;
    else return v < acc ? A(v) : acc;
  }
  static T finish(A acc, bool nan) {
    if constexpr (!additive && is_float_v<T>) {
      if (nan) return std::numeric_limits<T>::quiet_NaN();
    }
    return static_cast<T>(acc);
  }
};

template <class T>
inline bool is_nan(T v) {
  if constexpr (is_float_v<T>) return v != v;
  else return false;
}

// Folds a contiguous run into (acc, nan). Eight independent lanes let the compiler vectorize
// without reordering any one lane's additions.
template <R op, class T>
KILN_SIMD void fold_run(const T* x, int64_t n, typename Fold<op, T>::A* acc, bool* nan) {
  using F = Fold<op, T>;
  using A = typename F::A;
  A lanes[8];
  int flags[8] = {0};
  for (int j = 0; j < 8; j++) lanes[j] = F::init();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; j++) {
      lanes[j] = F::combine(lanes[j], x[i + j]);
      flags[j] |= is_nan(x[i + j]);
    }
  }
  for (; i < n; i++) {
    lanes[0] = F::combine(lanes[0], x[i]);
    flags[0] |= is_nan(x[i]);
  }
  for (int j = 0; j < 8; j++) {
    *acc = F::combine(*acc, lanes[j]);
    *nan = *nan || flags[j];
  }
}

// Folds a contiguous row into per-column accumulators.
template <R op, class T>
KILN_SIMD void fold_cols(const T* x, int64_t n, typename Fold<op, T>::A* acc, uint8_t* nan) {
  for (int64_t j = 0; j < n; j++) {
    acc[j] = Fold<op, T>::combine(acc[j], x[j]);
    nan[j] |= is_nan(x[j]);
  }
}

// A set of x's dims walked in row-major order, yielding offsets into x.
struct Dims {
  int n = 0;
  int64_t size[kMaxRank];
  int64_t stride[kMaxRank];
  int64_t count() const {
    int64_t c = 1;
    for (int d = 0; d < n; d++) c *= size[d];
    return c;
  }
  void push(int64_t s, int64_t st) {
    size[n] = s;
    stride[n++] = st;
  }
};

template <class F>
void each_offset(const Dims& d, int64_t lo, int64_t hi, F&& f) {
  int64_t idx[kMaxRank] = {0};
  int64_t off = 0;
  int64_t rem = lo;
  for (int k = d.n - 1; k >= 0; k--) {
    idx[k] = rem % d.size[k];
    rem /= d.size[k];
    off += idx[k] * d.stride[k];
  }
  for (int64_t i = lo; i < hi; i++) {
    f(off);
    for (int k = d.n - 1; k >= 0; k--) {
      off += d.stride[k];
      if (++idx[k] < d.size[k]) break;
      off -= d.stride[k] * d.size[k];
      idx[k] = 0;
    }
  }
}

constexpr int64_t kColumnBlock = 1024;

template <R op, class T>
void reduce_run(const TensorRef& x, const TensorRef& out, const int32_t* axes, int num_axes) {
  using F = Fold<op, T>;
  using A = typename F::A;
  const T* px = x.as<T>();
  T* po = out.as<T>();
  if (x.size == 0) {
    for (int64_t i = 0; i < out.size; i++) po[i] = F::finish(F::init(), false);
    return;
  }
  // x's dims, size-1 ones dropped and neighbours of one kind (kept or reduced) merged: in row
  // major order the outer one's stride is the inner one's times its size.
  int64_t size[kMaxRank], stride[kMaxRank];
  bool reduced[kMaxRank];
  int rank = 0;
  int64_t s = 1;
  for (int d = x.rank - 1; d >= 0; d--) {
    int64_t n = x.dim(d);
    bool r = false;
    for (int a = 0; a < num_axes; a++) r = r || axes[a] == d;
    if (n != 1) {
      if (rank > 0 && reduced[rank - 1] == r) {
        size[rank - 1] *= n;
      } else {
        size[rank] = n;
        stride[rank] = s;
        reduced[rank++] = r;
      }
    }
    s *= n;
  }
  // Now innermost first. Split into the kept and the reduced walks, outermost first.
  Dims kept, red;
  for (int k = rank - 1; k >= 0; k--) (reduced[k] ? red : kept).push(size[k], stride[k]);
  if (red.n == 0) {
    std::memcpy(po, px, out.size * sizeof(T));
    return;
  }
  if (reduced[0]) {
    // The innermost dim is reduced: each output folds whole contiguous runs.
    const int64_t len = red.size[red.n - 1];
    red.n--;
    const int64_t runs = red.count();
    if (out.size == 1 && runs == 1) {
      // One long run (a full reduction): partial results per thread, combined in order.
      const int chunks = ThreadPool::instance().threads();
      std::vector<A> part(chunks, F::init());
      std::vector<uint8_t> nans(chunks, 0);
      parallel_elements(chunks, len / chunks, [&](int64_t lo, int64_t hi) {
        for (int64_t c = lo; c < hi; c++) {
          bool nan = false;
          fold_run<op, T>(px + len * c / chunks, len * (c + 1) / chunks - len * c / chunks, &part[c], &nan);
          nans[c] = nan;
        }
      });
      A acc = F::init();
      bool nan = false;
      for (int c = 0; c < chunks; c++) {
        acc = F::combine(acc, part[c]);
        nan = nan || nans[c];
      }
      po[0] = F::finish(acc, nan);
      return;
    }
    parallel_elements(out.size, runs * len, [&](int64_t lo, int64_t hi) {
      int64_t o = lo;
      each_offset(kept, lo, hi, [&](int64_t base) {
        A acc = F::init();
        bool nan = false;
        each_offset(red, 0, runs, [&](int64_t off) { fold_run<op, T>(px + base + off, len, &acc, &nan); });
        po[o++] = F::finish(acc, nan);
      });
    });
    return;
  }
  // The innermost dim is kept: each output row accumulates whole rows of x, column by column,
  // in blocks small enough for the accumulators to stay in L1.
  const int64_t len = kept.size[kept.n - 1];
  kept.n--;
  const int64_t rows = kept.count();
  const int64_t blocks = (len + kColumnBlock - 1) / kColumnBlock;
  const int64_t per_output = red.count();
  parallel_elements(rows * blocks, per_output * (len < kColumnBlock ? len : kColumnBlock), [&](int64_t lo, int64_t hi) {
    A acc[kColumnBlock];
    uint8_t nan[kColumnBlock];
    for (int64_t t = lo; t < hi; t++) {
      const int64_t r = t / blocks;
      const int64_t j0 = (t % blocks) * kColumnBlock;
      const int64_t n = len - j0 < kColumnBlock ? len - j0 : kColumnBlock;
      int64_t base = 0;
      each_offset(kept, r, r + 1, [&](int64_t off) { base = off; });
      for (int64_t j = 0; j < n; j++) {
        acc[j] = F::init();
        nan[j] = 0;
      }
      each_offset(red, 0, per_output, [&](int64_t off) { fold_cols<op, T>(px + base + off + j0, n, acc, nan); });
      for (int64_t j = 0; j < n; j++) po[r * len + j0 + j] = F::finish(acc[j], nan[j]);
    }
  });
}

template <R op>
void reduce_kernel(const Call& c) {
  with_type(c.in(0).dtype, [&](auto t) { reduce_run<op, decltype(t)>(c.in(0), c.out(), c.ints, c.num_ints); });
}

// Index of the first extreme along the axis; NaN counts as the extreme, and the first one wins.
template <bool is_max, class T>
void arg_run(const TensorRef& x, const TensorRef& out, int axis) {
  int64_t outer, n, inner;
  around_axis(x, axis, &outer, &n, &inner);
  const T* px = x.as<T>();
  int32_t* po = out.as<int32_t>();
  parallel_elements(outer * inner, n, [&](int64_t lo, int64_t hi) {
    for (int64_t q = lo; q < hi; q++) {
      const T* p = px + (q / inner) * n * inner + q % inner;
      T best = p[0];
      int32_t index = 0;
      if (!is_nan(best)) {
        for (int64_t k = 1; k < n; k++) {
          T v = p[k * inner];
          if (is_nan(v)) {
            index = static_cast<int32_t>(k);
            break;
          }
          if (is_max ? v > best : v < best) {
            best = v;
            index = static_cast<int32_t>(k);
          }
        }
      }
      po[q] = index;
    }
  });
}

template <bool is_max>
void arg_kernel(const Call& c) {
  if (c.out().dtype != DType::Int32) internal_error("argReduce: output must be int32");
  with_type(c.in(0).dtype, [&](auto t) { arg_run<is_max, decltype(t)>(c.in(0), c.out(), c.ints[0]); });
}

template <class T>
void cumsum_run(const TensorRef& x, const TensorRef& out, int axis, bool exclusive, bool reverse) {
  using A = typename std::conditional<is_float_v<T>, double, uint32_t>::type;
  int64_t outer, n, inner;
  around_axis(x, axis, &outer, &n, &inner);
  const T* px = x.as<T>();
  T* po = out.as<T>();
  parallel_elements(outer, n * inner, [&](int64_t lo, int64_t hi) {
    std::vector<A> acc(inner);
    for (int64_t o = lo; o < hi; o++) {
      std::fill(acc.begin(), acc.end(), A(0));
      for (int64_t t = 0; t < n; t++) {
        const int64_t row = (o * n + (reverse ? n - 1 - t : t)) * inner;
        for (int64_t j = 0; j < inner; j++) {
          A before = acc[j];
          acc[j] = before + A(px[row + j]);
          po[row + j] = static_cast<T>(exclusive ? before : acc[j]);
        }
      }
    }
  });
}

void cumsum_kernel(const Call& c) {
  with_type(c.in(0).dtype, [&](auto t) { cumsum_run<decltype(t)>(c.in(0), c.out(), c.ints[0], c.ints[1] != 0, c.ints[2] != 0); });
}

}  // namespace

void add_reduce_rows(RowSink& sink) {
  sink.add("reduce:sum", reduce_kernel<R::Sum>);
  sink.add("reduce:prod", reduce_kernel<R::Prod>);
  sink.add("reduce:max", reduce_kernel<R::Max>);
  sink.add("reduce:min", reduce_kernel<R::Min>);
  sink.add("argReduce:argmax", arg_kernel<true>);
  sink.add("argReduce:argmin", arg_kernel<false>);
  sink.add("cumsum", cumsum_kernel);
}

}  // namespace kiln::cpu
