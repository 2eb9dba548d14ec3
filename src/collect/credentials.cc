#include "collect/credentials.h"

#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <simdjson.h>

#include "core/redact.h"

namespace aitelemetry::collect {

Result<std::string> ReadSecretFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kFailedPrecondition, fmt::format("cannot read {}", path));
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string s = buf.str();
  while (!s.empty() &&
         (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) {
    s.pop_back();
  }
  if (s.empty()) return Fail(ErrorCode::kFailedPrecondition, fmt::format("{} is empty", path));
  return s;
}

Credentials::Credentials(std::string bearer_token_file, OAuth2Options oauth2,
                         http::HttpClient* client, std::chrono::milliseconds timeout)
    : token_file_(std::move(bearer_token_file)),
      oauth2_(std::move(oauth2)),
      client_(client),
      timeout_(timeout) {}

Result<std::string> Credentials::Authorization() {
  if (!oauth2_.token_url.empty()) return FromOAuth2();
  if (!token_file_.empty()) return FromFile();
  return std::string();
}

void Credentials::Invalidate() {
  token_.clear();
  expires_ = {};
  file_mtime_ = {};
  file_size_ = 0;
}

Result<std::string> Credentials::FromFile() {
  std::error_code ec;
  auto mtime = std::filesystem::last_write_time(token_file_, ec);
  uintmax_t size = ec ? 0 : std::filesystem::file_size(token_file_, ec);
  if (ec) {
    return Fail(ErrorCode::kFailedPrecondition,
                fmt::format("bearer token file {}: {}", token_file_, ec.message()));
  }
  if (token_.empty() || mtime != file_mtime_ || size != file_size_) {
    Result<std::string> token = ReadSecretFile(token_file_);
    if (!token) return Fail(token.error());
    token_ = std::move(*token);
    file_mtime_ = mtime;
    file_size_ = size;
  }
  return "Bearer " + token_;
}

Result<std::string> Credentials::FromOAuth2() {
  auto now = std::chrono::steady_clock::now();
  if (!token_.empty() && now < expires_) return "Bearer " + token_;
  Result<std::string> secret = ReadSecretFile(oauth2_.client_secret_file);
  if (!secret) return Fail(secret.error());
  std::string scope;
  for (const std::string& s : oauth2_.scopes) {
    if (!scope.empty()) scope += ' ';
    scope += s;
  }
  http::ClientRequest req;
  req.method = "POST";
  req.url = oauth2_.token_url;
  req.timeout = timeout_;
  req.max_response_bytes = 1 << 20;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                 {"Accept", "application/json"}};
  req.body = "grant_type=client_credentials&client_id=" + http::UrlEncode(oauth2_.client_id) +
             "&client_secret=" + http::UrlEncode(*secret);
  if (!scope.empty()) req.body += "&scope=" + http::UrlEncode(scope);
  Result<http::ClientResponse> resp = client_->Send(req);
  if (!resp) {
    return Fail(resp.error().code,
                "token endpoint " + RedactUrl(oauth2_.token_url) + ": " + resp.error().message);
  }
  if (resp->status >= 400 && resp->status < 500) {
    return Fail(
        ErrorCode::kUnauthenticated,
        fmt::format("token endpoint {}: HTTP {}", RedactUrl(oauth2_.token_url), resp->status));
  }
  if (resp->status != 200) {
    return Fail(ErrorCode::kUnavailable, fmt::format("token endpoint {}: HTTP {}",
                                                     RedactUrl(oauth2_.token_url), resp->status));
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view access;
  if (parser.parse(resp->body).get(doc) || doc["access_token"].get_string().get(access) ||
      access.empty()) {
    return Fail(
        ErrorCode::kUnavailable,
        fmt::format("token endpoint {}: answer has no access_token", RedactUrl(oauth2_.token_url)));
  }
  // expires_in may be absent (then assume five minutes) or, from some servers, a string.
  int64_t expires_in = 300;
  if (int64_t n = 0; !doc["expires_in"].get_int64().get(n)) expires_in = n;
  expires_in = std::max<int64_t>(expires_in, 1);
  int64_t margin = std::min<int64_t>(60, expires_in / 10);
  token_ = std::string(access);
  expires_ = now + std::chrono::seconds(expires_in - margin);
  return "Bearer " + token_;
}

}  // namespace aitelemetry::collect
