// The movement family: transpose, slice, pad, concat, broadcastTo. Each is a copy of bits
// through the broadcast walk, which merges dims until rows are as long as the layout allows;
// contiguous rows become memcpy, and a transpose of the last two dims is copied in tiles so
// both its reads and its writes stay in cache.
#include <algorithm>

#include "ew.h"

namespace kiln::cpu {
namespace {

// Copies x (read through the walk's operand-1 strides, from `x`) into the contiguous output.
template <class E>
void strided_copy(const Walk& w, const E* x, E* out) {
  const int64_t len = w.inner();
  const int64_t sx = w.step(1);
  walk_rows(w, [&](const int64_t* off) {
    E* o = out + off[0];
    const E* p = x + off[1];
    if (sx == 1) std::memcpy(o, p, len * sizeof(E));
    else if (sx == 0) std::fill(o, o + len, *p);
    else for (int64_t j = 0; j < len; j++) o[j] = p[j * sx];
  });
}

constexpr int64_t kTile = 32;

// out[i, j] = x[i * si + j * sj] over the walk's last two dims, tile by tile, for every position
// of the dims before them.
template <class E>
void tiled_copy(const Walk& w, const E* x, E* out) {
  const int r = w.rank;
  const int64_t rows = w.shape[r - 2], cols = w.shape[r - 1];
  const int64_t si = w.stride[1][r - 2], sj = w.stride[1][r - 1];
  const int64_t oi = w.stride[0][r - 2];
  Walk batch = w;
  batch.rank = r - 1;  // its rows are the positions of the leading dims
  const int64_t tiles_i = (rows + kTile - 1) / kTile;
  parallel_elements(batch.rows() * tiles_i, kTile * cols, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; t++) {
      const int64_t i0 = (t % tiles_i) * kTile;
      const int64_t i1 = std::min(rows, i0 + kTile);
      for_rows(batch, t / tiles_i, t / tiles_i + 1, [&](const int64_t* off) {
        for (int64_t j0 = 0; j0 < cols; j0 += kTile) {
          const int64_t j1 = std::min(cols, j0 + kTile);
          for (int64_t i = i0; i < i1; i++) {
            E* o = out + off[0] + i * oi;
            const E* p = x + off[1] + i * si;
            for (int64_t j = j0; j < j1; j++) o[j] = p[j * sj];
          }
        }
      });
    }
  });
}

void copy_through(const TensorRef& x, const TensorRef& out, const int64_t* x_strides, int64_t x_base) {
  int64_t strides[kMaxOperands][kMaxRank];
  for (int d = 0; d < out.rank; d++) strides[1][d] = x_strides[d];
  const Walk w = make_walk(out, 2, strides);
  with_bits(out.dtype, [&](auto e) {
    using E = decltype(e);
    const E* px = x.as<E>() + x_base;
    // Reads that jump along the output's rows while the row below is contiguous in x: a
    // transpose of the last two dims.
    const bool transposing = w.rank >= 2 && w.step(1) != 1 && w.step(1) != 0 && w.stride[1][w.rank - 2] == 1 && w.inner() >= 8;
    if (transposing) tiled_copy<E>(w, px, out.as<E>());
    else strided_copy<E>(w, px, out.as<E>());
  });
}

void transpose_kernel(const Call& c) {
  const TensorRef& x = c.in(0);
  int64_t xs[kMaxRank], strides[kMaxRank];
  row_major_strides(x.rank, x.dims, xs);
  for (int j = 0; j < c.out().rank; j++) strides[j] = xs[c.ints[j]];
  copy_through(x, c.out(), strides, 0);
}

// ints: begin[rank], step[rank]. A negative step walks the axis backwards from begin.
void slice_kernel(const Call& c) {
  const TensorRef& x = c.in(0);
  const int rank = x.rank;
  int64_t xs[kMaxRank], strides[kMaxRank];
  row_major_strides(rank, x.dims, xs);
  int64_t base = 0;
  for (int d = 0; d < rank; d++) {
    base += int64_t{c.ints[d]} * xs[d];
    strides[d] = xs[d] * c.ints[rank + d];
  }
  copy_through(x, c.out(), strides, base);
}

void broadcast_to_kernel(const Call& c) {
  int64_t strides[kMaxRank];
  broadcast_strides(c.in(0), c.out(), strides);
  copy_through(c.in(0), c.out(), strides, 0);
}

template <class T>
KILN_SIMD void fill(T* out, int64_t n, T v) {
  for (int64_t i = 0; i < n; i++) out[i] = v;
}

// ints: [before, after] per dim; floats: [value]. Fills out with the value (stored as the dtype stores it: NaN in
// an int32 pad is 0), then walks x's rows into their place.
void pad_kernel(const Call& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& out = c.out();
  with_type(out.dtype, [&](auto t) {
    using T = decltype(t);
    T* po = out.as<T>();
    const T v = store<T>(c.float_attr(0));
    parallel_elements(out.size, 1, [&](int64_t lo, int64_t hi) { fill(po + lo, hi - lo, v); });
  });
  if (x.size == 0) return;
  int64_t os[kMaxRank], strides[kMaxOperands][kMaxRank];
  row_major_strides(out.rank, out.dims, os);
  int64_t base = 0;
  for (int d = 0; d < out.rank; d++) {
    base += int64_t{c.ints[2 * d]} * os[d];
    strides[1][d] = os[d];
  }
  // The walk's contiguous operand is x here (the source); operand 1 is where it lands in out.
  const Walk w = make_walk(x, 2, strides);
  const int64_t len = w.inner();
  // x's innermost walked dim is contiguous in x, but in out only when no padded axis follows it:
  // x [4, 1] padded to [4, 3] walks x's 4 rows with a step of 3 in out.
  const int64_t step = w.step(1);
  with_bits(out.dtype, [&](auto e) {
    using E = decltype(e);
    const E* px = x.as<E>();
    E* po = out.as<E>() + base;
    if (step == 1) {
      walk_rows(w, [&](const int64_t* off) { std::memcpy(po + off[1], px + off[0], len * sizeof(E)); });
    } else {
      walk_rows(w, [&](const int64_t* off) {
        for (int64_t i = 0; i < len; i++) po[off[1] + i * step] = px[off[0] + i];
      });
    }
  });
}

// ints: [axis]. Around the axis every array is [outer, chunk]; a row of out is the inputs'
// chunks side by side.
void concat_kernel(const Call& c) {
  const TensorRef& out = c.out();
  const int axis = c.ints[0];
  int64_t outer, n, inner;
  around_axis(out, axis, &outer, &n, &inner);
  const size_t esize = bytes_per(out.dtype);
  const int64_t out_row = n * inner;
  parallel_elements(outer, out_row, [&](int64_t lo, int64_t hi) {
    int64_t offset = 0;
    for (int k = 0; k < c.num_inputs(); k++) {
      const TensorRef& x = c.in(k);
      const int64_t chunk = x.dim(axis) * inner;
      if (chunk > 0) {
        for (int64_t o = lo; o < hi; o++) {
          std::memcpy(static_cast<char*>(out.data) + (o * out_row + offset) * esize,
                      static_cast<const char*>(x.data) + o * chunk * esize, chunk * esize);
        }
      }
      offset += chunk;
    }
  });
}

}  // namespace

void add_movement_rows(RowSink& sink) {
  sink.add("transpose", transpose_kernel);
  sink.add("slice", slice_kernel);
  sink.add("pad", pad_kernel);
  sink.add("concat", concat_kernel);
  sink.add("broadcastTo", broadcast_to_kernel);
}

}  // namespace kiln::cpu
