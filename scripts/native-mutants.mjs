// The mutants that scripts/mutate-native.mjs plants in the native addon's C++ kernels, one at a
// time (docs/testing-native-mutants.md). Each `find` must occur exactly once in its file under
// backends/native/src/cpu; the runner stops before building anything when one does not, so an
// edit to a kernel that moves a mutant's text shows up at once: update the mutant to the new text.
// A mutant shown to be equivalent (no input can change a result) goes to the doc with its reason,
// not here.

/**
 * The mutants. `file` is under backends/native/src/cpu; `find` is replaced by `replace` once.
 * Spread over the kernel families; each `models` says what real bug it stands for.
 */
export const MUTANTS = [
  // --- GEMM driver (gemm.cc)
  {
    id: 'gemm-epilogue-column',
    file: 'gemm.cc',
    find: 'if (last) finish(ct, rows, cols, jc + j);',
    replace: 'if (last) finish(ct, rows, cols, j);',
    models: 'the epilogue gets the column within the B block, not within C: bias from the wrong columns past the first column block',
  },
  {
    id: 'gemm-kblock-accumulate',
    file: 'gemm.cc',
    find: 'const bool accumulate = pc > 0;',
    replace: 'const bool accumulate = pc > KC;',
    models: 'off by one K block: the second block of k overwrites the first instead of adding to it',
  },
  {
    id: 'gemm-epilogue-early',
    file: 'gemm.cc',
    find: 'const bool last = pc + kc == k;',
    replace: 'const bool last = pc == 0;',
    models: 'the epilogue (bias, activation) runs after the first K block instead of the last',
  },
  {
    id: 'gemm-pack-b-column-offset',
    file: 'gemm.cc',
    find: 'uk.pack_b(b + p * rs + j * cs,',
    replace: 'uk.pack_b(b + p * rs + j,',
    models: 'the B block\'s first column in elements, not in strides: wrong for a transposed B past the first column block',
  },
  {
    id: 'gemm-one-row-epilogue-column',
    file: 'gemm.cc',
    find: 'finish(c + j, 1, cols, j);',
    replace: 'finish(c + j, 1, cols, 0);',
    models: 'the one-row path (batch-1 inference) split over threads by columns gives each chunk\'s epilogue column 0',
  },
  {
    id: 'gemv-cols-tail',
    file: 'gemm.cc',
    find: 'for (; p < k; p++) lanes[0] += a[p] * bj[p];',
    replace: 'for (; p + 1 < k; p++) lanes[0] += a[p] * bj[p];',
    models: 'off-by-one in the vector tail of the one-row product with a transposed B (Dense dx at batch 1)',
  },
  // --- micro-kernels and packing (gemm_kernel.inc, gemm_pack.inc, gemm_portable.cc)
  {
    id: 'kernel-edge-panel-stride',
    file: 'gemm_kernel.inc',
    find: 'tile<Ops, R, NV, MR>(kc, a, b, c, ldc, accumulate);',
    replace: 'tile<Ops, R, NV, R>(kc, a, b, c, ldc, accumulate);',
    models: 'the exact-height bottom-edge kernel steps through the packed A panel by its own height, not the panel\'s MR',
  },
  {
    id: 'kernel-tile-accumulate',
    file: 'gemm_kernel.inc',
    find: 'Ops::storeu(cp, accumulate ? Ops::add(acc[i][v], Ops::loadu(cp)) : acc[i][v]);',
    replace: 'Ops::storeu(cp, acc[i][v]);',
    models: 'the SIMD tile stores its sums over what C holds from earlier K blocks instead of adding',
  },
  {
    id: 'kernel-row-tail-mask',
    file: 'gemm_kernel.inc',
    find: 'const int live = static_cast<int>(n - j);',
    replace: 'const int live = static_cast<int>(n - j - 1);',
    models: 'the one-row kernel\'s masked tail is one column short',
  },
  {
    id: 'portable-edge-panel-stride',
    file: 'gemm_portable.cc',
    find: 'tile<T, R, NR, MR>(kc, a, b, c, ldc, accumulate);',
    replace: 'tile<T, R, NR, R>(kc, a, b, c, ldc, accumulate);',
    models: 'the portable bottom-edge kernel steps through the A panel by its own height (only runs with KILN_GEMM_ISA=portable or on old CPUs)',
  },
  // --- matmul (matmul.cc)
  {
    id: 'matmul-fold-transposed-a',
    file: 'matmul.cc',
    find: 'if (tb.size == k * n && !trans_a && ta.size == batches * m * k) {',
    replace: 'if (tb.size == k * n && ta.size == batches * m * k) {',
    models: 'a batched product with one shared B folds the batch into rows even when A is transposed',
  },
  // --- fused Dense (dense.cc)
  {
    id: 'dense-linear-drops-bias',
    file: 'bias_act.h',
    find: 'if (act == Act::Linear && !bias) return e;',
    replace: 'if (act == Act::Linear) return e;',
    models: 'a linear Dense skips its epilogue, and with it the bias',
  },
  {
    id: 'dense-grad-relu-tie',
    file: 'bias_act.h',
    find: 'if constexpr (act == Act::Relu) return y > T(0) ? dy : T(0);',
    replace: 'if constexpr (act == Act::Relu) return y >= T(0) ? dy : T(0);',
    models: 'relu\'s gradient passes dy where the output is exactly 0 (every negative pre-activation)',
  },
  {
    id: 'dense-grad-row-block',
    file: 'bias_act.h',
    find: 'for (int64_t b = 1; b < blocks; b++) s += acc[b * n + j];',
    replace: 'for (int64_t b = 2; b < blocks; b++) s += acc[b * n + j];',
    models: 'the backward pass\'s dBias drops the partial sums of its second row block (thread)',
  },
  // --- softmax and crossentropy (softmax.cc)
  {
    id: 'softmax-max-tail',
    file: 'softmax.cc',
    find: 'for (; i < n; i++) m = x[i] > m ? x[i] : m;',
    replace: '',
    models: 'the row max ignores the elements past the last whole vector: the shift can leave exp to overflow',
  },
  {
    id: 'log-softmax-grad-row',
    file: 'softmax.cc',
    find: 'if (log) log_softmax_grad_row(dy + at, y + at, static_cast<T>(sum(dy + at, n)), out + at, n);',
    replace: 'if (log) log_softmax_grad_row(dy + at, y + at, static_cast<T>(sum(dy, n)), out + at, n);',
    models: 'log-softmax\'s gradient sums the first row of dy for every row (a missing row offset)',
  },
  {
    id: 'crossentropy-sparse-unclipped',
    file: 'softmax.cc',
    find: 'if (labels.index) return -std::log(clip(x[labels.index[r]] / total));',
    replace: 'if (labels.index) return -std::log(x[labels.index[r]] / total);',
    models: 'sparse crossentropy from probabilities forgets the epsilon clip: a zero probability gives Infinity',
  },
  // --- attention (attention.cc)
  {
    id: 'attention-causal-diagonal',
    file: 'attention.cc',
    find: 'for (int64_t s = t + 1; s < len; s++) row[s] = value;',
    replace: 'for (int64_t s = t + 2; s < len; s++) row[s] = value;',
    models: 'the causal mask one key late: query t also sees key t + 1',
  },
  {
    id: 'attention-causal-span',
    file: 'attention.cc',
    find: 't0 + rows < S ? t0 + rows : S',
    replace: 't0 + rows < S ? t0 + rows - 1 : S',
    models: 'causal attention stops one key short of a row block\'s last query: that query never sees itself',
  },
  {
    id: 'attention-mask-key-head',
    file: 'attention.cc',
    find: '(Nm == 1 ? 0 : n)',
    replace: '(Nm == 1 ? 0 : n / G)',
    models: 'a per-head mask read at the key head (grouped-query attention) instead of the query head',
  },
  {
    id: 'attention-grad-dk-first-block',
    file: 'attention.cc',
    find: 'add_into(dk_sum.data(), part.data(), span * a.H);',
    replace: 'if (t0 == 0) add_into(dk_sum.data(), part.data(), span * a.H);',
    models: 'dk keeps only the first block of query rows (T past 32)',
  },
  // --- optimizer updates (update.cc)
  {
    id: 'adam-old-m',
    file: 'update.cc',
    find: 'w_out[i] = w[i] - (mi * alpha) / (std::sqrt(d) + eps);',
    replace: 'w_out[i] = w[i] - (m[i] * alpha) / (std::sqrt(d) + eps);',
    models: 'Adam steps with the first moment from before this update',
  },
  {
    id: 'amsgrad-min',
    file: 'update.cc',
    find: 'd = old > vi || old != old ? old : vi;',
    replace: 'd = old < vi || old != old ? old : vi;',
    models: 'AMSGrad keeps the smaller second moment instead of the larger',
  },
  // --- reductions (reduce.cc)
  {
    id: 'reduce-run-tail',
    file: 'reduce.cc',
    find: 'for (; i < n; i++) {\n    lanes[0] = F::combine(lanes[0], x[i]);',
    replace: 'for (; i + 1 < n; i++) {\n    lanes[0] = F::combine(lanes[0], x[i]);',
    models: 'off-by-one in a contiguous run\'s tail past the last eight lanes',
  },
  {
    id: 'reduce-int-max-init',
    file: 'reduce.cc',
    find: ': std::numeric_limits<T>::lowest();',
    replace: ': T(0);',
    models: 'integer max starts from 0, not the lowest value: a row of negatives reduces to 0',
  },
  {
    id: 'reduce-column-block-offset',
    file: 'reduce.cc',
    find: 'po[r * len + j0 + j] = F::finish(acc[j], nan[j]);',
    replace: 'po[r * len + j] = F::finish(acc[j], nan[j]);',
    models: 'a reduction over leading axes writes every block of 1,024 columns to the first block',
  },
  // --- movement and index (movement.cc, index.cc)
  {
    id: 'slice-step-sign',
    file: 'movement.cc',
    find: 'strides[d] = xs[d] * c.ints[rank + d];',
    replace: 'strides[d] = xs[d] * std::abs(c.ints[rank + d]);',
    models: 'a negative slice step loses its sign',
  },
  {
    id: 'transpose-tile-rows',
    file: 'movement.cc',
    find: 'const int64_t i1 = std::min(rows, i0 + kTile);',
    replace: 'const int64_t i1 = std::min(rows, i0 + kTile - 1);',
    models: 'the tiled transpose copies one row short of each 32-row tile',
  },
  {
    id: 'gather-bound',
    file: 'index.cc',
    find: 'if (idx[t] < 0 || idx[t] >= n) {',
    replace: 'if (idx[t] < 0 || idx[t] > n) {',
    models: 'the kernel\'s own index check lets index n through (a read past the row)',
  },
  // --- elementwise: binary broadcasting and the walk (binary.cc, walk.cc)
  {
    id: 'binary-scalar-offset',
    file: 'binary.cc',
    find: 'row<op, T, O, 0, 1>(a, b + lo, out + lo, hi - lo);',
    replace: 'row<op, T, O, 0, 1>(a + lo, b + lo, out + lo, hi - lo);',
    models: 'a scalar left operand is offset by the thread\'s start like the others (only large tensors go to threads)',
  },
  {
    id: 'walk-merge-last-operand',
    file: 'walk.cc',
    find: 'for (int k = 1; k < operands && merge; k++)',
    replace: 'for (int k = 1; k < operands - 1 && merge; k++)',
    models: 'dims are merged without checking the last operand\'s strides',
  },
  // --- vectorized math (vmath.h, used by unary, softmax and the Dense epilogue)
  {
    id: 'vlog-subnormal-exponent',
    file: 'vmath.h',
    find: 'const T k = subnormal ? s.k - T(C::kMantissa + 1) : s.k;',
    replace: 'const T k = subnormal ? s.k - T(C::kMantissa) : s.k;',
    models: 'log of a subnormal corrects the exponent by one too few: off by ln 2',
  },
  {
    id: 'vexp-overflow-select',
    file: 'vmath.h',
    find: 'const T big = x > C::kHigh ? std::numeric_limits<T>::infinity() : y;\n  return x < C::kLow ? T(0) : big;',
    replace: 'return x < C::kLow ? T(0) : y;',
    models: 'exp without its overflow select: past the exponent range 2^n wraps instead of giving Infinity',
  },
];
