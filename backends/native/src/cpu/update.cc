// The fused optimizer rows, one per update rule (UpdateRule in backends/contract.ts): one
// vectorized pass over a weight that reads w, g and the slots and writes w' and the slots',
// instead of a dozen elementwise kernels each reading and writing the whole weight. Computed in
// the weight's type, in the order of the optimizer's own composition; threaded for large weights.
#include "ew.h"

namespace kiln::cpu {
namespace {

// The loops take each stream as its own restrict pointer: outputs never alias inputs (core
// allocates them), and without the promise the compiler would have to check every pair of
// streams at run time before it vectorized.

// sgd [lr, momentum, nesterov], slots [] or [m].
template <bool momentum, bool nesterov, class T>
KILN_SIMD void sgd(const T* __restrict w, const T* __restrict g, const T* __restrict m, T* __restrict w_out, T* __restrict m_out,
                   const T* k, int64_t n) {
  const T lr = k[0], mu = k[1];
  for (int64_t i = 0; i < n; i++) {
    if constexpr (!momentum) {
      w_out[i] = w[i] - g[i] * lr;
    } else {
      const T mi = m[i] * mu - g[i] * lr;
      m_out[i] = mi;
      w_out[i] = nesterov ? w[i] + (mi * mu - g[i] * lr) : w[i] + mi;
    }
  }
}

// adam [alpha, 1 - beta1, 1 - beta2, epsilon], slots [m, v] or, for AMSGrad, [m, v, vHat].
template <bool amsgrad, class T>
KILN_SIMD void adam(const T* __restrict w, const T* __restrict g, const T* __restrict m, const T* __restrict v, const T* __restrict v_hat,
                    T* __restrict w_out, T* __restrict m_out, T* __restrict v_out, T* __restrict v_hat_out, const T* k, int64_t n) {
  const T alpha = k[0], one_b1 = k[1], one_b2 = k[2], eps = k[3];
  for (int64_t i = 0; i < n; i++) {
    const T gi = g[i];
    const T mi = m[i] + (gi - m[i]) * one_b1;
    const T vi = v[i] + (gi * gi - v[i]) * one_b2;
    m_out[i] = mi;
    v_out[i] = vi;
    T d = vi;
    if constexpr (amsgrad) {
      // maximum as kiln's: NaN wins
      const T old = v_hat[i];
      d = old > vi || old != old ? old : vi;
      v_hat_out[i] = d;
    }
    w_out[i] = w[i] - (mi * alpha) / (std::sqrt(d) + eps);
  }
}

// rmsprop [lr, rho, 1 - rho, momentum, epsilon], slots [velocity, momentum if > 0, average if
// centered].
template <bool momentum, bool centered, class T>
KILN_SIMD void rmsprop(const T* __restrict w, const T* __restrict g, const T* __restrict vel, const T* __restrict mom,
                       const T* __restrict avg, T* __restrict w_out, T* __restrict vel_out, T* __restrict mom_out, T* __restrict avg_out,
                       const T* k, int64_t n) {
  const T lr = k[0], rho = k[1], one_rho = k[2], mu = k[3], eps = k[4];
  for (int64_t i = 0; i < n; i++) {
    const T gi = g[i];
    const T v = rho * vel[i] + one_rho * (gi * gi);
    vel_out[i] = v;
    T den = v;
    if constexpr (centered) {
      const T a = rho * avg[i] + one_rho * gi;
      avg_out[i] = a;
      den = v - a * a;
    }
    const T inc = (lr * gi) / std::sqrt(den + eps);
    if constexpr (momentum) {
      const T mi = mu * mom[i] + inc;
      mom_out[i] = mi;
      w_out[i] = w[i] - mi;
    } else {
      w_out[i] = w[i] - inc;
    }
  }
}

// adagrad [lr, epsilon], slots [accumulator].
template <class T>
KILN_SIMD void adagrad(const T* __restrict w, const T* __restrict g, const T* __restrict acc, T* __restrict w_out, T* __restrict acc_out,
                       const T* k, int64_t n) {
  const T lr = k[0], eps = k[1];
  for (int64_t i = 0; i < n; i++) {
    const T gi = g[i];
    const T a = acc[i] + gi * gi;
    acc_out[i] = a;
    w_out[i] = w[i] - (lr * gi) / std::sqrt(a + eps);
  }
}


enum class Rule { Sgd, Adam, RmsProp, Adagrad };

constexpr const char* kRuleNames[] = {"sgd", "adam", "rmsprop", "adagrad"};
constexpr int kHyperCount[] = {3, 4, 5, 2};

// Whether the call's slot count is the one the rule's hyper-parameters call for.
bool slots_fit(Rule rule, const double* h, int slots) {
  switch (rule) {
    case Rule::Sgd: return slots == (h[1] != 0 ? 1 : 0);
    case Rule::Adam: return slots == 2 || slots == 3;
    case Rule::RmsProp: return slots == 1 + (h[2] > 0 ? 1 : 0) + (h[4] != 0 ? 1 : 0);
    case Rule::Adagrad: break;
  }
  return slots == 1;
}

// The kernel's constants in T, derived as the composition derives them (1 - beta1 in double,
// then rounded to the weight's type).
template <class T>
void constants(Rule rule, const double* h, T* out) {
  switch (rule) {
    case Rule::Sgd: out[0] = T(h[0]); out[1] = T(h[1]); return;
    case Rule::Adam: out[0] = T(h[0]); out[1] = T(1 - h[1]); out[2] = T(1 - h[2]); out[3] = T(h[3]); return;
    case Rule::RmsProp: out[0] = T(h[0]); out[1] = T(h[1]); out[2] = T(1 - h[1]); out[3] = T(h[2]); out[4] = T(h[3]); return;
    case Rule::Adagrad: out[0] = T(h[0]); out[1] = T(h[1]); return;
  }
}

// Pointers to the weight's streams, offset to one thread's range; slots in the optimizer's order.
template <class T>
struct Streams {
  const T* in[5] = {};  // w, g, slots
  T* out[4] = {};       // w', slots'

  Streams at(int64_t lo) const {
    Streams s = *this;
    for (auto& p : s.in) p = p ? p + lo : p;
    for (auto& p : s.out) p = p ? p + lo : p;
    return s;
  }
};

template <class T>
void update_range(Rule rule, const double* h, int slots, const Streams<T>& s, const T* k, int64_t n) {
  const T* const* i = s.in;
  T* const* o = s.out;
  switch (rule) {
    case Rule::Sgd:
      if (slots == 0) return sgd<false, false>(i[0], i[1], i[2], o[0], o[1], k, n);
      if (h[2] != 0) return sgd<true, true>(i[0], i[1], i[2], o[0], o[1], k, n);
      return sgd<true, false>(i[0], i[1], i[2], o[0], o[1], k, n);
    case Rule::Adam:
      if (slots == 3) return adam<true>(i[0], i[1], i[2], i[3], i[4], o[0], o[1], o[2], o[3], k, n);
      return adam<false>(i[0], i[1], i[2], i[3], i[4], o[0], o[1], o[2], o[3], k, n);
    case Rule::RmsProp: {
      // the average is the last slot: the third with momentum, else the second
      const bool momentum = h[2] > 0, centered = h[4] != 0;
      if (momentum && centered) return rmsprop<true, true, T>(i[0], i[1], i[2], i[3], i[4], o[0], o[1], o[2], o[3], k, n);
      if (momentum) return rmsprop<true, false, T>(i[0], i[1], i[2], i[3], nullptr, o[0], o[1], o[2], nullptr, k, n);
      if (centered) return rmsprop<false, true, T>(i[0], i[1], i[2], nullptr, i[3], o[0], o[1], nullptr, o[2], k, n);
      return rmsprop<false, false, T>(i[0], i[1], i[2], nullptr, nullptr, o[0], o[1], nullptr, nullptr, k, n);
    }
    case Rule::Adagrad:
      return adagrad(i[0], i[1], i[2], o[0], o[1], k, n);
  }
}

// tensors: w, g, ...slots, then the outputs w', ...slots' (all of w's shape and dtype);
// floats: the rule's hyper-parameters.
template <Rule rule>
void update_kernel(const Call& c) {
  const std::string name = std::string("fused applyUpdate ") + kRuleNames[int(rule)];
  const int hyper = kHyperCount[int(rule)];
  if (c.num_floats != hyper) internal_error(name + ": expected " + std::to_string(hyper) + " hyper-parameters");
  const double* h = c.floats;
  const int slots = (c.num_tensors - 3) / 2;
  if (c.num_tensors % 2 == 0 || !slots_fit(rule, h, slots)) {
    internal_error(name + ": " + std::to_string(slots) + " slots do not fit the hyper-parameters");
  }
  const TensorRef& w = c.in(0);
  for (int i = 0; i < c.num_tensors; i++) {
    if (c.in(i).dtype != w.dtype || c.in(i).size != w.size) internal_error(name + ": tensors unlike the weight");
  }
  with_type(w.dtype, [&](auto t) {
    using T = decltype(t);
    if constexpr (!is_float_v<T>) {
      internal_error(name + ": not a float dtype");
    } else {
      Streams<T> s;
      for (int i = 0; i < 2 + slots; i++) s.in[i] = c.in(i).as<T>();
      for (int i = 0; i < 1 + slots; i++) s.out[i] = c.in(2 + slots + i).as<T>();
      T k[5];
      constants(rule, h, k);
      parallel_elements(w.size, 1, [&](int64_t lo, int64_t hi) { update_range(rule, h, slots, s.at(lo), k, hi - lo); });
    }
  });
}

}  // namespace

void add_update_rows(RowSink& sink) {
  sink.add("fused:applyUpdate:sgd", update_kernel<Rule::Sgd>);
  sink.add("fused:applyUpdate:adam", update_kernel<Rule::Adam>);
  sink.add("fused:applyUpdate:rmsprop", update_kernel<Rule::RmsProp>);
  sink.add("fused:applyUpdate:adagrad", update_kernel<Rule::Adagrad>);
}

}  // namespace kiln::cpu
