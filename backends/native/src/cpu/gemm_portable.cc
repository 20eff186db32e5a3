// The portable micro-kernel, for CPUs without AVX2 (or other architectures): plain C++ that the
// compiler vectorizes for the baseline instruction set.
#include "gemm.h"

namespace kiln::cpu::portable {
namespace {

#include "gemm_pack.inc"

template <class T, int MR, int NR, int LDA = MR>
void tile(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, bool accumulate) {
  T acc[MR][NR] = {};
  for (int64_t p = 0; p < kc; p++) {
    for (int i = 0; i < MR; i++) {
      const T ai = a[i];
      for (int j = 0; j < NR; j++) acc[i][j] += ai * b[j];
    }
    a += LDA;
    b += NR;
  }
  for (int i = 0; i < MR; i++) {
    for (int j = 0; j < NR; j++) c[i * ldc + j] = accumulate ? c[i * ldc + j] + acc[i][j] : acc[i][j];
  }
}

// The first `rows` < MR rows of a tile, in a kernel of that height (as gemm_kernel.inc's edge).
template <class T, int MR, int NR, int R = MR - 1>
void edge(int rows, int64_t kc, const T* a, const T* b, T* c, int64_t ldc, bool accumulate) {
  if constexpr (R > 1) {
    if (rows < R) return edge<T, MR, NR, R - 1>(rows, kc, a, b, c, ldc, accumulate);
  }
  tile<T, R, NR, MR>(kc, a, b, c, ldc, accumulate);
}

// The one-row product, NB columns at a time with their sums in registers; the last columns
// through a copy of the same loop whose width is not a constant.
template <class T, int NB>
void row(int64_t n, int64_t k, const T* a, int64_t a_step, const T* b, int64_t b_row, T* c) {
  for (int64_t j = 0; j < n; j += NB) {
    const int64_t w = n - j < NB ? n - j : NB;
    T acc[NB] = {};
    if (w == NB) {
      for (int64_t p = 0; p < k; p++) {
        const T ap = a[p * a_step];
        const T* bp = b + p * b_row + j;
        for (int q = 0; q < NB; q++) acc[q] += ap * bp[q];
      }
    } else {
      for (int64_t p = 0; p < k; p++) {
        const T ap = a[p * a_step];
        const T* bp = b + p * b_row + j;
        for (int64_t q = 0; q < w; q++) acc[q] += ap * bp[q];
      }
    }
    for (int64_t q = 0; q < w; q++) c[j + q] = acc[q];
  }
}

}  // namespace

// 4 x 8: the tile's accumulators fit in eight of SSE2's sixteen registers, so the compiler keeps
// them there (a 4 x 16 tile spills and runs four times slower).
// A row's 32 floats or 16 doubles fill eight SSE2 registers.
const MicroKernel<float> sgemm = {4, 8, tile<float, 4, 8>, edge<float, 4, 8>, pack_a<float, 4>, pack_b<float, 8>,
                                  row<float, 32>, "portable"};
const MicroKernel<double> dgemm = {4, 4, tile<double, 4, 4>, edge<double, 4, 4>, pack_a<double, 4>, pack_b<double, 4>,
                                   row<double, 16>, "portable"};

}  // namespace kiln::cpu::portable
