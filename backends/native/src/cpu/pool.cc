// The fused pooling rows, channels last: max (NaN wins) or mean over each window's positions
// inside x, and their gradients. Channels are contiguous, so every loop runs over a row of them
// (vectorized); the forward pass splits output positions among threads, the backward pass
// samples and blocks of channels, whose dx rows no other task touches.
//
// Values follow the reference kernel: float32 means and gradient terms are computed in double
// and rounded once, and a max's gradient is hit·(dy / ties), so a window whose max is NaN (no
// position equals it) sends NaN to all of its positions, as kiln's max reduction does.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "conv.h"

namespace kiln::cpu {
namespace {

enum class Pool { Max, Avg };

// The positions of x that output position o's window covers: a box, [lo, hi) per axis.
struct Box {
  int64_t lo[kMaxSpatial], hi[kMaxSpatial];
  int64_t count;
};

Box box_of(const Window& w, const int64_t* o) {
  Box b;
  b.count = 1;
  for (int a = 0; a < w.d; a++) {
    const int64_t first = w.at(a, o[a], 0);
    b.lo[a] = std::max<int64_t>(first, 0);
    b.hi[a] = std::min<int64_t>(first + w.size[a], w.in[a]);
    b.count *= b.hi[a] - b.lo[a];
  }
  return b;
}

// Calls f(index) for each position of the box, index counting x's positions from sample n's first.
template <class F>
void for_box(const Window& w, int64_t n, const Box& b, F&& f) {
  int64_t c[kMaxSpatial];
  std::copy(b.lo, b.lo + w.d, c);
  for (;;) {
    int64_t index = n;
    for (int a = 0; a < w.d; a++) index = index * w.in[a] + c[a];
    f(index);
    int a = w.d - 1;
    for (; a >= 0; a--) {
      if (++c[a] < b.hi[a]) break;
      c[a] = b.lo[a];
    }
    if (a < 0) return;
  }
}

template <class T>
KILN_SIMD void max_row(T* __restrict m, const T* __restrict x, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const T v = x[i];
    m[i] = v > m[i] || v != v ? v : m[i];
  }
}

template <class T>
KILN_SIMD void sum_row(double* __restrict s, const T* __restrict x, int64_t n) {
  for (int64_t i = 0; i < n; i++) s[i] += double(x[i]);
}

template <class T>
KILN_SIMD void mean_row(T* __restrict out, const double* __restrict s, double count, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = static_cast<T>(s[i] / count);
}

template <Pool op, class T>
void pool(const Window& w, int64_t batch, int64_t channels, const T* x, T* out) {
  const int64_t positions = w.out_positions();
  parallel_elements(batch * positions, w.taps() * channels, [&](int64_t lo, int64_t hi) {
    std::vector<double> sums(op == Pool::Avg ? channels : 0);
    int64_t o[kMaxSpatial];
    unravel(w.d, w.out, lo % positions, o);
    for (int64_t q = lo; q < hi; q++, advance(w.d, w.out, o)) {
      const int64_t n = q / positions;
      const Box box = box_of(w, o);
      T* row = out + q * channels;
      if constexpr (op == Pool::Max) {
        std::fill(row, row + channels, -std::numeric_limits<T>::infinity());
        for_box(w, n, box, [&](int64_t at) { max_row(row, x + at * channels, channels); });
      } else {
        std::fill(sums.begin(), sums.end(), 0.0);
        for_box(w, n, box, [&](int64_t at) { sum_row(sums.data(), x + at * channels, channels); });
        mean_row(row, sums.data(), double(box.count), channels);
      }
    }
  });
}

// ties[i] += [x == y]
template <class T>
KILN_SIMD void count_ties(double* __restrict ties, const T* __restrict x, const T* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; i++) ties[i] += x[i] == y[i] ? 1.0 : 0.0;
}

// share[i] = dy / count[i]
template <class T>
KILN_SIMD void shares(double* __restrict share, const T* __restrict dy, const double* __restrict count, int64_t n) {
  for (int64_t i = 0; i < n; i++) share[i] = double(dy[i]) / count[i];
}

template <class T>
KILN_SIMD void add_share(T* __restrict dx, const double* __restrict share, int64_t n) {
  for (int64_t i = 0; i < n; i++) dx[i] = static_cast<T>(double(dx[i]) + share[i]);
}

template <class T>
KILN_SIMD void add_hits(T* __restrict dx, const T* __restrict x, const T* __restrict y, const double* __restrict share,
                        int64_t n) {
  for (int64_t i = 0; i < n; i++) dx[i] = static_cast<T>(double(dx[i]) + (x[i] == y[i] ? 1.0 : 0.0) * share[i]);
}

// A block of channels is at least a cache line of them, so that no two tasks write one line.
constexpr int64_t kLine = 64;

template <Pool op, class T>
void pool_grad(const Window& w, int64_t batch, int64_t channels, const T* dy, const T* x, const T* y, T* dx) {
  const int64_t positions = w.out_positions(), in_positions = w.in_positions();
  const int64_t threads = ThreadPool::instance().threads();
  const int64_t line = kLine / int64_t(sizeof(T));
  // Enough tasks for the threads: samples, each cut into blocks of channels when they are few.
  int64_t blocks = batch >= 4 * threads ? 1 : (4 * threads + batch - 1) / std::max<int64_t>(batch, 1);
  blocks = std::max<int64_t>(1, std::min(blocks, (channels + line - 1) / line));
  const int64_t width = (channels + blocks - 1) / blocks;
  auto task = [&](int64_t t) {
    const int64_t n = t / blocks, c0 = (t % blocks) * width;
    const int64_t cw = std::min(width, channels - c0);
    if (cw <= 0) return;
    T* dxn = dx + n * in_positions * channels + c0;
    for (int64_t s = 0; s < in_positions; s++) std::memset(dxn + s * channels, 0, sizeof(T) * cw);
    std::vector<double> count(cw), share(cw);
    int64_t o[kMaxSpatial] = {0};
    for (int64_t p = 0; p < positions; p++, advance(w.d, w.out, o)) {
      const int64_t q = (n * positions + p) * channels + c0;
      const Box box = box_of(w, o);
      if constexpr (op == Pool::Avg) {
        std::fill(count.begin(), count.end(), double(box.count));
        shares(share.data(), dy + q, count.data(), cw);
        for_box(w, 0, box, [&](int64_t at) { add_share(dxn + at * channels, share.data(), cw); });
      } else {
        std::fill(count.begin(), count.end(), 0.0);
        const T* xn = x + n * in_positions * channels + c0;
        for_box(w, 0, box, [&](int64_t at) { count_ties(count.data(), xn + at * channels, y + q, cw); });
        shares(share.data(), dy + q, count.data(), cw);
        for_box(w, 0, box, [&](int64_t at) { add_hits(dxn + at * channels, xn + at * channels, y + q, share.data(), cw); });
      }
    }
  };
  const double work = double(batch) * double(positions) * double(w.taps()) * double(channels);
  if (work < kParallelElements) {
    for (int64_t t = 0; t < batch * blocks; t++) task(t);
  } else {
    ThreadPool::instance().run(batch * blocks, task);
  }
}

// tensors: x [N, ...S, C], out [N, ...O, C]; ints: [d, window(d), strides(d), padsBefore(d)].
template <Pool op>
void pool_kernel(const Call& c) {
  const char* name = op == Pool::Max ? "fused pool:max" : "fused pool:avg";
  expect_tensors(name, c, 2);
  const TensorRef& x = c.in(0);
  const Window w = pool_window(name, c, x, c.out());
  if (c.out().dtype != x.dtype || (x.dtype != DType::Float32 && x.dtype != DType::Float64)) internal_error(std::string(name) + ": not one float dtype");
  with_type(x.dtype, [&](auto t) {
    using T = decltype(t);
    if constexpr (is_float_v<T>) pool<op, T>(w, x.dim(0), x.dim(w.d + 1), x.as<T>(), c.out().as<T>());
  });
}

// tensors: dy [N, ...O, C], x [N, ...S, C], y (as dy), dx (as x); ints as pool's.
template <Pool op>
void pool_grad_kernel(const Call& c) {
  const char* name = op == Pool::Max ? "fused poolGrad:max" : "fused poolGrad:avg";
  expect_tensors(name, c, 4);
  const TensorRef& dy = c.in(0);
  const TensorRef& x = c.in(1);
  const Window w = pool_window(name, c, x, dy);
  for (int i : {2, 3}) {
    const TensorRef& t = c.in(i);
    const TensorRef& as = i == 2 ? dy : x;
    bool ok = t.rank == as.rank;
    for (int a = 0; ok && a < t.rank; a++) ok = t.dim(a) == as.dim(a);
    if (!ok) internal_error(std::string(name) + ": tensor " + std::to_string(i) + " is misshapen");
  }
  for (int i = 0; i < 4; i++) {
    if (c.in(i).dtype != x.dtype || (x.dtype != DType::Float32 && x.dtype != DType::Float64)) internal_error(std::string(name) + ": not one float dtype");
  }
  with_type(x.dtype, [&](auto t) {
    using T = decltype(t);
    if constexpr (is_float_v<T>) {
      pool_grad<op, T>(w, x.dim(0), x.dim(w.d + 1), dy.as<T>(), x.as<T>(), c.in(2).as<T>(), c.out().as<T>());
    }
  });
}

}  // namespace

void add_pool_rows(RowSink& sink) {
  sink.add("fused:pool:max", pool_kernel<Pool::Max>);
  sink.add("fused:pool:avg", pool_kernel<Pool::Avg>);
  sink.add("fused:poolGrad:max", pool_grad_kernel<Pool::Max>);
  sink.add("fused:poolGrad:avg", pool_grad_kernel<Pool::Avg>);
}

}  // namespace kiln::cpu
