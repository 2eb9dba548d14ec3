// Live entity changes as Server-Sent Events (/api/events): the request's parameters, the event
// format, and the response over the process's EventHub, which filters every change by the
// caller's grants, so a caller never learns that an invisible entity changed.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/caller.h"
#include "api/event_hub.h"
#include "api/params.h"
#include "core/result.h"
#include "http/message.h"
#include "store/store.h"

namespace aitelemetry::api {

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

// Returns the streaming response for `params` on behalf of `caller` (its scope filters every
// event; the stream ends when its credentials expire). The stream sends "retry:" first, then
// events as they are appended, and a ": heartbeat" comment after a quiet interval. A caller at
// its stream limit gets a 429 problem, a server at its limit a 503 problem, both with Retry-After.
http::Response EventStream(EventHub& hub, EventsParams params, const Caller& caller);

}  // namespace aitelemetry::api
