#include "collect/sync_error.h"

#include <cctype>

#include <fmt/format.h>

#include "core/redact.h"

namespace aitelemetry::collect {
namespace {

std::string_view Kind(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnauthenticated:
      return "the source refused the credentials";
    case ErrorCode::kPermissionDenied:
      return "the source denied access";
    case ErrorCode::kNotFound:
      return "the source has no such endpoint";
    case ErrorCode::kDeadlineExceeded:
      return "the source did not answer in time";
    case ErrorCode::kUnavailable:
      return "the source is unreachable or failed";
    case ErrorCode::kInvalidArgument:
      return "the source refused the query or sent an answer that cannot be read";
    case ErrorCode::kPayloadTooLarge:
      return "the source's answer is too large";
    case ErrorCode::kFailedPrecondition:
      return "a credential of the source cannot be read";
    default:
      return "the collection failed";
  }
}

// The first "HTTP nnn" in `message`, as "nnn"; "" when there is none.
std::string HttpStatusIn(std::string_view message) {
  for (size_t at = message.find("HTTP "); at != std::string_view::npos;
       at = message.find("HTTP ", at + 1)) {
    std::string_view digits = message.substr(at + 5, 3);
    bool ok = digits.size() == 3 && std::isdigit(static_cast<unsigned char>(digits[0])) &&
              std::isdigit(static_cast<unsigned char>(digits[1])) &&
              std::isdigit(static_cast<unsigned char>(digits[2]));
    bool ends =
        at + 8 >= message.size() || !std::isdigit(static_cast<unsigned char>(message[at + 8]));
    if (ok && ends) return std::string(digits);
  }
  return {};
}

}  // namespace

std::string SyncErrorForReaders(const Error& error, std::string_view source) {
  std::string status = HttpStatusIn(error.message);
  return fmt::format("{}: {}{}", RedactUrlsIn(source), Kind(error.code),
                     status.empty() ? "" : " (HTTP " + status + ")");
}

}  // namespace aitelemetry::collect
