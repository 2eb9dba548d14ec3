// Masking of credentials inside URLs and free text, so that logs, stored errors, metrics and
// printed configuration never carry a secret that a source URL held.
#pragma once

#include <string>
#include <string_view>

namespace aitelemetry {

// Returns `url` with its credentials masked: the userinfo ("user:password@") becomes "***@", and
// the value of every query parameter and the fragment become "***" (a query string is where
// tokens travel: "?token=...", "?access_token=...", signed URLs). Scheme, host, port, path and
// parameter names stay, so the result still says which endpoint was meant. A string that is not
// an absolute URL ("scheme://...") is returned unchanged.
std::string RedactUrl(std::string_view url);

// Returns `text` with every absolute URL in it ("scheme://" up to the next space, quote or angle
// bracket, less any trailing ".,;:)]") passed through RedactUrl. For messages that may quote a URL,
// such as a client library's error text.
std::string RedactUrlsIn(std::string_view text);

}  // namespace aitelemetry
