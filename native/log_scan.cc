#include "log_scan.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
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

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
using MallocBuffer = std::unique_ptr<char, FreeDeleter>;

// The buffer that file bytes are read into, one per thread and kept between calls: a scan of
// a short tail then costs no malloc, and no fresh pages to fault in (glibc serves blocks over
// 128 KiB with mmap). Callers use it one at a time; it grows to the largest read (1 MiB).
// Growing keeps its first bytes (realloc), for a window that extends backwards.
char* read_buffer(std::size_t bytes) {
  thread_local MallocBuffer buffer;
  thread_local std::size_t capacity = 0;
  if (bytes > capacity) {
    auto* grown = static_cast<char*>(std::realloc(buffer.get(), bytes));
    if (grown == nullptr) throw std::bad_alloc();
    static_cast<void>(buffer.release());
    buffer.reset(grown);
    capacity = bytes;
  }
  return buffer.get();
}

// Reads up to `length` bytes at `offset`; returns how many arrived (fewer at the file's end).
std::size_t read_at(int fd, char* into, std::size_t length, std::uint64_t offset) {
  std::size_t got = 0;
  while (got < length) {
    const ssize_t n = pread(fd, into + got, length - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SystemError{errno, "pread"};
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return got;
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
    char* buffer = read_buffer(static_cast<std::size_t>(to - from));
    first_offset_ = from;
    base_ = buffer;
    length_ = read_at(fd, buffer, static_cast<std::size_t>(to - from), from);
  }
};

// Tails up to this size are copied with pread (into the thread's reused buffer) instead of
// mapped: mapping and unmapping (a TLB shootdown across Node's threads) cost more than the
// copy below it. Measured here (Node 20.20, 2 vCPU, one line after a 100 KB prefix, best of 10
// rounds, us per scan): pread 300 KB 15.2, 500 KB 23.5, 700 KB 34.4, 1 MB 60.3; mmap 300 KB
// 17.7, 500 KB 21.5, 700 KB 29.8, 1 MB 34.9. They meet at about 400 KB.
constexpr std::uint64_t kPreadWindow = 384 * 1024;

// findLast reads backwards with pread: a first window this large (the latest lines usually sit
// in the last few KiB), then each refill twice the last, up to kMaxBackwardWindow. A line
// longer than that is classified through a mapping of just that line.
constexpr std::size_t kFirstBackwardWindow = 16 * 1024;
constexpr std::size_t kMaxBackwardWindow = 1024 * 1024;

// Holes of a sparse file are skipped in steps that start here and double.
constexpr std::uint64_t kFirstHoleStep = 64 * 1024;

std::uint64_t next_offset(const RecordBuffer& out, std::uint64_t offset) {
  const std::size_t n = out.count();
  return n == 0 ? offset : static_cast<std::uint64_t>(out.data()[(n - 1) * kRecordStride + kFieldLineEnd]);
}

// Where the first '\n' in [from, to) is, read with pread in windows of at most kPreadWindow:
// the bytes appended to a partial line since the last scan. Sets *end to `to`, or to where the
// data ended when the file shrank meanwhile. Returns false when there is none.
bool newline_after(int fd, std::uint64_t from, std::uint64_t to, std::uint64_t* end) {
  const std::size_t window = static_cast<std::size_t>(to - from < kPreadWindow ? to - from : kPreadWindow);
  char* buffer = read_buffer(window);
  for (std::uint64_t at = from; at < to;) {
    const std::size_t want = static_cast<std::size_t>(to - at < window ? to - at : window);
    const std::size_t got = read_at(fd, buffer, want, at);
    if (std::memchr(buffer, '\n', got) != nullptr) return true;
    at += got;
    if (got < want) {
      *end = at;
      return false;
    }
  }
  *end = to;
  return false;
}

struct ScanJob {
  const FileBytes* map;
  const char* from;
  const char* first_search;  // where the first line's newline is looked for (>= from)
  const char* end;
  std::uint64_t byte_limit;  // a line starting at or after this offset is left for the next call
  std::uint64_t max_records;
  RecordBuffer* out;
  MetaScratch* scratch;
  bool out_of_memory;
  bool partial;  // the scan stopped at a line with no '\n' up to the end of the data
};

void run_scan(void* arg) {
  ScanJob& job = *static_cast<ScanJob*>(arg);
  const char* p = job.from;
  const char* search = job.first_search;
  double record[kRecordStride];
  while (job.out->count() < job.max_records) {
    const std::uint64_t line_offset = job.map->offset_of(p);
    if (job.out->count() > 0 && line_offset >= job.byte_limit) break;
    const char* nl = static_cast<const char*>(std::memchr(search, '\n', static_cast<std::size_t>(job.end - search)));
    if (nl == nullptr) {
      job.partial = true;
      break;
    }
    classify_line(p, static_cast<std::size_t>(nl - p), line_offset, *job.scratch, record);
    if (!job.out->append(record)) {
      job.out_of_memory = true;
      break;
    }
    p = nl + 1;
    search = p;
  }
}

// Returns the smallest h <= to such that [h, to) lies in a hole of a sparse file (reads as
// zeros, so it holds no '\n'), using SEEK_DATA / SEEK_HOLE; `to` itself when byte to - 1 is
// data or the file system cannot tell. A 4 GiB hole costs a few dozen lseek calls instead of
// reading 4 GiB of zeros.
std::uint64_t hole_start(int fd, std::uint64_t to) {
  if (to == 0) return 0;
  off_t d = lseek(fd, static_cast<off_t>(to - 1), SEEK_DATA);
  if (d >= 0 ? static_cast<std::uint64_t>(d) == to - 1 : errno != ENXIO) return to;
  // [hi, to) is known to be a hole; widen it backwards in doubling steps until data shows.
  std::uint64_t hi = to - 1;
  for (std::uint64_t step = kFirstHoleStep;; step *= 2) {
    if (hi == 0) return 0;
    const std::uint64_t lo = hi > step ? hi - step : 0;
    d = lseek(fd, static_cast<off_t>(lo), SEEK_DATA);
    if (d < 0 && errno != ENXIO) return hi;
    if (d >= 0 && static_cast<std::uint64_t>(d) < hi) break;
    hi = lo;
  }
  // Data starts at d in [lo, hi): the hole that ends at `to` begins after the last data extent.
  for (std::uint64_t x = static_cast<std::uint64_t>(d);;) {
    const off_t h = lseek(fd, static_cast<off_t>(x), SEEK_HOLE);
    if (h < 0 || static_cast<std::uint64_t>(h) >= hi) return hi;
    const off_t next = lseek(fd, h, SEEK_DATA);
    if (next < 0 || static_cast<std::uint64_t>(next) >= hi) return static_cast<std::uint64_t>(h);
    x = static_cast<std::uint64_t>(next);
  }
}

// The file read backwards in windows [base, base + length), with pread: it cannot fault. The
// window sits at the end of the thread's read buffer, so that growing it backwards reads only
// the bytes before it, in place: a walk over a long line reads each of its bytes once.
class BackwardWindow {
 public:
  explicit BackwardWindow(int fd) : fd_(fd), buffer_(read_buffer(kMaxBackwardWindow)) {}
  std::uint64_t base() const { return base_; }
  std::uint64_t end() const { return base_ + length_; }
  // Whether byte `offset` is in the window.
  bool holds(std::uint64_t offset) const { return offset >= base_ && offset < end(); }
  const char* at(std::uint64_t offset) const { return data_ + (offset - base_); }
  std::uint64_t offset_of(const char* p) const { return base_ + static_cast<std::uint64_t>(p - data_); }

  // Makes the window hold bytes just before `to`, each call twice as many as the last (grown
  // in place when it already holds some of them). Returns false when the file turned out
  // shorter (it shrank).
  bool fill_before(std::uint64_t to) {
    const bool extends = length_ > 0 && base_ < to && to <= end();
    if (extends) {
      while (span_ <= to - base_ && span_ < kMaxBackwardWindow) span_ *= 2;
    }
    const std::uint64_t from = to > span_ ? to - span_ : 0;
    if (span_ < kMaxBackwardWindow) span_ *= 2;
    const std::size_t room = static_cast<std::size_t>(data_ - buffer_);
    if (extends && from < base_ && base_ - from <= room) {
      const std::size_t front = static_cast<std::size_t>(base_ - from);
      char* start = buffer_ + (room - front);
      const std::size_t got = read_at(fd_, start, front, from);
      data_ = start;
      base_ = from;
      length_ += front;
      return got == front;
    }
    const std::size_t want = static_cast<std::size_t>(to - from);
    char* start = buffer_ + (kMaxBackwardWindow - want);
    length_ = read_at(fd_, start, want, from);
    data_ = start;
    base_ = from;
    return length_ == want;
  }

 private:
  int fd_;
  char* buffer_;
  const char* data_ = nullptr;
  std::uint64_t base_ = 0;
  std::size_t length_ = 0;
  std::size_t span_ = kFirstBackwardWindow;
};

constexpr std::int64_t kNone = -1;
constexpr std::int64_t kShrank = -2;

// The offset of the last '\n' before `to`, reading backwards and skipping holes; kNone when
// there is none, kShrank when the file shrank under the search.
std::int64_t newline_before(int fd, BackwardWindow& w, std::uint64_t to) {
  bool searched_one = false;
  while (to > 0) {
    if (!(to > w.base() && to <= w.end())) {
      // The first window is read as it is: a short partial line is the usual case, and an
      // lseek there would cost every query a system call.
      if (searched_one) to = hole_start(fd, to);
      if (to == 0) return kNone;
      if (!w.fill_before(to)) return kShrank;
    }
    const char* nl = last_byte(w.at(w.base()), w.at(to), '\n');
    if (nl != nullptr) return static_cast<std::int64_t>(w.offset_of(nl));
    if (w.base() == 0) return kNone;
    to = w.base();
    searched_one = true;
  }
  return kNone;
}

struct ClassifyJob {
  const char* line;
  std::size_t length;
  std::uint64_t offset;
  MetaScratch* scratch;
  double* out;
};

void run_classify(void* arg) {
  ClassifyJob& job = *static_cast<ClassifyJob*>(arg);
  classify_line(job.line, job.length, job.offset, *job.scratch, job.out);
}

// Classifies the line [start, newline) through a mapping of just that line (it is longer than
// any window). Returns false when the file shrank under it.
bool classify_mapped(int fd, std::uint64_t start, std::uint64_t newline, MetaScratch& scratch, double* out) {
  MappedRange map(fd, start, newline, MADV_NORMAL);
  ClassifyJob job{map.at(start), static_cast<std::size_t>(newline - start), start, &scratch, out};
  return run_guarded(map.base(), map.length(), run_classify, &job);
}

bool kind_in(const double* record, std::uint32_t kind_mask) {
  return ((kind_mask >> static_cast<int>(record[kFieldKind])) & 1u) != 0;
}

}  // namespace

RecordBuffer::~RecordBuffer() { std::free(data_); }

void RecordBuffer::clear() {
  count_ = 0;
  if (capacity_ > kKeptRecords) {
    std::free(data_);
    data_ = nullptr;
    capacity_ = 0;
  }
}

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

ScanOutcome scan_log(int fd, std::uint64_t offset, std::uint64_t search_from, std::uint64_t max_bytes,
                     std::uint64_t max_records, RecordBuffer& out) {
  std::uint64_t size = file_size(fd);
  if (offset >= size) return {offset, size, offset};
  std::uint64_t first_search = offset;
  if (search_from > offset && search_from <= size) {
    // A partial line searched before: only the bytes appended since are looked at, so a line
    // that grows for minutes costs each wake its new bytes, not its whole length again.
    std::uint64_t end = size;
    if (search_from == size || !newline_after(fd, search_from, size, &end)) return {offset, end, end};
    first_search = search_from;
  }
  const std::uint64_t byte_limit = max_bytes > UINT64_MAX - offset ? UINT64_MAX : offset + max_bytes;
  MetaScratch scratch;
  if (size - offset <= kPreadWindow) {
    CopiedRange copy(fd, offset, size);
    if (copy.length() < size - offset) size = offset + copy.length();  // it shrank meanwhile
    if (first_search > size) first_search = size;
    ScanJob job{&copy, copy.at(offset), copy.at(first_search), copy.at(size), byte_limit, max_records, &out, &scratch, false, false};
    run_scan(&job);
    if (job.out_of_memory) throw std::bad_alloc();
    return {next_offset(out, offset), size, job.partial ? size : next_offset(out, offset)};
  }
  MappedRange map(fd, offset, size, MADV_SEQUENTIAL);
  ScanJob job{&map, map.at(offset), map.at(first_search), map.at(size), byte_limit, max_records, &out, &scratch, false, false};
  const bool finished = run_guarded(map.base(), map.length(), run_scan, &job);
  if (job.out_of_memory) throw std::bad_alloc();
  const std::uint64_t next = next_offset(out, offset);
  // A fault means the file shrank under the mapping: report what was read and the new size.
  if (!finished) return {next, file_size(fd), next};
  return {next, size, job.partial ? size : next};
}

bool find_last_line(int fd, std::uint32_t kind_mask, std::uint64_t before, double* out) {
  // A file rewritten under us can shrink again; a few rounds settle on its new content.
  for (int attempt = 0; attempt < 4; ++attempt) {
    const std::uint64_t size = file_size(fd);
    const std::uint64_t limit = before < size ? before : size;
    if (limit == 0) return false;
    BackwardWindow w(fd);
    MetaScratch scratch;
    std::int64_t nl = newline_before(fd, w, limit);
    while (nl >= 0) {
      const std::uint64_t n = static_cast<std::uint64_t>(nl);
      if (!w.holds(n) && !w.fill_before(n + 1)) {
        nl = kShrank;
        break;
      }
      const char* prev = last_byte(w.at(w.base()), w.at(n), '\n');
      if (prev != nullptr || w.base() == 0) {
        const std::uint64_t start = prev != nullptr ? w.offset_of(prev) + 1 : 0;
        const std::size_t length = static_cast<std::size_t>(n - start);
        // The head alone rules most lines out (a request when a response is asked for).
        if ((possible_kinds(w.at(start), length) & kind_mask) != 0) {
          classify_line(w.at(start), length, start, scratch, out);
          if (kind_in(out, kind_mask)) return true;
        }
        nl = prev != nullptr ? static_cast<std::int64_t>(start) - 1 : kNone;
        continue;
      }
      // The line starts before the window: a window grown backwards may hold it.
      if (n + 1 - w.base() < kMaxBackwardWindow) {
        if (!w.fill_before(n + 1)) nl = kShrank;
        continue;
      }
      // A long line: find where it starts, reading only the bytes before the window, then
      // classify it in place; the mapping touches its head and the few bytes before its end
      // where the end marker and the meta are, not the megabytes in between.
      const std::int64_t before_line = newline_before(fd, w, w.base());
      if (before_line == kShrank || !classify_mapped(fd, static_cast<std::uint64_t>(before_line + 1), n, scratch, out)) {
        nl = kShrank;
        break;
      }
      if (kind_in(out, kind_mask)) return true;
      nl = before_line;
    }
    if (nl != kShrank) return false;
  }
  return false;
}

}  // namespace rms
