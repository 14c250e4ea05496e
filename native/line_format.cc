#include "line_format.h"

#include <cstring>

namespace rms {

namespace {

constexpr char kRequestStartMarker[] = "LLM_REQUEST_START";
constexpr char kRequestEndMarker[] = "LLM_REQUEST_END";
constexpr char kResponseStartMarker[] = "LLM_RESPONSE_START";
constexpr char kResponseEndMarker[] = "LLM_RESPONSE_END";
constexpr char kSessionEndMarker[] = "SESSION_END";

template <std::size_t N>
constexpr std::size_t length_of(const char (&)[N]) { return N - 1; }

template <std::size_t N>
inline bool starts_with(const char* p, std::size_t len, const char (&marker)[N]) {
  return len >= N - 1 && std::memcmp(p, marker, N - 1) == 0;
}

// The last occurrence of needle in [begin, end), searched backwards: the end marker sits
// just before the short meta, so this touches a few dozen bytes of a long line.
const char* find_last(const char* begin, const char* end, const char* needle, std::size_t n) {
  if (static_cast<std::size_t>(end - begin) < n) return nullptr;
  const char* stop = end - n + 1;  // candidates start in [begin, stop)
  while (stop > begin) {
    const char* q = last_byte(begin, stop, needle[0]);
    if (q == nullptr) return nullptr;
    if (std::memcmp(q, needle, n) == 0) return q;
    stop = q;
  }
  return nullptr;
}

inline bool is_session_end(const char* p, std::size_t len) {
  if (!starts_with(p, len, kSessionEndMarker)) return false;
  for (std::size_t i = length_of(kSessionEndMarker); i < len; ++i) {
    if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') return false;
  }
  return true;
}

}  // namespace

std::uint32_t possible_kinds(const char* line, std::size_t len) {
  if (starts_with(line, len, kRequestStartMarker)) return (1u << kRequest) | (1u << kMalformed);
  if (starts_with(line, len, kResponseStartMarker)) return (1u << kResponse) | (1u << kMalformed);
  if (starts_with(line, len, kSessionEndMarker)) return (1u << kSessionEnd) | (1u << kUnknown);
  return 1u << kUnknown;
}

const char* last_byte(const char* begin, const char* end, char c) {
  if (end <= begin) return nullptr;
#if defined(__linux__)
  return static_cast<const char*>(memrchr(begin, c, static_cast<std::size_t>(end - begin)));
#else
  for (const char* p = end; p > begin;) {
    if (*--p == c) return p;
  }
  return nullptr;
#endif
}

void classify_line(const char* line, std::size_t len, std::uint64_t line_offset, MetaScratch& scratch, double* out) {
  const double start = static_cast<double>(line_offset);
  out[kFieldKind] = kUnknown;
  out[kFieldIndex] = -1;
  out[kFieldLineStart] = start;
  out[kFieldPayloadStart] = start;
  out[kFieldPayloadEnd] = start;
  out[kFieldLineEnd] = static_cast<double>(line_offset + len + 1);

  const char* end_marker;
  std::size_t start_len;
  std::size_t end_len;
  if (starts_with(line, len, kRequestStartMarker)) {
    out[kFieldKind] = kRequest;
    start_len = length_of(kRequestStartMarker);
    end_marker = kRequestEndMarker;
    end_len = length_of(kRequestEndMarker);
  } else if (starts_with(line, len, kResponseStartMarker)) {
    out[kFieldKind] = kResponse;
    start_len = length_of(kResponseStartMarker);
    end_marker = kResponseEndMarker;
    end_len = length_of(kResponseEndMarker);
  } else {
    if (is_session_end(line, len)) out[kFieldKind] = kSessionEnd;
    return;
  }

  const char* payload = line + start_len;
  const char* line_end = line + len;
  out[kFieldPayloadStart] = static_cast<double>(line_offset + start_len);
  const char* marker = find_last(payload, line_end, end_marker, end_len);
  if (marker == nullptr) {
    out[kFieldKind] = kMalformed;
    out[kFieldPayloadEnd] = static_cast<double>(line_offset + len);
    return;
  }
  out[kFieldPayloadEnd] = static_cast<double>(line_offset + static_cast<std::uint64_t>(marker - line));
  double index;
  if (parse_meta_index(marker + end_len, line_end, scratch, &index)) {
    out[kFieldIndex] = index == 0 ? 0.0 : index;  // -0 is reported as 0, as the TypeScript engine does
  } else {
    out[kFieldKind] = kMalformed;
  }
}

}  // namespace rms
