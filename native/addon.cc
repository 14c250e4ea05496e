// The N-API face of the scanner: argument checks, result objects and error translation.
// No C++ exception crosses into JavaScript: every export runs inside `guard_exceptions`.
#include <napi.h>
#include <uv.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "fault_guard.h"
#include "log_scan.h"
#include "record_layout.h"

namespace {

// Keep in step with NATIVE_ABI_VERSION in src/scanner/native-engine.ts.
constexpr int kAbiVersion = 3;
constexpr double kMaxSafeInteger = 9007199254740991.0;
// Numbers after the records of a scan's result: nextOffset, size, searchedTo.
constexpr std::size_t kScanTrailer = 3;

struct InvalidArgument {
  std::string message;
};

Napi::Error error_with_code(Napi::Env env, const std::string& message, const char* code) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Value().Set("code", Napi::String::New(env, code));
  return error;
}

// Mirrors Node's fs errors: "EBADF: bad file descriptor, fstat" with code, errno and syscall.
Napi::Error system_error(Napi::Env env, const rms::SystemError& e) {
  const int uv_code = uv_translate_sys_error(e.error);
  const std::string message = std::string(uv_err_name(uv_code)) + ": " + uv_strerror(uv_code) + ", " + e.syscall;
  Napi::Error error = error_with_code(env, message, uv_err_name(uv_code));
  error.Value().Set("errno", Napi::Number::New(env, uv_code));
  error.Value().Set("syscall", Napi::String::New(env, e.syscall));
  return error;
}

template <typename Fn>
Napi::Value guard_exceptions(const Napi::CallbackInfo& info, Fn fn) {
  Napi::Env env = info.Env();
  try {
    return fn(info);
  } catch (const InvalidArgument& e) {
    throw error_with_code(env, e.message, "RMS_INVALID_ARGUMENT");
  } catch (const rms::SystemError& e) {
    throw system_error(env, e);
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw error_with_code(env, "the native scanner ran out of memory; retry with a smaller maxRecords", "ENOMEM");
  } catch (const std::exception& e) {
    throw error_with_code(env, std::string("internal error in the native scanner: ") + e.what(), "RMS_ERROR");
  } catch (...) {
    throw error_with_code(env, "internal error in the native scanner", "RMS_ERROR");
  }
}

// The argument as a double, NaN when it is not a number (every check below then rejects it).
double number_arg(const Napi::CallbackInfo& info, std::size_t i) {
  return info[i].IsNumber() ? info[i].As<Napi::Number>().DoubleValue() : NAN;
}

// The argument as JS's String(value) shows it, for messages identical to the TypeScript engine's.
std::string text_of(const Napi::Value& value) {
  if (value.IsSymbol()) return "a symbol";
  try {
    return value.ToString().Utf8Value();
  } catch (const Napi::Error&) {
    return "a value that cannot be converted to a string";
  }
}

bool is_integer(double v) { return std::isfinite(v) && std::trunc(v) == v; }

int fd_arg(const Napi::CallbackInfo& info, std::size_t i) {
  const double v = number_arg(info, i);
  if (!is_integer(v) || v < 0 || v > 2147483647.0) {
    throw InvalidArgument{"fd must be an open file descriptor (an integer from 0 to 2^31-1), got " + text_of(info[i])};
  }
  return static_cast<int>(v);
}

// A byte offset: an integer in [0, 2^53 - 1], so that every offset is exact as a JS number.
std::uint64_t offset_arg(const Napi::CallbackInfo& info, std::size_t i, const char* name) {
  const double v = number_arg(info, i);
  if (!is_integer(v) || v < 0 || v > kMaxSafeInteger) {
    throw InvalidArgument{std::string(name) + " must be an integer from 0 to 2^53-1, got " + text_of(info[i])};
  }
  return static_cast<std::uint64_t>(v);
}

// scan(fd, offset, maxBytes | undefined, maxRecords, searchFrom | undefined)
//   -> Float64Array: count * kRecordStride record numbers, then nextOffset, size, searchedTo.
// One array and no object: naming five properties from C++ cost about as much as the scan of a
// one-line tail (the wrapper in src/scanner/native-engine.ts builds the ScanResult).
Napi::Value Scan(const Napi::CallbackInfo& info) {
  return guard_exceptions(info, [](const Napi::CallbackInfo& args) -> Napi::Value {
    Napi::Env env = args.Env();
    const int fd = fd_arg(args, 0);
    const std::uint64_t offset = offset_arg(args, 1, "offset");
    std::uint64_t max_bytes = UINT64_MAX;
    if (!args[2].IsUndefined()) {
      const double v = number_arg(args, 2);
      if (!is_integer(v) || v < 1 || v > kMaxSafeInteger) {
        throw InvalidArgument{"maxBytes must be a positive integer (or omitted for no limit), got " + text_of(args[2])};
      }
      max_bytes = static_cast<std::uint64_t>(v);
    }
    const double max_records = number_arg(args, 3);
    if (!is_integer(max_records) || max_records < 1 || max_records > 2147483647.0) {
      throw InvalidArgument{"maxRecords must be an integer from 1 to 2^31-1, got " + text_of(args[3])};
    }
    const std::uint64_t search_from = args[4].IsUndefined() ? 0 : offset_arg(args, 4, "searchFrom");

    // One buffer per thread, scan after scan: most scans take a few records.
    thread_local rms::RecordBuffer buffer;
    buffer.clear();
    const rms::ScanOutcome outcome =
        rms::scan_log(fd, offset, search_from, max_bytes, static_cast<std::uint64_t>(max_records), buffer);
    const std::size_t numbers = buffer.count() * rms::kRecordStride;
    // Copied into a V8-owned array: an external one would be freed by a finalizer that Node
    // runs only between event-loop turns, so a synchronous loop of scans would pile them up
    // (measured: 2M one-line scans held 660 MB).
    Napi::Float64Array result = Napi::Float64Array::New(env, numbers + kScanTrailer);
    double* out = result.Data();
    if (numbers > 0) std::memcpy(out, buffer.data(), numbers * sizeof(double));
    out[numbers] = static_cast<double>(outcome.next_offset);
    out[numbers + 1] = static_cast<double>(outcome.size);
    out[numbers + 2] = static_cast<double>(outcome.searched_to);
    return result;
  });
}

// findLast(fd, kindMask, before) -> Float64Array(6) | null; before -1 = the end of the file.
Napi::Value FindLast(const Napi::CallbackInfo& info) {
  return guard_exceptions(info, [](const Napi::CallbackInfo& args) -> Napi::Value {
    Napi::Env env = args.Env();
    const int fd = fd_arg(args, 0);
    const double mask = number_arg(args, 1);
    if (!is_integer(mask) || mask <= 0 || mask > rms::kAllKindsMask ||
        (static_cast<std::uint32_t>(mask) & ~rms::kAllKindsMask) != 0) {
      throw InvalidArgument{"kindMask must combine KindMask bits (for example KindMask.Request | KindMask.SessionEnd), got " +
                            text_of(args[1])};
    }
    std::uint64_t before = UINT64_MAX;
    if (number_arg(args, 2) != -1) before = offset_arg(args, 2, "before");
    Napi::Float64Array record = Napi::Float64Array::New(env, rms::kRecordStride);
    if (!rms::find_last_line(fd, static_cast<std::uint32_t>(mask), before, record.Data())) return env.Null();
    return record;
  });
}

// The record layout (record_layout.h), for the loader to compare with its own table.
Napi::Object Layout(Napi::Env env) {
  Napi::Object fields = Napi::Object::New(env);
  fields.Set("kind", Napi::Number::New(env, rms::kFieldKind));
  fields.Set("index", Napi::Number::New(env, rms::kFieldIndex));
  fields.Set("lineStart", Napi::Number::New(env, rms::kFieldLineStart));
  fields.Set("payloadStart", Napi::Number::New(env, rms::kFieldPayloadStart));
  fields.Set("payloadEnd", Napi::Number::New(env, rms::kFieldPayloadEnd));
  fields.Set("lineEnd", Napi::Number::New(env, rms::kFieldLineEnd));
  Napi::Object kinds = Napi::Object::New(env);
  kinds.Set("Request", Napi::Number::New(env, rms::kRequest));
  kinds.Set("Response", Napi::Number::New(env, rms::kResponse));
  kinds.Set("SessionEnd", Napi::Number::New(env, rms::kSessionEnd));
  kinds.Set("Unknown", Napi::Number::New(env, rms::kUnknown));
  kinds.Set("Malformed", Napi::Number::New(env, rms::kMalformed));
  Napi::Object layout = Napi::Object::New(env);
  layout.Set("stride", Napi::Number::New(env, rms::kRecordStride));
  layout.Set("fields", fields);
  layout.Set("kinds", kinds);
  return layout;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abiVersion", Napi::Number::New(env, kAbiVersion));
  // Without the SIGBUS guard a log that shrinks under a mapping kills the process: the loader
  // then refuses this binary and says why.
  exports.Set("faultGuard", Napi::Boolean::New(env, rms::install_fault_guard()));
  exports.Set("layout", Layout(env));
  exports.Set("scan", Napi::Function::New(env, Scan, "scan"));
  exports.Set("findLast", Napi::Function::New(env, FindLast, "findLast"));
  return exports;
}

}  // namespace

NODE_API_MODULE(rock_model_service, Init)
