# The native CPU backend's addon. Built by scripts/build-native.mjs (the package's install
# script), which turns any failure into backends/native/build/BUILD_ERROR.txt instead of a
# failed npm install.
{
  "targets": [
    {
      "target_name": "kiln_native",
      "sources": [
        "src/addon.cc",
        "src/buffers.cc",
        "src/threadpool.cc",
        "src/cpu/device.cc",
        "src/cpu/walk.cc",
        "src/cpu/unary.cc",
        "src/cpu/binary.cc",
        "src/cpu/select.cc",
        "src/cpu/reduce.cc",
        "src/cpu/movement.cc",
        "src/cpu/index.cc",
        "src/cpu/creation.cc",
        "src/cpu/random.cc",
        "src/cpu/matmul.cc",
        "src/cpu/gemm.cc",
        "src/cpu/gemm_avx512.cc",
        "src/cpu/gemm_avx2.cc",
        "src/cpu/gemm_portable.cc",
        "src/cpu/dense.cc",
        "src/cpu/softmax.cc",
        "src/cpu/update.cc",
        "src/cpu/window.cc",
        "src/cpu/im2col.cc",
        "src/cpu/pack_rows.cc",
        "src/cpu/pack_rows_avx512.cc",
        "src/cpu/pack_rows_avx2.cc",
        "src/cpu/conv.cc",
        "src/cpu/conv_grad.cc",
        "src/cpu/depthwise.cc",
        "src/cpu/pool.cc",
        "src/cpu/normalization.cc",
        "src/cpu/layer_norm.cc",
        "src/cpu/attention.cc",
        "src/cpu/recurrent.cc",
        "src/cpu/recurrent_grad.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      # No -march: the binary must run on any x86-64. Wider ISAs come in per function
      # (target_clones, #pragma GCC target) behind run-time CPU checks.
      # -fno-math-errno lets sqrt/floor/round become single instructions; -ffp-contract=off keeps
      # a*b+c from fusing where the reference rounds twice (explicit FMAs are in the GEMM only).
      # -fno-trapping-math changes no value (nothing reads the floating-point exception flags) but
      # lets a select between computed values, such as exp's saturation in src/cpu/vmath.h,
      # become a vector blend: with trapping math GCC keeps such loops scalar.
      "cflags_cc": ["-std=gnu++17", "-O3", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off", "-fexceptions", "-Wno-unused-function"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "OTHER_CPLUSPLUSFLAGS": ["-std=c++17", "-O3", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off"]
      },
      "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1 } }
    }
  ]
}
