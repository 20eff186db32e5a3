// Packing an A panel whose rows lie anywhere in memory (a convolution's windows), with vector
// transposes where the CPU has them: the scalar copy that gemm's pack_a does cost as much as
// the products themselves for a convolution's narrow GEMMs.
//
// Included by ISA files (#pragma GCC target), so, like gemm.h, it only declares.
#pragma once

#include <cstdint>

#include "gemm.h"

namespace kiln::cpu {

// panel[p·MR + r] = rows[r][p] for p < kc and r < MR, MR being the micro-kernel's: the A panel
// MicroKernel::pack_a would write from those rows. Each of the MR pointers is readable for kc
// elements (rows past the matrix point at zeros).
template <class T>
using PackRows = void (*)(const T* const* rows, int64_t kc, T* panel);

// The packer for uk's panels.
template <class T>
PackRows<T> pack_rows_for(const MicroKernel<T>& uk);

namespace avx512 {
void pack_rows_14(const float* const* rows, int64_t kc, float* panel);
void pack_rows_14(const double* const* rows, int64_t kc, double* panel);
}  // namespace avx512
namespace avx2 {
void pack_rows_6(const float* const* rows, int64_t kc, float* panel);
void pack_rows_6(const double* const* rows, int64_t kc, double* panel);
}  // namespace avx2

}  // namespace kiln::cpu
