// The fused recurrent rows, forward: per step one GEMM of every row's previous h (read in place
// from the record) by the recurrent kernel, then one pass over the gates, split across threads
// by batch rows, that writes the step's record. GRU without reset-after needs a second GEMM, of
// r·h by the candidate's kernel block, written straight into the record. Each value is rounded
// to T where the composition stores it, so both paths agree to a few ulps.
#include <algorithm>
#include <vector>

#include "recurrent.h"
#include "scratch.h"

namespace kiln::cpu {
namespace {

// A masked step in slots 0 .. states: the previous output (zeros at t = 0 or with
// zero_output_for_mask), then the states before the step. The gates stay as computed.
template <class T>
void keep_previous(const Seq& q, T* y, int64_t b, int64_t t, std::initializer_list<const T*> prev) {
  T* r = y + q.at(b, t);
  if (q.zero_output_for_mask || t == 0) std::fill(r, r + q.U, T(0));
  else std::copy(y + q.at(b, t - 1), y + q.at(b, t - 1) + q.U, r);
  int k = 1;
  for (const T* p : prev) std::copy(p, p + q.U, r + (k++) * q.U);
}

// One row of an LSTM step from z = h·U: record slots out, h, c, i, f, g, o.
template <class T>
KILN_SIMD void lstm_row(int64_t U, const T* x, const T* z, const T* c, T* r) {
  for (int64_t j = 0; j < U; j++) {
    const T i = vsigmoid(T(x[j] + z[j]));
    const T f = vsigmoid(T(x[U + j] + z[U + j]));
    const T g = vtanh(T(x[2 * U + j] + z[2 * U + j]));
    const T o = vsigmoid(T(x[3 * U + j] + z[3 * U + j]));
    const T cn = T(f * c[j]) + T(i * g);
    const T h = o * vtanh(cn);
    r[j] = h;
    r[U + j] = h;
    r[2 * U + j] = cn;
    r[3 * U + j] = i;
    r[4 * U + j] = f;
    r[5 * U + j] = g;
    r[6 * U + j] = o;
  }
}

// One row of a reset-after GRU step from z = h·U (bias: the recurrent bias, or zeros): record
// slots out, h, z, r, hh, inner.
template <class T>
KILN_SIMD void gru_after_row(int64_t U, const T* x, const T* z, const T* bias, const T* h, T* r) {
  for (int64_t j = 0; j < U; j++) {
    const T zg = vsigmoid(T(x[j] + T(z[j] + bias[j])));
    const T rg = vsigmoid(T(x[U + j] + T(z[U + j] + bias[U + j])));
    const T inner = z[2 * U + j] + bias[2 * U + j];
    const T hh = vtanh(T(x[2 * U + j] + T(rg * inner)));
    const T hn = T(zg * h[j]) + T(T(T(1) - zg) * hh);
    r[j] = hn;
    r[U + j] = hn;
    r[2 * U + j] = zg;
    r[3 * U + j] = rg;
    r[4 * U + j] = hh;
    r[5 * U + j] = inner;
  }
}

// A reset-before GRU step's gates z and r from zr = h·U_zr, and r·h for the second product.
template <class T>
KILN_SIMD void gru_before_gates(int64_t U, const T* x, const T* zr, const T* h, T* r, T* rh) {
  for (int64_t j = 0; j < U; j++) {
    const T zg = vsigmoid(T(x[j] + zr[j]));
    const T rg = vsigmoid(T(x[U + j] + zr[U + j]));
    r[2 * U + j] = zg;
    r[3 * U + j] = rg;
    rh[j] = rg * h[j];
  }
}

// The rest of a reset-before GRU step, once inner = (r·h)·U_h is in slot 5.
template <class T>
KILN_SIMD void gru_before_row(int64_t U, const T* x, const T* h, T* r) {
  for (int64_t j = 0; j < U; j++) {
    const T zg = r[2 * U + j];
    const T hh = vtanh(T(x[2 * U + j] + r[5 * U + j]));
    const T hn = T(zg * h[j]) + T(T(T(1) - zg) * hh);
    r[j] = hn;
    r[U + j] = hn;
    r[4 * U + j] = hh;
  }
}

template <class T>
KILN_SIMD void rnn_row(int64_t U, const T* x, const T* z, T* r) {
  for (int64_t j = 0; j < U; j++) {
    const T h = vtanh(T(x[j] + z[j]));
    r[j] = h;
    r[U + j] = h;
  }
}

// tensors: xProj [B, T, 4U], h0, c0 [B, U], kernel [U, 4U], mask [B, T] or absent,
// out [B, T, 7U]; ints: [zeroOutputForMask].
void lstm_kernel(const Call& c) {
  const char* op = "fused lstm";
  expect_tensors(op, c, 6);
  const Seq q = seq_of(op, c, 0, 3, 4, 7, 4, c.ints[0] != 0);
  const int64_t U = q.U, G = 4 * U;
  for (int i : {1, 2}) expect_shape(op, c, i, {q.B, U});
  expect_shape(op, c, 0, {q.B, q.T, G});
  expect_shape(op, c, 5, {q.B, q.T, 7 * U});
  with_type(c.in(0).dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (is_float_v<T>) {
      const T* x = c.in(0).as<T>();
      const T* kernel = c.in(3).as<T>();
      T* y = c.out().as<T>();
      Scratch zs(size_t(q.B * G) * sizeof(T));
      T* z = zs.as<T>();
      for (int64_t t = 0; t < q.T; t++) {
        const Prev<T> h = prev_state(q, y, c.in(1).as<T>(), t, 1);
        const Prev<T> cp = prev_state(q, y, c.in(2).as<T>(), t, 2);
        gemm<T>(q.B, G, U, h.base, h.stride, 1, kernel, G, 1, z, G);
        each_row(q, G * kGateCost, [&](int64_t b) {
          lstm_row(U, x + (b * q.T + t) * G, z + b * G, cp.row(b), y + q.at(b, t));
          if (!q.kept(b, t)) keep_previous(q, y, b, t, {h.row(b), cp.row(b)});
        });
      }
    }
  });
}

// tensors: xProj [B, T, 3U], h0 [B, U], kernel [U, 3U], bias [3U] or absent, mask [B, T] or
// absent, out [B, T, 6U]; ints: [resetAfter, zeroOutputForMask].
void gru_kernel(const Call& c) {
  const char* op = "fused gru";
  expect_tensors(op, c, 6);
  const Seq q = seq_of(op, c, 0, 2, 3, 6, 4, c.ints[1] != 0);
  const bool reset_after = c.ints[0] != 0;
  const int64_t U = q.U, G = 3 * U;
  expect_shape(op, c, 1, {q.B, U});
  expect_shape(op, c, 0, {q.B, q.T, G});
  if (c.in(3).present) expect_shape(op, c, 3, {G});
  expect_shape(op, c, 5, {q.B, q.T, 6 * U});
  with_type(c.in(0).dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (is_float_v<T>) {
      const T* x = c.in(0).as<T>();
      const T* kernel = c.in(2).as<T>();
      T* y = c.out().as<T>();
      std::vector<T> zeros(c.in(3).present ? 0 : size_t(G), T(0));
      const T* bias = c.in(3).present ? c.in(3).as<T>() : zeros.data();
      Scratch zs(size_t(q.B * G) * sizeof(T));
      T* z = zs.as<T>();
      // reset-before: r·h, [B, U], for the candidate's product
      T* rh = z + q.B * 2 * U;
      for (int64_t t = 0; t < q.T; t++) {
        const Prev<T> h = prev_state(q, y, c.in(1).as<T>(), t, 1);
        const auto finish = [&](int64_t b) {
          if (!q.kept(b, t)) keep_previous(q, y, b, t, {h.row(b)});
        };
        if (reset_after) {
          gemm<T>(q.B, G, U, h.base, h.stride, 1, kernel, G, 1, z, G);
          each_row(q, G * kGateCost, [&](int64_t b) {
            gru_after_row(U, x + (b * q.T + t) * G, z + b * G, bias, h.row(b), y + q.at(b, t));
            finish(b);
          });
          continue;
        }
        gemm<T>(q.B, 2 * U, U, h.base, h.stride, 1, kernel, G, 1, z, 2 * U);
        each_row(q, 2 * U * kGateCost, [&](int64_t b) {
          gru_before_gates(U, x + (b * q.T + t) * G, z + b * 2 * U, h.row(b), y + q.at(b, t), rh + b * U);
        });
        gemm<T>(q.B, U, U, rh, U, 1, kernel + 2 * U, G, 1, y + q.at(0, t) + 5 * U, q.row_stride());
        each_row(q, U * kGateCost, [&](int64_t b) {
          gru_before_row(U, x + (b * q.T + t) * G, h.row(b), y + q.at(b, t));
          finish(b);
        });
      }
    }
  });
}

// tensors: xProj [B, T, U], h0 [B, U], kernel [U, U], mask [B, T] or absent, out [B, T, 2U];
// ints: [zeroOutputForMask].
void simple_rnn_kernel(const Call& c) {
  const char* op = "fused simpleRnn";
  expect_tensors(op, c, 5);
  const Seq q = seq_of(op, c, 0, 2, 1, 2, 3, c.ints[0] != 0);
  const int64_t U = q.U;
  expect_shape(op, c, 1, {q.B, U});
  expect_shape(op, c, 0, {q.B, q.T, U});
  expect_shape(op, c, 4, {q.B, q.T, 2 * U});
  with_type(c.in(0).dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (is_float_v<T>) {
      const T* x = c.in(0).as<T>();
      const T* kernel = c.in(2).as<T>();
      T* y = c.out().as<T>();
      Scratch zs(size_t(q.B * U) * sizeof(T));
      T* z = zs.as<T>();
      for (int64_t t = 0; t < q.T; t++) {
        const Prev<T> h = prev_state(q, y, c.in(1).as<T>(), t, 1);
        gemm<T>(q.B, U, U, h.base, h.stride, 1, kernel, U, 1, z, U);
        each_row(q, U * kGateCost, [&](int64_t b) {
          rnn_row(U, x + (b * q.T + t) * U, z + b * U, y + q.at(b, t));
          if (!q.kept(b, t)) keep_previous(q, y, b, t, {h.row(b)});
        });
      }
    }
  });
}

}  // namespace

void add_recurrent_grad_rows(RowSink& sink);

void add_recurrent_rows(RowSink& sink) {
  // one output; the mask and GRU's bias may be absent
  sink.add(KernelRow{"fused:lstm", lstm_kernel, 1, true});
  sink.add(KernelRow{"fused:gru", gru_kernel, 1, true});
  sink.add(KernelRow{"fused:simpleRnn", simple_rnn_kernel, 1, true});
  add_recurrent_grad_rows(sink);
}

}  // namespace kiln::cpu
