// The fused convolution row, channels last: out = act(conv(x, w) + bias) as GEMMs over the
// im2col matrix, one per channel group, with the bias and activation as the GEMM's epilogue.
// The matrix is packed into the GEMM's panels straight from x, a few panels at a time, so no
// more of it than a panel is ever stored; a 1×1 kernel with stride 1 and no padding is x itself,
// a depthwise convolution (one input channel per group) has its own loop (depthwise.cc), and a
// single input channel its own rows (single_channel_conv).
#include "bias_act.h"
#include "conv.h"

namespace kiln::cpu {

bool pointwise(const Window& w) {
  for (int a = 0; a < w.d; a++) {
    if (w.size[a] != 1 || w.stride[a] != 1 || w.pad[a] != 0 || w.in[a] != w.out[a]) return false;
  }
  return true;
}

namespace {

// out row [F] = col [depth] · w [depth, F].
template <class T>
KILN_SIMD void row_times(T* __restrict out, const T* __restrict col, int64_t depth, const T* __restrict w, int64_t F) {
  for (int64_t f = 0; f < F; f++) out[f] = T(0);
  for (int64_t k = 0; k < depth; k++) {
    const T a = col[k];
    const T* wk = w + k * F;
    for (int64_t f = 0; f < F; f++) out[f] += a * wk[f];
  }
}

// One input channel in one group (a first layer on grey images): each output row is its few
// taps times w, where the depthwise loop would make a call per tap.
template <class T>
void single_channel_conv(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* out) {
  const int64_t rows = g.batch * g.win.out_positions(), depth = g.win.taps(), F = g.filters;
  with_act("fused conv", g.activation, [&](auto a) {
    constexpr Act act = decltype(a)::value;
    parallel_elements(rows, depth * F, [&](int64_t lo, int64_t hi) {
      for_im2col_rows(g, 0, x, lo, hi, [&](int64_t r, const T* col) {
        T* row = out + r * F;
        row_times(row, col, depth, w, F);
        // The sum is rounded before the bias is added, as in the GEMM's epilogue.
        if (bias) bias_act_row<act, true>(row, bias, F);
        else if constexpr (act != Act::Linear) bias_act_row<act, false>(row, static_cast<const T*>(nullptr), F);
      });
    });
  });
}

template <class T>
void conv(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* out) {
  if (g.depthwise() && g.groups == 1 && g.win.taps() <= kDirectDepth) return single_channel_conv(g, x, w, bias, out);
  if (g.depthwise()) return depthwise_conv(g, x, w, bias, out);
  const int64_t rows = g.batch * g.win.out_positions();
  const int64_t cg = g.group_channels(), fg = g.group_filters(), depth = g.win.taps() * cg;
  with_act("fused conv", g.activation, [&](auto a) {
    for (int64_t grp = 0; grp < g.groups; grp++) {
      // The group's filters are columns [grp·fg, (grp + 1)·fg) of w [taps·cg, F] and of out.
      const BiasAct<T> ctx{bias ? bias + grp * fg : nullptr};
      const Epilogue<T> epilogue = bias_act_epilogue<decltype(a)::value, T>(&ctx);
      const T* wg = w + grp * fg;
      T* og = out + grp * fg;
      if (pointwise(g.win)) {
        gemm<T>(rows, fg, cg, x + grp * cg, g.channels, 1, wg, g.filters, 1, og, g.filters, epilogue);
      } else {
        for_row_blocks(rows, INT64_MAX, [&](int64_t, int64_t lo, int64_t hi) {
          const Im2col<T> im{x + grp * cg, g.channels, cg, g.win, lo};
          gemm_packed<T>(hi - lo, fg, depth, PackA<T>{pack_im2col_a<T>, &im}, wg, g.filters, 1, og + lo * g.filters,
                         g.filters, epilogue);
        });
      }
    }
  });
}

// tensors: x [N, ...S, C], w [...K, C / groups, F], bias [F] or absent, out [N, ...O, F];
// ints: [d, strides(d), dilations(d), padsBefore(d), groups, activation].
void conv_kernel(const Call& c) {
  const char* op = "fused conv";
  expect_tensors(op, c, 4);
  const ConvGeometry g = conv_geometry(op, c, c.in(0), c.in(1), c.out());
  const TensorRef& bias = c.in(2);
  if (bias.present) expect_shape(op, c, 2, {g.filters});
  check_floats(op, c);
  with_type(c.in(0).dtype, [&](auto t) {
    using T = decltype(t);
    if constexpr (is_float_v<T>) {
      conv<T>(g, c.in(0).as<T>(), c.in(1).as<T>(), bias.present ? bias.as<T>() : nullptr, c.out().as<T>());
    }
  });
}

}  // namespace

void add_conv_rows(RowSink& sink) {
  // outputs, and whether tensors may be absent (bias; unwanted gradients)
  sink.add(KernelRow{"fused:conv", conv_kernel, 1, true});
  sink.add(KernelRow{"fused:convGrad", conv_grad_kernel, 3, true});
}

}  // namespace kiln::cpu
