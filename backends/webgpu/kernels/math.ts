/**
 * float32 math in WGSL, written out rather than taken from the built-ins, for three reasons:
 * - WGSL's built-ins are loose: exp has 3 + 2·|x| ulp, log an absolute error of 2^-21 near 1
 *   (so log(1.001) may lose half its digits), sin and cos an absolute error of 2^-11 on [-π, π];
 *   each GPU meets these differently, and the conformance suite holds float32 to 1e-5.
 * - WGSL has no expm1, log1p or erf.
 * - An implementation may assume no NaN or infinity occurs, so tests like `x != x` can be folded
 *   away; NaN and infinity are recognised here from the bits, which no compiler may assume.
 * Polynomials are from Cephes (S. L. Moshier, "Methods and Programs for Mathematical Functions",
 * 1989: expf, logf, sinf/cosf, tanhf) and, for erf, FreeBSD msun's s_erff.c (fdlibm's method,
 * float coefficients refit by S. Kargl, 2008, each rational approximation within 2^-28), all
 * within about 1 ulp of float32. Only the functions a kernel calls are compiled into it.
 */

const CORE = `
var<private> INF_BITS: u32 = 0x7f800000u;
var<private> NAN_BITS: u32 = 0x7fc00000u;
fn m_inf() -> f32 { return bitcast<f32>(INF_BITS); }
fn m_nan() -> f32 { return bitcast<f32>(NAN_BITS); }
fn m_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn m_isinf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
fn m_abs(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) & 0x7fffffffu); }
// 2^k for k in [-126, 127], from its bits
fn m_pow2(k: i32) -> f32 { return bitcast<f32>(u32(k + 127) << 23u); }
`;

/** Each function, what it calls, and its WGSL. */
const FUNCTIONS: Record<string, { needs: string[]; code: string }> = {
  exp: {
    needs: [],
    code: `
// Cephes expf: x = n·ln2 + r (ln2 in two parts, so r is exact), e^r by a degree-7 polynomial,
// times 2^n in two steps (2^n alone may not be a float32 near the ends of the range).
fn m_exp(x: f32) -> f32 {
  if (m_isnan(x)) { return x; }
  if (x > 88.72283935546875) { return m_inf(); }
  if (x < -103.972084) { return 0.0; }
  let n = floor(x * 1.44269504088896341 + 0.5);
  let r = (x - n * 0.693359375) - n * -2.12194440e-4;
  let z = r * r;
  var q = 1.9875691500e-4;
  q = q * r + 1.3981999507e-3;
  q = q * r + 8.3334519073e-3;
  q = q * r + 4.1665795894e-2;
  q = q * r + 1.6666665459e-1;
  q = q * r + 5.0000001201e-1;
  let e = q * z + r + 1.0;
  let k = i32(n);
  let k1 = k / 2;
  return e * m_pow2(k1) * m_pow2(k - k1);
}`,
  },
  expm1: {
    needs: ['exp'],
    code: `
// Below |x| = 0.5, e^x - 1 loses up to every digit to cancellation: the Taylor series instead
// (x^11/11! < 1e-11 there); above, the subtraction costs at most 2 ulp.
fn m_expm1(x: f32) -> f32 {
  if (m_abs(x) < 0.5) {
    var s = 1.0 / 39916800.0;
    s = s * x + 1.0 / 3628800.0;
    s = s * x + 1.0 / 362880.0;
    s = s * x + 1.0 / 40320.0;
    s = s * x + 1.0 / 5040.0;
    s = s * x + 1.0 / 720.0;
    s = s * x + 1.0 / 120.0;
    s = s * x + 1.0 / 24.0;
    s = s * x + 1.0 / 6.0;
    s = s * x + 0.5;
    return x + x * x * s;
  }
  return m_exp(x) - 1.0;
}`,
  },
  log: {
    needs: [],
    code: `
// Cephes logf: x = m·2^e with m in [√½, √2), log(m) = f - f²/2 + f³·P(f) for f = m - 1.
fn m_log(x: f32) -> f32 {
  if (m_isnan(x)) { return x; }
  if (x < 0.0) { return m_nan(); }
  if (x == 0.0) { return -m_inf(); }
  if (m_isinf(x)) { return x; }
  var v = x;
  var e = 0.0;
  if (v < 1.17549435e-38) { v = v * 8388608.0; e = -23.0; }
  let bits = bitcast<u32>(v);
  e = e + f32(i32((bits >> 23u) & 0xffu) - 126);
  var f = bitcast<f32>((bits & 0x007fffffu) | 0x3f000000u);
  if (f < 0.707106781186547524) { e = e - 1.0; f = f + f - 1.0; } else { f = f - 1.0; }
  let z = f * f;
  var y = 7.0376836292e-2;
  y = y * f - 1.1514610310e-1;
  y = y * f + 1.1676998740e-1;
  y = y * f - 1.2420140846e-1;
  y = y * f + 1.4249322787e-1;
  y = y * f - 1.6668057665e-1;
  y = y * f + 2.0000714765e-1;
  y = y * f - 2.4999993993e-1;
  y = y * f + 3.3333331174e-1;
  y = y * f * z;
  y = y + e * -2.12194440e-4;
  y = y - 0.5 * z;
  return f + y + e * 0.693359375;
}`,
  },
  log1p: {
    needs: ['log'],
    code: `
// Near 0, log(1 + x) = 2·atanh(s) with s = x / (2 + x), whose series in s² (|s| <= 1/3 here)
// keeps every digit that forming 1 + x would drop; elsewhere 1 + x costs under an ulp of the log.
fn m_log1p(x: f32) -> f32 {
  if (m_abs(x) < 0.5) {
    let s = x / (2.0 + x);
    let t = s * s;
    var q = 1.0 / 17.0;
    q = q * t + 1.0 / 15.0;
    q = q * t + 1.0 / 13.0;
    q = q * t + 1.0 / 11.0;
    q = q * t + 1.0 / 9.0;
    q = q * t + 1.0 / 7.0;
    q = q * t + 1.0 / 5.0;
    q = q * t + 1.0 / 3.0;
    return 2.0 * (s + s * t * q);
  }
  return m_log(1.0 + x);
}`,
  },
  sincos: {
    needs: [],
    code: `
// Cephes's polynomials for sin and cos on [-π/4, π/4].
fn m_sin_poly(x: f32) -> f32 {
  let z = x * x;
  return ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * x + x;
}
fn m_cos_poly(x: f32) -> f32 {
  let z = x * x;
  return ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
}
// Cephes sinf/cosf: the octant j of |x|·4/π (rounded up to even), then x - j·π/4 with π/4 in
// three parts so the reduction is exact to |x| ~ 8192. Returns (sin x, cos x).
fn m_sincos(x: f32) -> vec2<f32> {
  let a = m_abs(x);
  var y = floor(a * 1.27323954473516);
  y = y + (y - 2.0 * floor(y * 0.5));
  let j = i32(y - 8.0 * floor(y * 0.125));
  let r = ((a - y * 0.78515625) - y * 2.4187564849853515625e-4) - y * 3.77489497744594108e-8;
  let s = m_sin_poly(r);
  let c = m_cos_poly(r);
  // octants 0, 2, 4, 6 from (s, c) by quarter turns
  var out: vec2<f32>;
  switch (j) {
    case 2: { out = vec2<f32>(c, -s); }
    case 4: { out = vec2<f32>(-s, -c); }
    case 6: { out = vec2<f32>(-c, s); }
    default: { out = vec2<f32>(s, c); }
  }
  if (x < 0.0) { out.x = -out.x; }
  if (m_isinf(x) || m_isnan(x)) { return vec2<f32>(m_nan(), m_nan()); }
  return out;
}`,
  },
  tanh: {
    needs: ['exp'],
    code: `
// Cephes tanhf: an odd polynomial below 0.625, 1 - 2 / (e^{2|x|} + 1) above, ±1 past 9.
fn m_tanh(x: f32) -> f32 {
  let a = m_abs(x);
  if (m_isnan(x)) { return x; }
  if (a > 9.0) { return select(1.0, -1.0, x < 0.0); }
  if (a < 0.625) {
    let z = x * x;
    return ((((-5.70498872745e-3 * z + 2.06390887954e-2) * z - 5.37397155531e-2) * z + 1.33314422036e-1) * z - 3.33332819422e-1) * z * x + x;
  }
  let t = 1.0 - 2.0 / (m_exp(a + a) + 1.0);
  return select(t, -t, x < 0.0);
}`,
  },
  erf: {
    needs: ['exp'],
    code: `
// FreeBSD s_erff.c's ranges: x + x·P/Q below 0.84375; erx + P/Q to 1.25; 1 - erfc above, with
// erfc(x) = exp(-x² - 0.5625 + R/S) / x and x² split as z² + (x - z)(x + z), z being x with
// its low 12 bits cleared so that z² is exact; 1 from 4 on (erfc(4) < 2^-26).
fn m_erf(x: f32) -> f32 {
  if (m_isnan(x)) { return x; }
  let a = m_abs(x);
  var r: f32;
  if (a < 0.84375) {
    let z = x * x;
    let pp = 1.28379166e-01 + z * (-3.36030394e-01 + z * -1.86261395e-03);
    let qq = 1.0 + z * (3.12324315e-01 + z * (2.16070414e-02 + z * -1.98859372e-03));
    return x + x * (pp / qq);
  }
  if (a < 1.25) {
    let s = a - 1.0;
    let pa = 3.65041046e-06 + s * (4.15109307e-01 + s * (-2.09395722e-01 + s * 8.67677554e-02));
    let qa = 1.0 + s * (4.95560974e-01 + s * (3.71248513e-01 + s * 3.92478965e-02));
    r = 8.42697144e-01 + pa / qa;
  } else if (a >= 4.0) {
    r = 1.0;
  } else {
    let s = 1.0 / (a * a);
    var R: f32;
    var S: f32;
    if (a < 2.85714285714) {
      R = -9.88156721e-03 + s * (-5.43658376e-01 + s * (-1.66828310e+00 + s * -6.91554189e-01));
      S = 1.0 + s * (4.48581553e+00 + s * (4.10799170e+00 + s * 5.53855181e-01));
    } else {
      R = -9.86496918e-03 + s * (-5.48049808e-01 + s * -1.84115684e+00);
      S = 1.0 + s * (4.87132740e+00 + s * (3.04982710e+00 + s * -7.61900663e-01));
    }
    let z = bitcast<f32>(bitcast<u32>(a) & 0xffffe000u);
    r = 1.0 - m_exp(-z * z - 0.5625) * m_exp((z - a) * (z + a) + R / S) / a;
  }
  return select(r, -r, x < 0.0);
}`,
  },
};

/**
 * The WGSL of the named functions (`exp` defines `m_exp`, …) and what they call, after the core
 * helpers (m_isnan, m_inf, …), which every float kernel may use.
 */
export function mathLibrary(names: readonly string[]): string {
  const order: string[] = [];
  const visit = (name: string) => {
    if (order.includes(name)) return;
    for (const dep of FUNCTIONS[name].needs) visit(dep);
    order.push(name);
  };
  names.forEach(visit);
  return CORE + order.map((n) => FUNCTIONS[n].code).join('\n');
}

/** The functions an expression calls, found by their `m_` names. */
export function mathUsedBy(expr: string): string[] {
  return Object.keys(FUNCTIONS).filter((name) => expr.includes(`m_${name}(`));
}
