#include "meta_json.h"

#include <locale.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace rms {

namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;

inline bool is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
inline bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
inline bool is_hex(unsigned char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
inline int hex_value(unsigned char c) {
  if (is_digit(c)) return c - '0';
  return (c | 0x20) - 'a' + 10;
}

// Created when the addon loads, so no lazy initialisation runs inside a fault-guarded scan.
const locale_t kCLocale = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(0));

inline const char* skip_ws(const char* p, const char* end) {
  while (p < end && is_ws(static_cast<unsigned char>(*p))) ++p;
  return p;
}

// Scans a string starting at its opening quote. Returns the byte after the closing quote, or
// nullptr when invalid. *is_index tells whether the decoded text is exactly "index" (escapes
// such as \u0069 decode first, as JSON.parse does).
const char* scan_string(const char* p, const char* end, bool* is_index) {
  static const char kIndex[] = "index";
  std::size_t decoded = 0;
  bool matches = true;
  auto feed = [&](unsigned int unit) {
    if (matches && (decoded >= 5 || unit != static_cast<unsigned char>(kIndex[decoded]))) matches = false;
    ++decoded;
  };
  ++p;
  while (p < end) {
    unsigned char c = static_cast<unsigned char>(*p);
    if (c == '"') {
      *is_index = matches && decoded == 5;
      return p + 1;
    }
    if (c < 0x20) return nullptr;
    if (c != '\\') {
      feed(c);
      ++p;
      continue;
    }
    if (end - p < 2) return nullptr;
    switch (p[1]) {
      case '"': case '\\': case '/':
        feed(static_cast<unsigned char>(p[1]));
        p += 2;
        break;
      case 'b': case 'f': case 'n': case 'r': case 't':
        feed(0x100);  // a control character: never part of "index"
        p += 2;
        break;
      case 'u': {
        if (end - p < 6) return nullptr;
        unsigned int unit = 0;
        for (int i = 2; i < 6; ++i) {
          unsigned char h = static_cast<unsigned char>(p[i]);
          if (!is_hex(h)) return nullptr;
          unit = unit * 16 + static_cast<unsigned int>(hex_value(h));
        }
        feed(unit);
        p += 6;
        break;
      }
      default:
        return nullptr;
    }
  }
  return nullptr;
}

// Scans a number (RFC 8259 grammar). Returns the byte after it or nullptr. When value is not
// null, stores the double JSON.parse would produce (correctly rounded; overflow to infinity,
// underflow to a signed zero).
const char* scan_number(const char* p, const char* end, NumberText& text, double* value) {
  const char* start = p;
  bool negative = false;
  if (p < end && *p == '-') {
    negative = true;
    ++p;
  }
  if (p >= end || !is_digit(static_cast<unsigned char>(*p))) return nullptr;
  // Decimal magnitude, used only to tell overflow from underflow when strtod reports ERANGE.
  long long magnitude = 0;
  bool seen_nonzero = false;
  if (*p == '0') {
    ++p;
  } else {
    while (p < end && is_digit(static_cast<unsigned char>(*p))) {
      ++magnitude;
      ++p;
    }
    seen_nonzero = true;
  }
  if (p < end && *p == '.') {
    ++p;
    if (p >= end || !is_digit(static_cast<unsigned char>(*p))) return nullptr;
    while (p < end && is_digit(static_cast<unsigned char>(*p))) {
      if (!seen_nonzero) {
        if (*p == '0') --magnitude; else seen_nonzero = true;
      }
      ++p;
    }
  }
  long long exponent = 0;
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    bool exp_negative = false;
    if (p < end && (*p == '+' || *p == '-')) {
      exp_negative = *p == '-';
      ++p;
    }
    if (p >= end || !is_digit(static_cast<unsigned char>(*p))) return nullptr;
    while (p < end && is_digit(static_cast<unsigned char>(*p))) {
      if (exponent < 100000000) exponent = exponent * 10 + (*p - '0');
      ++p;
    }
    if (exp_negative) exponent = -exponent;
  }
  if (value == nullptr) return p;

  const double signed_zero = negative ? -0.0 : 0.0;
  if (!seen_nonzero) {
    *value = signed_zero;
    return p;
  }
  // The usual index is a plain integer: up to 15 digits it is exact in a double, so no
  // strtod (which costs as much as the rest of the line's checks).
  const std::size_t digits = static_cast<std::size_t>(p - start) - (negative ? 1 : 0);
  if (digits <= 15 && static_cast<long long>(digits) == magnitude) {
    long long n = 0;
    for (const char* d = start + (negative ? 1 : 0); d < p; ++d) n = n * 10 + (*d - '0');
    *value = negative ? -static_cast<double>(n) : static_cast<double>(n);
    return p;
  }
  // strtod needs a terminated copy; the grammar above already excluded everything strtod
  // would read differently (hex, inf, nan). The C locale pins the decimal point to '.',
  // whatever LC_NUMERIC the host process set.
  const char* buf = text.copy(start, static_cast<std::size_t>(p - start));
  if (buf == nullptr) return nullptr;
  errno = 0;
  double v = strtod_l(buf, nullptr, kCLocale);
  const bool range_error = errno == ERANGE;
  if (range_error && (v == 0.0 || std::isinf(v))) {
    v = magnitude + exponent > 0 ? (negative ? -HUGE_VAL : HUGE_VAL) : signed_zero;
  }
  *value = v;
  return p;
}

inline const char* scan_literal(const char* p, const char* end, const char* word, std::size_t len) {
  if (static_cast<std::size_t>(end - p) < len || std::memcmp(p, word, len) != 0) return nullptr;
  return p + len;
}

}  // namespace

NestStack::~NestStack() { std::free(heap_); }

NumberText::~NumberText() { std::free(heap_); }

const char* NumberText::copy(const char* p, std::size_t len) {
  char* buf = inline_;
  if (len >= sizeof inline_) {
    if (len >= heap_size_) {
      auto* grown = static_cast<char*>(std::realloc(heap_, len + 1));
      if (grown == nullptr) return nullptr;
      heap_ = grown;
      heap_size_ = len + 1;
      std::atomic_signal_fence(std::memory_order_seq_cst);
    }
    buf = heap_;
  }
  std::memcpy(buf, p, len);
  buf[len] = '\0';
  return buf;
}

bool NestStack::push_deep(bool is_object, std::size_t depth) {
  const std::size_t word = depth / 64 - kInlineWords;
  if (word >= heap_words_) {
    const std::size_t grown = heap_words_ == 0 ? 64 : heap_words_ * 2;
    auto* next = static_cast<std::uint64_t*>(std::realloc(heap_, grown * sizeof(std::uint64_t)));
    if (next == nullptr) return false;
    heap_ = next;
    heap_words_ = grown;
    std::atomic_signal_fence(std::memory_order_seq_cst);
  }
  set(heap_[word], is_object, depth);
  return true;
}

bool parse_meta_index(const char* p, const char* end, MetaScratch& scratch, double* index) {
  NestStack& stack = scratch.nest;
  p = skip_ws(p, end);
  if (p >= end || *p != '{') return false;
  // depth = number of open containers; the top-level object is depth 1.
  std::size_t depth = 0;
  bool have_index = false;
  bool index_ok = false;
  double index_value = 0;
  bool value_is_index = false;  // the value about to be read belongs to a top-level "index" key

  // Each iteration reads one value, then the punctuation after it.
  for (;;) {
    p = skip_ws(p, end);
    if (p >= end) return false;
    const bool top_index = value_is_index;
    value_is_index = false;
    bool opened = false;
    switch (*p) {
      case '{':
      case '[': {
        const bool obj = *p == '{';
        if (!stack.push(obj, depth)) return false;
        ++depth;
        p = skip_ws(p + 1, end);
        if (p >= end) return false;
        if (*p == (obj ? '}' : ']')) {
          --depth;
          ++p;
          break;
        }
        opened = true;
        break;
      }
      case '"': {
        bool unused;
        p = scan_string(p, end, &unused);
        break;
      }
      case 't': p = scan_literal(p, end, "true", 4); break;
      case 'f': p = scan_literal(p, end, "false", 5); break;
      case 'n': p = scan_literal(p, end, "null", 4); break;
      default: {
        double v = 0;
        p = scan_number(p, end, scratch.number, top_index ? &v : nullptr);
        if (p != nullptr && top_index) {
          have_index = true;
          index_ok = std::nearbyint(v) == v && std::fabs(v) <= kMaxSafeInteger;
          index_value = v;
        }
        if (p == nullptr) return false;
        goto after_value;
      }
    }
    if (p == nullptr) return false;
    if (top_index) {
      have_index = true;
      index_ok = false;
    }
    if (opened) {
      if (stack.is_object(depth - 1)) goto read_key;
      continue;  // first element of an array
    }
  after_value:
    for (;;) {
      p = skip_ws(p, end);
      if (depth == 0) {
        if (p != end) return false;
        if (!have_index || !index_ok) return false;
        *index = index_value;
        return true;
      }
      if (p >= end) return false;
      const bool in_object = stack.is_object(depth - 1);
      if (*p == (in_object ? '}' : ']')) {
        --depth;
        ++p;
        continue;
      }
      if (*p != ',') return false;
      ++p;
      if (!in_object) break;  // next array element
      goto read_key;
    }
    continue;
  read_key:
    p = skip_ws(p, end);
    if (p >= end || *p != '"') return false;
    {
      bool is_index = false;
      p = scan_string(p, end, &is_index);
      if (p == nullptr) return false;
      value_is_index = is_index && depth == 1;
    }
    p = skip_ws(p, end);
    if (p >= end || *p != ':') return false;
    ++p;
  }
}

}  // namespace rms
