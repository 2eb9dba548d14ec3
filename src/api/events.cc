#include "api/events.h"

#include <charconv>
#include <memory>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "api/search.h"

namespace aitelemetry::api {

Result<EventsParams> ParseEventsParams(const QueryPairs& query, std::string_view last_event_id) {
  if (auto st = CheckParams(query, {"model", "lastEventId"}); !st) return Fail(st.error());
  EventsParams p;
  for (const auto& [k, v] : query) {
    if (k != "model") continue;
    std::string_view rest = v;
    while (true) {
      auto c = rest.find(',');
      std::string_view name = rest.substr(0, c);
      if (ServedModel(name) == nullptr) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("model: unknown model \"{}\"", name.substr(0, 64)));
      }
      bool dup = false;
      for (const auto& m : p.models) dup = dup || m == name;
      if (!dup) p.models.emplace_back(name);
      if (c == std::string_view::npos) break;
      rest = rest.substr(c + 1);
    }
  }
  auto param = SingleParam(query, "lastEventId");
  if (!param) return Fail(param.error());
  std::string_view resume = *param ? std::string_view(**param) : last_event_id;
  if (!resume.empty()) {
    int64_t seq = -1;
    auto [ptr, ec] = std::from_chars(resume.data(), resume.data() + resume.size(), seq);
    if (ec != std::errc() || ptr != resume.data() + resume.size() || seq < 0) {
      return Fail(ErrorCode::kInvalidArgument, "Last-Event-ID: not an event id from this stream");
    }
    p.after = seq;
  }
  return p;
}

std::string FormatChangeEvent(const store::Change& c) {
  auto opt = [](const std::string& s) {
    return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
  };
  nlohmann::ordered_json j;
  j["seq"] = c.seq;
  j["model"] = c.model;
  j["key"] = opt(c.key);
  j["op"] = c.op;
  j["at"] = FormatRfc3339(c.at);
  j["hub"] = c.hub;
  j["cluster"] = opt(c.cluster);
  j["project"] = opt(c.project);
  return fmt::format("id: {}\nevent: change\ndata: {}\n\n", c.seq,
                     j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

http::Response EventStream(EventHub& hub, EventsParams params, const Caller& caller) {
  StreamSpec spec;
  spec.models = std::move(params.models);
  spec.scope = caller.scope;
  spec.after = params.after;
  // In open local mode every client is the one local user.
  spec.caller = caller.open_mode ? std::string("(local)") : caller.subject;
  spec.expires_at = caller.expires_at;
  auto source = hub.Open(std::move(spec));
  if (!source) {
    http::Response r = http::ProblemFor(source.error());
    r.Set("Retry-After", "5");
    return r;
  }
  http::Response r;
  r.Set("Content-Type", "text/event-stream");
  r.Set("Cache-Control", "no-store");
  r.Set("X-Accel-Buffering", "no");
  r.stream = std::move(*source);
  return r;
}

}  // namespace aitelemetry::api
