{
  "variables": {
    "common_cflags": ["-O3", "-std=c++17", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=fast", "-fvisibility=hidden"]
  },
  "targets": [
    {
      "target_name": "kernels_avx512",
      "type": "static_library",
      "sources": ["native/src/kernels_avx512.cc"],
      "cflags_cc": ["<@(common_cflags)", "-fPIC", "-mavx512f", "-mavx512dq", "-mavx512vl", "-mavx512bw", "-mavx2", "-mfma", "-mf16c"],
      "cflags_cc!": ["-fno-exceptions", "-O2"]
    },
    {
      "target_name": "kernels_avx2",
      "type": "static_library",
      "sources": ["native/src/kernels_avx2.cc"],
      "cflags_cc": ["<@(common_cflags)", "-fPIC", "-mavx2", "-mfma", "-mf16c"],
      "cflags_cc!": ["-fno-exceptions", "-O2"]
    },
    {
      "target_name": "kernels_generic",
      "type": "static_library",
      "sources": ["native/src/kernels_generic.cc"],
      "cflags_cc": ["<@(common_cflags)", "-fPIC"],
      "cflags_cc!": ["-fno-exceptions", "-O2"]
    },
    {
      "target_name": "sentencelab_native",
      "sources": [
        "native/src/addon.cc",
        "native/src/dispatch.cc",
        "native/src/thread_pool.cc",
        "native/src/layout_ops.cc",
        "native/src/fused_ops.cc",
        "native/src/openblas.cc"
      ],
      "dependencies": ["kernels_avx512", "kernels_avx2", "kernels_generic"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["<@(common_cflags)", "-pthread"],
      "cflags_cc!": ["-O2"],
      "ldflags": ["-pthread", "-ldl"]
    }
  ]
}
