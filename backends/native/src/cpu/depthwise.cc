// Depthwise convolution, channels last: each input channel c feeds only its own `multiplier`
// filters c·multiplier + m, so a GEMM per channel would be a product of width one. Instead the
// loops run over whole rows of channels, which are contiguous in x, w and the output: per output
// position, each tap adds x's row times w's row (with one filter per channel, into sums held in
// registers across the taps). The backward pass goes sample by sample for dx, and sums dw in a
// copy per task.
#include <cstring>
#include <vector>

#include "bias_act.h"
#include "conv.h"
#include "scratch.h"

namespace kiln::cpu {
namespace {

// acc[c·mult + m] += x[c] · w[c·mult + m].
template <class T>
KILN_SIMD void madd_row(T* __restrict acc, const T* __restrict x, const T* __restrict w, int64_t channels, int64_t mult) {
  if (mult == 1) {
    for (int64_t c = 0; c < channels; c++) acc[c] += x[c] * w[c];
    return;
  }
  for (int64_t c = 0; c < channels; c++) {
    for (int64_t m = 0; m < mult; m++) acc[c * mult + m] += x[c] * w[c * mult + m];
  }
}

// One output row of a depthwise convolution with one filter per channel: out[c] = Σ over the
// taps t of x[xs[t] + c] · w[ws[t] + c], channels in blocks whose sums stay in registers while
// the taps go by (summing into the row in memory took two memory operations per product). In
// GCC's vector type, as the plain loop was not vectorized.
template <class T>
KILN_SIMD void depthwise_row(T* __restrict out, const T* __restrict x, const T* __restrict w, const int64_t* xs,
                             const int64_t* ws, int64_t taps, int64_t channels) {
  typedef T V __attribute__((vector_size(32)));
  constexpr int kLanes = sizeof(V) / sizeof(T), kVectors = 4;
  constexpr int64_t kBlock = kLanes * kVectors;
  int64_t c = 0;
  for (; c + kBlock <= channels; c += kBlock) {
    V acc[kVectors] = {};
    for (int64_t t = 0; t < taps; t++) {
      for (int v = 0; v < kVectors; v++) {
        V xv, wv;
        std::memcpy(&xv, x + xs[t] + c + v * kLanes, sizeof(V));
        std::memcpy(&wv, w + ws[t] + c + v * kLanes, sizeof(V));
        acc[v] += xv * wv;
      }
    }
    std::memcpy(out + c, acc, sizeof acc);
  }
  for (; c < channels; c++) {
    T acc = 0;
    for (int64_t t = 0; t < taps; t++) acc += x[xs[t] + c] * w[ws[t] + c];
    out[c] = acc;
  }
}

// dx[c] += Σ_m dz[c·mult + m] · w[c·mult + m].
template <class T>
KILN_SIMD void dot_rows(T* __restrict dx, const T* __restrict dz, const T* __restrict w, int64_t channels, int64_t mult) {
  if (mult == 1) {
    for (int64_t c = 0; c < channels; c++) dx[c] += dz[c] * w[c];
    return;
  }
  for (int64_t c = 0; c < channels; c++) {
    T s = dx[c];
    for (int64_t m = 0; m < mult; m++) s += dz[c * mult + m] * w[c * mult + m];
    dx[c] = s;
  }
}

// Calls f(n, o, q) for output positions [lo, hi) of all samples, q being the flat index.
template <class F>
void for_positions(const Window& w, int64_t lo, int64_t hi, F&& f) {
  const int64_t positions = w.out_positions();
  int64_t o[kMaxSpatial];
  int64_t n = lo / positions;
  unravel(w.d, w.out, lo % positions, o);
  for (int64_t q = lo; q < hi; q++) {
    f(n, static_cast<const int64_t*>(o), q);
    advance(w.d, w.out, o);
    if ((q + 1) % positions == 0) n++;
  }
}

}  // namespace

template <class T>
void depthwise_conv(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* out) {
  const Window& win = g.win;
  const int64_t F = g.filters, C = g.channels, mult = g.group_filters();
  with_act("fused conv", g.activation, [&](auto a) {
    constexpr Act act = decltype(a)::value;
    parallel_elements(g.batch * win.out_positions(), win.taps() * F, [&](int64_t lo, int64_t hi) {
      std::vector<int64_t> xs(win.taps()), ws(win.taps()), offsets(win.taps());
      tap_offsets(win, offsets.data());
      for_positions(win, lo, hi, [&](int64_t n, const int64_t* o, int64_t q) {
        T* row = out + q * F;
        const T* xn = x + n * win.in_positions() * C;
        if (mult == 1) {
          int64_t taps = 0;
          for_taps(win, offsets.data(), o, [&](int64_t tap, int64_t at) {
            xs[taps] = at * C;
            ws[taps++] = tap * F;
          });
          depthwise_row(row, xn, w, xs.data(), ws.data(), taps, C);
        } else {
          std::memset(row, 0, sizeof(T) * F);
          for_taps(win, offsets.data(), o, [&](int64_t tap, int64_t at) { madd_row(row, xn + at * C, w + tap * F, C, mult); });
        }
        // The sum is rounded before the bias is added, as in the GEMM's epilogue.
        if (bias) bias_act_row<act, true>(row, bias, F);
        else if constexpr (act != Act::Linear) bias_act_row<act, false>(row, static_cast<const T*>(nullptr), F);
      });
    });
  });
}

template <class T>
void depthwise_conv_grad(const ConvGeometry& g, const T* dz, const T* x, const T* w, T* dx, T* dw) {
  const Window& win = g.win;
  const int64_t F = g.filters, C = g.channels, mult = g.group_filters(), positions = win.out_positions();
  const int64_t in_size = win.in_positions() * C, taps = win.taps();
  std::vector<int64_t> offsets(taps);
  tap_offsets(win, offsets.data());
  if (dx) {
    // A sample's dx takes only its own dz: one task per sample, nothing shared.
    parallel_for(g.batch, 1, [&](int64_t lo, int64_t hi) {
      std::memset(dx + lo * in_size, 0, sizeof(T) * (hi - lo) * in_size);
      for_positions(win, lo * positions, hi * positions, [&](int64_t n, const int64_t* o, int64_t q) {
        T* dxn = dx + n * in_size;
        for_taps(win, offsets.data(), o, [&](int64_t tap, int64_t at) { dot_rows(dxn + at * C, dz + q * F, w + tap * F, C, mult); });
      });
    });
  }
  if (dw) {
    // Each task sums its samples' terms into its own copy of dw; the copies are added at the end.
    const int64_t size = taps * F;
    const int64_t chunks = std::min<int64_t>(std::max<int64_t>(g.batch, 1), ThreadPool::instance().threads());
    Scratch scratch(size_t(chunks * size) * sizeof(T));
    T* parts = scratch.as<T>();
    ThreadPool::instance().run(chunks, [&](int64_t chunk) {
      T* part = parts + chunk * size;
      std::memset(part, 0, sizeof(T) * size);
      const int64_t lo = g.batch * chunk / chunks, hi = g.batch * (chunk + 1) / chunks;
      for_positions(win, lo * positions, hi * positions, [&](int64_t n, const int64_t* o, int64_t q) {
        const T* xn = x + n * in_size;
        for_taps(win, offsets.data(), o, [&](int64_t tap, int64_t at) { madd_row(part + tap * F, xn + at * C, dz + q * F, C, mult); });
      });
    });
    for (int64_t i = 0; i < size; i++) {
      T s = parts[i];
      for (int64_t chunk = 1; chunk < chunks; chunk++) s += parts[chunk * size + i];
      dw[i] = s;
    }
  }
}

template void depthwise_conv<float>(const ConvGeometry&, const float*, const float*, const float*, float*);
template void depthwise_conv<double>(const ConvGeometry&, const double*, const double*, const double*, double*);
template void depthwise_conv_grad<float>(const ConvGeometry&, const float*, const float*, const float*, float*, float*);
template void depthwise_conv_grad<double>(const ConvGeometry&, const double*, const double*, const double*, double*,
                                          double*);

}  // namespace kiln::cpu
