// The binary family: one row per op, NumPy broadcasting. Same-shape, scalar and row- or
// column-broadcast operands all end in one tight loop over a contiguous row (the broadcast
// walk merges whatever dims it can), compiled for AVX2 and the baseline.
#include "ew.h"

namespace kiln::cpu {
namespace {

enum class B { Add, Sub, Mul, Div, Pow, Max, Min, Mod, FloorDiv, Eq, Less, LessEq };

constexpr bool is_comparison(B op) { return op == B::Eq || op == B::Less || op == B::LessEq; }

// ---------------------------------------------------------------------------------------------
// Floats. add/sub/mul/div in float32 round exactly as the reference's double-then-round does;
// pow, mod and floorDiv are computed in double, as there.

// Math.max: NaN wins, and +0 beats -0.
template <class T>
inline T js_max(T a, T b) {
  if (a != a || b != b) return a + b;
  if (a == b) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}

template <class T>
inline T js_min(T a, T b) {
  if (a != a || b != b) return a + b;
  if (a == b) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}

// Python's remainder: fmod, moved by one divisor when the signs differ.
inline double float_mod(double a, double b) {
  double r = std::fmod(a, b);
  if (r == 0) return b < 0 ? -0.0 : 0.0;
  return (r < 0) != (b < 0) ? r + b : r;
}

// NumPy's floor_divide: (a - fmod(a, b)) / b is within rounding of an integer, which
// floor(a / b) is not (floor(1 / 0.1) would be 10).
inline double float_floor_div(double a, double b) {
  if (b == 0) return a / b;
  double mod = std::fmod(a, b);
  double div = (a - mod) / b;
  if (mod != 0 && (mod < 0) != (b < 0)) div -= 1;
  if (div == 0) {
    double q = a / b;
    return q < 0 || (q == 0 && std::signbit(q)) ? -0.0 : 0.0;
  }
  double fl = std::floor(div);
  return div - fl > 0.5 ? fl + 1 : fl;
}

template <B op, class T>
inline auto float_op(T a, T b) {
  if constexpr (op == B::Add) return a + b;
  else if constexpr (op == B::Sub) return a - b;
  else if constexpr (op == B::Mul) return a * b;
  else if constexpr (op == B::Div) return a / b;
  // C's pow, as NumPy's: pow(1, NaN) = 1 and pow(-1, ±inf) = 1, where JavaScript gives NaN.
  else if constexpr (op == B::Pow) return static_cast<T>(std::pow(double(a), double(b)));
  else if constexpr (op == B::Max) return js_max(a, b);
  else if constexpr (op == B::Min) return js_min(a, b);
  else if constexpr (op == B::Mod) return static_cast<T>(float_mod(a, b));
  else if constexpr (op == B::FloorDiv) return static_cast<T>(float_floor_div(a, b));
  else if constexpr (op == B::Eq) return uint8_t(a == b);
  else if constexpr (op == B::Less) return uint8_t(a < b);
  else return uint8_t(a <= b);
}

// ---------------------------------------------------------------------------------------------
// Integers (int32, and bool as int32). add/sub/mul wrap modulo 2^32 (unsigned arithmetic: signed
// overflow is undefined in C++); division by zero gives 0, as NumPy does; div stays true
// division, truncated on store.

// Wrapping power by squaring; negative powers are the real power truncated toward zero.
inline int32_t int_pow(int32_t base, int32_t exp) {
  if (exp < 0) return base == 1 ? 1 : base == -1 ? (exp % 2 == 0 ? 1 : -1) : 0;
  uint32_t result = 1;
  uint32_t b = static_cast<uint32_t>(base);
  for (uint32_t e = static_cast<uint32_t>(exp); e > 0; e >>= 1) {
    if (e & 1) result *= b;
    b *= b;
  }
  return static_cast<int32_t>(result);
}

inline int32_t int_mod(int32_t a, int32_t b) {
  if (b == 0) return 0;
  int64_t r = int64_t{a} % b;  // in 64 bits: INT32_MIN % -1 overflows in 32
  return static_cast<int32_t>(r != 0 && (r < 0) != (b < 0) ? r + b : r);
}

template <B op, class T>
inline auto int_op(T at, T bt) {
  int32_t a = at;
  int32_t b = bt;
  uint32_t ua = static_cast<uint32_t>(a);
  uint32_t ub = static_cast<uint32_t>(b);
  if constexpr (op == B::Add) return static_cast<int32_t>(ua + ub);
  else if constexpr (op == B::Sub) return static_cast<int32_t>(ua - ub);
  else if constexpr (op == B::Mul) return static_cast<int32_t>(ua * ub);
  else if constexpr (op == B::Div) return double(a) / double(b);
  else if constexpr (op == B::Pow) return int_pow(a, b);
  else if constexpr (op == B::Max) return a > b ? a : b;
  else if constexpr (op == B::Min) return a < b ? a : b;
  else if constexpr (op == B::Mod) return int_mod(a, b);
  else if constexpr (op == B::FloorDiv) return b == 0 ? 0.0 : std::floor(double(a) / double(b));
  else if constexpr (op == B::Eq) return uint8_t(a == b);
  else if constexpr (op == B::Less) return uint8_t(a < b);
  else return uint8_t(a <= b);
}

// The result into the output's type: doubles as JavaScript stores them, integers by wrapping.
template <class O, class R>
inline O narrow(R r) {
  if constexpr (std::is_same<R, double>::value) return store<O>(r);
  else return static_cast<O>(r);
}

template <B op, class T, class O>
inline O apply(T a, T b) {
  if constexpr (is_float_v<T>) return narrow<O>(float_op<op>(a, b));
  else return narrow<O>(int_op<op>(a, b));
}

// Worth an AVX2 copy: ops that are a few vector instructions.
template <B op, class T>
constexpr bool vectorizes = !(op == B::Pow || op == B::Mod || op == B::FloorDiv || (op == B::Div && !is_float_v<T>));

// A contiguous row; SA/SB = 0 repeats that operand's first element (a broadcast scalar).
template <B op, class T, class O, int SA, int SB>
KILN_SIMD void simd_row(const T* a, const T* b, O* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = apply<op, T, O>(a[SA * i], b[SB * i]);
}

template <B op, class T, class O, int SA, int SB>
void scalar_row(const T* a, const T* b, O* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = apply<op, T, O>(a[SA * i], b[SB * i]);
}

template <B op, class T, class O, int SA, int SB>
inline void row(const T* a, const T* b, O* out, int64_t n) {
  if constexpr (vectorizes<op, T>) simd_row<op, T, O, SA, SB>(a, b, out, n);
  else scalar_row<op, T, O, SA, SB>(a, b, out, n);
}

template <B op, class T, class O>
void run(const TensorRef& ta, const TensorRef& tb, const TensorRef& tout) {
  const T* a = ta.as<T>();
  const T* b = tb.as<T>();
  O* out = tout.as<O>();
  const int64_t n = tout.size;
  // An input as large as out, broadcasting to it, has out's layout: only size-1 dims differ.
  if (ta.size == n && tb.size == n) {
    parallel_elements(n, 1, [&](int64_t lo, int64_t hi) { row<op, T, O, 1, 1>(a + lo, b + lo, out + lo, hi - lo); });
  } else if (ta.size == 1 && tb.size == n) {
    parallel_elements(n, 1, [&](int64_t lo, int64_t hi) { row<op, T, O, 0, 1>(a, b + lo, out + lo, hi - lo); });
  } else if (tb.size == 1 && ta.size == n) {
    parallel_elements(n, 1, [&](int64_t lo, int64_t hi) { row<op, T, O, 1, 0>(a + lo, b, out + lo, hi - lo); });
  } else {
    int64_t strides[kMaxOperands][kMaxRank];
    broadcast_strides(ta, tout, strides[1]);
    broadcast_strides(tb, tout, strides[2]);
    const Walk w = make_walk(tout, 3, strides);
    const int64_t len = w.inner();
    const int64_t sa = w.step(1);
    const int64_t sb = w.step(2);
    walk_rows(w, [&](const int64_t* off) {
      const T* ra = a + off[1];
      const T* rb = b + off[2];
      O* ro = out + off[0];
      if (sa == 1 && sb == 1) row<op, T, O, 1, 1>(ra, rb, ro, len);
      else if (sa == 1 && sb == 0) row<op, T, O, 1, 0>(ra, rb, ro, len);
      else if (sa == 0 && sb == 1) row<op, T, O, 0, 1>(ra, rb, ro, len);
      else for (int64_t i = 0; i < len; i++) ro[i] = apply<op, T, O>(ra[i * sa], rb[i * sb]);
    });
  }
}

template <B op>
void binary_kernel(const Call& c) {
  const TensorRef& a = c.in(0);
  const TensorRef& b = c.in(1);
  const TensorRef& out = c.out();
  if (a.dtype != b.dtype) internal_error("binary: operands of different dtypes");
  with_type(a.dtype, [&](auto t) {
    using T = decltype(t);
    using O = typename std::conditional<is_comparison(op), uint8_t, T>::type;
    if (out.dtype != (is_comparison(op) ? DType::Bool : a.dtype)) internal_error("binary: unexpected output dtype");
    run<op, T, O>(a, b, out);
  });
}

}  // namespace

void add_binary_rows(RowSink& sink) {
  sink.add("binary:add", binary_kernel<B::Add>);
  sink.add("binary:sub", binary_kernel<B::Sub>);
  sink.add("binary:mul", binary_kernel<B::Mul>);
  sink.add("binary:div", binary_kernel<B::Div>);
  sink.add("binary:pow", binary_kernel<B::Pow>);
  sink.add("binary:maximum", binary_kernel<B::Max>);
  sink.add("binary:minimum", binary_kernel<B::Min>);
  sink.add("binary:mod", binary_kernel<B::Mod>);
  sink.add("binary:floorDiv", binary_kernel<B::FloorDiv>);
  sink.add("binary:equal", binary_kernel<B::Eq>);
  sink.add("binary:less", binary_kernel<B::Less>);
  sink.add("binary:lessEqual", binary_kernel<B::LessEq>);
}

}  // namespace kiln::cpu
