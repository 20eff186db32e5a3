#include "ew.h"

namespace kiln::cpu {

void row_major_strides(int rank, const int32_t* dims, int64_t* strides) {
  int64_t s = 1;
  for (int d = rank - 1; d >= 0; d--) {
    strides[d] = s;
    s *= dims[d];
  }
}

void broadcast_strides(const TensorRef& x, const TensorRef& out, int64_t* strides) {
  for (int d = 0; d < out.rank; d++) strides[d] = 0;
  int64_t s = 1;
  for (int d = x.rank - 1; d >= 0; d--) {
    if (x.dim(d) != 1) strides[out.rank - x.rank + d] = s;
    s *= x.dim(d);
  }
}

Walk make_walk(const TensorRef& out, int operands, const int64_t (*strides)[kMaxRank]) {
  Walk w;
  w.operands = operands;
  int64_t out_strides[kMaxRank];
  row_major_strides(out.rank, out.dims, out_strides);
  for (int d = 0; d < out.rank; d++) {
    int64_t n = out.dim(d);
    if (n == 1) continue;  // moves no operand
    if (w.rank > 0) {
      // The previous kept dim and this one walk as one when, for every operand, a step of the
      // outer one is a whole run of the inner one.
      int p = w.rank - 1;
      bool merge = w.stride[0][p] == out_strides[d] * n;
      for (int k = 1; k < operands && merge; k++) merge = w.stride[k][p] == strides[k][d] * n;
      if (merge) {
        w.shape[p] *= n;
        w.stride[0][p] = out_strides[d];
        for (int k = 1; k < operands; k++) w.stride[k][p] = strides[k][d];
        continue;
      }
    }
    w.shape[w.rank] = n;
    w.stride[0][w.rank] = out_strides[d];
    for (int k = 1; k < operands; k++) w.stride[k][w.rank] = strides[k][d];
    w.rank++;
  }
  return w;
}

}  // namespace kiln::cpu
