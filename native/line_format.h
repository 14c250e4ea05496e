// How one complete log line is classified (test/scanner/conformance.test.ts has the rules as a
// table; record_layout.h for the record).
// Shared by the forward scan and the backward search.
#pragma once
#include <cstddef>
#include <cstdint>

#include "meta_json.h"
#include "record_layout.h"

namespace rms {

// Classifies the line whose content (without its '\n') is [line, line + len) and which starts
// at file offset line_offset; writes the kRecordStride numbers to out.
void classify_line(const char* line, std::size_t len, std::uint64_t line_offset, MetaScratch& scratch, double* out);

// The kinds (a findLast mask) that the line [line, line + len) can turn out to be, from its
// head alone.
std::uint32_t possible_kinds(const char* line, std::size_t len);

// The last byte `c` in [begin, end), or nullptr (memrchr where the C library has it).
const char* last_byte(const char* begin, const char* end, char c);

}  // namespace rms
