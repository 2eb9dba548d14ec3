// Outbound HTTP(S) client (libcurl): what the collector, the OTLP exporter and the auth code use to
// talk to Prometheus, token endpoints and trace collectors. Blocking; call it off the I/O threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace aitelemetry::http {

// TLS settings for one peer. Empty strings mean "not set": the system CA store verifies the server,
// and no client certificate is sent.
struct TlsOptions {
  std::string ca_file;    // PEM bundle that verifies the server (Observatorium's CA, say)
  std::string cert_file;  // PEM client certificate, for mTLS
  std::string key_file;   // PEM private key of cert_file
  bool insecure_skip_verify = false;  // tests only; never the default
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{10000};
  // Responses larger than this fail with kPayloadTooLarge rather than exhausting memory.
  size_t max_response_bytes = 512u << 20;
};

struct ClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;           // empty when the body went to a BodySink
  bool streamed = false;      // the body went to a BodySink
  bool sink_stopped = false;  // ... which stopped the transfer (it knows why)

  // Returns the first header named `name` (lower-case), or an empty string.
  std::string Header(std::string_view name) const;
};

// Takes a response body piece by piece as it arrives, so that a large answer is never held whole.
class BodySink {
 public:
  virtual ~BodySink() = default;

  // Called once per response, before its first body byte, with its status (after the headers).
  // Returns true to receive the body through Write(), false to have it collected into
  // ClientResponse::body as without a sink (an error page, say). Not called for an empty body.
  virtual bool Open(int status) = 0;

  // Receives the next piece of the body (sizes as libcurl delivers them; the view is valid only
  // during the call). Returns false to stop the transfer: Send() then returns the response with
  // sink_stopped set.
  virtual bool Write(std::string_view piece) = 0;
};

// Percent-encodes `s` for a query string or an application/x-www-form-urlencoded body.
std::string UrlEncode(std::string_view s);

// A client bound to one peer's TLS settings. Thread-compatible: use one per thread, or guard it.
class HttpClient {
 public:
  explicit HttpClient(TlsOptions tls = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `request` and returns the response whatever its status (4xx/5xx are not errors here).
  // Errors: kDeadlineExceeded on timeout, kUnavailable when the peer cannot be reached or TLS
  // fails, kPayloadTooLarge when the body passes max_response_bytes, kInvalidArgument for a
  // malformed URL.
  [[nodiscard]] Result<ClientResponse> Send(const ClientRequest& request);

  // As Send(), but the body goes to `sink` when sink->Open() accepts it; max_response_bytes
  // still applies. A transfer that fails after some pieces reached the sink fails as Send()
  // does: the sink has then seen part of the body.
  [[nodiscard]] Result<ClientResponse> Send(const ClientRequest& request, BodySink* sink);

 private:
  TlsOptions tls_;
  void* curl_ = nullptr;  // CURL*, reused so keep-alive connections survive between calls
};

}  // namespace aitelemetry::http
