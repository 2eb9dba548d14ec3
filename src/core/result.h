// Errors as values: Result<T> carries a T or an Error with a closed ErrorCode and a message.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace aitelemetry {

// The closed set of failure kinds. One function (http/problem.h) maps these to HTTP statuses; the
// CLI maps them to exit codes. Add a code only when a caller must react to it differently.
enum class ErrorCode {
  kInvalidArgument,     // the caller's input is malformed or out of range (HTTP 400, exit 2)
  kNotFound,            // no such thing, or the caller may not see it (404)
  kAlreadyExists,       // a unique key is taken (409)
  kUnauthenticated,     // no or bad credentials (401)
  kPermissionDenied,    // authenticated but not allowed (403)
  kFailedPrecondition,  // state does not allow it, e.g. a database from a newer version (409/exit
                        // 1)
  kPayloadTooLarge,     // a body or value over its limit (413)
  kResourceExhausted,   // a per-caller limit is reached; retry later (429)
  kAborted,             // a concurrent change got in the way; retrying may help (409)
  kUnavailable,         // a peer or the store cannot be reached; retrying may help (503)
  kDeadlineExceeded,    // a peer did not answer in time (504)
  kDataLoss,            // stored data is corrupt (500)
  kInternal,            // a bug or an unexpected condition (500)
};

// Returns the stable lower-case name of `code`, e.g. "invalid_argument".
std::string_view ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  // Returns "name: message".
  std::string ToString() const;
};

template <typename T>
using Result = tl::expected<T, Error>;

// Result<void>: success or an Error.
using Status = tl::expected<void, Error>;

// Builds the unexpected value for a failed Result: `return Fail(ErrorCode::kNotFound, "no gpu")`.
inline tl::unexpected<Error> Fail(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

inline tl::unexpected<Error> Fail(Error error) { return tl::unexpected<Error>(std::move(error)); }

// Success for Status-returning functions: `return Ok();`.
inline Status Ok() { return {}; }

}  // namespace aitelemetry
