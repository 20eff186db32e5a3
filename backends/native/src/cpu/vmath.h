// exp, sigmoid and tanh without branches or library calls, so that a loop over them in a
// KILN_SIMD function vectorizes: libm costs a call per element, which made softmax and a
// sigmoid epilogue several times slower than the GEMM around them. Cephes' polynomials (within
// 2 ulp of the true value for float and double alike); NaN stays NaN, overflow gives inf and
// underflow 0.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace kiln::cpu {

template <class T> struct ExpConst;

template <>
struct ExpConst<float> {
  using Bits = uint32_t;
  static constexpr int kMantissa = 23;
  static constexpr float kBias = 127;
  // Beyond these the result is 0 or inf; inside them 2^n splits into two normal powers.
  static constexpr float kLow = -104, kHigh = 89;
  static constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
};

template <>
struct ExpConst<double> {
  using Bits = uint64_t;
  static constexpr int kMantissa = 52;
  static constexpr double kBias = 1023;
  static constexpr double kLow = -746, kHigh = 710;
  static constexpr double kLn2Hi = 6.93145751953125e-1, kLn2Lo = 1.42860682030941723212e-6;
};

// 2^n for an integral n of T within the exponent's range: n plus 1.5·2^mantissa plus the bias
// leaves bias + n in the low mantissa bits, which a shift moves into the exponent field.
template <class T>
inline T pow2(T n) {
  using C = ExpConst<T>;
  const T magic = T(3) * T(typename C::Bits{1} << (C::kMantissa - 1));
  const T biased = n + (magic + C::kBias);
  typename C::Bits bits;
  std::memcpy(&bits, &biased, sizeof bits);
  bits <<= C::kMantissa;
  T out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

// Rounds to the nearest integer (ties to even) by adding and removing 1.5·2^mantissa, which
// vectorizes where a conversion to int would not (no packed double-to-int64 before AVX-512).
template <class T>
inline T round_int(T x) {
  const T magic = T(3) * T(typename ExpConst<T>::Bits{1} << (ExpConst<T>::kMantissa - 1));
  return (x + magic) - magic;
}

// e^r for |r| <= ln2 / 2.
inline float exp_reduced(float r) {
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  return p * (r * r) + r + 1.0f;
}

inline double exp_reduced(double r) {
  const double rr = r * r;
  const double p = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr + 9.99999999999999999910e-1);
  const double q = ((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr + 2.27265548208155028766e-1) * rr +
                   2.00000000000000000009e0;
  return 1.0 + 2.0 * (p / (q - p));
}

// Every value is computed and the saturated ones selected at the end, so the loop body has no
// branch to keep it scalar. Beyond the selects' bounds n is garbage, but so is only the value
// they replace; NaN passes both selects and poisons the result.
template <class T>
inline T vexp(T x) {
  using C = ExpConst<T>;
  const T n = round_int(x * T(1.44269504088896340736));
  const T r = (x - n * C::kLn2Hi) - n * C::kLn2Lo;
  // 2^n in two factors, so that n past the exponent's range still gives inf or a denormal.
  const T half = round_int(n * T(0.5));
  const T y = exp_reduced(r) * pow2(half) * pow2(n - half);
  const T big = x > C::kHigh ? std::numeric_limits<T>::infinity() : y;
  return x < C::kLow ? T(0) : big;
}

// As kiln's sigmoid: from e = exp(-|x|), 1 / (1 + e) for x >= 0 and e / (1 + e) below. Both
// quotients are computed, so that the select is all that depends on the sign.
template <class T>
inline T vsigmoid(T x) {
  const bool pos = x >= 0;
  const T e = vexp(pos ? -x : x);
  const T d = e + T(1);
  const T above = T(1) / d;
  const T below = e / d;
  return pos ? above : below;
}

// Small |x|: Cephes' odd polynomial (float) or rational function (double), which keep tanh(x) ≈ x
// exact to the last bits; from 0.625 on, (1 - e) / (1 + e) with e = exp(-2|x|) cancels nothing.
inline float tanh_small(float x) {
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  return p * z * x + x;
}

inline double tanh_small(double x) {
  const double z = x * x;
  const double p = (-9.64399179425052238628e-1 * z - 9.92877231001918586564e1) * z - 1.61468768441708447952e3;
  const double q = ((z + 1.12811678491632931402e2) * z + 2.23548839060100448583e3) * z + 4.84406305325125486048e3;
  return x + x * (z * p / q);
}

template <class T>
inline T vtanh(T x) {
  const T a = x < 0 ? -x : x;
  const T e = vexp(T(-2) * a);
  const T big = (T(1) - e) / (T(1) + e);
  const T large = x < 0 ? -big : big;
  // copysign keeps tanh(-0) = -0, which the polynomial's last addition would round to +0
  const T small = std::copysign(tanh_small(x), x);
  return a < T(0.625) ? small : large;
}

}  // namespace kiln::cpu
