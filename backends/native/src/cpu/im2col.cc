// Packing a convolution's im2col matrix straight into the GEMM's panels, so the matrix is never
// stored: as A (rows are output positions) for the forward product, as B (rows are output
// positions, read down) for the weight gradient.
#include <cstring>
#include <vector>

#include "conv.h"
#include "pack_rows.h"

namespace kiln::cpu {
namespace {

// Division rounding up, for a numerator of either sign and a positive divisor.
inline int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

// The most rows a micro-kernel's panel has (gemm.h: MR x NR is at most 16 x 32).
constexpr int kMaxPanelRows = 16;

// Fewer channels than this per tap are copied one by one: a vector transpose would move more
// zeros than values, and a call to memcpy costs more than the copy.
constexpr int64_t kNarrow = 4;

// What a panel row reads in the padding: enough zeros for any k block (gemm.cc's KC is at most
// 1,536 bytes).
constexpr int64_t kZeroBytes = 4096;
template <class T>
alignas(64) constexpr T kZeros[kZeroBytes / sizeof(T)] = {};

// A run of a panel's rows that are consecutive output positions along the last axis: r0 is its
// first row in the panel, `o` its first position's coordinates in sample n.
struct Run {
  int64_t r0, len, n;
  int64_t o[kMaxSpatial];
};

// Where tap k reads for run `run`: rows [ra, rb) of the run read inside x (none when ra == rb),
// row ra at x[offset], each next row stride·channels further.
struct Reach {
  int64_t offset, ra, rb;
};

template <class T>
Reach reach(const Im2col<T>& m, const Run& run, const int64_t* k) {
  const Window& w = m.win;
  const int last = w.d - 1;
  int64_t index = run.n;
  for (int a = 0; a < last; a++) {
    const int64_t at = w.at(a, run.o[a], k[a]);
    if (!w.inside(a, at)) return {0, 0, 0};
    index = index * w.in[a] + at;
  }
  // The last axis's input position moves by stride per row: rows read inside x where
  // 0 <= base + r·stride < in.
  const int64_t base = w.at(last, run.o[last], k[last]);
  const int64_t s = w.stride[last];
  int64_t ra = ceil_div(-base, s), rb = ceil_div(w.in[last] - base, s);
  ra = ra < 0 ? 0 : ra > run.len ? run.len : ra;
  rb = rb < ra ? ra : rb > run.len ? run.len : rb;
  return {(index * w.in[last] + base + ra * s) * m.channels, ra, rb};
}

}  // namespace

template <class T>
void pack_im2col_a(const void* ctx, const MicroKernel<T>& uk, int64_t i, int64_t rows, int64_t p, int64_t kc, T* panel) {
  const Im2col<T>& m = *static_cast<const Im2col<T>*>(ctx);
  const Window& w = m.win;
  const int mr = uk.mr, last = w.d - 1;
  if (mr > kMaxPanelRows || kc * int64_t(sizeof(T)) > kZeroBytes) internal_error("im2col: a panel larger than its packer's buffers");
  const PackRows<T> pack = pack_rows_for(uk);
  const T* zeros = kZeros<T>;
  const int64_t positions = w.out_positions(), line = w.out[last];
  // The panel's rows as runs along the last axis: at most mr of them.
  Run runs[kMaxPanelRows];
  int nruns = 0;
  for (int64_t r = 0, q = m.first + i; r < rows; nruns++) {
    Run& run = runs[nruns];
    run.n = q / positions;
    unravel(w.d, w.out, q % positions, run.o);
    run.r0 = r;
    run.len = rows - r < line - run.o[last] ? rows - r : line - run.o[last];
    r += run.len;
    q += run.len;
  }
  const int64_t step = w.stride[last] * m.channels;  // between a run's rows in x
  // Where each panel row reads, for one tap: a row of x, or zeros in the padding and past the
  // matrix's last row.
  const T* src[kMaxPanelRows];
  for (int r = 0; r < mr; r++) src[r] = zeros;
  int64_t k[kMaxSpatial];
  int64_t tap = p / m.group, c0 = p % m.group;
  unravel(w.d, w.size, tap, k);
  for (int64_t pp = 0; pp < kc; c0 = 0, advance(w.d, w.size, k)) {
    const int64_t len = m.group - c0 < kc - pp ? m.group - c0 : kc - pp;
    for (int q = 0; q < nruns; q++) {
      const Run& run = runs[q];
      const Reach at = reach(m, run, k);
      for (int64_t r = 0; r < run.len; r++) {
        src[run.r0 + r] = r >= at.ra && r < at.rb ? m.x + at.offset + (r - at.ra) * step + c0 : zeros;
      }
    }
    if (len >= kNarrow) {
      pack(src, len, panel + pp * mr);
    } else {
      for (int64_t c = 0; c < len; c++) {
        for (int r = 0; r < mr; r++) panel[(pp + c) * mr + r] = src[r][c];
      }
    }
    pp += len;
  }
}

template <class T>
void pack_im2col_b(const void* ctx, const MicroKernel<T>& uk, int64_t p, int64_t kc, int64_t j, int64_t cols, T* panel,
                   int64_t stride) {
  const Im2col<T>& m = *static_cast<const Im2col<T>*>(ctx);
  const Window& w = m.win;
  const int64_t nr = uk.nr, positions = w.out_positions();
  const int64_t first_tap = j / m.group, end_tap = (j + cols + m.group - 1) / m.group;
  int64_t o[kMaxSpatial], k0[kMaxSpatial], k[kMaxSpatial];
  int64_t n = (m.first + p) / positions, q = (m.first + p) % positions;
  unravel(w.d, w.out, q, o);
  unravel(w.d, w.size, first_tap, k0);
  std::vector<int64_t> offsets(w.taps());
  tap_offsets(w, offsets.data());
  // Copies a tap's columns [lo, hi) of the block, reading channels from `src` (zeros when
  // null); the columns cross panel boundaries every nr.
  auto put = [&](T* row, int64_t lo, int64_t hi, const T* src) {
    for (int64_t col = lo; col < hi;) {
      const int64_t off = col % nr;
      const int64_t len = hi - col < nr - off ? hi - col : nr - off;
      T* dst = row + (col / nr) * stride + off;
      if (len < kNarrow) {
        for (int64_t c = 0; c < len; c++) dst[c] = src ? src[col - lo + c] : T(0);
      } else if (src) {
        std::memcpy(dst, src + (col - lo), sizeof(T) * len);
      } else {
        std::memset(dst, 0, sizeof(T) * len);
      }
      col += len;
    }
  };
  for (int64_t pp = 0; pp < kc; pp++) {
    T* row = panel + pp * nr;
    int64_t first = 0;
    const bool all_inside = window_inside(w, o, &first);
    std::memcpy(k, k0, sizeof(int64_t) * w.d);
    for (int64_t tap = first_tap; tap < end_tap; tap++) {
      // This tap's columns of the block, [lo, hi) relative to j, reading channels from c0.
      const int64_t lo = tap * m.group - j < 0 ? 0 : tap * m.group - j;
      const int64_t hi = (tap + 1) * m.group - j < cols ? (tap + 1) * m.group - j : cols;
      const int64_t c0 = j + lo - tap * m.group;
      int64_t index = first + offsets[tap];
      bool inside = all_inside;
      if (!all_inside) {
        inside = true;
        index = 0;
        for (int a = 0; a < w.d && inside; a++) {
          const int64_t at = w.at(a, o[a], k[a]);
          inside = w.inside(a, at);
          index = index * w.in[a] + at;
        }
        advance(w.d, w.size, k);
      }
      put(row, lo, hi, inside ? m.x + (n * w.in_positions() + index) * m.channels + c0 : nullptr);
    }
    // The last panel's columns past the block.
    if (cols % nr != 0) std::memset(row + (cols / nr) * stride + cols % nr, 0, sizeof(T) * (nr - cols % nr));
    advance(w.d, w.out, o);
    if (++q == positions) {
      q = 0;
      n++;
    }
  }
}

template void pack_im2col_a<float>(const void*, const MicroKernel<float>&, int64_t, int64_t, int64_t, int64_t, float*);
template void pack_im2col_a<double>(const void*, const MicroKernel<double>&, int64_t, int64_t, int64_t, int64_t, double*);
template void pack_im2col_b<float>(const void*, const MicroKernel<float>&, int64_t, int64_t, int64_t, int64_t, float*,
                                   int64_t);
template void pack_im2col_b<double>(const void*, const MicroKernel<double>&, int64_t, int64_t, int64_t, int64_t, double*,
                                    int64_t);

}  // namespace kiln::cpu
