// Routes (method, path pattern) to handlers. Patterns are literal segments and {name} segments;
// a final {name...} segment takes the rest of the path.
#pragma once

#include <string>
#include <vector>

#include "http/message.h"

namespace aitelemetry::http {

class Router {
 public:
  // Registers `handler` for `method` ("GET", "POST", ...) and `pattern` ("/api/{model}/{key}").
  // Routes are matched in registration order; literal routes should come before wildcards.
  void Add(std::string method, std::string pattern, Handler handler);

  // Adds a middleware around every handler (matched routes only; 404/405 answers bypass it).
  void Use(Middleware middleware);

  // Dispatches `request` (fills request.params). Unknown path: 404 problem; known path with another
  // method: 405 with an Allow header. A handler that throws yields a 500 problem (logged).
  Response Dispatch(Request& request) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };
  static bool Match(const Route& route, const std::vector<std::string_view>& path,
                    std::map<std::string, std::string>* params);
  std::vector<Route> routes_;
  std::vector<Middleware> middlewares_;
};

}  // namespace aitelemetry::http
