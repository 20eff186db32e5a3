// The unary family: one row per op. Floats compute in their own type (glibc's float functions
// are within an ulp or two, far inside float32's tolerance); integers and bools compute in double
// and store as JavaScript would, which is what the reference backend does.
#include "ew.h"

namespace kiln::cpu {
namespace {

enum class U { Neg, Abs, Sqrt, Exp, Expm1, Log, Log1p, Sin, Cos, Tanh, Erf, Floor, Round };

template <U op, class T>
inline T apply(T x) {
  if constexpr (op == U::Neg) return -x;
  else if constexpr (op == U::Abs) return std::fabs(x);
  else if constexpr (op == U::Sqrt) return std::sqrt(x);
  else if constexpr (op == U::Exp) return std::exp(x);
  else if constexpr (op == U::Expm1) return std::expm1(x);
  else if constexpr (op == U::Log) return std::log(x);
  else if constexpr (op == U::Log1p) return std::log1p(x);
  else if constexpr (op == U::Sin) return std::sin(x);
  else if constexpr (op == U::Cos) return std::cos(x);
  else if constexpr (op == U::Tanh) return std::tanh(x);
  else if constexpr (op == U::Erf) return std::erf(x);
  else if constexpr (op == U::Floor) return std::floor(x);
  // Round half to even: nearbyint rounds in the current mode, which is to nearest-even (kiln
  // never changes it), and never raises inexact.
  else return std::nearbyint(x);
}

// Ops that compile to a few vector instructions; the others call libm per element.
template <U op>
constexpr bool vectorizes = op == U::Neg || op == U::Abs || op == U::Sqrt || op == U::Floor || op == U::Round;

template <U op, class T>
KILN_SIMD void simd_loop(const T* x, T* out, int64_t n) {
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
