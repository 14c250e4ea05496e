{
  "targets": [
    {
      "target_name": "rock_model_service",
      "sources": [
        "native/addon.cc",
        "native/fault_guard.cc",
        "native/line_format.cc",
        "native/log_scan.cc",
        "native/meta_json.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags": ["-fstack-protector-strong", "-fvisibility=hidden", "-Wall", "-Wextra", "-O3"],
      "cflags_cc": ["-std=c++17", "-fexceptions"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CFLAGS": ["-fstack-protector-strong", "-Wall", "-Wextra"]
      }
    }
  ]
}
