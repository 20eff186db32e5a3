// exp, expm1, log, log1p, sigmoid, tanh and erf without branches or library calls, so that a
// loop over them in a KILN_SIMD function vectorizes: libm costs a call per element, which made
// softmax and a sigmoid epilogue several times slower than the GEMM around them, and the unary
// kernels 5 to 20 times slower than these. exp and tanh use Cephes' polynomials; the other
// polynomials were fitted for this file (minimax, by a Remez exchange in 60-digit arithmetic).
// Measured over every float (against glibc's double functions) and 10^8 doubles (against its
// long double ones), the largest errors in ulp are (float, double): exp 0.99, 1.74; expm1 1.17,
// 1.19; log 0.84, 0.84; log1p 0.84, 0.84; tanh 1.51, 1.76; erf 1.32, 1.67. Special values are
// libm's: NaN stays NaN, overflow gives inf and underflow 0, -0 stays -0 where libm keeps it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
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
  // Below this e^x is under half an ulp of 1, and expm1 is -1.
  static constexpr float kExpm1Low = -20;
  static constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
};

template <>
struct ExpConst<double> {
  using Bits = uint64_t;
  static constexpr int kMantissa = 52;
  static constexpr double kBias = 1023;
  static constexpr double kLow = -746, kHigh = 710;
  static constexpr double kExpm1Low = -40;
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

// c[0] + x·(c[1] + x·(c[2] + ...)), unrolled at compile time so that the coefficients become
// vector constants.
template <std::size_t I = 0, class T, std::size_t N>
inline T horner(T x, const T (&c)[N]) {
  if constexpr (I + 1 == N) return c[I];
  else return horner<I + 1>(x, c) * x + c[I];
}

// e^r - 1 - r for |r| <= ln2 / 2, accurate relative to e^r - 1, which expm1 needs. For float it
// is Cephes' polynomial for exp less 1 + r. For double, exp's Padé form is within an ulp of e^r
// but two of e^r - 1, which expm1 can double, so r²·Q(r) has its own Q: fitted to
// (e^r - 1 - r) / r² on [-0.347, 0.347], relative error 6e-18.
inline float expm1_tail(float r) {
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  return p * (r * r);
}

inline double expm1_tail(double r) {
  static constexpr double kQ[] = {0.5, 0.16666666666666671, 0.041666666666666616, 0.008333333333326096,
                                  0.0013888888888918243, 0.00019841269874968411, 2.4801587245329928e-05, 2.755725520012567e-06,
                                  2.7557349768907068e-07, 2.5105304335454514e-08, 2.0889405061224482e-09};
  return r * r * horner(r, kQ);
}

// e^r for |r| <= ln2 / 2.
inline float exp_reduced(float r) {
  return 1.0f + (expm1_tail(r) + r);
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

// e^x - 1 without vexp(x) - 1's cancellation near 0. With x = n·ln2 + r and e^r - 1 = r + t,
// the result 2^n·(r + t) + (2^n - 1) is summed as ((2^n - 1) + 2^n·r) + 2^n·t: 2^n - 1 is exact
// while n is within the mantissa, and the first sum is exact for n = 0 and 1, where the result
// is smallest next to its parts. Past the mantissa it is ((r + t) - 2^-n) + 1, scaled (2^-n
// stops mattering at twice the mantissa; the clamp keeps pow2 in range). c is what rounding r
// lost: e^(r + c) - 1 ≈ e^r - 1 + c·(1 + r).
template <class T>
inline T vexpm1(T x) {
  using C = ExpConst<T>;
  const T n = round_int(x * T(1.44269504088896340736));
  const T hi = x - n * C::kLn2Hi;
  const T lo = n * C::kLn2Lo;
  const T r = hi - lo;
  const T c = (hi - r) - lo;
  const T t = expm1_tail(r) + (c + c * r);
  // 2^n in two factors, which keeps it finite up to the overflow threshold, as in vexp
  const T half = round_int(n * T(0.5));
  const T p1 = pow2(half), p2 = pow2(n - half);
  const T p = p1 * p2;
  const T within = ((p - T(1)) + p * r) + p * t;
  const T beyond = ((r + (t - pow2(-std::min(n, T(2 * C::kMantissa + 2))))) + T(1)) * p1 * p2;
  const T y = n > T(C::kMantissa) ? beyond : within;
  const T big = x > C::kHigh ? std::numeric_limits<T>::infinity() : y;
  const T low = x < C::kExpm1Low ? T(-1) : big;
  // the sums above would turn -0 into +0
  return x == 0 ? x : low;
}

template <class T>
using BitsOf = typename ExpConst<T>::Bits;

template <class T>
inline BitsOf<T> bits_of(T x) {
  BitsOf<T> b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

template <class T>
inline T from_bits(BitsOf<T> b) {
  T x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

// log(1 + f) = 2·atanh(s) with s = f / (2 + f), |s| <= 0.1716 for 1 + f in [√½, √2):
// 2·atanh(s) = 2s + s·z·P(z), z = s², P fitted to (2·atanh(s) - 2s) / (s·z) on [0, 0.03] for
// relative error: 3e-7 (float) and 6e-16 (double), each a few hundredths of an ulp in the log,
// since s·z·P is under 2% of it.
template <class T> struct LogConst;

template <>
struct LogConst<float> {
  static constexpr uint32_t kSqrtHalf = 0x3f3504f3;  // bits of √½
  static constexpr float kPoly[] = {0.666666865f, 0.399883211f, 0.29600361f};
};

template <>
struct LogConst<double> {
  static constexpr uint64_t kSqrtHalf = 0x3fe6a09e667f3bcd;
  static constexpr double kPoly[] = {0.66666666666666696, 0.39999999999886832, 0.28571428631645307, 0.22222210220912425,
                                     0.18182954912752575, 0.15329559984782912, 0.14642870499391633};
};

// x = 2^k·m with m in [√½, √2), for a positive normal x: adding the bits of 1 - √½ carries into
// the exponent exactly when the mantissa is at least √2's; what is left of the mantissa, on
// √½'s exponent, is m. k comes out as a T through 2^mantissa's bits, where a conversion from
// a 64-bit integer would not vectorize before AVX-512.
template <class T>
struct LogSplit {
  T k, m;
};

template <class T>
inline LogSplit<T> log_split(T x) {
  using C = ExpConst<T>;
  using B = BitsOf<T>;
  constexpr B kSqrtHalf = LogConst<T>::kSqrtHalf;
  constexpr B kMantissaMask = (B{1} << C::kMantissa) - 1;
  const T two_m = T(B{1} << C::kMantissa);
  const B b = bits_of(x) + (bits_of(T(1)) - kSqrtHalf);
  const T k = from_bits<T>(bits_of(two_m) | (b >> C::kMantissa)) - (two_m + C::kBias);
  return {k, from_bits<T>((b & kMantissaMask) + kSqrtHalf)};
}

// k·ln2 + log(1 + f) + c, summed so that the small terms meet before the large ones:
// log(1 + f) = f - (f²/2 - s·(f²/2 + z·P)), since 2s = f - f²/2 + s·f²/2.
template <class T>
inline T log_reduced(T k, T f, T c) {
  using C = ExpConst<T>;
  const T s = f / (T(2) + f);
  const T z = s * s;
  const T hfsq = T(0.5) * f * f;
  const T r = z * horner(z, LogConst<T>::kPoly);
  return k * C::kLn2Hi + (f - (hfsq - (s * (hfsq + r) + (k * C::kLn2Lo + c))));
}

template <class T>
inline T vlog(T x) {
  using C = ExpConst<T>;
  constexpr T kInf = std::numeric_limits<T>::infinity();
  // a subnormal x is scaled into the normal range first, and k corrected
  const T scale = T(BitsOf<T>{1} << (C::kMantissa + 1));
  const bool subnormal = x < std::numeric_limits<T>::min();
  const LogSplit<T> s = log_split(subnormal ? x * scale : x);
  const T k = subnormal ? s.k - T(C::kMantissa + 1) : s.k;
  const T y = log_reduced(k, s.m - T(1), T(0));
  const T special = x == 0 ? -kInf : x == kInf ? kInf : std::numeric_limits<T>::quiet_NaN();
  const T edge = x != x ? x : special;
  return x > 0 && x < kInf ? y : edge;
}

// log(u) for u = 1 + x rounded, plus c = ((1 + x) - u) / u, the first-order correction. Sterbenz's
// lemma makes either subtraction exact on its side of u = 2. Where u is in [√½, √2) x itself is
// f, exactly, and nothing needs correcting (so log1p(x) keeps every bit of a tiny x).
template <class T>
inline T vlog1p(T x) {
  constexpr T kInf = std::numeric_limits<T>::infinity();
  const T u = T(1) + x;
  const LogSplit<T> s = log_split(u);
  const T c = (u >= T(2) ? T(1) - (u - x) : x - (u - T(1))) / u;
  const bool near = s.k == 0;
  const T y = log_reduced(s.k, near ? x : s.m - T(1), near ? T(0) : c);
  // -1 gives -inf, below it NaN; inf, NaN and ±0 are their own log1p
  const T special = x == -1 ? -kInf : x < -1 ? std::numeric_limits<T>::quiet_NaN() : x;
  return x > -1 && x < kInf && x != 0 ? y : special;
}

// Below 1, erf(x) = x + x·P(x²), P fitted to erf(x)/x - 1 on x² in [0, 1] for error relative to
// erf(x)/x (2e-9 float, 3e-17 double). From 1, erf(x) = 1 - e^(-x²)·Q(1 / (1 + x)), Q fitted to
// e^(x²)·erfc(x), which is smooth in 1/(1 + x) (far more so than in x or 1/x), up to kOne, where
// erf rounds to ±1; its error is weighed by e^(-x²), so that the fit bounds the error it makes
// in erf (3e-9 float, 3e-17 double).
template <class T> struct ErfConst;

template <>
struct ErfConst<float> {
  static constexpr float kOne = 4;
  static constexpr float kSmall[] = {0.128379166f, -0.37612626f, 0.112835854f, -0.0268538129f, 0.00518832775f, -0.000801019371f, 7.85386146e-05f};
  static constexpr float kTail[] = {0.000774586515f, 0.556533098f, 0.576476157f, 0.41217491f, -0.973547995f, 0.439945072f};
};

template <>
struct ErfConst<double> {
  static constexpr double kOne = 6;
  static constexpr double kSmall[] = {0.12837916709551256,    -0.37612638903183521,   0.11283791670944185,
                                      -0.026866170643111458,  0.0052239776061183936,  -0.0008548325929310874,
                                      0.00012055293576800514, -1.4924712300247224e-05, 1.6447131551412284e-06,
                                      -1.6206313619527966e-07, 1.3710979848201453e-08, -7.7794675479636841e-10};
  static constexpr double kTail[] = {-5.7278097714341726e-06, 0.56442943775195487, 0.55959853264870851, 0.33522468676879474,
                                     -0.6956430796580263,     1.5674162186243741,  -9.1067081086401007, 26.734201739916053,
                                     -45.448497527492073,     49.251915285157672,  -34.165504923348259, 14.001791831532982,
                                     -2.6003466577685703};
};

// Both branches are computed and one selected; NaN fails every comparison on its way to the tail,
// whose exp makes it NaN.
template <class T>
inline T verf(T x) {
  using C = ErfConst<T>;
  const T a = std::fabs(x);
  const T t = x * x;
  const T small = x + x * horner(t, C::kSmall);
  const T tail = T(1) - vexp(-t) * horner(T(1) / (T(1) + a), C::kTail);
  const T large = std::copysign(a >= C::kOne ? T(1) : tail, x);
  return a < T(1) ? small : large;
}

}  // namespace kiln::cpu
