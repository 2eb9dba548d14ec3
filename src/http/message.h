// Plain request/response types for handlers: no Beast or Asio here, so domains and tests that
// build handlers compile fast and can call them without a server.
#pragma once

#include <any>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace aitelemetry::http {

struct Request {
  std::string method;  // upper case
  std::string target;  // as received: path and query
  std::string path;    // percent-decoded path, without the query
  std::vector<std::pair<std::string, std::string>> query;    // decoded, in order; repeats kept
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::map<std::string, std::string> params;                 // from the route's {name} segments
  std::string body;
  std::string remote_address;
  bool tls = false;
  // True while Router::TryFast runs the request on an I/O thread: nothing may block, and a
  // middleware that cannot decide without blocking returns Deferred().
  bool fast = false;
  // Who is calling, set by the authentication middleware (auth::Caller); empty before it runs.
  std::any principal;

  // Returns the first header named `name` (lower case), or "".
  std::string Header(std::string_view name) const;
  // Returns the first query value of `name`, or nothing.
  std::optional<std::string> Query(std::string_view name) const;
  // Returns every query value of `name`, in order.
  std::vector<std::string> QueryAll(std::string_view name) const;
  // Returns the value of cookie `name`, or "".
  std::string Cookie(std::string_view name) const;
};

// The source of a streamed body (Server-Sent Events). The server asks for one chunk at a time and
// never waits for it on a thread: the source answers when it has something, from any thread.
class StreamSource {
 public:
  // Receives the next chunk (may be empty) and whether more will follow; more=false ends the
  // stream after `chunk` is written.
  using Ready = std::function<void(std::string chunk, bool more)>;

  virtual ~StreamSource() = default;

  // Asks for the next chunk. Called on the blocking pool (so it may read the store briefly), once
  // the previous chunk was written, never concurrently with itself. It must not wait for events:
  // when no chunk is ready it keeps `ready` and calls it later, from any thread. `ready` is called
  // exactly once, also when Close() comes first (then with more=false).
  virtual void Next(Ready ready) = 0;

  // The client is gone or the server is stopping: a pending `ready` is called soon with
  // more=false, and a later Next answers more=false at once. Thread-safe, idempotent.
  virtual void Close() = 0;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the body is *shared_body and `body` is ignored: a cached body is sent without a
  // copy. Use Body() to read whichever applies.
  std::shared_ptr<const std::string> shared_body;
  // When set, the body is streamed (chunked) from it instead of `body`.
  std::shared_ptr<StreamSource> stream;

  Response& Set(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  std::string Header(std::string_view name) const;
  std::string_view Body() const { return shared_body ? *shared_body : body; }
};

// The answer of a middleware or fast handler that declines to decide on an I/O thread (see
// Request::fast): the request then goes to the blocking pool. Never sent to a client.
inline constexpr int kDeferredStatus = 0;
inline Response Deferred() {
  Response r;
  r.status = kDeferredStatus;
  return r;
}

// Builds a JSON response from already-serialised text.
Response JsonResponse(int status, std::string body,
                      std::string_view content_type = "application/json");

// Maps an ErrorCode to its HTTP status (the one place this mapping lives).
int StatusFor(ErrorCode code);

// An RFC 9457 problem+json response: {"type","title","status","detail"}.
Response Problem(int status, std::string_view detail, std::string_view type = "about:blank");
// The problem response for `error`, with the status from StatusFor.
Response ProblemFor(const Error& error);

// Splits and percent-decodes a query string ("a=1&b=x%20y&a=2"). '+' decodes to a space.
// Returns kInvalidArgument for a malformed percent escape or a NUL byte.
[[nodiscard]] Result<std::vector<std::pair<std::string, std::string>>> ParseQuery(
    std::string_view q);
// Percent-decodes `s` (no '+' rule). Returns kInvalidArgument for a malformed escape or NUL.
[[nodiscard]] Result<std::string> PercentDecode(std::string_view s);

using Handler = std::function<Response(const Request&)>;

// A route's optional fast path, run on an I/O thread before the handler is considered: it must
// not block (no store or network calls, only memory and short locks). Returns the answer, or
// nothing to have the route's Handler run on the blocking pool instead.
using FastHandler = std::function<std::optional<Response>(const Request&)>;

// Wraps every routed handler: may answer itself (401) or call `next` after filling the request
// (the caller's identity). Middlewares run in the order they were added. They also run around
// fast handlers (request.fast set): there they must not block, return Deferred() when they
// would, and pass a Deferred() answer from `next` through unchanged.
using Middleware =
    std::function<Response(Request& request, const std::function<Response(Request&)>& next)>;

}  // namespace aitelemetry::http
