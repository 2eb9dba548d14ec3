// Routes (method, path pattern) to handlers. Patterns are literal segments and {name} segments;
// a final {name...} segment takes the rest of the path.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "http/message.h"

namespace aitelemetry::http {

class Router {
 public:
  // Registers `handler` for `method` ("GET", "POST", ...) and `pattern` ("/api/{model}/{key}").
  // Routes are matched in registration order; literal routes should come before wildcards.
  void Add(std::string method, std::string pattern, Handler handler);
  // As above, with a fast path that TryFast runs on an I/O thread (a cache lookup, say); when it
  // declines, the server runs `handler` on the blocking pool as for any route.
  void Add(std::string method, std::string pattern, Handler handler, FastHandler fast);

  // Adds a middleware around every handler (matched routes only; 404/405 answers bypass it).
  void Use(Middleware middleware);

  // Dispatches `request` (fills request.params). Unknown path: 404 problem; known path with another
  // method: 405 with an Allow header. A handler that throws yields a 500 problem (logged).
  Response Dispatch(Request& request) const;

  // Tries to answer `request` without blocking, on the calling (I/O) thread: when the matching
  // route has a fast handler, runs the middlewares around it with request.fast set. Returns
  // nothing when no route matches, the route has no fast handler, or a middleware or the fast
  // handler declined (Deferred); the caller then calls Dispatch. A fast handler that throws
  // declines (logged). Fills request.params like Dispatch.
  std::optional<Response> TryFast(Request& request) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
    FastHandler fast;  // may be empty
  };
  // Runs middlewares_[index...] around `innermost` (the route's handler or fast handler).
  struct Chain;
  Response Call(const Chain& chain, size_t index, Request& request) const;
  static bool Match(const Route& route, const std::vector<std::string_view>& path,
                    std::map<std::string, std::string>* params);
  std::vector<Route> routes_;
  std::vector<Middleware> middlewares_;
};

}  // namespace aitelemetry::http
