// The fused recurrent rows, backward through time, the last step first. Per step: one pass over
// the batch rows (split across threads) turns the gradients reaching the step's output and
// states into the gates' pre-activation gradients, kept for all steps (in dxProj when it is
// wanted); one GEMM of those by the kernel transposed gives the gradient reaching the previous
// h (two for GRU without reset-after, whose r sits inside the product). The kernel's gradient
// is one GEMM over all B·T rows at the end, Σ_t h_{t-1}ᵀ · dgates_t. Every sum runs in a fixed
// order, so results do not depend on the threads.
#include <algorithm>
#include <vector>

#include "recurrent.h"
#include "scratch.h"

namespace kiln::cpu {
namespace {

// The gradient reaching a state after the step: dy's slot plus what the next step passed back
// (carry, and `back` from its GEMM). A kept step hands it to the cell (dnew); a masked step
// passed the state through, so it carries on to the state before.
template <class T>
KILN_SIMD void state_head(int64_t U, bool kept, const T* dy, T* carry, const T* back, T* dnew) {
  if (kept) {
    for (int64_t j = 0; j < U; j++) {
      dnew[j] = dy[j] + carry[j] + back[j];
      carry[j] = T(0);
    }
  } else {
    for (int64_t j = 0; j < U; j++) {
      carry[j] = dy[j] + carry[j] + back[j];
      dnew[j] = T(0);
    }
  }
}

// The step's output: the new h on a kept step; else the previous output, whose gradient carries
// on (not with zero_output_for_mask, nor past t = 0, where the output is a constant).
template <class T>
KILN_SIMD void output_head(int64_t U, bool kept, bool zero, const T* dy, T* carry, T* dh) {
  if (kept) {
    for (int64_t j = 0; j < U; j++) {
      dh[j] = dh[j] + (dy[j] + carry[j]);
      carry[j] = T(0);
    }
  } else if (zero) {
    std::fill(carry, carry + U, T(0));
  } else {
    for (int64_t j = 0; j < U; j++) carry[j] = carry[j] + dy[j];
  }
}

// The LSTM cell's backward for one row: dz [4U] and the gradient reaching the previous c.
template <class T>
KILN_SIMD void lstm_back_row(int64_t U, const T* dy, const T* r, const T* cprev, const T* dh, const T* dc, T* dz, T* carry_c) {
  for (int64_t j = 0; j < U; j++) {
    const T i = r[3 * U + j], f = r[4 * U + j], g = r[5 * U + j], o = r[6 * U + j];
    const T tc = vtanh(r[2 * U + j]);
    const T dct = dc[j] + T(T(dh[j] * o) * T(T(1) - tc * tc));
    dz[j] = T(dy[3 * U + j] + dct * g) * T(i * T(T(1) - i));
    dz[U + j] = T(dy[4 * U + j] + dct * cprev[j]) * T(f * T(T(1) - f));
    dz[2 * U + j] = T(dy[5 * U + j] + dct * i) * T(T(1) - g * g);
    dz[3 * U + j] = T(dy[6 * U + j] + dh[j] * tc) * T(o * T(T(1) - o));
    carry_c[j] = carry_c[j] + dct * f;
  }
}

// The reset-after GRU cell's backward for one row: dx [3U] (xProj's), dp [3U] (h·U + bias's).
template <class T>
KILN_SIMD void gru_after_back_row(int64_t U, const T* dy, const T* r, const T* h, const T* dh, T* dx, T* dp, T* carry_h) {
  for (int64_t j = 0; j < U; j++) {
    const T zg = r[2 * U + j], rg = r[3 * U + j], hh = r[4 * U + j], inner = r[5 * U + j];
    const T dzv = T(dy[2 * U + j] + dh[j] * h[j]) - dh[j] * hh;
    const T dpre = T(dy[4 * U + j] + dh[j] * T(T(1) - zg)) * T(T(1) - hh * hh);
    const T dzp = dzv * T(zg * T(T(1) - zg));
    const T dr = T(dy[3 * U + j] + dpre * inner) * T(rg * T(T(1) - rg));
    dx[j] = dzp;
    dx[U + j] = dr;
    dx[2 * U + j] = dpre;
    dp[j] = dzp;
    dp[U + j] = dr;
    dp[2 * U + j] = dy[5 * U + j] + dpre * rg;
    carry_h[j] = carry_h[j] + dh[j] * zg;
  }
}

// The reset-before GRU cell's backward, first half: the candidate's gradients, and dz before
// z's derivative (in dp's z block until the second half).
template <class T>
KILN_SIMD void gru_before_back_head(int64_t U, const T* dy, const T* r, const T* h, const T* dh, T* dx, T* dp, T* carry_h) {
  for (int64_t j = 0; j < U; j++) {
    const T zg = r[2 * U + j], hh = r[4 * U + j];
    dp[j] = T(dy[2 * U + j] + dh[j] * h[j]) - dh[j] * hh;
    const T dpre = T(dy[4 * U + j] + dh[j] * T(T(1) - zg)) * T(T(1) - hh * hh);
    dx[2 * U + j] = dpre;
    dp[2 * U + j] = dy[5 * U + j] + dpre;
    carry_h[j] = carry_h[j] + dh[j] * zg;
  }
}

// Second half, given drh = d(r·h) from the candidate's product: r's and z's gradients, and r·h
// kept for the kernel's gradient.
template <class T>
KILN_SIMD void gru_before_back_tail(int64_t U, const T* dy, const T* r, const T* h, const T* drh, T* dx, T* dp, T* rh, T* carry_h) {
  for (int64_t j = 0; j < U; j++) {
    const T zg = r[2 * U + j], rg = r[3 * U + j];
    const T dzp = dp[j] * T(zg * T(T(1) - zg));
    const T dr = T(dy[3 * U + j] + drh[j] * h[j]) * T(rg * T(T(1) - rg));
    dx[j] = dzp;
    dx[U + j] = dr;
    dp[j] = dzp;
    dp[U + j] = dr;
    rh[j] = rg * h[j];
    carry_h[j] = carry_h[j] + drh[j] * rg;
  }
}

template <class T>
KILN_SIMD void rnn_back_row(int64_t U, const T* r, const T* dh, T* dp) {
  for (int64_t j = 0; j < U; j++) dp[j] = dh[j] * T(T(1) - r[U + j] * r[U + j]);
}

// The buffers one backward call works in: the carries between steps, the first step's h, and
// `extra` for the call's own.
template <class T>
struct Work {
  Scratch mem;
  T *carry_h, *carry_c, *carry_out, *back, *dh, *dc, *zeros, *hprev, *extra;
  Work(const Seq& q, int64_t extra_size)
      : mem(size_t(6 * q.B * q.U + q.U + q.B * q.T * q.U + extra_size) * sizeof(T)) {
    T* p = mem.as<T>();
    const int64_t n = q.B * q.U;
    std::fill(p, p + 6 * n + q.U, T(0));
    carry_h = p, carry_c = p + n, carry_out = p + 2 * n, back = p + 3 * n, dh = p + 4 * n, dc = p + 5 * n;
    zeros = p + 6 * n;
    hprev = zeros + q.U;
    extra = hprev + q.B * q.T * q.U;
  }
};

// The gradients that reach a kept step's new h (and c), for row b of step t.
template <class T>
void heads(const Seq& q, Work<T>& w, const T* dy, int64_t b, int64_t t, bool with_c) {
  const bool kept = q.kept(b, t);
  const T* d = dy + q.at(b, t);
  const int64_t o = b * q.U;
  state_head(q.U, kept, d + q.U, w.carry_h + o, w.back + o, w.dh + o);
  output_head(q.U, kept, q.zero_output_for_mask, d, w.carry_out + o, w.dh + o);
  if (with_c) state_head(q.U, kept, d + 2 * q.U, w.carry_c + o, w.zeros, w.dc + o);
}

// Every step's previous h as [B·T, U] (h0 at t = 0), for the kernel's gradient.
template <class T>
void previous_h(const Seq& q, const T* y, const T* h0, T* hprev) {
  for (int64_t b = 0; b < q.B; b++) {
    for (int64_t t = 0; t < q.T; t++) {
      const T* src = t == 0 ? h0 + b * q.U : y + q.at(b, t - 1) + q.U;
      std::copy(src, src + q.U, hprev + (b * q.T + t) * q.U);
    }
  }
}

// dh0 = what reached the initial h: the carry and the first step's product.
template <class T>
void finish_h0(const Seq& q, const Work<T>& w, const TensorRef& dh0) {
  if (!dh0.present) return;
  T* d = dh0.as<T>();
  for (int64_t i = 0; i < q.B * q.U; i++) d[i] = w.carry_h[i] + w.back[i];
}

// dKernel[:, cols] = Σ over the B·T rows of a[row]ᵀ · dp[row, cols] (a [B·T, U], dp rows G apart).
template <class T>
void kernel_grad(const Seq& q, int64_t G, const T* a, const T* dp, int64_t cols, T* dk) {
  gemm<T>(q.U, cols, q.B * q.T, a, 1, q.U, dp, G, 1, dk, G);
}

// tensors: dy, y [B, T, 7U], h0, c0 [B, U], kernel [U, 4U], mask or absent, then dxProj
// [B, T, 4U], dh0, dc0 [B, U], dKernel [U, 4U], each absent when not wanted; ints: [zeroOutputForMask].
void lstm_grad_kernel(const Call& c) {
  const char* op = "fused lstmGrad";
  expect_tensors(op, c, 10);
  const Seq q = seq_of(op, c, 1, 4, 4, 7, 5, c.ints[0] != 0);
  const int64_t U = q.U, G = 4 * U;
  expect_shape(op, c, 0, {q.B, q.T, 7 * U});
  for (int i : {2, 3}) expect_shape(op, c, i, {q.B, U});
  if (c.in(6).present) expect_shape(op, c, 6, {q.B, q.T, G});
  for (int i : {7, 8}) if (c.in(i).present) expect_shape(op, c, i, {q.B, U});
  if (c.in(9).present) expect_shape(op, c, 9, {U, G});
  with_type(c.in(0).dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (is_float_v<T>) {
      const T* dy = c.in(0).as<T>();
      const T* y = c.in(1).as<T>();
      const T* kernel = c.in(4).as<T>();
      Work<T> w(q, c.in(6).present ? 0 : q.B * q.T * G);
      T* dz = c.in(6).present ? c.in(6).as<T>() : w.extra;
      for (int64_t t = q.T - 1; t >= 0; t--) {
        const Prev<T> cp = prev_state(q, y, c.in(3).as<T>(), t, 2);
        each_row(q, G * kGateCost, [&](int64_t b) {
          heads(q, w, dy, b, t, true);
          lstm_back_row(U, dy + q.at(b, t), y + q.at(b, t), cp.row(b), w.dh + b * U, w.dc + b * U, dz + (b * q.T + t) * G,
                        w.carry_c + b * U);
        });
        gemm<T>(q.B, U, G, dz + t * G, q.T * G, 1, kernel, 1, G, w.back, U);
      }
      finish_h0(q, w, c.in(7));
      if (c.in(8).present) std::copy(w.carry_c, w.carry_c + q.B * U, c.in(8).as<T>());
      if (c.in(9).present) {
        previous_h(q, y, c.in(2).as<T>(), w.hprev);
        kernel_grad(q, G, w.hprev, dz, G, c.in(9).as<T>());
      }
    }
  });
}

// tensors: dy, y [B, T, 6U], h0 [B, U], kernel [U, 3U], mask or absent, then dxProj
// [B, T, 3U], dh0 [B, U], dKernel [U, 3U], dBias [3U], each absent when not wanted; ints:
// [resetAfter, zeroOutputForMask].
void gru_grad_kernel(const Call& c) {
  const char* op = "fused gruGrad";
  expect_tensors(op, c, 9);
  const Seq q = seq_of(op, c, 1, 3, 3, 6, 4, c.ints[1] != 0);
  const bool reset_after = c.ints[0] != 0;
  const int64_t U = q.U, G = 3 * U, BT = q.B * q.T;
  expect_shape(op, c, 0, {q.B, q.T, 6 * U});
  expect_shape(op, c, 2, {q.B, U});
  if (c.in(5).present) expect_shape(op, c, 5, {q.B, q.T, G});
  if (c.in(6).present) expect_shape(op, c, 6, {q.B, U});
  if (c.in(7).present) expect_shape(op, c, 7, {U, G});
  if (c.in(8).present) expect_shape(op, c, 8, {G});
  with_type(c.in(0).dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (is_float_v<T>) {
      const T* dy = c.in(0).as<T>();
      const T* y = c.in(1).as<T>();
      const T* h0 = c.in(2).as<T>();
      const T* kernel = c.in(3).as<T>();
      // extra: dp [B·T, 3U], dx when not wanted, and for reset-before r·h [B·T, U] and drh [B, U]
      const int64_t dx_size = c.in(5).present ? 0 : BT * G;
      Work<T> w(q, BT * G + dx_size + (reset_after ? 0 : BT * U + q.B * U));
      T* dp = w.extra;
      T* dx = c.in(5).present ? c.in(5).as<T>() : dp + BT * G;
      T* rh = dp + BT * G + dx_size;
      T* drh = rh + BT * U;
      for (int64_t t = q.T - 1; t >= 0; t--) {
        const Prev<T> h = prev_state(q, y, h0, t, 1);
        const auto at = [&](T* p, int64_t b) { return p + (b * q.T + t) * G; };
        if (reset_after) {
          each_row(q, G * kGateCost, [&](int64_t b) {
            heads(q, w, dy, b, t, false);
            gru_after_back_row(U, dy + q.at(b, t), y + q.at(b, t), h.row(b), w.dh + b * U, at(dx, b), at(dp, b), w.carry_h + b * U);
          });
          gemm<T>(q.B, U, G, dp + t * G, q.T * G, 1, kernel, 1, G, w.back, U);
          continue;
        }
        each_row(q, G * kGateCost, [&](int64_t b) {
          heads(q, w, dy, b, t, false);
          gru_before_back_head(U, dy + q.at(b, t), y + q.at(b, t), h.row(b), w.dh + b * U, at(dx, b), at(dp, b), w.carry_h + b * U);
        });
        gemm<T>(q.B, U, U, dp + t * G + 2 * U, q.T * G, 1, kernel + 2 * U, 1, G, drh, U);
        each_row(q, 2 * U * kGateCost, [&](int64_t b) {
          gru_before_back_tail(U, dy + q.at(b, t), y + q.at(b, t), h.row(b), drh + b * U, at(dx, b), at(dp, b),
                               rh + (b * q.T + t) * U, w.carry_h + b * U);
        });
        gemm<T>(q.B, U, 2 * U, dp + t * G, q.T * G, 1, kernel, 1, G, w.back, U);
      }
      finish_h0(q, w, c.in(6));
      if (c.in(7).present) {
        T* dk = c.in(7).as<T>();
        previous_h(q, y, h0, w.hprev);
        kernel_grad(q, G, w.hprev, dp, reset_after ? G : 2 * U, dk);
        if (!reset_after) kernel_grad(q, G, rh, dp + 2 * U, U, dk + 2 * U);
      }
      if (c.in(8).present) {
        T* db = c.in(8).as<T>();
        for (int64_t j = 0; j < G; j++) {
          double s = 0;
          for (int64_t i = 0; i < BT; i++) s += double(dp[i * G + j]);
          db[j] = static_cast<T>(s);
        }
      }
    }
  });
}

// tensors: dy, y [B, T, 2U], h0 [B, U], kernel [U, U], mask or absent, then dxProj [B, T, U],
// dh0 [B, U], dKernel [U, U], each absent when not wanted; ints: [zeroOutputForMask].
void simple_rnn_grad_kernel(const Call& c) {
  const char* op = "fused simpleRnnGrad";
  expect_tensors(op, c, 8);
  const Seq q = seq_of(op, c, 1, 3, 1, 2, 4, c.ints[0] != 0);
  const int64_t U = q.U;
  expect_shape(op, c, 0, {q.B, q.T, 2 * U});
  expect_shape(op, c, 2, {q.B, U});
  if (c.in(5).present) expect_shape(op, c, 5, {q.B, q.T, U});
  if (c.in(6).present) expect_shape(op, c, 6, {q.B, U});
  if (c.in(7).present) expect_shape(op, c, 7, {U, U});
  with_type(c.in(0).dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (is_float_v<T>) {
      const T* dy = c.in(0).as<T>();
      const T* y = c.in(1).as<T>();
      const T* kernel = c.in(3).as<T>();
      Work<T> w(q, c.in(5).present ? 0 : q.B * q.T * U);
      T* dp = c.in(5).present ? c.in(5).as<T>() : w.extra;
      for (int64_t t = q.T - 1; t >= 0; t--) {
        each_row(q, U * kGateCost, [&](int64_t b) {
          heads(q, w, dy, b, t, false);
          rnn_back_row(U, y + q.at(b, t), w.dh + b * U, dp + (b * q.T + t) * U);
        });
        gemm<T>(q.B, U, U, dp + t * U, q.T * U, 1, kernel, 1, U, w.back, U);
      }
      finish_h0(q, w, c.in(6));
      if (c.in(7).present) {
        previous_h(q, y, c.in(2).as<T>(), w.hprev);
        kernel_grad(q, U, w.hprev, dp, U, c.in(7).as<T>());
      }
    }
  });
}

}  // namespace

void add_recurrent_grad_rows(RowSink& sink) {
  // the outputs are the gradients, each absent when not wanted; the mask may be absent too
  sink.add(KernelRow{"fused:lstmGrad", lstm_grad_kernel, 4, true});
  sink.add(KernelRow{"fused:gruGrad", gru_grad_kernel, 4, true});
  sink.add(KernelRow{"fused:simpleRnnGrad", simple_rnn_grad_kernel, 3, true});
}

}  // namespace kiln::cpu
