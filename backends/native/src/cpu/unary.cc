// The unary family: one row per op. Floats compute in their own type; integers and bools compute
// in double and store as JavaScript would, which is what the reference backend does. exp, expm1,
// log, log1p, tanh and erf come from vmath.h, within 2 ulp of the true value for float and double
// alike: far inside the conformance tolerances (relative 1e-5 and 1e-12), and they vectorize.
// sin and cos stay libm's.
#include "ew.h"
#include "vmath.h"

namespace kiln::cpu {
namespace {

enum class U { Neg, Abs, Sqrt, Exp, Expm1, Log, Log1p, Sin, Cos, Tanh, Erf, Floor, Round };

template <U op, class T>
inline T apply(T x) {
  if constexpr (op == U::Neg) return -x;
  else if constexpr (op == U::Abs) return std::fabs(x);
  else if constexpr (op == U::Sqrt) return std::sqrt(x);
  else if constexpr (op == U::Exp) return vexp(x);
  else if constexpr (op == U::Expm1) return vexpm1(x);
  else if constexpr (op == U::Log) return vlog(x);
  else if constexpr (op == U::Log1p) return vlog1p(x);
  else if constexpr (op == U::Sin) return std::sin(x);
  else if constexpr (op == U::Cos) return std::cos(x);
  else if constexpr (op == U::Tanh) return vtanh(x);
  else if constexpr (op == U::Erf) return verf(x);
  else if constexpr (op == U::Floor) return std::floor(x);
  // Round half to even: nearbyint rounds in the current mode, which is to nearest-even (kiln
  // never changes it), and never raises inexact.
  else return std::nearbyint(x);
}

// sin and cos call libm per element; every other op is branch-free and vectorizes.
template <U op>
constexpr bool vectorizes = op != U::Sin && op != U::Cos;

// Unlike the memory-bound loops elsewhere, exp, log or erf take dozens of operations per
// element, so this loop gets an AVX-512 clone too: twice AVX2's lanes.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define KILN_SIMD_WIDE __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define KILN_SIMD_WIDE
#endif

template <U op, class T>
KILN_SIMD_WIDE void simd_loop(const T* x, T* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = apply<op>(x[i]);
}

template <U op, class T>
void scalar_loop(const T* x, T* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = apply<op>(x[i]);
}

// Any dtype to any dtype, through double: int32 neg(-2^31) wraps to -2^31 on the store, as
// in NumPy; bool results wrap modulo 256, as a Uint8Array store does.
template <U op, class S, class D>
void generic_loop(const S* x, D* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = store<D>(apply<op>(static_cast<double>(x[i])));
}

template <U op>
void unary_kernel(const Call& c) {
  const TensorRef& x = c.in(0);
  const TensorRef& out = c.out();
  if (x.dtype == out.dtype && (x.dtype == DType::Float32 || x.dtype == DType::Float64)) {
    with_type(x.dtype, [&](auto t) {
      using T = decltype(t);
      if constexpr (is_float_v<T>) {
        const T* px = x.as<T>();
        T* po = out.as<T>();
        parallel_elements(out.size, 1, [&](int64_t lo, int64_t hi) {
          if constexpr (vectorizes<op>) simd_loop<op>(px + lo, po + lo, hi - lo);
          else scalar_loop<op>(px + lo, po + lo, hi - lo);
        });
      }
    });
    return;
  }
  with_type(x.dtype, [&](auto s) {
    with_type(out.dtype, [&](auto d) {
      using S = decltype(s);
      using D = decltype(d);
      const S* px = x.as<S>();
      D* po = out.as<D>();
      parallel_elements(out.size, 1, [&](int64_t lo, int64_t hi) { generic_loop<op>(px + lo, po + lo, hi - lo); });
    });
  });
}

}  // namespace

void add_unary_rows(RowSink& sink) {
  sink.add("unary:neg", unary_kernel<U::Neg>);
  sink.add("unary:abs", unary_kernel<U::Abs>);
  sink.add("unary:sqrt", unary_kernel<U::Sqrt>);
  sink.add("unary:exp", unary_kernel<U::Exp>);
  sink.add("unary:expm1", unary_kernel<U::Expm1>);
  sink.add("unary:log", unary_kernel<U::Log>);
  sink.add("unary:log1p", unary_kernel<U::Log1p>);
  sink.add("unary:sin", unary_kernel<U::Sin>);
  sink.add("unary:cos", unary_kernel<U::Cos>);
  sink.add("unary:tanh", unary_kernel<U::Tanh>);
  sink.add("unary:erf", unary_kernel<U::Erf>);
  sink.add("unary:floor", unary_kernel<U::Floor>);
  sink.add("unary:round", unary_kernel<U::Round>);
}

}  // namespace kiln::cpu
