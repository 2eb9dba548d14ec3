#include "api/prom_query.h"

#include <cmath>
#include <cstdlib>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http/client.h"
#include "promql/parser.h"
#include "promql/printer.h"

namespace aitelemetry::api {
namespace {

constexpr size_t kMaxMatchers = 32;

tl::unexpected<Error> BadData(std::string message) {
  return Fail(ErrorCode::kInvalidArgument, std::move(message));
}

// A time as Prometheus takes it: Unix seconds (fractions allowed) or RFC 3339.
Result<double> ParseTime(std::string_view name, const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (!text.empty() && end == text.c_str() + text.size() && std::isfinite(v)) return v;
  auto t = ParseRfc3339(text);
  if (!t) return BadData(fmt::format("invalid parameter \"{}\": cannot parse time", name));
  return ToUnixSeconds(*t);
}

// A duration as Prometheus takes it: seconds (fractions allowed) or "5m".
Result<double> ParseSeconds(std::string_view name, const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (!text.empty() && end == text.c_str() + text.size() && std::isfinite(v)) {
    if (v <= 0) return BadData(fmt::format("invalid parameter \"{}\": must be positive", name));
    return v;
  }
  auto d = ParseDuration(text);
  if (!d || d->count() <= 0) {
    return BadData(fmt::format("invalid parameter \"{}\": cannot parse duration", name));
  }
  return std::chrono::duration<double>(*d).count();
}

std::string Seconds(double s) { return fmt::format("{:.3f}", s); }

void AddField(std::string* form, std::string_view name, std::string_view value) {
  if (!form->empty()) form->push_back('&');
  *form += http::UrlEncode(name);
  form->push_back('=');
  *form += http::UrlEncode(value);
}

struct Params {
  std::map<std::string, std::string> one;
  std::vector<std::string> match;
};

Result<Params> CheckParams(const std::vector<std::pair<std::string, std::string>>& params,
                           const std::set<std::string>& allowed) {
  Params out;
  for (const auto& [name, value] : params) {
    if (allowed.count(name) == 0) {
      return BadData(fmt::format("unknown parameter \"{}\"", name.substr(0, 64)));
    }
    if (name == "match[]") {
      if (out.match.size() >= kMaxMatchers) return BadData("too many match[] parameters");
      out.match.push_back(value);
    } else if (!out.one.emplace(name, value).second) {
      return BadData(fmt::format("parameter \"{}\" given more than once", name));
    }
  }
  return out;
}

// Parses, checks and restricts a query; returns the restricted text.
Result<std::string> RestrictedQuery(const std::string& query,
                                    const promql::Restriction& restriction,
                                    const PromLimits& limits) {
  auto e = promql::Parse(query);
  if (!e) return Fail(e.error());
  auto max_ms = std::chrono::duration_cast<std::chrono::milliseconds>(limits.max_range).count();
  if (promql::LongestRangeMs(**e) > max_ms) {
    return BadData(fmt::format("a range in the query is longer than the limit of {}h",
                               limits.max_range.count()));
  }
  auto restricted = promql::Restrict(*e, restriction);
  if (!restricted) return Fail(restricted.error());
  std::string text = promql::Print(**restricted);
  // Defence in depth: what Prometheus will read is this text; read it back and check it.
  auto reread = promql::Parse(text);
  if (!reread) return BadData("the query is too large or too deep once restricted to your grants");
  if (!promql::EverySelectorRestricted(**reread, restriction)) {
    return Fail(ErrorCode::kInternal, "the restricted query failed its check");
  }
  return text;
}

Status CheckRange(double start, double end, const PromLimits& limits) {
  if (end < start) return BadData("end timestamp must not be before start time");
  double max = std::chrono::duration<double>(limits.max_range).count();
  if (end - start > max) {
    return BadData(
        fmt::format("the time range is longer than the limit of {}h", limits.max_range.count()));
  }
  return Ok();
}

Result<PromCall> PlanQuery(PromEndpoint endpoint, const Params& p,
                           const promql::Restriction& restriction, const PromLimits& limits) {
  PromCall call;
  call.path = endpoint == PromEndpoint::kQuery ? "/api/v1/query" : "/api/v1/query_range";
  auto q = p.one.find("query");
  if (q == p.one.end()) return BadData("missing parameter \"query\"");
  auto text = RestrictedQuery(q->second, restriction, limits);
  if (!text) return Fail(text.error());
  AddField(&call.form, "query", *text);
  if (endpoint == PromEndpoint::kQuery) {
    if (auto t = p.one.find("time"); t != p.one.end()) {
      auto v = ParseTime("time", t->second);
      if (!v) return Fail(v.error());
      AddField(&call.form, "time", Seconds(*v));
    }
  } else {
    for (const char* name : {"start", "end", "step"}) {
      if (p.one.count(name) == 0) return BadData(fmt::format("missing parameter \"{}\"", name));
    }
    auto start = ParseTime("start", p.one.at("start"));
    auto end = ParseTime("end", p.one.at("end"));
    auto step = ParseSeconds("step", p.one.at("step"));
    for (const auto* r : {&start, &end, &step}) {
      if (!*r) return Fail(r->error());
    }
    if (auto st = CheckRange(*start, *end, limits); !st) return Fail(st.error());
    if ((*end - *start) / *step + 1 > limits.max_points) {
      return BadData(
          fmt::format("exceeded maximum resolution of {} points per timeseries; try a larger step",
                      limits.max_points));
    }
    AddField(&call.form, "start", Seconds(*start));
    AddField(&call.form, "end", Seconds(*end));
    AddField(&call.form, "step", Seconds(*step));
  }
  double timeout = static_cast<double>(limits.query_timeout.count());
  if (auto t = p.one.find("timeout"); t != p.one.end()) {
    auto v = ParseSeconds("timeout", t->second);
    if (!v) return Fail(v.error());
    timeout = std::min(timeout, *v);
  }
  AddField(&call.form, "timeout", Seconds(timeout));
  call.timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout * 1000) + 5000);
  return call;
}

}  // namespace

std::optional<PromEndpoint> PromEndpointFor(std::string_view tail, std::string* label) {
  if (tail == "query") return PromEndpoint::kQuery;
  if (tail == "query_range") return PromEndpoint::kQueryRange;
  if (tail == "series") return PromEndpoint::kSeries;
  if (tail == "labels") return PromEndpoint::kLabels;
  constexpr std::string_view kPrefix = "label/", kSuffix = "/values";
  if (tail.starts_with(kPrefix) && tail.ends_with(kSuffix) &&
      tail.size() > kPrefix.size() + kSuffix.size()) {
    std::string_view name =
        tail.substr(kPrefix.size(), tail.size() - kPrefix.size() - kSuffix.size());
    for (char c : name) {
      bool ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
      if (!ok) return std::nullopt;
    }
    if (name[0] >= '0' && name[0] <= '9') return std::nullopt;
    *label = std::string(name);
    return PromEndpoint::kLabelValues;
  }
  return std::nullopt;
}

promql::HubGrants HubGrantsOf(const Caller& caller, std::string_view hub) {
  promql::HubGrants g;
  if (caller.admin || caller.scope.all) {
    g.whole_hub = true;
    return g;
  }
  for (const auto& grant : caller.scope.grants) {
    if (grant.hub != hub) continue;
    if (grant.cluster.empty()) {
      g.whole_hub = true;
    } else if (grant.project.empty()) {
      g.clusters.insert(grant.cluster);
    } else {
      g.projects[grant.cluster].insert(grant.project);
    }
  }
  return g;
}

Result<PromCall> PlanPromCall(PromEndpoint endpoint, std::string_view label,
                              const std::vector<std::pair<std::string, std::string>>& params,
                              const promql::Restriction& restriction, const PromLimits& limits,
                              Timestamp now) {
  if (restriction.Nothing()) return Fail(ErrorCode::kNotFound, "unknown hub");
  bool is_query = endpoint == PromEndpoint::kQuery || endpoint == PromEndpoint::kQueryRange;
  std::set<std::string> allowed =
      endpoint == PromEndpoint::kQuery ? std::set<std::string>{"query", "time", "timeout"}
      : endpoint == PromEndpoint::kQueryRange
          ? std::set<std::string>{"query", "start", "end", "step", "timeout"}
          : std::set<std::string>{"match[]", "start", "end", "limit"};
  auto p = CheckParams(params, allowed);
  if (!p) return Fail(p.error());
  if (is_query) return PlanQuery(endpoint, *p, restriction, limits);
  PromCall call;
  call.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(limits.query_timeout);
  if (endpoint == PromEndpoint::kLabelValues) call.method = "GET";
  call.path = endpoint == PromEndpoint::kSeries   ? "/api/v1/series"
              : endpoint == PromEndpoint::kLabels ? "/api/v1/labels"
                                                  : fmt::format("/api/v1/label/{}/values", label);
  double end = ToUnixSeconds(now);
  if (auto e = p->one.find("end"); e != p->one.end()) {
    auto v = ParseTime("end", e->second);
    if (!v) return Fail(v.error());
    end = *v;
  }
  double start = end - std::chrono::duration<double>(limits.max_range).count();
  if (auto s = p->one.find("start"); s != p->one.end()) {
    auto v = ParseTime("start", s->second);
    if (!v) return Fail(v.error());
    start = *v;
  }
  if (auto st = CheckRange(start, end, limits); !st) return Fail(st.error());
  if (auto l = p->one.find("limit"); l != p->one.end()) {
    char* stop = nullptr;
    long n = std::strtol(l->second.c_str(), &stop, 10);
    if (l->second.empty() || *stop != '\0' || n < 0) {
      return BadData("invalid parameter \"limit\"");
    }
    AddField(&call.form, "limit", std::to_string(n));
  }
  std::vector<std::string> selectors;
  if (p->match.empty()) selectors = promql::GrantSelectors(restriction);
  for (const auto& m : p->match) {
    auto s = promql::ParseSeriesSelector(m);
    if (!s) return Fail(s.error());
    for (auto& text : promql::RestrictSelector(**s, restriction))
      selectors.push_back(std::move(text));
  }
  for (const auto& s : selectors) AddField(&call.form, "match[]", s);
  AddField(&call.form, "start", Seconds(start));
  AddField(&call.form, "end", Seconds(end));
  return call;
}

http::Response PromError(const Error& error) {
  int status = 500;
  std::string_view type = "internal";
  switch (error.code) {
    case ErrorCode::kInvalidArgument:
      status = 400, type = "bad_data";
      break;
    case ErrorCode::kPermissionDenied:
      status = 403, type = "forbidden";
      break;
    case ErrorCode::kNotFound:
      status = 404, type = "not_found";
      break;
    case ErrorCode::kResourceExhausted:
      status = 429, type = "too_many_requests";
      break;
    case ErrorCode::kDeadlineExceeded:
      status = 504, type = "timeout";
      break;
    case ErrorCode::kUnavailable:
      status = 503, type = "unavailable";
      break;
    default:
      break;
  }
  nlohmann::json body = {{"status", "error"}, {"errorType", type}, {"error", error.message}};
  http::Response r = http::JsonResponse(
      status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  r.Set("Cache-Control", "no-store");
  return r;
}

}  // namespace aitelemetry::api
