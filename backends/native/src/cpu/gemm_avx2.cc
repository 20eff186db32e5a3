// AVX2+FMA micro-kernels, compiled for that target only (see gemm_avx512.cc).
#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC target("avx2,fma")
#include <immintrin.h>

#include "gemm.h"

namespace kiln::cpu::avx2 {
namespace {

struct F32 {
  using T = float;
  using V = __m256;
  static constexpr int W = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const T* p) { return _mm256_load_ps(p); }
  static V loadu(const T* p) { return _mm256_loadu_ps(p); }
  static void storeu(T* p, V v) { _mm256_storeu_ps(p, v); }
  static __m256i mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static V loadn(const T* p, int n) { return _mm256_maskload_ps(p, mask(n)); }
  static void storen(T* p, V v, int n) { _mm256_maskstore_ps(p, mask(n), v); }
  static V bcast(const T* p) { return _mm256_broadcast_ss(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
};

struct F64 {
  using T = double;
  using V = __m256d;
  static constexpr int W = 4;
  static V zero() { return _mm256_setzero_pd(); }
  static V load(const T* p) { return _mm256_load_pd(p); }
  static V loadu(const T* p) { return _mm256_loadu_pd(p); }
  static void storeu(T* p, V v) { _mm256_storeu_pd(p, v); }
  static __m256i mask(int n) { return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3)); }
  static V loadn(const T* p, int n) { return _mm256_maskload_pd(p, mask(n)); }
  static void storen(T* p, V v, int n) { _mm256_maskstore_pd(p, mask(n), v); }
  static V bcast(const T* p) { return _mm256_broadcast_sd(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
};

#include "gemm_kernel.inc"
#include "gemm_pack.inc"

}  // namespace

// 6 rows x 2 vectors: 12 of the 16 vector registers hold C. A row is done 8 vectors at a time.
const MicroKernel<float> sgemm = {6, 16, tile<F32, 6, 2>, edge<F32, 6, 2>, pack_a<float, 6>, pack_b<float, 16>,
                                  row<F32, 8>, "avx2"};
const MicroKernel<double> dgemm = {6, 8, tile<F64, 6, 2>, edge<F64, 6, 2>, pack_a<double, 6>, pack_b<double, 8>,
                                   row<F64, 8>, "avx2"};

}  // namespace kiln::cpu::avx2
#endif
