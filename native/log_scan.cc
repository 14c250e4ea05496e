#include "log_scan.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include "fault_guard.h"
#include "line_format.h"
#include "meta_json.h"

namespace rms {

namespace {

std::uint64_t file_size(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) throw SystemError{errno, "fstat"};
  return st.st_size > 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

std::uint64_t page_size() {
  static const std::uint64_t size = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  return size;
}

// Bytes of the file starting at file offset `first_offset`, held in memory at `base`.
class FileBytes {
 public:
  // The address of file offset `offset` (inside the range, or its end).
  const char* at(std::uint64_t offset) const { return base_ + (offset - first_offset_); }
  std::uint64_t offset_of(const char* p) const { return first_offset_ + static_cast<std::uint64_t>(p - base_); }
  const char* base() const { return base_; }
  std::size_t length() const { return length_; }

 protected:
  const char* base_ = nullptr;
  std::uint64_t first_offset_ = 0;
  std::size_t length_ = 0;
};

// A read-only mapping of [from, to) of a file, widened down to a page boundary; unmapped by
// the destructor on every path (scans that fault included, since the fault only abandons
// frames inside run_guarded).
class MappedRange : public FileBytes {
 public:
  MappedRange(int fd, std::uint64_t from, std::uint64_t to, int advice) {
    first_offset_ = from & ~(page_size() - 1);
    length_ = static_cast<std::size_t>(to - first_offset_);
    if (length_ == 0) return;
    void* p = mmap(nullptr, length_, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(first_offset_));
    if (p == MAP_FAILED) throw SystemError{errno, "mmap"};
    base_ = static_cast<const char*>(p);
    if (advice != MADV_NORMAL) madvise(p, length_, advice);
  }
  MappedRange(const MappedRange&) = delete;
  MappedRange& operator=(const MappedRange&) = delete;
  ~MappedRange() {
    if (base_ != nullptr) munmap(const_cast<char*>(base_), length_);
  }
};

// [from, to) of a file copied with pread: for short tails, where mapping and unmapping
// (a TLB shootdown across Node's threads) costs more than the copy. It cannot fault; a file
// that shrank meanwhile gives a shorter range.
class CopiedRange : public FileBytes {
 public:
  CopiedRange(int fd, std::uint64_t from, std::uint64_t to) {
    first_offset_ = from;
    const std::size_t wanted = static_cast<std::size_t>(to - from);
    buffer_ = static_cast<char*>(std::malloc(wanted == 0 ? 1 : wanted));
    if (buffer_ == nullptr) throw std::bad_alloc();
    base_ = buffer_;
    while (length_ < wanted) {
      const ssize_t got = pread(fd, buffer_ + length_, wanted - length_, static_cast<off_t>(from + length_));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        const int error = errno;
        std::free(buffer_);
        throw SystemError{error, "pread"};
      }
      if (got == 0) break;
      length_ += static_cast<std::size_t>(got);
    }
  }
  CopiedRange(const CopiedRange&) = delete;
  CopiedRange& operator=(const CopiedRange&) = delete;
  ~CopiedRange() { std::free(buffer_); }

 private:
  char* buffer_ = nullptr;
};

// Tails up to this size are copied with pread instead of mapped. Measured here (Node 20.20,
// 2 vCPU, warm page cache, one line of the given size after a 1 MiB prefix, per scan call):
//   pread: 128K 5.5 us, 256K 9.5-10 us, 512K 22-45 us, 1M 81-129 us
//   mmap:  128K 27-57 us, 256K 10.6-18 us, 512K 15-21 us, 1M 35-39 us
// and for a 200-byte tail, pread 2.1 us against mmap 7.5 us. The two meet at 256 KiB.
constexpr std::uint64_t kPreadWindow = 256 * 1024;

// How much of the file's end findLast copies before it maps anything.
constexpr std::uint64_t kFindTailWindow = 64 * 1024;

std::uint64_t next_offset(const RecordBuffer& out, std::uint64_t offset) {
  const std::size_t n = out.count();
  return n == 0 ? offset : static_cast<std::uint64_t>(out.data()[(n - 1) * kRecordStride + 5]);
}

struct ScanJob {
  const FileBytes* map;
  const char* from;
  const char* end;
  std::uint64_t byte_limit;  // a line starting at or after this offset is left for the next call
  std::uint64_t max_records;
  RecordBuffer* out;
  NestStack* stack;
  bool out_of_memory;
};

void run_scan(void* arg) {
  ScanJob& job = *static_cast<ScanJob*>(arg);
  const char* p = job.from;
  double record[kRecordStride];
  while (job.out->count() < job.max_records) {
    const std::uint64_t line_offset = job.map->offset_of(p);
    if (job.out->count() > 0 && line_offset >= job.byte_limit) break;
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(job.end - p)));
    if (nl == nullptr) break;
    classify_line(p, static_cast<std::size_t>(nl - p), line_offset, *job.stack, record);
    if (!job.out->append(record)) {
      job.out_of_memory = true;
      break;
    }
    p = nl + 1;
  }
}

struct FindJob {
  const FileBytes* bytes;
  const char* limit;  // search lines ending at or before this byte
  std::uint32_t kind_mask;
  NestStack* stack;
  double* out;
  bool found;
  // Set when the walk reached a line that starts before `bytes` (which then does not begin
  // at offset 0): lines ending at or before this offset are still to be searched.
  std::uint64_t rest_limit;
};

void run_find(void* arg) {
  FindJob& job = *static_cast<FindJob*>(arg);
  const char* base = job.bytes->base();
  const bool from_file_start = job.bytes->offset_of(base) == 0;
  const char* nl = last_byte(base, job.limit, '\n');
  if (nl == nullptr && !from_file_start) {
    job.rest_limit = job.bytes->offset_of(job.limit);
    return;
  }
  while (nl != nullptr) {
    const char* prev = last_byte(base, nl, '\n');
    if (prev == nullptr && !from_file_start) {
      job.rest_limit = job.bytes->offset_of(nl) + 1;
      return;
    }
    const char* line = prev == nullptr ? base : prev + 1;
    classify_line(line, static_cast<std::size_t>(nl - line), job.bytes->offset_of(line), *job.stack, job.out);
    if ((job.kind_mask >> static_cast<int>(job.out[0])) & 1u) {
      job.found = true;
      return;
    }
    nl = prev;
  }
}

struct CountJob {
  const char* from;
  const char* end;
  std::uint64_t lines;
};

void run_count(void* arg) {
  CountJob& job = *static_cast<CountJob*>(arg);
  std::uint64_t lines = 0;
  for (const char* p = job.from; p < job.end; ++p) {
    p = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(job.end - p)));
    if (p == nullptr) break;
    ++lines;
  }
  job.lines = lines;
}

}  // namespace

RecordBuffer::~RecordBuffer() { std::free(data_); }

bool RecordBuffer::append(const double* record) {
  const std::size_t n = count_;
  if (n == capacity_) {
    const std::size_t grown = capacity_ == 0 ? 256 : capacity_ * 2;
    auto* next = static_cast<double*>(std::realloc(data_, grown * kRecordStride * sizeof(double)));
    if (next == nullptr) return false;
    data_ = next;
    capacity_ = grown;
  }
  std::memcpy(data_ + n * kRecordStride, record, kRecordStride * sizeof(double));
  std::atomic_signal_fence(std::memory_order_seq_cst);
  count_ = n + 1;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  return true;
}

ScanOutcome scan_log(int fd, std::uint64_t offset, std::uint64_t max_bytes, std::uint64_t max_records,
                     RecordBuffer& out) {
  std::uint64_t size = file_size(fd);
  if (offset >= size) return {offset, size};
  const std::uint64_t byte_limit = max_bytes > UINT64_MAX - offset ? UINT64_MAX : offset + max_bytes;
  NestStack stack;
  if (size - offset <= kPreadWindow) {
    CopiedRange copy(fd, offset, size);
    if (copy.length() < size - offset) size = offset + copy.length();  // it shrank meanwhile
    ScanJob job{&copy, copy.at(offset), copy.at(size), byte_limit, max_records, &out, &stack, false};
    run_scan(&job);
    if (job.out_of_memory) throw std::bad_alloc();
    return {next_offset(out, offset), size};
  }
  MappedRange map(fd, offset, size, MADV_SEQUENTIAL);
  ScanJob job{&map, map.at(offset), map.at(size), byte_limit, max_records, &out, &stack, false};
  const bool finished = run_guarded(map.base(), map.length(), run_scan, &job);
  if (job.out_of_memory) throw std::bad_alloc();
  // A fault means the file shrank under the mapping: report what was read and the new size.
  return {next_offset(out, offset), finished ? size : file_size(fd)};
}

bool find_last_line(int fd, std::uint32_t kind_mask, std::uint64_t before, double* out) {
  // A file rewritten under us can fault again; a few rounds settle on its new content.
  for (int attempt = 0; attempt < 4; ++attempt) {
    const std::uint64_t size = file_size(fd);
    std::uint64_t limit = before < size ? before : size;
    if (limit == 0) return false;
    NestStack stack;
    // The latest lines usually sit in the last few KiB: copy a tail window first, so that the
    // common query costs a pread instead of a mapping (measured: a 100-byte last response
    // 12-14 us through mmap, a few us this way). Lines that start before the window are
    // searched through a mapping from the file's start, touching only the pages walked.
    const std::uint64_t window = limit < kFindTailWindow ? limit : kFindTailWindow;
    CopiedRange tail(fd, limit - window, limit);
    if (tail.length() < window) continue;  // it shrank meanwhile
    FindJob job{&tail, tail.at(limit), kind_mask, &stack, out, false, 0};
    run_find(&job);
    if (job.found) return true;
    if (job.rest_limit == 0) return false;
    limit = job.rest_limit;
    MappedRange map(fd, 0, limit, MADV_NORMAL);
    job.bytes = &map;
    job.limit = map.at(limit);
    job.rest_limit = 0;
    if (run_guarded(map.base(), map.length(), run_find, &job)) return job.found;
  }
  return false;
}

std::uint64_t count_newlines(int fd) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    const std::uint64_t size = file_size(fd);
    if (size == 0) return 0;
    MappedRange map(fd, 0, size, MADV_SEQUENTIAL);
    CountJob job{map.base(), map.at(size), 0};
    if (run_guarded(map.base(), map.length(), run_count, &job)) return job.lines;
  }
  // The file kept shrinking under every attempt: there is no count to give.
  throw SystemError{EAGAIN, "mmap"};
}

}  // namespace rms
