// pack_rows for the AVX-512 micro-kernels (14-row panels): 16×16 float and 8×8 double
// transposes in registers, rows read whole vectors at a time. Compiled for AVX-512 and only
// called after gemm.cc has found it (see pack_rows.h).
#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")
#include <immintrin.h>

#include "pack_rows.h"

namespace kiln::cpu::avx512 {
namespace {

constexpr int kRows = 14;

inline __m512 pairs_lo(__m512 a, __m512 b) { return _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b))); }
inline __m512 pairs_hi(__m512 a, __m512 b) { return _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(b))); }

// v[i] (row i) becomes column i: interleave pairs of rows, then pairs of pairs, then the
// 128-bit lanes twice.
inline void transpose(__m512 v[16]) {
  __m512 t[16], s[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(v[i], v[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(v[i], v[i + 1]);
  }
  // s[g + m], lane q: column 4q + m of rows g..g+3
  for (int g = 0; g < 16; g += 4) {
    s[g] = pairs_lo(t[g], t[g + 2]);
    s[g + 1] = pairs_hi(t[g], t[g + 2]);
    s[g + 2] = pairs_lo(t[g + 1], t[g + 3]);
    s[g + 3] = pairs_hi(t[g + 1], t[g + 3]);
  }
  for (int m = 0; m < 4; m++) {
    const __m512 a = _mm512_shuffle_f32x4(s[m], s[4 + m], 0x88), b = _mm512_shuffle_f32x4(s[m], s[4 + m], 0xdd);
    const __m512 c = _mm512_shuffle_f32x4(s[8 + m], s[12 + m], 0x88), e = _mm512_shuffle_f32x4(s[8 + m], s[12 + m], 0xdd);
    v[m] = _mm512_shuffle_f32x4(a, c, 0x88);
    v[8 + m] = _mm512_shuffle_f32x4(a, c, 0xdd);
    v[4 + m] = _mm512_shuffle_f32x4(b, e, 0x88);
    v[12 + m] = _mm512_shuffle_f32x4(b, e, 0xdd);
  }
}

inline void transpose(__m512d v[8]) {
  __m512d t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm512_unpacklo_pd(v[i], v[i + 1]);
    t[i + 1] = _mm512_unpackhi_pd(v[i], v[i + 1]);
  }
  for (int g = 0; g < 8; g += 4) {
    u[g] = _mm512_shuffle_f64x2(t[g], t[g + 2], 0x88);
    u[g + 1] = _mm512_shuffle_f64x2(t[g + 1], t[g + 3], 0x88);
    u[g + 2] = _mm512_shuffle_f64x2(t[g], t[g + 2], 0xdd);
    u[g + 3] = _mm512_shuffle_f64x2(t[g + 1], t[g + 3], 0xdd);
  }
  for (int m = 0; m < 4; m++) {
    v[m] = _mm512_shuffle_f64x2(u[m], u[4 + m], 0x88);
    v[4 + m] = _mm512_shuffle_f64x2(u[m], u[4 + m], 0xdd);
  }
}

}  // namespace

void pack_rows_14(const float* const* rows, int64_t kc, float* d) {
  const __mmask16 keep = (1u << kRows) - 1;
  for (int64_t p = 0; p < kc; p += 16) {
    const int n = kc - p < 16 ? static_cast<int>(kc - p) : 16;
    const __mmask16 live = static_cast<__mmask16>((1u << n) - 1);
    __m512 v[16];
    for (int r = 0; r < kRows; r++) v[r] = _mm512_maskz_loadu_ps(live, rows[r] + p);
    v[14] = v[15] = _mm512_setzero_ps();
    transpose(v);
    float* at = d + p * kRows;
    if (n == 16) {
      for (int j = 0; j < 16; j++) _mm512_mask_storeu_ps(at + j * kRows, keep, v[j]);
    } else {
      for (int j = 0; j < n; j++) _mm512_mask_storeu_ps(at + j * kRows, keep, v[j]);
    }
  }
}

void pack_rows_14(const double* const* rows, int64_t kc, double* d) {
  for (int64_t p = 0; p < kc; p += 8) {
    const int n = kc - p < 8 ? static_cast<int>(kc - p) : 8;
    const __mmask8 live = static_cast<__mmask8>((1u << n) - 1);
    __m512d lo[8], hi[8];
    for (int r = 0; r < 8; r++) lo[r] = _mm512_maskz_loadu_pd(live, rows[r] + p);
    for (int r = 8; r < kRows; r++) hi[r - 8] = _mm512_maskz_loadu_pd(live, rows[r] + p);
    hi[6] = hi[7] = _mm512_setzero_pd();
    transpose(lo);
    transpose(hi);
    double* at = d + p * kRows;
    for (int j = 0; j < n; j++) {
      _mm512_storeu_pd(at + j * kRows, lo[j]);
      _mm512_mask_storeu_pd(at + j * kRows + 8, 0x3f, hi[j]);
    }
  }
}

}  // namespace kiln::cpu::avx512
#endif
