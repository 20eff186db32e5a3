// The fused convolution's backward row: dz = dy·act'(y) once (with dBias in the same pass), then
// per channel group dw = im2colᵀ·dz (computed as its transpose, see weight_grad) and dx, the
// transposed product put back where each term came from (col2im): blocks of im2col rows of dx, dz·wᵀ, computed in a bounded scratch buffer
// and added into dx, one sample per task so that no two tasks add to one place. (dx as a
// convolution of dz with the flipped kernel, possible at stride 1, ran at half the speed: its
// A panels transpose as much as the forward's for a product only C wide, while col2im's A is dz
// itself, each panel used across all taps·C columns.)
#include <cstring>
#include <vector>

#include "bias_act.h"
#include "conv.h"
#include "scratch.h"

namespace kiln::cpu {
namespace {

// The im2col block a col2im task holds at once: a few hundred rows of a typical layer, in L2.
constexpr int64_t kCol2imBytes = 1 << 20;
// The copies of dw that row blocks sum into, together.
constexpr int64_t kPartsBytes = 64 << 20;

template <class T>
KILN_SIMD void add_row(T* __restrict dst, const T* __restrict src, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] += src[i];
}

// acc [depth, fg] += col [depth] ⊗ dz_row [fg].
template <class T>
KILN_SIMD void add_outer(T* __restrict acc, const T* __restrict col, int64_t depth, const T* __restrict dz, int64_t fg) {
  for (int64_t k = 0; k < depth; k++) {
    const T a = col[k];
    T* row = acc + k * fg;
    for (int64_t f = 0; f < fg; f++) row[f] += a * dz[f];
  }
}

// dw for one group: dwᵀ [fg, depth] = dz_gᵀ · im2col_g, whose B panels are packed from x as
// contiguous runs of channels (as A, im2colᵀ's panels would be runs of a dozen), then laid out
// as w [depth, F]. The sum over positions is cut into row blocks (for_row_blocks), each summed
// into its own copy of dwᵀ (of dw, for a shallow im2col summed row by row), added up at
// the end.
template <class T>
void weight_grad(const ConvGeometry& g, int64_t grp, const T* dz, const T* x, T* dw) {
  const int64_t rows = g.batch * g.win.out_positions();
  const int64_t cg = g.group_channels(), fg = g.group_filters(), depth = g.win.taps() * cg, size = fg * depth;
  T* dwg = dw + grp * fg;
  if (pointwise(g.win)) return gemm<T>(cg, fg, rows, x + grp * cg, 1, g.channels, dz + grp * fg, g.filters, 1, dwg, g.filters);
  const int64_t limit = kPartsBytes / (size * int64_t(sizeof(T)));
  const int64_t blocks = row_blocks(rows, limit);
  Scratch scratch(size_t(blocks * size) * sizeof(T));
  T* parts = scratch.as<T>();
  // A shallow im2col sums each block as dw itself, [depth, fg]; the GEMM gives dwᵀ, [fg, depth].
  const bool direct = depth <= kDirectDepth;
  for_row_blocks(rows, limit, [&](int64_t b, int64_t lo, int64_t hi) {
    T* part = parts + b * size;
    if (direct) {
      std::memset(part, 0, sizeof(T) * size);
      for_im2col_rows(g, grp, x, lo, hi, [&](int64_t r, const T* col) { add_outer(part, col, depth, dz + r * g.filters + grp * fg, fg); });
    } else {
      const Im2col<T> im{x + grp * cg, g.channels, cg, g.win, lo};
      gemm_packed<T>(fg, depth, hi - lo, dz + lo * g.filters + grp * fg, 1, g.filters, PackB<T>{pack_im2col_b<T>, &im}, part,
                     depth);
    }
  });
  const int64_t r_step = direct ? fg : 1, f_step = direct ? 1 : depth;
  for (int64_t r = 0; r < depth; r++) {
    for (int64_t f = 0; f < fg; f++) {
      const int64_t at = r * r_step + f * f_step;
      T s = parts[at];
      for (int64_t b = 1; b < blocks; b++) s += parts[b * size + at];
      dwg[r * g.filters + f] = s;
    }
  }
}

// Adds a block of im2col rows of dx (positions [q0, q0 + len) of one sample, `depth` columns
// for one group) into dx at the positions they were read from; dxn is the sample's dx at the
// group's first channel.
template <class T>
void col2im_block(const ConvGeometry& g, const int64_t* offsets, const T* cols, int64_t q0, int64_t len, T* dxn) {
  const Window& w = g.win;
  const int64_t cg = g.group_channels(), depth = w.taps() * cg;
  int64_t o[kMaxSpatial];
  unravel(w.d, w.out, q0, o);
  for (int64_t r = 0; r < len; r++, advance(w.d, w.out, o)) {
    for_taps(w, offsets, o, [&](int64_t tap, int64_t index) {
      T* dst = dxn + index * g.channels;
      const T* src = cols + r * depth + tap * cg;
      // A call (through the ISA dispatch) costs more than a few additions.
      if (cg < 4) {
        for (int64_t c = 0; c < cg; c++) dst[c] += src[c];
      } else {
        add_row(dst, src, cg);
      }
    });
  }
}

template <class T>
void input_grad_col2im(const ConvGeometry& g, const T* dz, const T* w, T* dx) {
  const int64_t positions = g.win.out_positions(), in_size = g.win.in_positions() * g.channels;
  const int64_t cg = g.group_channels(), fg = g.group_filters(), depth = g.win.taps() * cg;
  int64_t block = kCol2imBytes / (depth * int64_t(sizeof(T)));
  block = block < 1 ? 1 : block > positions ? positions : block;
  // With fewer samples than threads this runs on the caller, and each GEMM takes the threads.
  parallel_for(g.batch, 1, [&](int64_t lo, int64_t hi) {
    Scratch scratch(size_t(block * depth) * sizeof(T));
    T* cols = scratch.as<T>();
    std::vector<int64_t> offsets(g.win.taps());
    tap_offsets(g.win, offsets.data());
    for (int64_t n = lo; n < hi; n++) {
      T* dxn = dx + n * in_size;
      std::memset(dxn, 0, sizeof(T) * in_size);
      for (int64_t grp = 0; grp < g.groups; grp++) {
        for (int64_t q0 = 0; q0 < positions; q0 += block) {
          const int64_t len = positions - q0 < block ? positions - q0 : block;
          // cols [len, depth] = dz rows · w_gᵀ, w_g read down its columns in place.
          gemm<T>(len, depth, fg, dz + (n * positions + q0) * g.filters + grp * fg, g.filters, 1, w + grp * fg, 1,
                  g.filters, cols, depth);
          col2im_block(g, offsets.data(), cols, q0, len, dxn + grp * cg);
        }
      }
    }
  });
}

template <class T>
void input_grad(const ConvGeometry& g, const T* dz, const T* w, T* dx) {
  if (!pointwise(g.win)) return input_grad_col2im(g, dz, w, dx);
  const int64_t rows = g.batch * g.win.out_positions();
  const int64_t cg = g.group_channels(), fg = g.group_filters();
  for (int64_t grp = 0; grp < g.groups; grp++) {
    gemm<T>(rows, cg, fg, dz + grp * fg, g.filters, 1, w + grp * fg, 1, g.filters, dx + grp * cg, g.channels);
  }
}

}  // namespace

// tensors: dy [N, ...O, F], y (as dy), x [N, ...S, C], w [...K, C / groups, F], then the
// outputs dx (as x), dw (as w) and dBias [F], each absent when not wanted; ints as conv's.
void conv_grad_kernel(const Call& c) {
  const char* op = "fused convGrad";
  expect_tensors(op, c, 7);
  const TensorRef& tdy = c.in(0);
  const TensorRef& tdx = c.in(4);
  const TensorRef& tdw = c.in(5);
  const TensorRef& tdb = c.in(6);
  const ConvGeometry g = conv_geometry(op, c, c.in(2), c.in(3), tdy);
  auto same = [&](int i, const TensorRef& as) {
    const TensorRef& t = c.in(i);
    bool ok = t.present && t.rank == as.rank;
    for (int a = 0; ok && a < t.rank; a++) ok = t.dim(a) == as.dim(a);
    if (!ok) internal_error(std::string(op) + ": tensor " + std::to_string(i) + " is absent or misshapen");
  };
  same(1, tdy);
  if (tdx.present) same(4, c.in(2));
  if (tdw.present) same(5, c.in(3));
  if (tdb.present) expect_shape(op, c, 6, {g.filters});
  check_floats(op, c);
  with_type(tdy.dtype, [&](auto t) {
    using T = decltype(t);
    if constexpr (is_float_v<T>) {
      with_act(op, g.activation, [&](auto a) {
        constexpr Act act = decltype(a)::value;
        const int64_t rows = g.batch * g.win.out_positions();
        const bool products = tdx.present || tdw.present;
        Scratch scratch(act != Act::Linear && products ? size_t(rows * g.filters) * sizeof(T) : 0);
        T* dz = scratch.as<T>();
        dz_and_bias<act, T>(rows, g.filters, tdy.as<T>(), c.in(1).as<T>(), dz, tdb.present ? tdb.as<T>() : nullptr);
        const T* grad = dz ? dz : tdy.as<T>();
        const T* x = c.in(2).as<T>();
        const T* w = c.in(3).as<T>();
        // An empty gradient is not wanted either (the call came for the others).
        T* dx = tdx.present && tdx.size > 0 ? tdx.as<T>() : nullptr;
        T* dw = tdw.present && tdw.size > 0 ? tdw.as<T>() : nullptr;
        // One input channel in one group (a first layer on grey images) is depthwise too, but its
        // dw is a single shallow im2col: weight_grad's direct path beats a call per tap.
        if (g.depthwise() && g.groups == 1 && g.win.taps() <= kDirectDepth) {
          if (dw) weight_grad(g, 0, grad, x, dw);
          return depthwise_conv_grad(g, grad, x, w, dx, static_cast<T*>(nullptr));
        }
        if (g.depthwise()) return depthwise_conv_grad(g, grad, x, w, dx, dw);
        if (dw) {
          for (int64_t grp = 0; grp < g.groups; grp++) weight_grad(g, grp, grad, x, dw);
        }
        if (dx) input_grad(g, grad, w, dx);
      });
    }
  });
}

}  // namespace kiln::cpu
