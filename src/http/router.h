// Routes (method, path pattern) to handlers. Patterns are literal segments and {name} segments;
// a final {name...} segment takes the rest of the path.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "http/message.h"

namespace aitelemetry::http {

class Router {
  struct Route;  // defined below

 public:
  // Registers `handler` for `method` ("GET", "POST", ...) and `pattern` ("/api/{model}/{key}").
  // Routes are matched in registration order; literal routes should come before wildcards.
  void Add(std::string method, std::string pattern, Handler handler);
  // As above, with a fast path that TryFast runs on an I/O thread (a cache lookup, say); when it
  // declines, the server runs `handler` on the blocking pool as for any route.
  void Add(std::string method, std::string pattern, Handler handler, FastHandler fast);

  // Adds a middleware around every handler (matched routes only; 404/405 answers bypass it).
  void Use(Middleware middleware);

  // The outcome of matching a request once: its route, or the 404/405 answer when there is none.
  // The server matches once and then runs the route fast, on the pool, or both, without matching
  // again. Valid while the router lives.
  struct Routed {
    const Route* route = nullptr;  // null: `answer` holds the 404 or 405 problem
    Response answer;
    // The route has a fast handler (see TryFast/RunFast).
    bool HasFast() const;
  };

  // Finds the route for `request` and fills request.params. Unknown path: a 404 problem; known
  // path with another method: 405 with an Allow header.
  Routed Find(Request& request) const;

  // Runs the matched route's handler inside the middlewares; returns `routed.answer` when nothing
  // matched. A handler that throws yields a 500 problem (logged). May block.
  Response Run(const Routed& routed, Request& request) const;

  // Runs the matched route's fast handler inside the middlewares (request.fast set, on the
  // calling I/O thread). Returns nothing when the route has none, or a middleware or the fast
  // handler declined (Deferred) or threw (logged); the caller then calls Run.
  std::optional<Response> RunFast(const Routed& routed, Request& request) const;

  // Find then Run: for callers without a server (tests, tools).
  Response Dispatch(Request& request) const;

  // Find then RunFast: nothing also when no route matches.
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
