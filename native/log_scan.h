// The two operations the addon exports, over plain data and without N-API, so that the byte
// work can be read (and tested through JS) apart from the argument plumbing.
#pragma once
#include <cstddef>
#include <cstdint>

#include "record_layout.h"

namespace rms {

// A failed system call; the addon turns it into a JS error whose code is the errno name.
struct SystemError {
  int error;
  const char* syscall;
};

// Records of one scan, kRecordStride doubles each, in a malloc'd block that grows
// geometrically. Fields are volatile because a guarded scan may be abandoned mid-line
// (fault_guard.h): what they say must always be what memory holds. One buffer can serve scan
// after scan (clear() keeps a block of up to kKeptRecords records).
class RecordBuffer {
 public:
  RecordBuffer() = default;
  RecordBuffer(const RecordBuffer&) = delete;
  RecordBuffer& operator=(const RecordBuffer&) = delete;
  ~RecordBuffer();
  // Returns false when memory runs out.
  bool append(const double* record);
  // Forgets the records; frees the block when it grew past kKeptRecords.
  void clear();
  static constexpr std::size_t kKeptRecords = 4096;
  const double* data() const { return data_; }
  std::size_t count() const { return count_; }

 private:
  double* volatile data_ = nullptr;
  volatile std::size_t capacity_ = 0;
  volatile std::size_t count_ = 0;
};

struct ScanOutcome {
  std::uint64_t next_offset;
  std::uint64_t size;
  // [next_offset, searched_to) holds no '\n': a partial last line searched to here.
  std::uint64_t searched_to;
};

// Scans complete lines from `offset` (see ScanEngine.scan in src/scanner/types.ts). When
// offset < search_from <= the file size, the caller vouches that [offset, search_from) holds no
// '\n' (an earlier scan's searched_to), and the first line's newline is looked for from there.
// Throws SystemError or std::bad_alloc.
ScanOutcome scan_log(int fd, std::uint64_t offset, std::uint64_t search_from, std::uint64_t max_bytes,
                     std::uint64_t max_records, RecordBuffer& out);

// The latest complete line ending at or before `before` (UINT64_MAX: end of the file) whose
// kind bit is in kind_mask; false when there is none. Throws SystemError or std::bad_alloc.
bool find_last_line(int fd, std::uint32_t kind_mask, std::uint64_t before, double* out);

}  // namespace rms
