// where and cast. where moves bits (only the element size matters); cast converts as a
// JavaScript typed-array store does, which is the contract's rule: float to int truncates toward
// zero (NaN to 0, out-of-range values wrap), anything to bool is != 0 (NaN included).
#include "ew.h"

namespace kiln::cpu {
namespace {

// A contiguous row; a step of 0 repeats that operand's first element (a broadcast scalar).
// Selecting with a bit mask rather than `?:` lets the compiler vectorize the loop: the
// condition is one byte wide and the values four or eight, and the branchy form stays scalar.
template <class C, class T, int SC, int SA, int SB>
KILN_SIMD void where_row(const C* c, const T* a, const T* b, T* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const T mask = T(0) - static_cast<T>(c[SC * i] != 0);
    out[i] = (a[SA * i] & mask) | (b[SB * i] & ~mask);
  }
}

template <class C, class T>
void where_steps(const C* c, int64_t sc, const T* a, int64_t sa, const T* b, int64_t sb, T* out, int64_t n) {
  const int key = (sc == 1 ? 4 : sc == 0 ? 0 : 8) + (sa == 1 ? 2 : sa == 0 ? 0 : 8) + (sb == 1 ? 1 : sb == 0 ? 0 : 8);
  switch (key) {
    case 7: return where_row<C, T, 1, 1, 1>(c, a, b, out, n);
    case 6: return where_row<C, T, 1, 1, 0>(c, a, b, out, n);
    case 5: return where_row<C, T, 1, 0, 1>(c, a, b, out, n);
    case 4: return where_row<C, T, 1, 0, 0>(c, a, b, out, n);
    case 3: return where_row<C, T, 0, 1, 1>(c, a, b, out, n);
    default: break;
  }
  for (int64_t i = 0; i < n; i++) out[i] = c[i * sc] != 0 ? a[i * sa] : b[i * sb];
}

template <class C, class T>
void where_run(const TensorRef& tc, const TensorRef& ta, const TensorRef& tb, const TensorRef& tout) {
  const C* c = tc.as<C>();
  const T* a = ta.as<T>();
  const T* b = tb.as<T>();
  T* out = tout.as<T>();
  const int64_t n = tout.size;
  if (tc.size == n && ta.size == n && tb.size == n) {
    parallel_elements(n, 1, [&](int64_t lo, int64_t hi) { where_row<C, T, 1, 1, 1>(c + lo, a + lo, b + lo, out + lo, hi - lo); });
    return;
  }
  int64_t strides[kMaxOperands][kMaxRank];
  broadcast_strides(tc, tout, strides[1]);
  broadcast_strides(ta, tout, strides[2]);
  broadcast_strides(tb, tout, strides[3]);
  const Walk w = make_walk(tout, 4, strides);
  const int64_t len = w.inner();
  const int64_t sc = w.step(1), sa = w.step(2), sb = w.step(3);
  walk_rows(w, [&](const int64_t* off) {
    where_steps(c + off[1], sc, a + off[2], sa, b + off[3], sb, out + off[0], len);
  });
}

void where_kernel(const Call& call) {
  const TensorRef& cond = call.in(0);
  const TensorRef& out = call.out();
  if (call.in(1).dtype != out.dtype || call.in(2).dtype != out.dtype) internal_error("where: branches and output differ in dtype");
  with_type(cond.dtype, [&](auto c) {
    with_bits(out.dtype, [&](auto t) { where_run<decltype(c), decltype(t)>(cond, call.in(1), call.in(2), out); });
  });
}

template <class S, class D>
inline D convert(S x) {
  if constexpr (std::is_same<D, uint8_t>::value) return x != 0;
  else if constexpr (std::is_same<D, int32_t>::value && is_float_v<S>) return to_int32(x);
  else return static_cast<D>(x);
}

template <class S, class D>
KILN_SIMD void cast_loop(const S* x, D* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = convert<S, D>(x[i]);
}

void cast_kernel(const Call& call) {
  const TensorRef& x = call.in(0);
  const TensorRef& out = call.out();
  with_type(x.dtype, [&](auto s) {
    with_type(out.dtype, [&](auto d) {
      using S = decltype(s);
      using D = decltype(d);
      const S* px = x.as<S>();
      D* po = out.as<D>();
      parallel_elements(out.size, 1, [&](int64_t lo, int64_t hi) {
        if constexpr (std::is_same<S, D>::value) std::memcpy(po + lo, px + lo, (hi - lo) * sizeof(D));
        else cast_loop<S, D>(px + lo, po + lo, hi - lo);
      });
    });
  });
}

}  // namespace

void add_select_rows(RowSink& sink) {
  sink.add("where", where_kernel);
  sink.add("cast", cast_kernel);
}

}  // namespace kiln::cpu
