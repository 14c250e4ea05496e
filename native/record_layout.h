// The record layout: one spelling for C++ and for TypeScript (src/scanner/types.ts,
// RECORD_LAYOUT and RecordKind). The addon exports these numbers as `layout`; the loader
// refuses a binary whose layout differs from the TypeScript table, and a test compares them.
#pragma once
#include <cstddef>
#include <cstdint>

namespace rms {

// What a complete log line is.
enum RecordKind : int { kRequest = 1, kResponse = 2, kSessionEnd = 3, kUnknown = 4, kMalformed = 5 };

// findLast's kind masks: bit `1 << kind` per RecordKind.
constexpr std::uint32_t kAllKindsMask =
    (1u << kRequest) | (1u << kResponse) | (1u << kSessionEnd) | (1u << kUnknown) | (1u << kMalformed);

// Positions of the numbers of one record, kRecordStride doubles per record.
enum RecordField : std::size_t {
  kFieldKind = 0,
  kFieldIndex = 1,          // meta index of requests and responses, -1 otherwise
  kFieldLineStart = 2,      // offset of the line's first byte
  kFieldPayloadStart = 3,   // first byte after the start marker (other kinds: the line start)
  kFieldPayloadEnd = 4,     // first byte of the last end marker (other kinds: the line start)
  kFieldLineEnd = 5,        // offset just past the line's '\n'
  kRecordStride = 6,
};

}  // namespace rms
