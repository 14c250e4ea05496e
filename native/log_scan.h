// The three operations the addon exports, over plain data and without N-API, so that the
// byte work can be read (and tested through JS) apart from the argument plumbing.
#pragma once
#include <cstddef>
#include <cstdint>

namespace rms {

// A failed system call; the addon turns it into a JS error whose code is the errno name.
struct SystemError {
  int error;
  const char* syscall;
};

// Records of one scan, kRecordStride doubles each, in a malloc'd block that grows
// geometrically. Fields are volatile because a guarded scan may be abandoned mid-line
// (fault_guard.h): what they say must always be what memory holds.
class RecordBuffer {
 public:
  RecordBuffer() = default;
  RecordBuffer(const RecordBuffer&) = delete;
  RecordBuffer& operator=(const RecordBuffer&) = delete;
  ~RecordBuffer();
  // Returns false when memory runs out.
  bool append(const double* record);
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
};

// Scans complete lines from `offset` (see ScanEngine.scan). Throws SystemError or std::bad_alloc.
ScanOutcome scan_log(int fd, std::uint64_t offset, std::uint64_t max_bytes, std::uint64_t max_records,
                     RecordBuffer& out);

// The latest complete line ending at or before `before` (UINT64_MAX: end of the file) whose
// kind bit is in kind_mask; false when there is none. Throws SystemError or std::bad_alloc.
bool find_last_line(int fd, std::uint32_t kind_mask, std::uint64_t before, double* out);

// The number of '\n' bytes in the file. Throws SystemError.
std::uint64_t count_newlines(int fd);

}  // namespace rms
