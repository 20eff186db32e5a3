// The creation family: fill, which makes constants on the device so that core never uploads a
// host array of zeros or ones (the tape's gradient seed, optimizer slots, scalar operands).
#include <algorithm>

#include "ew.h"

namespace kiln::cpu {
namespace {

// The value is converted once, as cast converts (store<T>, the contract's rule), except bool,
// which is value != 0 (NaN included) where a Uint8Array store would wrap modulo 256.
template <class T>
void fill_run(double value, const TensorRef& out) {
  T v;
  if constexpr (std::is_same<T, uint8_t>::value) v = static_cast<T>(value != 0);
  else v = store<T>(value);
  T* p = out.as<T>();
  parallel_elements(out.size, 1, [&](int64_t lo, int64_t hi) { std::fill(p + lo, p + hi, v); });
}

void fill_kernel(const Call& c) {
  const TensorRef& out = c.out();
  const double value = c.float_attr(0);
  with_type(out.dtype, [&](auto t) { fill_run<decltype(t)>(value, out); });
}

}  // namespace

void add_creation_rows(RowSink& sink) { sink.add("fill", fill_kernel); }

}  // namespace kiln::cpu
