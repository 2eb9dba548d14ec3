#include "http/router.h"

#include <exception>

#include <spdlog/spdlog.h>

namespace aitelemetry::http {
namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

void Router::Add(std::string method, std::string pattern, Handler handler) {
  Add(std::move(method), std::move(pattern), std::move(handler), nullptr);
}

void Router::Add(std::string method, std::string pattern, Handler handler, FastHandler fast) {
  Route r{std::move(method), {}, std::move(handler), std::move(fast)};
  for (auto s : Split(pattern)) r.segments.emplace_back(s);
  routes_.push_back(std::move(r));
}

struct Router::Chain {
  const Route* route;
  bool fast;  // call route->fast (Deferred when it declines) instead of route->handler
};

Response Router::Call(const Chain& chain, size_t index, Request& request) const {
  if (index == middlewares_.size()) {
    if (!chain.fast) return chain.route->handler(request);
    auto answer = chain.route->fast(request);
    return answer ? std::move(*answer) : Deferred();
  }
  // `next` holds one pointer, which fits std::function's inline storage: no allocation per
  // middleware and request.
  struct Step {
    const Router* router;
    const Chain* chain;
    size_t index;
  } step{this, &chain, index};
  std::function<Response(Request&)> next = [s = &step](Request& r) {
    return s->router->Call(*s->chain, s->index + 1, r);
  };
  return middlewares_[index](request, next);
}

void Router::Use(Middleware middleware) { middlewares_.push_back(std::move(middleware)); }

bool Router::Match(const Route& route, const std::vector<std::string_view>& path,
                   std::map<std::string, std::string>* params) {
  params->clear();
  size_t n = route.segments.size();
  for (size_t i = 0; i < n; ++i) {
    const std::string& seg = route.segments[i];
    bool param = seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
    if (param && seg.ends_with("...}")) {
      if (i >= path.size()) return false;
      std::string rest;
      for (size_t k = i; k < path.size(); ++k) {
        if (k > i) rest += '/';
        rest += path[k];
      }
      (*params)[seg.substr(1, seg.size() - 5)] = rest;
      return true;
    }
    if (i >= path.size()) return false;
    if (param) {
      (*params)[seg.substr(1, seg.size() - 2)] = std::string(path[i]);
    } else if (seg != path[i]) {
      return false;
    }
  }
  return n == path.size();
}

bool Router::Routed::HasFast() const { return route != nullptr && route->fast; }

Router::Routed Router::Find(Request& request) const {
  auto path = Split(request.path);
  std::map<std::string, std::string> params;
  std::string allow;
  for (const auto& route : routes_) {
    if (!Match(route, path, &params)) continue;
    if (route.method != request.method && !(request.method == "HEAD" && route.method == "GET")) {
      if (allow.find(route.method) == std::string::npos) {
        if (!allow.empty()) allow += ", ";
        allow += route.method;
      }
      continue;
    }
    request.params = std::move(params);
    return Routed{&route, {}};
  }
  if (!allow.empty()) {
    Response r = Problem(405, "method not allowed");
    r.Set("Allow", allow);
    return Routed{nullptr, std::move(r)};
  }
  return Routed{nullptr, Problem(404, "no such resource")};
}

Response Router::Run(const Routed& routed, Request& request) const {
  if (routed.route == nullptr) return routed.answer;
  request.fast = false;
  try {
    return Call(Chain{routed.route, false}, 0, request);
  } catch (const std::exception& e) {
    spdlog::error("handler for {} {} threw: {}", request.method, request.path, e.what());
    return Problem(500, "internal error");
  }
}

std::optional<Response> Router::RunFast(const Routed& routed, Request& request) const {
  if (!routed.HasFast()) return std::nullopt;
  request.fast = true;
  std::optional<Response> out;
  try {
    Response r = Call(Chain{routed.route, true}, 0, request);
    if (r.status != kDeferredStatus) out = std::move(r);
  } catch (const std::exception& e) {
    spdlog::error("fast handler for {} {} threw: {}", request.method, request.path, e.what());
  }
  request.fast = false;
  return out;
}

Response Router::Dispatch(Request& request) const { return Run(Find(request), request); }

std::optional<Response> Router::TryFast(Request& request) const {
  return RunFast(Find(request), request);
}

}  // namespace aitelemetry::http
