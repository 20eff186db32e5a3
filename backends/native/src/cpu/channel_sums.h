// Shared by the fused normalization rows (normalization.cc, layer_norm.cc): per-channel sums over
// the rows of a [rows, C] layout, accumulated in double. Each thread adds its own block of rows
// into its own accumulators, and the blocks are added in order afterwards, so a result does not
// depend on timing.
#pragma once

#include <vector>

#include "ew.h"

namespace kiln::cpu {

// `count` per-channel sums (each C doubles, in `total`) from add(lo, hi, acc), which adds rows
// [lo, hi) into acc; rows split into blocks across the threads when there is enough work.
template <class F>
void channel_sums(int64_t rows, int64_t C, int count, double* total, F&& add) {
  const int64_t threads = ThreadPool::in_task() ? 1 : ThreadPool::instance().threads();
  int64_t blocks = rows * C / kParallelElements;
  if (blocks > threads) blocks = threads;
  if (blocks > rows) blocks = rows;
  if (blocks < 1) blocks = 1;
  const int64_t width = count * C;
  std::vector<double> partial(static_cast<size_t>(blocks * width), 0.0);
  auto block = [&](int64_t b) { add(rows * b / blocks, rows * (b + 1) / blocks, partial.data() + b * width); };
  if (blocks == 1) block(0);
  else ThreadPool::instance().run(blocks, block);
  for (int64_t i = 0; i < width; i++) {
    double s = 0;
    for (int64_t b = 0; b < blocks; b++) s += partial[b * width + i];
    total[i] = s;
  }
}

}  // namespace kiln::cpu
