// The random family: Philox 4x32-10 (Salmon et al., SC11; Random123's philox4x32_R with R = 10)
// over counters [block, 0, 0, 0], word i % 4 of block i / 4 giving element i, so every backend
// draws the same numbers for a key (the contract's `random` states the layout). Blocks are
// independent, so the loop splits across threads by blocks.
#include <cmath>

#include "ew.h"

namespace kiln::cpu {
namespace {

constexpr uint32_t kM0 = 0xD2511F53u;
constexpr uint32_t kM1 = 0xCD9E8D57u;
constexpr uint32_t kW0 = 0x9E3779B9u;
constexpr uint32_t kW1 = 0xBB67AE85u;

struct Words {
  uint32_t w[4];
};

inline Words philox(uint32_t block, uint32_t k0, uint32_t k1) {
  uint32_t c0 = block, c1 = 0, c2 = 0, c3 = 0;
  for (int round = 0; round < 10; round++) {
    if (round > 0) {
      k0 += kW0;
      k1 += kW1;
    }
    // 32x32 -> 64-bit products: the high word is the "hi" of Philox's mulhilo
    const uint64_t p0 = static_cast<uint64_t>(kM0) * c0;
    const uint64_t p1 = static_cast<uint64_t>(kM1) * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<uint32_t>(p1);
    c3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c2 = n2;
  }
  return Words{{c0, c1, c2, c3}};
}

constexpr double kTwoToMinus24 = 1.0 / 16777216.0;
constexpr double kTwoPi = 6.283185307179586;

// Elements [first, first + count) of block `blk`, count <= 4, computed in double as the
// reference computes them, then rounded: uniform word by word; normal a word pair at a time, the
// pair's radius and angle serving both its cosine (even element) and its sine (odd element).
template <bool normal, class T>
inline void block_values(const Words& b, T* out, int count) {
  if constexpr (!normal) {
    for (int j = 0; j < count; j++) out[j] = static_cast<T>(static_cast<double>(b.w[j] >> 8) * kTwoToMinus24);
  } else {
    for (int pair = 0; pair < count; pair += 2) {
      const double u1 = (static_cast<double>(b.w[pair] >> 8) + 1.0) * kTwoToMinus24;
      const double u2 = static_cast<double>(b.w[pair + 1] >> 8) * kTwoToMinus24;
      const double r = std::sqrt(-2.0 * std::log(u1));
      out[pair] = static_cast<T>(r * std::cos(kTwoPi * u2));
      if (pair + 1 < count) out[pair + 1] = static_cast<T>(r * std::sin(kTwoPi * u2));
    }
  }
}

template <bool normal, class T>
void random_run(uint32_t k0, uint32_t k1, const TensorRef& out) {
  T* p = out.as<T>();
  const int64_t n = out.size;
  const int64_t blocks = (n + 3) / 4;
  // ten rounds of two multiplies per four elements (and libm calls for normal): far more work
  // per element than a copy, so threads start at a few thousand blocks
  parallel_elements(blocks, 64, [&](int64_t lo, int64_t hi) {
    for (int64_t blk = lo; blk < hi; blk++) {
      const int64_t first = blk * 4;
      block_values<normal>(philox(static_cast<uint32_t>(blk), k0, k1), p + first, n - first < 4 ? static_cast<int>(n - first) : 4);
    }
  });
}

template <bool normal>
void random_kernel(const Call& c) {
  const TensorRef& out = c.out();
  if (c.num_ints != 2) internal_error("random: expected the two key words");
  // the key's words cross the boundary as int32: the same 32 bits
  const uint32_t k0 = static_cast<uint32_t>(c.ints[0]);
  const uint32_t k1 = static_cast<uint32_t>(c.ints[1]);
  switch (out.dtype) {
    case DType::Float32: return random_run<normal, float>(k0, k1, out);
    case DType::Float64: return random_run<normal, double>(k0, k1, out);
    default: internal_error(std::string("random: out must be float32 or float64, got ") + dtype_name(out.dtype));
  }
}

}  // namespace

void add_random_rows(RowSink& sink) {
  sink.add("random:uniform", random_kernel<false>);
  sink.add("random:normal", random_kernel<true>);
}

}  // namespace kiln::cpu
