// Validates a line's meta JSON and extracts its "index", byte for byte as JavaScript's
// JSON.parse would see the UTF-8-decoded text (both engines give identical results).
#pragma once
#include <cstddef>
#include <cstdint>

namespace rms {

// The container stack of the validator: a bit per nesting level. The first levels live
// inline; deeper documents spill to the heap (JSON.parse has no depth limit, so neither do we).
// The heap block is released by the destructor, which runs outside any fault-guarded region.
class NestStack {
 public:
  NestStack() = default;
  NestStack(const NestStack&) = delete;
  NestStack& operator=(const NestStack&) = delete;
  ~NestStack();
  // Returns false when memory runs out.
  bool push(bool is_object, std::size_t depth) {
    if (depth >= kInlineWords * 64) return push_deep(is_object, depth);
    set(inline_[depth / 64], is_object, depth);
    return true;
  }
  bool is_object(std::size_t depth) const {
    const std::uint64_t word = depth < kInlineWords * 64 ? inline_[depth / 64] : heap_[depth / 64 - kInlineWords];
    return ((word >> (depth % 64)) & 1u) != 0;
  }

 private:
  static void set(std::uint64_t& word, bool is_object, std::size_t depth) {
    const std::uint64_t bit = std::uint64_t{1} << (depth % 64);
    if (is_object) word |= bit; else word &= ~bit;
  }
  bool push_deep(bool is_object, std::size_t depth);

  static constexpr std::size_t kInlineWords = 8;
  std::uint64_t inline_[kInlineWords] = {};
  // Published with a signal fence after each change, so a fault-guarded caller that is
  // interrupted never leaves the destructor a stale pointer.
  std::uint64_t* heap_ = nullptr;
  std::size_t heap_words_ = 0;
};

// A terminated copy of a number's text for strtod. Numbers of up to 127 bytes use the inline
// buffer; longer ones a heap block that is published (signal fence) before any byte is copied
// from the log: the copy may read a mapping and fault, and then the block must still be
// reachable so that the destructor, which runs outside the guarded region, frees it.
class NumberText {
 public:
  NumberText() = default;
  NumberText(const NumberText&) = delete;
  NumberText& operator=(const NumberText&) = delete;
  ~NumberText();
  // Returns the copy of [p, p + len) followed by a NUL, or nullptr when memory runs out.
  const char* copy(const char* p, std::size_t len);

 private:
  char inline_[128];
  char* heap_ = nullptr;
  std::size_t heap_size_ = 0;
};

// Everything the meta parser allocates, owned by the caller of a guarded scan.
struct MetaScratch {
  NestStack nest;
  NumberText number;
};

// Returns true when [p, end) is one JSON value (RFC 8259, whitespace space/tab/CR/LF) that is
// an object whose last "index" member is a number with an integer value within +-(2^53-1);
// the value goes to *index. Any byte >= 0x20 is allowed inside strings, as in JSON.parse of
// the decoded text (an invalid UTF-8 sequence decodes to U+FFFD, which is legal there).
bool parse_meta_index(const char* p, const char* end, MetaScratch& scratch, double* index);

}  // namespace rms
