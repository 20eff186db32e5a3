// The GEMM driver: blocking, packing and threading around the micro-kernels (BLIS's loop
// order). Compiled for the baseline ISA; only the micro-kernels are ISA-specific.
//
//   for pc over k in KC blocks:
//     for ic over m in MC blocks:      A[ic, pc] in MR-row panels (stays in L3)
//       for jc over n in NC blocks:    pack B[pc, jc] into NR-column panels (stays in L2)
//         for ir over A panels:        (in parallel) one A panel, packed at its first use,
//           for jr over B panels:      stays in L1 while B panels stream past it
//             micro-kernel: C[ir, jr] += A panel · B panel
//
// The pool gives each thread the same share of the tasks in every job, so a thread keeps its A
// panels in its own caches from one B block to the next.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ew.h"
#include "gemm.h"
#include "pack_rows.h"

namespace kiln::cpu {
namespace {

enum class Isa { Portable = 0, Avx2 = 1, Avx512 = 2 };

Isa detect() {
  Isa best = Isa::Portable;
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) best = Isa::Avx512;
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) best = Isa::Avx2;
#endif
  if (const char* env = std::getenv("KILN_GEMM_ISA")) {
    std::string want(env);
    Isa asked = want == "portable" ? Isa::Portable : want == "avx2" ? Isa::Avx2 : Isa::Avx512;
    if (asked < best) best = asked;
  }
  return best;
}

Isa isa() {
  static const Isa chosen = detect();
  return chosen;
}

template <class T>
const MicroKernel<T>& kernel_for(Isa i);

template <>
const MicroKernel<float>& kernel_for<float>(Isa i) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (i == Isa::Avx512) return avx512::sgemm;
  if (i == Isa::Avx2) return avx2::sgemm;
#endif
  return portable::sgemm;
}

template <>
const MicroKernel<double>& kernel_for<double>(Isa i) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (i == Isa::Avx512) return avx512::dgemm;
  if (i == Isa::Avx2) return avx2::dgemm;
#endif
  return portable::dgemm;
}

// Block sizes in bytes of the panels they bound: an A panel (MR x KC) well inside L1, a B block
// (KC x NC) inside L2, an A block (MC x KC) inside L3.
constexpr int64_t kKcBytes = 1536;            // KC <= 384 floats, 192 doubles: an AVX-512 A panel <= 21 KiB
constexpr int64_t kNcBlockBytes = 1 << 20;    // B block: 1 MiB
constexpr int64_t kMcBlockBytes = 4 << 20;    // A block: 4 MiB

// Rows of B per packing task: enough tasks to share the packing even when B is one panel wide.
constexpr int64_t kPackRows = 16;

// Below this many multiply-adds packing costs more than it saves.
constexpr int64_t kDirectWork = 8 * 8 * 8;
// Below this many, one thread does it all: waking the others costs more.
constexpr int64_t kSerialWork = 64 * 64 * 64;
// Likewise for one row, whose product reads every element of B once.
constexpr int64_t kSerialRow = 512 * 256;

// Packing buffers, one set per thread (a gemm inside a batched task runs on its own thread),
// kept between calls so steady-state training allocates nothing here.
struct Scratch {
  void* p = nullptr;
  size_t bytes = 0;
  void* get(size_t want) {
    if (want > bytes) {
      std::free(p);
      p = nullptr;
      if (posix_memalign(&p, 64, want) != 0) throw std::bad_alloc();
      bytes = want;
    }
    return p;
  }
  ~Scratch() { std::free(p); }
};
thread_local Scratch scratch_a, scratch_b;

int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// Tiny products: a plain triple loop, accumulating in double.
template <class T>
void direct(int64_t m, int64_t n, int64_t k, const T* a, int64_t a_rs, int64_t a_cs, const T* b, int64_t b_rs,
            int64_t b_cs, T* c, int64_t ldc) {
  for (int64_t i = 0; i < m; i++) {
    for (int64_t j = 0; j < n; j++) {
      double s = 0;
      for (int64_t p = 0; p < k; p++) s += double(a[i * a_rs + p * a_cs]) * double(b[p * b_rs + j * b_cs]);
      c[i * ldc + j] = static_cast<T>(s);
    }
  }
}

// One contiguous row times a B whose columns are contiguous (a transposed weight: Dense's dx at
// batch 1): a dot product per column, in eight lanes so that it vectorizes, streams B once.
template <class T>
KILN_SIMD void gemv_cols(int64_t n, int64_t k, const T* a, const T* b, int64_t b_col, T* c) {
  for (int64_t j = 0; j < n; j++) {
    const T* bj = b + j * b_col;
    T lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t p = 0;
    for (; p + 8 <= k; p += 8) {
      for (int q = 0; q < 8; q++) lanes[q] += a[p + q] * bj[p + q];
    }
    for (; p < k; p++) lanes[0] += a[p] * bj[p];
    T sum = 0;
    for (int q = 0; q < 8; q++) sum += lanes[q];
    c[j] = sum;
  }
}

// Runs body(i) for i in [0, n): on the pool, or inline when the product is small.
template <class F>
void tasks(bool parallel, int64_t n, F&& body) {
  if (parallel) ThreadPool::instance().run(n, body);
  else for (int64_t i = 0; i < n; i++) body(i);
}

bool may_thread(double work, double serial) {
  return work > serial && ThreadPool::instance().threads() > 1 && !ThreadPool::in_task();
}

// One row times a row-major B (batch-1 inference): streaming B once beats packing all of it into
// panels for a single row. A large B is cut into column ranges, one per thread, each a whole
// number of cache lines of C; every column's sum is the same whatever the cut.
template <class T, class Finish>
void one_row(const MicroKernel<T>& uk, int64_t n, int64_t k, const T* a, int64_t a_step, const T* b, int64_t b_row,
             T* c, Finish&& finish) {
  const bool parallel = may_thread(double(n) * double(k), kSerialRow);
  const int64_t line = 64 / int64_t(sizeof(T));
  const int64_t threads = parallel ? ThreadPool::instance().threads() : 1;
  const int64_t chunk = round_up((n + threads - 1) / threads, line);
  tasks(parallel, (n + chunk - 1) / chunk, [&](int64_t t) {
    const int64_t j = t * chunk;
    const int64_t cols = n - j < chunk ? n - j : chunk;
    uk.row(cols, k, a, a_step, b + j, b_row, c + j);
    finish(c + j, 1, cols, j);
  });
}

template <class T>
void zero(int64_t m, int64_t n, T* c, int64_t ldc) {
  for (int64_t i = 0; i < m; i++) std::memset(c + i * ldc, 0, n * sizeof(T));
}

// The blocked product (k > 0), its panels packed by pack_a_at and pack_b_at (PackA's and PackB's
// arguments less uk).
template <class T, class PackAFn, class PackBFn, class Finish>
void blocked(const MicroKernel<T>& uk, int64_t m, int64_t n, int64_t k, PackAFn&& pack_a_at, PackBFn&& pack_b_at, T* c,
             int64_t ldc, Finish&& finish) {
  const double work = double(m) * double(n) * double(k);
  const int mr = uk.mr, nr = uk.nr;
  const bool parallel = may_thread(work, kSerialWork);
  const int threads = parallel ? ThreadPool::instance().threads() : 1;

  // k in equal blocks of at most kKcBytes: 784 as 3 x 262, not 384 + 384 + 16, whose thin last
  // block would pack and rewrite all of C for little work.
  const int64_t kc_limit = kKcBytes / int64_t(sizeof(T));
  const int64_t k_blocks = (k + kc_limit - 1) / kc_limit;
  const int64_t KC = (k + k_blocks - 1) / k_blocks;
  const int64_t NC = round_up(kNcBlockBytes / (KC * int64_t(sizeof(T))), nr);
  const int64_t MC = round_up(kMcBlockBytes / (KC * int64_t(sizeof(T))), mr);
  const int64_t mc_max = round_up(m < MC ? m : MC, mr);
  const int64_t nc_max = round_up(n < NC ? n : NC, nr);
  T* pa = static_cast<T*>(scratch_a.get(mc_max * KC * sizeof(T)));
  T* pb = static_cast<T*>(scratch_b.get(nc_max * KC * sizeof(T)));

  for (int64_t pc = 0; pc < k; pc += KC) {
    const int64_t kc = k - pc < KC ? k - pc : KC;
    const bool accumulate = pc > 0;
    const bool last = pc + kc == k;
    for (int64_t ic = 0; ic < m; ic += MC) {
      const int64_t mc = m - ic < MC ? m - ic : MC;
      const int64_t a_panels = (mc + mr - 1) / mr;
      // Enough tasks to balance the threads: whole rows of tiles when there are many A panels,
      // else each row of tiles cut into groups of B panels.
      const int64_t want = 4 * int64_t(threads);
      const int64_t groups = a_panels >= want ? 1 : (want + a_panels - 1) / a_panels;
      auto pack_a = [&](int64_t q) {
        const int64_t rows = std::min<int64_t>(mc - q * mr, mr);
        pack_a_at(ic + q * mr, rows, pc, kc, pa + q * mr * kc);
      };
      // A task that has a row of tiles to itself packs its A panel just before its first use,
      // while it is hot in cache, and saves a barrier; shared panels are packed beforehand.
      const bool pack_in_task = groups == 1;
      if (!pack_in_task) tasks(parallel, a_panels, pack_a);
      for (int64_t jc = 0; jc < n; jc += NC) {
        const int64_t nc = n - jc < NC ? n - jc : NC;
        const int64_t b_panels = (nc + nr - 1) / nr;
        // In bands of rows, each across the whole block (see pack_b).
        const int64_t bands = (kc + kPackRows - 1) / kPackRows;
        tasks(parallel, bands, [&](int64_t t) {
          const int64_t p = t * kPackRows;
          pack_b_at(pc + p, std::min(kc - p, kPackRows), jc, nc, pb + p * nr, nr * kc);
        });
        const int64_t per_group = (b_panels + groups - 1) / groups;
        tasks(parallel, a_panels * groups, [&](int64_t t) {
          const int64_t qa = t / groups;
          const int64_t qb0 = (t % groups) * per_group;
          const int64_t qb1 = qb0 + per_group < b_panels ? qb0 + per_group : b_panels;
          if (pack_in_task && jc == 0) pack_a(qa);
          const int64_t i = qa * mr;
          const int64_t rows = mc - i < mr ? mc - i : mr;
          alignas(64) T edge[16 * 32];  // one tile: MR x NR is at most 16 x 32
          for (int64_t qb = qb0; qb < qb1; qb++) {
            const int64_t j = qb * nr;
            const int64_t cols = nc - j < nr ? nc - j : nr;
            T* ct = c + (ic + i) * ldc + jc + j;
            const T* ap = pa + qa * mr * kc;
            const T* bp = pb + qb * nr * kc;
            if (cols == nr) {
              if (rows == mr) uk.run(kc, ap, bp, ct, ldc, accumulate);
              else uk.edge(int(rows), kc, ap, bp, ct, ldc, accumulate);
            } else {
              // A partial tile at the right edge: compute it whole, keep what fits.
              if (rows == mr) uk.run(kc, ap, bp, edge, nr, false);
              else uk.edge(int(rows), kc, ap, bp, edge, nr, false);
              for (int64_t r = 0; r < rows; r++)
                for (int64_t s = 0; s < cols; s++)
                  ct[r * ldc + s] = accumulate ? ct[r * ldc + s] + edge[r * nr + s] : edge[r * nr + s];
            }
            if (last) finish(ct, rows, cols, jc + j);
          }
        });
      }
    }
  }
}

// Packers for operands in memory: A(i, p) = a[i*rs + p*cs], B(p, j) = b[p*rs + j*cs]. A
// row-major A (cs == 1) is transposed into its panels, which pack_rows does with vector
// shuffles, the scalar copy taking as long as the products when n is only a few panels wide.
template <class T>
auto stored_a(const MicroKernel<T>& uk, const T* a, int64_t rs, int64_t cs) {
  return [&uk, a, rs, cs, by_rows = pack_rows_for(uk)](int64_t i, int64_t rows, int64_t p, int64_t kc, T* panel) {
    if (cs != 1) return uk.pack_a(a + i * rs + p * cs, rs, cs, rows, kc, panel);
    const T* src[16];  // MR <= 16
    for (int r = 0; r < uk.mr; r++) src[r] = a + (r < rows ? i + r : i) * rs + p;
    by_rows(src, kc, panel);
    // Rows past the matrix read row i again; the panel must hold zeros there.
    for (int64_t q = 0; rows < uk.mr && q < kc; q++) std::memset(panel + q * uk.mr + rows, 0, sizeof(T) * (uk.mr - rows));
  };
}
template <class T>
auto stored_b(const MicroKernel<T>& uk, const T* b, int64_t rs, int64_t cs) {
  return [&uk, b, rs, cs](int64_t p, int64_t kc, int64_t j, int64_t cols, T* panel, int64_t stride) {
    uk.pack_b(b + p * rs + j * cs, rs, cs, cols, kc, panel, stride);
  };
}

// gemm_packed's front: nothing to do, an empty sum, or run(uk, finish) for the blocked product.
template <class T, class Run>
void packed_product(int64_t m, int64_t n, int64_t k, T* c, int64_t ldc, const Epilogue<T>& epilogue, Run&& run) {
  if (m == 0 || n == 0) return;
  auto finish = [&](T* block, int64_t rows, int64_t cols, int64_t j) {
    if (epilogue.fn) epilogue.fn(epilogue.ctx, block, ldc, rows, cols, j);
  };
  if (k == 0) {
    zero(m, n, c, ldc);
    return finish(c, m, n, 0);
  }
  run(kernel_for<T>(isa()), finish);
}

}  // namespace

template <class T>
void gemm(int64_t m, int64_t n, int64_t k, const T* a, int64_t a_rs, int64_t a_cs, const T* b, int64_t b_rs,
          int64_t b_cs, T* c, int64_t ldc, const Epilogue<T>& epilogue) {
  if (m == 0 || n == 0) return;
  auto finish = [&](T* block, int64_t rows, int64_t cols, int64_t j) {
    if (epilogue.fn) epilogue.fn(epilogue.ctx, block, ldc, rows, cols, j);
  };
  const MicroKernel<T>& uk = kernel_for<T>(isa());
  if (m == 1 && b_cs == 1 && k > 0) return one_row(uk, n, k, a, a_cs, b, b_rs, c, finish);
  const double work = double(m) * double(n) * double(k);
  const bool one_row_by_cols = m == 1 && a_cs == 1 && b_rs == 1;
  if (k == 0 || one_row_by_cols || work <= kDirectWork) {
    if (k == 0) {
      zero(m, n, c, ldc);
    } else if (one_row_by_cols) {
      gemv_cols(n, k, a, b, b_cs, c);
    } else {
      direct(m, n, k, a, a_rs, a_cs, b, b_rs, b_cs, c, ldc);
    }
    return finish(c, m, n, 0);
  }
  blocked(uk, m, n, k, stored_a(uk, a, a_rs, a_cs), stored_b(uk, b, b_rs, b_cs), c, ldc, finish);
}

template <class T>
void gemm_packed(int64_t m, int64_t n, int64_t k, const PackA<T>& a, const T* b, int64_t b_rs, int64_t b_cs, T* c,
                 int64_t ldc, const Epilogue<T>& epilogue) {
  packed_product(m, n, k, c, ldc, epilogue, [&](const MicroKernel<T>& uk, auto&& finish) {
    blocked(uk, m, n, k, [&](int64_t i, int64_t rows, int64_t p, int64_t kc, T* panel) { a.fn(a.ctx, uk, i, rows, p, kc, panel); },
            stored_b(uk, b, b_rs, b_cs), c, ldc, finish);
  });
}

template <class T>
void gemm_packed(int64_t m, int64_t n, int64_t k, const T* a, int64_t a_rs, int64_t a_cs, const PackB<T>& b, T* c,
                 int64_t ldc, const Epilogue<T>& epilogue) {
  packed_product(m, n, k, c, ldc, epilogue, [&](const MicroKernel<T>& uk, auto&& finish) {
    blocked(uk, m, n, k, stored_a(uk, a, a_rs, a_cs),
            [&](int64_t p, int64_t kc, int64_t j, int64_t cols, T* panel, int64_t stride) { b.fn(b.ctx, uk, p, kc, j, cols, panel, stride); },
            c, ldc, finish);
  });
}

template void gemm<float>(int64_t, int64_t, int64_t, const float*, int64_t, int64_t, const float*, int64_t, int64_t,
                          float*, int64_t, const Epilogue<float>&);
template void gemm<double>(int64_t, int64_t, int64_t, const double*, int64_t, int64_t, const double*, int64_t,
                           int64_t, double*, int64_t, const Epilogue<double>&);
template void gemm_packed<float>(int64_t, int64_t, int64_t, const PackA<float>&, const float*, int64_t, int64_t, float*,
                                 int64_t, const Epilogue<float>&);
template void gemm_packed<double>(int64_t, int64_t, int64_t, const PackA<double>&, const double*, int64_t, int64_t,
                                  double*, int64_t, const Epilogue<double>&);
template void gemm_packed<float>(int64_t, int64_t, int64_t, const float*, int64_t, int64_t, const PackB<float>&, float*,
                                 int64_t, const Epilogue<float>&);
template void gemm_packed<double>(int64_t, int64_t, int64_t, const double*, int64_t, int64_t, const PackB<double>&,
                                  double*, int64_t, const Epilogue<double>&);

const char* gemm_isa() { return kernel_for<float>(isa()).isa; }

}  // namespace kiln::cpu
