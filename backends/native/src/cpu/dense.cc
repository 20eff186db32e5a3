// The fused Dense rows: act(x·w + bias) as one GEMM whose epilogue adds the bias and applies the
// activation to each block of the output while it is still in cache, and the backward pass
// (dz = dy·act'(y), then dBias, dx and dw) with dz in one pooled scratch buffer and both
// products reading their operands transposed in place.
#include "bias_act.h"
#include "scratch.h"

namespace kiln::cpu {
namespace {

// tensors: x [m, k], w [k, n], bias [n] or absent, out [m, n]; ints: [activation].
void dense_kernel(const Call& c) {
  const char* op = "fused dense";
  expect_tensors(op, c, 4);
  const TensorRef& x = c.in(0);
  const TensorRef& w = c.in(1);
  const TensorRef& bias = c.in(2);
  if (x.rank != 2 || w.rank != 2) internal_error(std::string(op) + ": x and w must be matrices");
  const int64_t m = x.dim(0), k = x.dim(1), n = w.dim(1);
  expect_shape(op, c, 1, {k, n});
  if (bias.present) expect_shape(op, c, 2, {n});
  expect_shape(op, c, 3, {m, n});
  check_floats(op, c);
  with_type(x.dtype, [&](auto t) {
    using T = decltype(t);
    if constexpr (is_float_v<T>) {
      const BiasAct<T> ctx{bias.present ? bias.as<T>() : nullptr};
      const Epilogue<T> epilogue = with_act(op, c.ints[0], [&](auto a) { return bias_act_epilogue<decltype(a)::value, T>(&ctx); });
      gemm<T>(m, n, k, x.as<T>(), k, 1, w.as<T>(), n, 1, c.out().as<T>(), n, epilogue);
    }
  });
}

// tensors: dy [m, n], y [m, n], x [m, k], w [k, n], then the outputs dx [m, k], dw [k, n] and
// dBias [n], each absent when not wanted; ints: [activation].
void dense_grad_kernel(const Call& c) {
  const char* op = "fused denseGrad";
  expect_tensors(op, c, 7);
  const TensorRef& tdy = c.in(0);
  const TensorRef& tx = c.in(2);
  const TensorRef& tw = c.in(3);
  const TensorRef& tdx = c.in(4);
  const TensorRef& tdw = c.in(5);
  const TensorRef& tdb = c.in(6);
  if (tdy.rank != 2 || tx.rank != 2) internal_error(std::string(op) + ": dy and x must be matrices");
  const int64_t m = tdy.dim(0), n = tdy.dim(1), k = tx.dim(1);
  expect_shape(op, c, 1, {m, n});
  expect_shape(op, c, 2, {m, k});
  expect_shape(op, c, 3, {k, n});
  if (tdx.present) expect_shape(op, c, 4, {m, k});
  if (tdw.present) expect_shape(op, c, 5, {k, n});
  if (tdb.present) expect_shape(op, c, 6, {n});
  check_floats(op, c);
  with_type(tdy.dtype, [&](auto t) {
    using T = decltype(t);
    if constexpr (is_float_v<T>) {
      with_act(op, c.ints[0], [&](auto a) {
        constexpr Act act = decltype(a)::value;
        const T* dy = tdy.as<T>();
        // Only dx and dw read dz: a bias-only gradient needs no scratch.
        const bool products = tdx.present || tdw.present;
        Scratch scratch(act != Act::Linear && products ? size_t(m * n) * sizeof(T) : 0);
        T* dz = scratch.as<T>();
        dz_and_bias<act, T>(m, n, dy, c.in(1).as<T>(), dz, tdb.present ? tdb.as<T>() : nullptr);
        const T* g = dz ? dz : dy;
        if (tdx.present) gemm<T>(m, k, n, g, n, 1, tw.as<T>(), 1, n, tdx.as<T>(), k);
        if (tdw.present) gemm<T>(k, n, m, tx.as<T>(), 1, k, g, n, 1, tdw.as<T>(), n);
      });
    }
  });
}

}  // namespace

void add_dense_rows(RowSink& sink) {
  // outputs, and whether tensors may be absent (bias; unwanted gradients)
  sink.add(KernelRow{"fused:dense", dense_kernel, 1, true});
  sink.add(KernelRow{"fused:denseGrad", dense_grad_kernel, 3, true});
}

}  // namespace kiln::cpu
