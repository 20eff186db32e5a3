// The portable micro-kernel, for CPUs without AVX2 (or other architectures): plain C++ that the
// compiler vectorizes for the baseline instruction set.
#include "gemm.h"

namespace kiln::cpu::portable {
namespace {

template <class T, int MR, int NR>
void tile(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, bool accumulate) {
  T acc[MR][NR] = {};
  for (int64_t p = 0; p < kc; p++) {
    for (int i = 0; i < MR; i++) {
      const T ai = a[i];
      for (int j = 0; j < NR; j++) acc[i][j] += ai * b[j];
    }
    a += MR;
    b += NR;
  }
  for (int i = 0; i < MR; i++) {
    for (int j = 0; j < NR; j++) c[i * ldc + j] = accumulate ? c[i * ldc + j] + acc[i][j] : acc[i][j];
  }
}

}  // namespace

// 4 x 8: the tile's accumulators fit in eight of SSE2's sixteen registers, so the compiler keeps
// them there (a 4 x 16 tile spills and runs four times slower).
const MicroKernel<float> sgemm = {4, 8, tile<float, 4, 8>, "portable"};
const MicroKernel<double> dgemm = {4, 4, tile<double, 4, 4>, "portable"};

}  // namespace kiln::cpu::portable
