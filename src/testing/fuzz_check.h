// What fuzz targets share: a check that aborts with a message, so a violated property fails the
// corpus replay (ctest) and stops libFuzzer with the input saved. Header-only, fuzz targets only.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "core/result.h"

namespace aitelemetry::fuzz {

// Aborts, printing `what`, when `ok` is false.
inline void Check(bool ok, std::string_view what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz property violated: %.*s\n", static_cast<int>(what.size()),
               what.data());
  std::abort();
}

// Aborts unless `code` is one of `allowed`: a parser of outside input reports bad input with its
// documented codes, never kInternal or anything else.
inline void CheckCode(const Error& error, std::initializer_list<ErrorCode> allowed) {
  for (ErrorCode c : allowed) {
    if (error.code == c) return;
  }
  std::fprintf(stderr, "fuzz property violated: unexpected error %s\n", error.ToString().c_str());
  std::abort();
}

}  // namespace aitelemetry::fuzz
