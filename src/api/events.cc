#include "api/events.h"

#include <charconv>
#include <memory>
#include <thread>

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

http::Response EventStream(store::Store& store, EventsParams params, store::Scope scope,
                           EventsOptions options) {
  struct State {
    store::Store* store;
    EventsParams params;
    store::Scope scope;
    EventsOptions options;
    int64_t last = 0;
    bool started = false;
    std::chrono::steady_clock::time_point last_write;
  };
  auto state = std::make_shared<State>();
  state->store = &store;
  state->params = std::move(params);
  state->scope = std::move(scope);
  state->options = options;
  if (state->params.after) {
    state->last = *state->params.after;
  } else {
    auto last = store.LastChangeSeq();
    if (!last) return http::ProblemFor(last.error());
    state->last = *last;
  }
  http::Response r;
  r.Set("Content-Type", "text/event-stream");
  r.Set("Cache-Control", "no-store");
  r.Set("X-Accel-Buffering", "no");
  r.stream = [state](std::string& out) -> bool {
    auto now = std::chrono::steady_clock::now();
    if (!state->started) {
      state->started = true;
      state->last_write = now;
      out = fmt::format("retry: 2000\n: stream from seq {}\n\n", state->last);
      return true;
    }
    // Read before the query: a notification arriving after it ends the wait below at once.
    const uint64_t generation = state->options.wake ? state->options.wake->generation() : 0;
    auto changes = state->store->ChangesSince(state->last, state->params.models, state->scope,
                                              state->options.batch);
    if (!changes) {
      // The client reconnects (retry:) and resumes from its last id once the store is back.
      spdlog::warn("events: {}", changes.error().message);
      return false;
    }
    for (const auto& c : *changes) {
      out += FormatChangeEvent(c);
      state->last = c.seq;
    }
    if (!out.empty()) {
      state->last_write = now;
      return true;
    }
    if (now - state->last_write >= state->options.heartbeat) {
      state->last_write = now;
      out = ": heartbeat\n\n";
      return true;
    }
    if (state->options.wake != nullptr) {
      state->options.wake->WaitForChange(generation, state->options.poll);
    } else {
      std::this_thread::sleep_for(state->options.poll);
    }
    return true;
  };
  return r;
}

}  // namespace aitelemetry::api
