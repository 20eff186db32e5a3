// Channels-last convolution: the geometry a call's ints encode, checked once, and the implicit
// im2col matrices whose panels the GEMM packs straight from the input (never stored whole).
#pragma once

#include <algorithm>
#include <cstdint>

#include "ew.h"
#include "gemm.h"

namespace kiln::cpu {

constexpr int kMaxSpatial = kMaxRank - 2;

// Along each of d spatial axes, output position o reads input position
// o·stride + k·dilation - pad for each kernel position k < size; outside [0, in) it reads 0.
// Also describes pooling windows (dilation 1).
struct Window {
  int d = 0;
  int64_t in[kMaxSpatial];
  int64_t out[kMaxSpatial];
  int64_t size[kMaxSpatial];
  int64_t stride[kMaxSpatial];
  int64_t dilation[kMaxSpatial];
  int64_t pad[kMaxSpatial];

  int64_t in_positions() const { return product(in); }
  int64_t out_positions() const { return product(out); }
  int64_t taps() const { return product(size); }
  int64_t product(const int64_t* v) const {
    int64_t p = 1;
    for (int a = 0; a < d; a++) p *= v[a];
    return p;
  }
  // The input coordinate on axis a of output coordinate o and kernel coordinate k.
  int64_t at(int a, int64_t o, int64_t k) const { return o * stride[a] + k * dilation[a] - pad[a]; }
  bool inside(int a, int64_t i) const { return i >= 0 && i < in[a]; }
};

// Row-major coordinates of index q over dims[0..d) into c.
inline void unravel(int d, const int64_t* dims, int64_t q, int64_t* c) {
  for (int a = d - 1; a >= 0; a--) {
    c[a] = q % dims[a];
    q /= dims[a];
  }
}

// Steps row-major coordinates c over dims[0..d) to the next index.
inline void advance(int d, const int64_t* dims, int64_t* c) {
  for (int a = d - 1; a >= 0; a--) {
    if (++c[a] < dims[a]) return;
    c[a] = 0;
  }
}

// Where each tap reads relative to the first tap, in input positions (row-major over win.in),
// for an output position whose window lies inside the input: taps() entries.
inline void tap_offsets(const Window& w, int64_t* offsets) {
  int64_t k[kMaxSpatial] = {0};
  for (int64_t tap = 0; tap < w.taps(); tap++, advance(w.d, w.size, k)) {
    int64_t at = 0;
    for (int a = 0; a < w.d; a++) at = at * w.in[a] + k[a] * w.dilation[a];
    offsets[tap] = at;
  }
}

// Whether every tap of output position o reads inside the input (no padding), and then where
// the first one reads: the fast path of loops over taps, which elsewhere check each tap.
inline bool window_inside(const Window& w, const int64_t* o, int64_t* first) {
  int64_t at = 0;
  for (int a = 0; a < w.d; a++) {
    const int64_t lo = w.at(a, o[a], 0);
    if (lo < 0 || w.at(a, o[a], w.size[a] - 1) >= w.in[a]) return false;
    at = at * w.in[a] + lo;
  }
  *first = at;
  return true;
}

// Calls f(tap, index) for every tap of output position o that reads inside the input, index
// being the input position it reads (row-major over win.in); `offsets` from tap_offsets.
template <class F>
void for_taps(const Window& w, const int64_t* offsets, const int64_t* o, F&& f) {
  const int64_t taps = w.taps();
  int64_t first = 0;
  if (window_inside(w, o, &first)) {
    for (int64_t tap = 0; tap < taps; tap++) f(tap, first + offsets[tap]);
    return;
  }
  int64_t k[kMaxSpatial] = {0};
  for (int64_t tap = 0; tap < taps; tap++, advance(w.d, w.size, k)) {
    int64_t index = 0;
    bool inside = true;
    for (int a = 0; a < w.d && inside; a++) {
      const int64_t at = w.at(a, o[a], k[a]);
      inside = w.inside(a, at);
      index = index * w.in[a] + at;
    }
    if (inside) f(tap, index);
  }
}

struct ConvGeometry {
  Window win;
  int64_t batch, channels, filters, groups;
  int64_t group_channels() const { return channels / groups; }
  int64_t group_filters() const { return filters / groups; }
  // One input channel per group, several groups: a GEMM per group would be a product of depth
  // taps and width multiplier, so it has its own loop (depthwise.cc). A single group reading one
  // channel (a network's first layer on grey images) is one GEMM like any other.
  bool depthwise() const { return groups > 1 && channels == groups; }
  int32_t activation;
};

// Decodes and checks ints [d, strides(d), dilations(d), padsBefore(d), groups, activation]
// against x [N, ...S, C], w [...K, C / groups, F] and y [N, ...O, F] (conv's output, or
// convGrad's dy): a call that breaks the contract raises an Error naming `op`, never reads
// outside a buffer.
ConvGeometry conv_geometry(const char* op, const Call& c, const TensorRef& x, const TensorRef& w, const TensorRef& y);

// Pooling's window from ints [d, window(d), strides(d), padsBefore(d)] for x [N, ...S, C] and
// y [N, ...O, C], checked likewise, every window holding at least one input position.
Window pool_window(const char* op, const Call& c, const TensorRef& x, const TensorRef& y);

// The im2col matrix of x [N, ...win.in, channels]: row n·O + o for each sample and output
// position, column tap·group + c for each kernel position and channel c of the group that
// starts at x (x points at its first channel). A product over rows [first, ...) of it sees
// row `first` as its row 0.
template <class T>
struct Im2col {
  const T* x;
  int64_t channels;
  int64_t group;
  Window win;
  int64_t first = 0;
};

// A product over many rows runs as row blocks on the pool's threads, each block's product on one
// thread: no barrier inside a product, and a thread that falls behind (another process has its
// core) leaves its remaining blocks to the others. Fewer rows make one block, on the caller,
// whose GEMM then threads by itself.
constexpr int64_t kBlockRows = 512;

// How many blocks: 4 per thread, unless `limit` (what each block's own copy of the result
// allows) says fewer than the threads.
inline int64_t row_blocks(int64_t rows, int64_t limit = INT64_MAX) {
  const int64_t threads = ThreadPool::instance().threads();
  const int64_t most = std::min(4 * threads, limit);
  return threads == 1 || most < threads || ThreadPool::in_task() || rows < most * kBlockRows ? 1 : most;
}

// body(b, lo, hi) for each of the row_blocks(rows, limit) blocks [lo, hi) of [0, rows).
template <class F>
void for_row_blocks(int64_t rows, int64_t limit, F&& body) {
  const int64_t blocks = row_blocks(rows, limit);
  if (blocks == 1) return body(int64_t{0}, int64_t{0}, rows);
  ThreadPool::instance().run(blocks, [&](int64_t b) { body(b, rows * b / blocks, rows * (b + 1) / blocks); });
}

// An im2col at most this deep (taps·cg columns: a first layer on 1 to 3 channels) would leave the
// GEMM's register tile mostly empty and its packing dominant: such rows are gathered one at a
// time (for_im2col_rows) and multiplied straight.
constexpr int64_t kDirectDepth = 32;

// f(r, col) for im2col rows [lo, hi) of group grp, col [taps·cg] holding row r (taps in the
// padding read 0); depth <= kDirectDepth.
template <class T, class F>
void for_im2col_rows(const ConvGeometry& g, int64_t grp, const T* x, int64_t lo, int64_t hi, F&& f) {
  const Window& w = g.win;
  const int64_t positions = w.out_positions(), in_size = w.in_positions() * g.channels;
  const int64_t cg = g.group_channels(), depth = w.taps() * cg;
  int64_t offsets[kDirectDepth];
  tap_offsets(w, offsets);
  T col[kDirectDepth];
  int64_t o[kMaxSpatial];
  int64_t n = lo / positions, q = lo % positions;
  unravel(w.d, w.out, q, o);
  for (int64_t r = lo; r < hi; r++) {
    const T* xn = x + n * in_size + grp * cg;
    for (int64_t k = 0; k < depth; k++) col[k] = T(0);
    for_taps(w, offsets, o, [&](int64_t tap, int64_t index) {
      for (int64_t c = 0; c < cg; c++) col[tap * cg + c] = xn[index * g.channels + c];
    });
    f(r, static_cast<const T*>(col));
    if (++q == positions) {
      q = 0;
      n++;
      unravel(w.d, w.out, 0, o);
    } else {
      advance(w.d, w.out, o);
    }
  }
}

// PackA::fn and PackB::fn over an Im2col (ctx): the matrix as A for the forward product and as
// B for the weight gradient.
template <class T>
void pack_im2col_a(const void* ctx, const MicroKernel<T>& uk, int64_t i, int64_t rows, int64_t p, int64_t kc, T* panel);
template <class T>
void pack_im2col_b(const void* ctx, const MicroKernel<T>& uk, int64_t p, int64_t kc, int64_t j, int64_t cols, T* panel,
                   int64_t stride);

// Whether the im2col matrix is x itself: one tap reading each position once, in place.
bool pointwise(const Window& w);

// The depthwise convolution (one input channel per group, `multiplier` filters each), its own
// loop over channels instead of a GEMM per channel: conv's forward, and the gradients from dz
// (dx zeroed then accumulated, dw; each only when not null).
template <class T>
void depthwise_conv(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* out);
template <class T>
void depthwise_conv_grad(const ConvGeometry& g, const T* dz, const T* x, const T* w, T* dx, T* dw);

// The fused:convGrad row (conv_grad.cc).
void conv_grad_kernel(const Call& c);

}  // namespace kiln::cpu
