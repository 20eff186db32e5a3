// The packed GEMM: C = op(A)·op(B) for float and double, cache-blocked, with a register-tiled
// micro-kernel chosen at run time by CPU detection (AVX-512, AVX2+FMA, or portable C++).
//
// This header is included by the ISA files, which are compiled for their instruction set
// (#pragma GCC target); it must therefore declare only, never define a function, or the linker
// could pick an AVX-512 copy of it for code that runs on any CPU.
#pragma once

#include <cstdint>

namespace kiln::cpu {

// A micro-kernel computes one MR x NR tile of C from packed panels over kc steps:
//   a: kc groups of MR values (column p of the A panel), b: kc groups of NR values (row p of
//   the B panel). It stores the tile at c (row stride ldc), adding to what is there when
//   `accumulate`. Panels are 64-byte aligned.
// `edge` does the same for the first `rows` < MR rows of the tile only.
// `pack_a` writes one such A panel from A(r, p) = a[r*rs + p*cs] for p < kc, zero past `rows`;
// `pack_b` rows [0, kc) of the B panels of a block `cols` wide, B(p, j) = b[p*rs + j*cs], zero
// past `cols`, panel q at panel + q * stride.
// `row` is the one-row product that batch-1 inference runs: c[j] = sum over p of a[p * a_step] *
// b[p * b_row + j] for j in [0, n), unpacked, each column's sum taken in order of p.
template <class T>
struct MicroKernel {
  int mr;
  int nr;
  void (*run)(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, bool accumulate);
  void (*edge)(int rows, int64_t kc, const T* a, const T* b, T* c, int64_t ldc, bool accumulate);
  void (*pack_a)(const T* a, int64_t rs, int64_t cs, int64_t rows, int64_t kc, T* panel);
  void (*pack_b)(const T* b, int64_t rs, int64_t cs, int64_t cols, int64_t kc, T* panel, int64_t stride);
  void (*row)(int64_t n, int64_t k, const T* a, int64_t a_step, const T* b, int64_t b_row, T* c);
  const char* isa;
};

namespace avx512 {
extern const MicroKernel<float> sgemm;
extern const MicroKernel<double> dgemm;
}  // namespace avx512
namespace avx2 {
extern const MicroKernel<float> sgemm;
extern const MicroKernel<double> dgemm;
}  // namespace avx2
namespace portable {
extern const MicroKernel<float> sgemm;
extern const MicroKernel<double> dgemm;
}  // namespace portable

// Work on each finished block of C while it is still in cache (a Dense layer's bias and
// activation): fn(ctx, c, ldc, rows, cols, j) for the rows x cols block at c, column j of C.
template <class T>
struct Epilogue {
  void (*fn)(const void* ctx, T* c, int64_t ldc, int64_t rows, int64_t cols, int64_t j) = nullptr;
  const void* ctx = nullptr;
};

// C[m, n] (row stride ldc) = A·B with A(i, p) = a[i*a_rs + p*a_cs] and B(p, j) = b[p*b_rs +
// j*b_cs]: any mix of row- and column-major operands, so transposes need no copy. Uses the
// thread pool unless called from inside a task. `epilogue`, if any, sees every block of C once,
// after its last product.
template <class T>
void gemm(int64_t m, int64_t n, int64_t k, const T* a, int64_t a_rs, int64_t a_cs, const T* b, int64_t b_rs,
          int64_t b_cs, T* c, int64_t ldc, const Epilogue<T>& epilogue = {});

// An operand that is never stored whole (a convolution's im2col matrix), packed by a function
// where gemm would pack from memory. PackA::fn writes the MR-row panel of A's rows [i, i + rows)
// and columns [p, p + kc), zero past `rows`, as uk.pack_a does. PackB::fn writes rows [p, p + kc)
// of B's columns [j, j + cols) into NR-column panels, panel q at panel + q * stride, zero past
// `cols`, as uk.pack_b does. Either runs on the pool's threads, so it must only read `ctx`.
template <class T>
struct PackA {
  void (*fn)(const void* ctx, const MicroKernel<T>& uk, int64_t i, int64_t rows, int64_t p, int64_t kc, T* panel);
  const void* ctx;
};
template <class T>
struct PackB {
  void (*fn)(const void* ctx, const MicroKernel<T>& uk, int64_t p, int64_t kc, int64_t j, int64_t cols, T* panel,
             int64_t stride);
  const void* ctx;
};

// gemm with A, or B, packed by a function: the same blocking, threads and epilogue.
template <class T>
void gemm_packed(int64_t m, int64_t n, int64_t k, const PackA<T>& a, const T* b, int64_t b_rs, int64_t b_cs, T* c,
                 int64_t ldc, const Epilogue<T>& epilogue = {});
template <class T>
void gemm_packed(int64_t m, int64_t n, int64_t k, const T* a, int64_t a_rs, int64_t a_cs, const PackB<T>& b, T* c,
                 int64_t ldc, const Epilogue<T>& epilogue = {});

// The micro-kernel family in use: "avx512", "avx2" or "portable". KILN_GEMM_ISA may ask for a
// lesser one (for tests and benchmarks), never for one the CPU lacks.
const char* gemm_isa();

}  // namespace kiln::cpu
