#include "api/prom_routes.h"

#include <map>
#include <memory>
#include <mutex>
#include <utility>

#include <fmt/format.h>

#include "collect/credentials.h"
#include "http/client.h"

namespace aitelemetry::api {
namespace {

// One upstream connection with its credentials; a hub keeps a few, one per concurrent query.
struct Upstream {
  explicit Upstream(const config::HubConfig& hub)
      : client(http::TlsOptions{hub.prometheus.tls.ca_file, hub.prometheus.tls.cert_file,
                                hub.prometheus.tls.key_file}),
        credentials(hub.prometheus.bearer_token_file,
                    collect::OAuth2Options{
                        hub.prometheus.oauth2.token_url, hub.prometheus.oauth2.client_id,
                        hub.prometheus.oauth2.client_secret_file, hub.prometheus.oauth2.scopes},
                    &client, hub.prometheus.timeout) {}
  http::HttpClient client;
  collect::Credentials credentials;
};

class Hub {
 public:
  explicit Hub(config::HubConfig config) : config_(std::move(config)) {
    while (!config_.prometheus.url.empty() && config_.prometheus.url.back() == '/') {
      config_.prometheus.url.pop_back();
    }
  }
  const config::HubConfig& config() const { return config_; }

  // Sends `call` with the hub's credentials; retries once after a 401 with fresh ones.
  Result<http::ClientResponse> Send(const PromCall& call) {
    std::unique_ptr<Upstream> up = Take();
    Result<http::ClientResponse> out = Fail(ErrorCode::kInternal, "not sent");
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto auth = up->credentials.Authorization();
      if (!auth) {
        out = Fail(ErrorCode::kUnavailable, "the hub's credentials are not available");
        break;
      }
      http::ClientRequest req;
      req.method = call.method;
      req.url = config_.prometheus.url + call.path;
      req.timeout = call.timeout;
      if (call.method == "GET") {
        req.url += "?" + call.form;
      } else {
        req.body = call.form;
        req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
      }
      if (!auth->empty()) req.headers.emplace_back("Authorization", *auth);
      out = up->client.Send(req);
      if (!out || out->status != 401 || !up->credentials.configured()) break;
      up->credentials.Invalidate();
    }
    Give(std::move(up));
    return out;
  }

 private:
  std::unique_ptr<Upstream> Take() {
    std::lock_guard lock(mu_);
    if (idle_.empty()) return std::make_unique<Upstream>(config_);
    auto up = std::move(idle_.back());
    idle_.pop_back();
    return up;
  }
  void Give(std::unique_ptr<Upstream> up) {
    std::lock_guard lock(mu_);
    if (idle_.size() < 8) idle_.push_back(std::move(up));
  }

  config::HubConfig config_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Upstream>> idle_;  // guarded by mu_
};

// Counts each caller's queries in flight.
class Limiter {
 public:
  explicit Limiter(int per_caller) : per_caller_(per_caller) {}
  bool Acquire(const std::string& who) {
    std::lock_guard lock(mu_);
    int& n = running_[who];
    if (n >= per_caller_) return false;
    ++n;
    return true;
  }
  void Release(const std::string& who) {
    std::lock_guard lock(mu_);
    if (--running_[who] <= 0) running_.erase(who);
  }

 private:
  int per_caller_;
  std::mutex mu_;
  std::map<std::string, int> running_;  // guarded by mu_
};

struct State {
  std::map<std::string, std::unique_ptr<Hub>> hubs;
  PromLimits limits;
  Limiter limiter;
  explicit State(int per_caller) : limiter(per_caller) {}
};

// The request's parameters from exactly one place: the URL, or a POST's form body.
Result<std::vector<std::pair<std::string, std::string>>> RequestParams(const http::Request& r) {
  if (r.method != "POST" || r.body.empty()) return r.query;
  std::string type = r.Header("content-type");
  if (!type.starts_with("application/x-www-form-urlencoded")) {
    return Fail(ErrorCode::kInvalidArgument,
                "a POST body must be application/x-www-form-urlencoded");
  }
  if (!r.query.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "parameters in both the URL and the form body; send them in one place");
  }
  return http::ParseQuery(r.body);
}

// Passes Prometheus' answer on; anything that is not a Prometheus JSON answer (a proxy's error
// page) becomes a generic error, so no upstream detail reaches the caller.
http::Response Forward(const http::ClientResponse& up) {
  std::string_view body = up.body;
  bool json = body.starts_with("{") && body.find("\"status\"") != std::string_view::npos;
  if (!json) {
    return PromError(Error{ErrorCode::kUnavailable,
                           fmt::format("the hub's Prometheus answered HTTP {}", up.status)});
  }
  http::Response r = http::JsonResponse(up.status, up.body);
  r.Set("Cache-Control", "no-store");
  return r;
}

http::Response Handle(State& s, const http::Request& request) {
  const Caller& caller = CallerOf(request);
  std::string label;
  auto endpoint = PromEndpointFor(request.params.at("endpoint"), &label);
  if (!endpoint) return PromError(Error{ErrorCode::kNotFound, "not found"});
  auto hub_it = s.hubs.find(request.params.at("hub"));
  if (!caller.authenticated || hub_it == s.hubs.end()) {
    return PromError(Error{ErrorCode::kNotFound, "unknown hub"});
  }
  Hub& hub = *hub_it->second;
  promql::RestrictionOptions ro{
      hub.config().default_cluster.empty() ? hub.config().name : hub.config().default_cluster,
      hub.config().prometheus.namespace_label};
  promql::Restriction restriction =
      promql::RestrictionFor(HubGrantsOf(caller, hub.config().name), ro);
  if (restriction.Nothing()) return PromError(Error{ErrorCode::kNotFound, "unknown hub"});
  auto params = RequestParams(request);
  if (!params) return PromError(params.error());
  auto call = PlanPromCall(*endpoint, label, *params, restriction, s.limits, Now());
  if (!call) return PromError(call.error());
  std::string who = caller.subject.empty() ? caller.name : caller.subject;
  if (!s.limiter.Acquire(who)) {
    return PromError(
        Error{ErrorCode::kResourceExhausted, "too many queries in flight; retry later"});
  }
  auto answer = hub.Send(*call);
  s.limiter.Release(who);
  if (!answer) {
    ErrorCode code = answer.error().code == ErrorCode::kDeadlineExceeded
                         ? ErrorCode::kDeadlineExceeded
                         : ErrorCode::kUnavailable;
    return PromError(Error{code, "the hub's Prometheus did not answer"});
  }
  return Forward(*answer);
}

}  // namespace

void AddPromRoutes(http::Router& router, PromRouteOptions options) {
  auto s = std::make_shared<State>(options.max_concurrent_per_caller);
  s->limits = options.limits;
  for (auto& hub : options.hubs) {
    if (hub.prometheus.url.empty()) continue;
    std::string name = hub.name;
    s->hubs.emplace(std::move(name), std::make_unique<Hub>(std::move(hub)));
  }
  for (const char* method : {"GET", "POST"}) {
    router.Add(method, "/prom/{hub}/api/v1/{endpoint...}",
               [s](const http::Request& r) { return Handle(*s, r); });
  }
}

}  // namespace aitelemetry::api
