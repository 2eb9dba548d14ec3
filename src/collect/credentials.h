// Credentials for outbound requests to one peer: a bearer token read from a file (re-read when the
// file changes, as rotated Kubernetes tokens do) or an OAuth2 client-credentials token (cached
// until shortly before it expires). Shared by PrometheusSource and ExporterSource.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"
#include "http/client.h"

namespace aitelemetry::collect {

struct OAuth2Options {
  std::string token_url;  // empty: OAuth2 is off
  std::string client_id;
  std::string client_secret_file;  // file holding the secret (trailing whitespace trimmed)
  std::vector<std::string> scopes;
};

// Produces the Authorization header value for one peer. Thread-compatible.
class Credentials {
 public:
  // `client` sends the token requests; it must outlive this object. With neither a token file nor
  // a token URL, Authorization() returns "" (no header).
  Credentials(std::string bearer_token_file, OAuth2Options oauth2, http::HttpClient* client,
              std::chrono::milliseconds timeout);

  // Returns "Bearer <token>", or "" when no credentials are configured. With OAuth2, fetches a
  // token when none is cached or the cached one is within a minute (or a tenth of its life) of
  // expiring. Errors: kFailedPrecondition when a token or secret file cannot be read or is empty;
  // kUnauthenticated when the token endpoint refuses (4xx), naming its URL and status;
  // kUnavailable/kDeadlineExceeded when it cannot be reached or answers 5xx or malformed JSON.
  [[nodiscard]] Result<std::string> Authorization();

  // Drops the cached token so the next Authorization() fetches (OAuth2) or re-reads (file) anew.
  // Call it after a peer answered 401.
  void Invalidate();

  // True when Invalidate() and a retry could help (some credentials are configured).
  bool configured() const { return !token_file_.empty() || !oauth2_.token_url.empty(); }

 private:
  Result<std::string> FromFile();
  Result<std::string> FromOAuth2();

  std::string token_file_;
  OAuth2Options oauth2_;
  http::HttpClient* client_;
  std::chrono::milliseconds timeout_;
  // Cached token. For the file: valid while the file's mtime and size are unchanged.
  std::string token_;
  std::filesystem::file_time_type file_mtime_{};
  uintmax_t file_size_ = 0;
  std::chrono::steady_clock::time_point expires_{};  // OAuth2: refresh at or after this time
};

// Reads a whole small secret file and trims trailing whitespace. kFailedPrecondition on failure.
[[nodiscard]] Result<std::string> ReadSecretFile(const std::string& path);

}  // namespace aitelemetry::collect
