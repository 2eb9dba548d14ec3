// Live entity changes as Server-Sent Events (/api/events): polls the store's change feed with the
// caller's scope applied in SQL, so a caller never learns that an invisible entity changed.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/params.h"
#include "core/result.h"
#include "http/message.h"
#include "store/change_listener.h"
#include "store/store.h"

namespace aitelemetry::api {

struct EventsOptions {
  std::chrono::milliseconds poll{500};         // how often the feed is read
  std::chrono::milliseconds heartbeat{15000};  // a comment line after this long without events
  int64_t batch = 500;                         // changes read per poll
  // Wakes a waiting stream as soon as any process appends changes (PostgreSQL NOTIFY); null: poll
  // only. Requires: outlives the streams.
  store::ChangeListener* wake = nullptr;
};

struct EventsParams {
  std::vector<std::string> models;  // served model names; empty: all
  // Resume after this seq (Last-Event-ID header or lastEventId parameter); nothing: start at the
  // newest change, sending only what happens from now on.
  std::optional<int64_t> after;
};

// Parses `model` (repeatable or comma-separated served model names) and the resume position from
// `lastEventId` or the Last-Event-ID header. Returns kInvalidArgument for unknown parameters or
// models and for a resume position that is not a non-negative integer.
[[nodiscard]] Result<EventsParams> ParseEventsParams(const QueryPairs& query,
                                                     std::string_view last_event_id);

// Formats one change as an SSE event: "id: <seq>\nevent: change\ndata: {json}\n\n", the JSON
// being {"seq","model","key","op","at","hub","cluster","project"}.
std::string FormatChangeEvent(const store::Change& change);

// Returns the streaming response for `params` and `scope`. The stream sends "retry:" first, then
// events as they are appended, and a ": heartbeat" comment after options.heartbeat of quiet; its
// producer returns at least every poll interval so a stopping server or a closed client ends it.
// Requires: `store` outlives the stream.
http::Response EventStream(store::Store& store, EventsParams params, store::Scope scope,
                           EventsOptions options = {});

}  // namespace aitelemetry::api
