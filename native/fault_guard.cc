#include "fault_guard.h"

#include <setjmp.h>
#include <signal.h>

#include <atomic>
#include <mutex>

namespace rms {

namespace {

struct Guard {
  sigjmp_buf jump;
  const char* lo;
  const char* hi;
};

// initial-exec: the handler must not trigger lazy TLS allocation (not async-signal-safe).
__attribute__((tls_model("initial-exec"))) thread_local Guard* t_guard = nullptr;

struct sigaction g_previous;
std::atomic<bool> g_installed{false};
std::once_flag g_once;

void restore_default_and_refault(int sig, siginfo_t* info) {
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, nullptr);
  // A hardware fault re-executes the faulting instruction on return and now dies with the
  // default action; a SIGBUS sent with kill(2) would not come back, so send it again.
  if (info == nullptr || info->si_code <= 0) raise(sig);
}

void on_sigbus(int sig, siginfo_t* info, void* context) {
  Guard* guard = t_guard;
  const char* addr = info != nullptr ? static_cast<const char*>(info->si_addr) : nullptr;
  if (guard != nullptr && info != nullptr && info->si_code > 0 && addr >= guard->lo && addr < guard->hi) {
    t_guard = nullptr;
    // SA_NODEFER left SIGBUS unblocked and sa_mask is empty, so the mask is already the one
    // sigsetjmp saw: no need to save and restore it (a syscall per scan).
    siglongjmp(guard->jump, 1);
  }
  if ((g_previous.sa_flags & SA_SIGINFO) != 0 && g_previous.sa_sigaction != nullptr) {
    g_previous.sa_sigaction(sig, info, context);
    return;
  }
  if ((g_previous.sa_flags & SA_SIGINFO) == 0 && g_previous.sa_handler != SIG_DFL &&
      g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(sig);
    return;
  }
  // SIG_IGN cannot hold for a real fault (the kernel forces it), so it is treated as default.
  restore_default_and_refault(sig, info);
}

}  // namespace

bool install_fault_guard() {
  std::call_once(g_once, [] {
    struct sigaction action = {};
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGBUS, &action, &g_previous) == 0) g_installed.store(true);
  });
  return g_installed.load();
}

bool run_guarded(const void* lo, std::size_t len, void (*fn)(void*), void* arg) {
  Guard guard;
  guard.lo = static_cast<const char*>(lo);
  guard.hi = guard.lo + len;
  if (sigsetjmp(guard.jump, 0) != 0) {
    t_guard = nullptr;
    return false;
  }
  t_guard = &guard;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  fn(arg);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  t_guard = nullptr;
  return true;
}

}  // namespace rms
