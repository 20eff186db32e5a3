// Choosing pack_rows for a micro-kernel, and the portable one (a scalar copy, as pack_a's).
#include <cstring>
#include <string>

#include "../call.h"
#include "pack_rows.h"

namespace kiln::cpu {
namespace {

template <class T, int MR>
void pack_rows_portable(const T* const* rows, int64_t kc, T* d) {
  for (int64_t p = 0; p < kc; p++, d += MR) {
    for (int r = 0; r < MR; r++) d[r] = rows[r][p];
  }
}

}  // namespace

template <class T>
PackRows<T> pack_rows_for(const MicroKernel<T>& uk) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (std::strcmp(uk.isa, "avx512") == 0 && uk.mr == 14) return avx512::pack_rows_14;
  if (std::strcmp(uk.isa, "avx2") == 0 && uk.mr == 6) return avx2::pack_rows_6;
#endif
  if (uk.mr == 4) return pack_rows_portable<T, 4>;
  internal_error(std::string("pack_rows: no packer for ") + uk.isa + " panels of " + std::to_string(uk.mr) + " rows");
}

template PackRows<float> pack_rows_for<float>(const MicroKernel<float>&);
template PackRows<double> pack_rows_for<double>(const MicroKernel<double>&);

}  // namespace kiln::cpu
