// Survives a file that shrinks while it is mapped (touching a mapped page past the
// file's new end raises SIGBUS, which kills Node).
//
// Why a signal guard rather than pread or a size check: checking the size first still races
// with a truncation, and pread copies every byte (a second pass over 1 GiB) where the scan
// wants to read the page cache in place. The guard costs nothing per byte: one sigsetjmp
// per scan call. A process-wide SIGBUS handler is installed once; while a thread runs a
// guarded function, a fault inside that thread's guarded range jumps back out of it. Every
// other SIGBUS goes to the handler that was installed before ours (or the default action),
// so crashes elsewhere stay crashes.
#pragma once
#include <cstddef>

namespace rms {

// Installs the SIGBUS handler (idempotent, thread-safe). Returns false if sigaction failed;
// guarded calls then run unguarded, as Node would without this addon.
bool install_fault_guard();

// Runs fn(arg). Returns true when it finished, false when it touched a page in
// [lo, lo + len) that no longer exists. fn must own nothing that needs a destructor or a
// free: everything it allocates must be reachable from arg and published (signal fence)
// before it touches the range again, because a fault abandons its frames.
bool run_guarded(const void* lo, std::size_t len, void (*fn)(void*), void* arg);

}  // namespace rms
