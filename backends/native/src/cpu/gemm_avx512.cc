// AVX-512 micro-kernels. The whole file is compiled for AVX-512 (the pragma gives every function
// in it that target), and only called after gemm.cc has checked that the CPU has it. It includes
// nothing that defines functions shared with other files (see gemm.h).
#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")
#include <immintrin.h>

#include "gemm.h"

namespace kiln::cpu::avx512 {
namespace {

struct F32 {
  using T = float;
  using V = __m512;
  static constexpr int W = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const T* p) { return _mm512_load_ps(p); }
  static V loadu(const T* p) { return _mm512_loadu_ps(p); }
  static void storeu(T* p, V v) { _mm512_storeu_ps(p, v); }
  static V loadn(const T* p, int n) { return _mm512_maskz_loadu_ps(__mmask16((1u << n) - 1), p); }
  static void storen(T* p, V v, int n) { _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1), v); }
  static V bcast(const T* p) { return _mm512_set1_ps(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
};

struct F64 {
  using T = double;
  using V = __m512d;
  static constexpr int W = 8;
  static V zero() { return _mm512_setzero_pd(); }
  static V load(const T* p) { return _mm512_load_pd(p); }
  static V loadu(const T* p) { return _mm512_loadu_pd(p); }
  static void storeu(T* p, V v) { _mm512_storeu_pd(p, v); }
  static V loadn(const T* p, int n) { return _mm512_maskz_loadu_pd(__mmask8((1u << n) - 1), p); }
  static void storen(T* p, V v, int n) { _mm512_mask_storeu_pd(p, __mmask8((1u << n) - 1), v); }
  static V bcast(const T* p) { return _mm512_set1_pd(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
};

#include "gemm_kernel.inc"
#include "gemm_pack.inc"

}  // namespace

// 14 rows x 2 vectors: 28 of the 32 vector registers hold C, two hold a row of B, one the
// broadcast element of A; per step 2 loads and 14 broadcasts feed 28 FMAs.
// A row is done 16 vectors (a kilobyte of a row of B) at a time: half the registers, and more
// than enough independent FMA chains to cover their latency.
const MicroKernel<float> sgemm = {14, 32, tile<F32, 14, 2>, edge<F32, 14, 2>, pack_a<float, 14>, pack_b<float, 32>,
                                  row<F32, 16>, "avx512"};
const MicroKernel<double> dgemm = {14, 16, tile<F64, 14, 2>, edge<F64, 14, 2>, pack_a<double, 14>, pack_b<double, 16>,
                                   row<F64, 16>, "avx512"};

}  // namespace kiln::cpu::avx512
#endif
