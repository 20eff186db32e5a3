// The fused attention rows: scaled dot-product attention over q [B, T, N, H], k and v [B, S, K, H]
// and an optional bool mask [Bm, Nm, T, S], and its gradient. Work is split over batch × heads
// and blocks of kRowBlock query rows; a block's logits [rows, S] are one GEMM (q rows read in
// place through their stride, against the key head transposed once per task), softmaxed in place
// and multiplied by v in a second GEMM, so no more than a block of the [B, N, T, S]
// probabilities ever exists. The backward pass recomputes each block's probabilities instead of
// storing them.
//
// Values follow kiln's composition (src/fused/attention.ts): logits rounded to T, then scaled,
// masked to ATTENTION_MASKED_LOGIT, max-shifted, exponentiated and divided by their sum (taken
// in double). Each task writes only its own rows of the outputs (the backward pass's tasks own a
// key head, summing dk and dv over its query heads in order), so results do not depend on timing.
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "ew.h"
#include "gemm.h"
#include "vmath.h"

namespace kiln::cpu {
namespace {

// ATTENTION_MASKED_LOGIT in backends/contract.ts: Keras's large finite negative.
constexpr double kMaskedLogit = -0.7 * 3.38953e38;
// Query rows per block: a block's logits, probabilities and their gradient stay in L2 for S of a
// few thousand, and T = 64 already makes two blocks per head for the threads to share.
constexpr int64_t kRowBlock = 32;

struct Attention {
  int64_t B, T, N, H, S, K, G;
  int64_t Bm = 0, Nm = 0;
  const uint8_t* mask = nullptr;
  bool causal;
  double scale;

  int64_t blocks() const { return (T + kRowBlock - 1) / kRowBlock; }
  // Offset of query t's row in head n: q, dq, y, dy (rows of one head are N·H apart).
  int64_t q_at(int64_t b, int64_t t, int64_t n) const { return ((b * T + t) * N + n) * H; }
  // Offset of key 0's row in key head kh: k, v, dk, dv (rows K·H apart).
  int64_t k_at(int64_t b, int64_t kh) const { return (b * S * K + kh) * H; }
  // The keys [0, span) that some query of rows [t0, t0 + rows) may see: causal without a mask
  // hides the rest from all of them (they are never computed); a mask may hide every key of a
  // row, which then averages all S values, so with a mask the span is S.
  int64_t span(int64_t t0, int64_t rows) const { return causal && !mask && t0 + rows < S ? t0 + rows : S; }
  // Sets row[s] = value for every key s < len that query t of head n may not see.
  template <class V>
  void mask_row(int64_t b, int64_t n, int64_t t, V* row, int64_t len, V value) const {
    if (mask) {
      const uint8_t* m = mask + (((Bm == 1 ? 0 : b) * Nm + (Nm == 1 ? 0 : n)) * T + t) * S;
      for (int64_t s = 0; s < len; s++) row[s] = m[s] ? row[s] : value;
    }
    if (causal) {
      for (int64_t s = t + 1; s < len; s++) row[s] = value;
    }
  }
};

// The call's sizes from q (tensor qi) [B, T, N, H] and k (qi + 1) [B, S, K, H], checked: the
// tensors `like_q` and `like_k` (when present) shaped as those, one float dtype, the mask's form.
Attention decode(const char* op, const Call& c, int qi, int mask_index, std::initializer_list<int> like_q, std::initializer_list<int> like_k) {
  const TensorRef& q = c.in(qi);
  const TensorRef& k = c.in(qi + 1);
  if (q.rank != 4 || k.rank != 4) internal_error(std::string(op) + ": q and k must have rank 4");
  Attention a{q.dim(0), q.dim(1), q.dim(2), q.dim(3), k.dim(1), k.dim(2), 0};
  if (a.K < 1 || a.N % a.K != 0 || k.dim(0) != a.B || k.dim(3) != a.H) internal_error(std::string(op) + ": q and k do not match");
  a.G = a.N / a.K;
  const DType d = q.dtype;
  if (d != DType::Float32 && d != DType::Float64) internal_error(std::string(op) + ": not a float dtype");
  for (int i : like_q) {
    if (c.in(i).present) expect_shape(op, c, i, {a.B, a.T, a.N, a.H});
    if (c.in(i).present && c.in(i).dtype != d) internal_error(std::string(op) + ": tensors of different dtypes");
  }
  for (int i : like_k) {
    if (c.in(i).present) expect_shape(op, c, i, {a.B, a.S, a.K, a.H});
    if (c.in(i).present && c.in(i).dtype != d) internal_error(std::string(op) + ": tensors of different dtypes");
  }
  const TensorRef& m = c.in(mask_index);
  if (m.present) {
    if (m.dtype != DType::Bool || m.rank != 4) internal_error(std::string(op) + ": the mask must be bool [Bm, Nm, T, S]");
    a.Bm = m.dim(0);
    a.Nm = m.dim(1);
    if ((a.Bm != 1 && a.Bm != a.B) || (a.Nm != 1 && a.Nm != a.N) || m.dim(2) != a.T || m.dim(3) != a.S) {
      internal_error(std::string(op) + ": the mask is misshapen");
    }
    a.mask = m.as<uint8_t>();
  }
  if (c.num_ints < 1) internal_error(std::string(op) + ": no causal flag");
  a.causal = c.ints[0] != 0;
  a.scale = c.float_attr(0);
  return a;
}

template <class T>
KILN_SIMD void scale_row(T* l, T scale, int64_t n) {
  for (int64_t i = 0; i < n; i++) l[i] = l[i] * scale;
}

template <class T>
KILN_SIMD void exp_shifted(T* l, T m, int64_t n) {
  for (int64_t i = 0; i < n; i++) l[i] = vexp(l[i] - m);
}

template <class T>
KILN_SIMD double row_sum(const T* x, int64_t n) {
  double lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; j++) lanes[j] += double(x[i + j]);
  }
  for (; i < n; i++) lanes[0] += double(x[i]);
  double s = 0;
  for (double v : lanes) s += v;
  return s;
}

template <class T>
KILN_SIMD void divide_row(T* l, T s, int64_t n) {
  for (int64_t i = 0; i < n; i++) l[i] = l[i] / s;
}

// Σ_h a[h]·b[h] in double.
template <class T>
KILN_SIMD double dot(const T* a, const T* b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += double(a[i]) * double(b[i]);
  return s;
}

// dS = P ∘ (dP - d) · scale, dP given in dS.
template <class T>
KILN_SIMD void softmax_grad_row(const T* p, T d, T scale, T* dS, int64_t n) {
  for (int64_t i = 0; i < n; i++) dS[i] = T(p[i] * (dS[i] - d)) * scale;
}

template <class T>
KILN_SIMD void add_into(T* acc, const T* x, int64_t n) {
  for (int64_t i = 0; i < n; i++) acc[i] += x[i];
}

// Row t of head n's logits (scaled) over keys [0, len) made its softmax, in place. A NaN logit
// is passed over by the max but turns the row NaN through its exp, as in the softmax kernel.
template <class T>
void softmax_row(const Attention& a, int64_t b, int64_t n, int64_t t, T* l, int64_t len) {
  scale_row(l, T(a.scale), len);
  a.mask_row(b, n, t, l, len, T(kMaskedLogit));
  T m = l[0];
  for (int64_t s = 1; s < len; s++) m = l[s] > m ? l[s] : m;
  exp_shifted(l, m, len);
  divide_row(l, T(row_sum(l, len)), len);
}

// A key or value head [S, H] (rows K·H apart) as [H, S]: the GEMM packs a row-major right
// operand with contiguous copies, where the head as it lies would be gathered column by column.
template <class T>
void transpose_head(const Attention& a, const T* x, T* out) {
  for (int64_t s = 0; s < a.S; s++) {
    const T* row = x + s * a.K * a.H;
    for (int64_t h = 0; h < a.H; h++) out[h * a.S + s] = row[h];
  }
}

// P [rows, span] (row stride S): the probabilities of query rows [t0, t0 + rows) of head n over
// keys [0, span), kT its key head [H, S].
template <class T>
void probabilities(const Attention& a, const T* q, const T* kT, int64_t b, int64_t n, int64_t t0, int64_t rows, int64_t span, T* P) {
  gemm<T>(rows, span, a.H, q + a.q_at(b, t0, n), a.N * a.H, 1, kT, a.S, 1, P, a.S);
  for (int64_t r = 0; r < rows; r++) softmax_row(a, b, n, t0 + r, P + r * a.S, span);
}

// task(i) for i in [0, count) on the pool; one task runs on the caller, so its GEMMs may thread.
template <class F>
void each_task(int64_t count, F&& task) {
  if (count == 1) task(0);
  else ThreadPool::instance().run(count, task);
}

// tensors: q, k, v, mask (or absent), out [B, T, N, H]. ints: [causal]. floats: [scale].
void attention_kernel(const Call& c) {
  const char* op = "fused attention";
  expect_tensors(op, c, 5);
  const Attention a = decode(op, c, 0, 3, {4}, {2});
  with_type(c.in(0).dtype, [&](auto z) {
    using T = decltype(z);
    if constexpr (is_float_v<T>) {
      const T* q = c.in(0).as<T>();
      const T* k = c.in(1).as<T>();
      const T* v = c.in(2).as<T>();
      T* out = c.out().as<T>();
      each_task(a.B * a.N * a.blocks(), [&](int64_t i) {
        const int64_t b = i / (a.N * a.blocks()), n = i / a.blocks() % a.N, t0 = i % a.blocks() * kRowBlock;
        const int64_t rows = a.T - t0 < kRowBlock ? a.T - t0 : kRowBlock;
        std::vector<T> P(static_cast<size_t>(rows * a.S)), kT(static_cast<size_t>(a.S * a.H));
        transpose_head(a, k + a.k_at(b, n / a.G), kT.data());
        const int64_t span = a.span(t0, rows);
        probabilities(a, q, kT.data(), b, n, t0, rows, span, P.data());
        gemm<T>(rows, a.H, span, P.data(), a.S, 1, v + a.k_at(b, n / a.G), a.K * a.H, 1, out + a.q_at(b, t0, n), a.N * a.H);
      });
    }
  });
}

// tensors: dy, y, q, k, v, mask (or absent), dq, dk, dv (each absent when not wanted).
// ints: [causal]. floats: [scale].
void attention_grad_kernel(const Call& c) {
  const char* op = "fused attentionGrad";
  expect_tensors(op, c, 9);
  const Attention a = decode(op, c, 2, 5, {0, 1, 6}, {4, 7, 8});
  expect_shape(op, c, 0, {a.B, a.T, a.N, a.H});
  expect_shape(op, c, 1, {a.B, a.T, a.N, a.H});
  with_type(c.in(0).dtype, [&](auto z) {
    using T = decltype(z);
    if constexpr (is_float_v<T>) {
      const T* dy = c.in(0).as<T>();
      const T* y = c.in(1).as<T>();
      const T* q = c.in(2).as<T>();
      const T* k = c.in(3).as<T>();
      const T* v = c.in(4).as<T>();
      T* dq = c.in(6).present ? c.in(6).as<T>() : nullptr;
      T* dk = c.in(7).present ? c.in(7).as<T>() : nullptr;
      T* dv = c.in(8).present ? c.in(8).as<T>() : nullptr;
      const int64_t SH = a.S * a.H, NH = a.N * a.H, KH = a.K * a.H;
      // one task per batch and key head: it alone sums that head's dk and dv
      each_task(a.B * a.K, [&](int64_t i) {
        const int64_t b = i / a.K, kh = i % a.K;
        const T* kb = k + a.k_at(b, kh);
        const T* vb = v + a.k_at(b, kh);
        std::vector<T> P(static_cast<size_t>(kRowBlock * a.S)), dS(P.size());
        std::vector<T> dk_sum(static_cast<size_t>(dk ? SH : 0), T(0)), dv_sum(static_cast<size_t>(dv ? SH : 0), T(0));
        std::vector<T> part(static_cast<size_t>(dk || dv ? SH : 0)), kT(static_cast<size_t>(SH)), vT(static_cast<size_t>(SH));
        transpose_head(a, kb, kT.data());
        transpose_head(a, vb, vT.data());
        for (int64_t n = kh * a.G; n < (kh + 1) * a.G; n++) {
          for (int64_t t0 = 0; t0 < a.T; t0 += kRowBlock) {
            const int64_t rows = a.T - t0 < kRowBlock ? a.T - t0 : kRowBlock;
            const int64_t at = a.q_at(b, t0, n);
            const int64_t span = a.span(t0, rows);
            probabilities(a, q, kT.data(), b, n, t0, rows, span, P.data());
            if (dv) {
              // dv += Pᵀ · dy over the keys the block sees
              gemm<T>(span, a.H, rows, P.data(), 1, a.S, dy + at, NH, 1, part.data(), a.H);
              add_into(dv_sum.data(), part.data(), span * a.H);
            }
            if (!dq && !dk) continue;
            // dP = dy · vᵀ, then dS = P ∘ (dP - Σ_h dy·y) · scale, 0 where masked
            gemm<T>(rows, span, a.H, dy + at, NH, 1, vT.data(), a.S, 1, dS.data(), a.S);
            for (int64_t r = 0; r < rows; r++) {
              T* row = dS.data() + r * a.S;
              softmax_grad_row(P.data() + r * a.S, T(dot(dy + at + r * NH, y + at + r * NH, a.H)), T(a.scale), row, span);
              a.mask_row(b, n, t0 + r, row, span, T(0));
            }
            if (dq) gemm<T>(rows, a.H, span, dS.data(), a.S, 1, kb, KH, 1, dq + at, NH);
            if (dk) {
              // dk += dSᵀ · q
              gemm<T>(span, a.H, rows, dS.data(), 1, a.S, q + at, NH, 1, part.data(), a.H);
              add_into(dk_sum.data(), part.data(), span * a.H);
            }
          }
        }
        for (int64_t s = 0; s < a.S; s++) {
          if (dk) std::memcpy(dk + a.k_at(b, kh) + s * KH, dk_sum.data() + s * a.H, sizeof(T) * a.H);
          if (dv) std::memcpy(dv + a.k_at(b, kh) + s * KH, dv_sum.data() + s * a.H, sizeof(T) * a.H);
        }
      });
    }
  });
}

}  // namespace

void add_attention_rows(RowSink& sink) {
  // outputs, and whether tensors may be absent (the mask; unwanted gradients)
  sink.add(KernelRow{"fused:attention", attention_kernel, 1, true});
  sink.add(KernelRow{"fused:attentionGrad", attention_grad_kernel, 3, true});
}

}  // namespace kiln::cpu
