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
  Route r{std::move(method), {}, std::move(handler)};
  for (auto s : Split(pattern)) r.segments.emplace_back(s);
  routes_.push_back(std::move(r));
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

Response Router::Dispatch(Request& request) const {
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
    try {
      std::function<Response(Request&)> call = [&route](Request& r) { return route.handler(r); };
      for (auto it = middlewares_.rbegin(); it != middlewares_.rend(); ++it) {
        call = [mw = &*it, next = std::move(call)](Request& r) { return (*mw)(r, next); };
      }
      return call(request);
    } catch (const std::exception& e) {
      spdlog::error("handler for {} {} threw: {}", request.method, request.path, e.what());
      return Problem(500, "internal error");
    }
  }
  if (!allow.empty()) {
    Response r = Problem(405, "method not allowed");
    r.Set("Allow", allow);
    return r;
  }
  return Problem(404, "no such resource");
}

}  // namespace aitelemetry::http
