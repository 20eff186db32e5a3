// pack_rows for the AVX2 micro-kernels (6-row panels): 8×8 float and 4×4 double transposes in
// registers. Compiled for AVX2 and only called after gemm.cc has found it (see pack_rows.h).
#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC target("avx2,fma")
#include <immintrin.h>

#include "pack_rows.h"

namespace kiln::cpu::avx2 {
namespace {

constexpr int kRows = 6;

// Lanes [0, n) of an 8-lane mask.
inline __m256i first(int n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }

// v[i] (row i) becomes column i.
inline void transpose(__m256 v[8]) {
  __m256 t[8], s[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(v[i], v[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(v[i], v[i + 1]);
  }
  // s[g + m], lane q: column 4q + m of rows g..g+3
  for (int g = 0; g < 8; g += 4) {
    s[g] = _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(t[g]), _mm256_castps_pd(t[g + 2])));
    s[g + 1] = _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(t[g]), _mm256_castps_pd(t[g + 2])));
    s[g + 2] = _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(t[g + 1]), _mm256_castps_pd(t[g + 3])));
    s[g + 3] = _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(t[g + 1]), _mm256_castps_pd(t[g + 3])));
  }
  for (int m = 0; m < 4; m++) {
    v[m] = _mm256_permute2f128_ps(s[m], s[4 + m], 0x20);
    v[4 + m] = _mm256_permute2f128_ps(s[m], s[4 + m], 0x31);
  }
}

inline void transpose(__m256d v[4]) {
  const __m256d t0 = _mm256_unpacklo_pd(v[0], v[1]), t1 = _mm256_unpackhi_pd(v[0], v[1]);
  const __m256d t2 = _mm256_unpacklo_pd(v[2], v[3]), t3 = _mm256_unpackhi_pd(v[2], v[3]);
  v[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
  v[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
  v[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
  v[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

}  // namespace

void pack_rows_6(const float* const* rows, int64_t kc, float* d) {
  const __m256i keep = first(kRows);
  for (int64_t p = 0; p < kc; p += 8) {
    const int n = kc - p < 8 ? static_cast<int>(kc - p) : 8;
    const __m256i live = first(n);
    __m256 v[8];
    for (int r = 0; r < kRows; r++) v[r] = _mm256_maskload_ps(rows[r] + p, live);
    v[6] = v[7] = _mm256_setzero_ps();
    transpose(v);
    for (int j = 0; j < n; j++) _mm256_maskstore_ps(d + (p + j) * kRows, keep, v[j]);
  }
}

void pack_rows_6(const double* const* rows, int64_t kc, double* d) {
  for (int64_t p = 0; p < kc; p += 4) {
    const int n = kc - p < 4 ? static_cast<int>(kc - p) : 4;
    const __m256i live = _mm256_cvtepi32_epi64(_mm_cmpgt_epi32(_mm_set1_epi32(n), _mm_setr_epi32(0, 1, 2, 3)));
    __m256d lo[4], hi[4];
    for (int r = 0; r < 4; r++) lo[r] = _mm256_maskload_pd(rows[r] + p, live);
    for (int r = 4; r < kRows; r++) hi[r - 4] = _mm256_maskload_pd(rows[r] + p, live);
    hi[2] = hi[3] = _mm256_setzero_pd();
    transpose(lo);
    transpose(hi);
    for (int j = 0; j < n; j++) {
      _mm256_storeu_pd(d + (p + j) * kRows, lo[j]);
      _mm_storeu_pd(d + (p + j) * kRows + 4, _mm256_castpd256_pd128(hi[j]));
    }
  }
}

}  // namespace kiln::cpu::avx2
#endif
