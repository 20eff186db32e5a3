// The matmul row: batched products with broadcast batch dims and transpose flags that only
// change strides (gemm packs from either layout). Floats go to the packed GEMM; integers to a
// wrapping loop, since int32 products wrap modulo 2^32 as NumPy's do.
#include <algorithm>
#include <vector>

#include "ew.h"
#include "gemm.h"

namespace kiln::cpu {
namespace {

// Operand strides inside one matrix: A(i, p) = a[i*rs + p*cs], B(p, j) likewise.
struct Mat {
  int64_t rs, cs;
};

template <class T>
void int_gemm(int64_t m, int64_t n, int64_t k, const T* a, Mat am, const T* b, Mat bm, T* c) {
  parallel_elements(m, n * k, [&](int64_t lo, int64_t hi) {
    std::vector<uint32_t> row(n);
    for (int64_t i = lo; i < hi; i++) {
      std::fill(row.begin(), row.end(), 0u);
      for (int64_t p = 0; p < k; p++) {
        const uint32_t aip = static_cast<uint32_t>(a[i * am.rs + p * am.cs]);
        const T* brow = b + p * bm.rs;
        for (int64_t j = 0; j < n; j++) row[j] += aip * static_cast<uint32_t>(brow[j * bm.cs]);
      }
      for (int64_t j = 0; j < n; j++) c[i * n + j] = static_cast<T>(row[j]);
    }
  });
}

template <class T>
void product(int64_t m, int64_t n, int64_t k, const T* a, Mat am, const T* b, Mat bm, T* c) {
  if constexpr (is_float_v<T>) {
    gemm<T>(m, n, k, a, am.rs, am.cs, b, bm.rs, bm.cs, c, n);
  } else {
    int_gemm<T>(m, n, k, a, am, b, bm, c);
  }
}

// Offsets (in elements) of each batch's matrix in x, whose batch dims broadcast to out's.
void batch_offsets(const TensorRef& x, const TensorRef& out, int64_t matrix, std::vector<int64_t>& offsets) {
  const int out_batch = out.rank - 2;
  const int x_batch = x.rank - 2;
  int64_t batches = 1;
  for (int d = 0; d < out_batch; d++) batches *= out.dim(d);
  offsets.assign(batches, 0);
  int64_t stride[kMaxRank] = {0};
  int64_t s = matrix;
  for (int d = x_batch - 1; d >= 0; d--) {
    if (x.dim(d) != 1) stride[out_batch - x_batch + d] = s;
    s *= x.dim(d);
  }
  for (int64_t q = 0; q < batches; q++) {
    int64_t rem = q, off = 0;
    for (int d = out_batch - 1; d >= 0; d--) {
      off += (rem % out.dim(d)) * stride[d];
      rem /= out.dim(d);
    }
    offsets[q] = off;
  }
}

template <class T>
void matmul_run(const TensorRef& ta, const TensorRef& tb, bool trans_a, bool trans_b, const TensorRef& tout) {
  const int rank = tout.rank;
  const int64_t m = tout.dim(rank - 2);
  const int64_t n = tout.dim(rank - 1);
  const int64_t k = ta.dim(ta.rank - (trans_a ? 2 : 1));
  const Mat am = trans_a ? Mat{1, m} : Mat{k, 1};
  const Mat bm = trans_b ? Mat{1, k} : Mat{n, 1};
  const T* a = ta.as<T>();
  const T* b = tb.as<T>();
  T* c = tout.as<T>();
  const int64_t batches = tout.size / (m * n);
  if (batches == 1) return product<T>(m, n, k, a, am, b, bm, c);
  // One B for every batch and row-major A matrices back to back: that is a single product with
  // batches * m rows (a Dense layer on a sequence), which GEMM blocks and threads far better.
  if (tb.size == k * n && !trans_a && ta.size == batches * m * k) {
    return product<T>(batches * m, n, k, a, am, b, bm, c);
  }
  std::vector<int64_t> a_off, b_off;
  batch_offsets(ta, tout, m * k, a_off);
  batch_offsets(tb, tout, k * n, b_off);
  auto one = [&](int64_t q) { product<T>(m, n, k, a + a_off[q], am, b + b_off[q], bm, c + q * m * n); };
  // Small matrices: one batch per task. Large ones: batches in turn, each product threaded.
  if (m * n * k < 128 * 128 * 128) {
    parallel_elements(batches, m * n * k / 4 + 1, [&](int64_t lo, int64_t hi) {
      for (int64_t q = lo; q < hi; q++) one(q);
    });
  } else {
    for (int64_t q = 0; q < batches; q++) one(q);
  }
}

// ints: [transposeA, transposeB].
void matmul_kernel(const Call& c) {
  const TensorRef& a = c.in(0);
  const TensorRef& b = c.in(1);
  if (a.dtype != b.dtype || a.dtype != c.out().dtype) internal_error("matmul: operands and output differ in dtype");
  if (a.rank < 2 || b.rank < 2 || c.out().rank < 2) internal_error("matmul: operands must have rank >= 2");
  with_type(a.dtype, [&](auto t) { matmul_run<decltype(t)>(a, b, c.ints[0] != 0, c.ints[1] != 0, c.out()); });
}

}  // namespace

void add_matmul_rows(RowSink& sink) { sink.add("matmul", matmul_kernel); }

}  // namespace kiln::cpu
