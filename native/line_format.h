// How one complete log line is classified (SPEC 3 "Reading"; src/scanner/types.ts for the
// record layout). Shared by the forward scan and the backward search.
#pragma once
#include <cstddef>
#include <cstdint>

#include "meta_json.h"

namespace rms {

// Record kinds: part of the ABI with src/scanner/types.ts (RecordKind).
enum RecordKind : int { kRequest = 1, kResponse = 2, kSessionEnd = 3, kUnknown = 4, kMalformed = 5 };

// Numbers per record, in this order: kind, index, lineStart, payloadStart, payloadEnd, lineEnd.
constexpr std::size_t kRecordStride = 6;

// Classifies the line whose content (without its '\n') is [line, line + len) and which starts
// at file offset line_offset; writes the kRecordStride numbers to out.
void classify_line(const char* line, std::size_t len, std::uint64_t line_offset, NestStack& stack, double* out);

// The last byte `c` in [begin, end), or nullptr (memrchr where the C library has it).
const char* last_byte(const char* begin, const char* end, char c);

}  // namespace rms
