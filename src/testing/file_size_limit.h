// A full disk for tests: while a FileSizeLimit lives, this process may not write files past a
// size (RLIMIT_FSIZE; the write fails with EFBIG and SIGXFSZ is ignored), as when the disk under
// an embedded SQLite database fills up. Process-wide: use it in a test that runs alone in its
// process (ctest runs each discovered test in its own). Header-only, tests only.
#pragma once

#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>

namespace aitelemetry::test_support {

class FileSizeLimit {
 public:
  // Limits files to `bytes`; aborts when the limit cannot be set (the test would prove nothing).
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &old_);
    rlimit limit = old_;
    limit.rlim_cur = bytes;
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) {
      std::perror("setrlimit(RLIMIT_FSIZE)");
      std::abort();
    }
  }
  // Restores the limit and the signal disposition from before.
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    ::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit old_{};
  sighandler_t old_handler_ = SIG_DFL;
};

}  // namespace aitelemetry::test_support
