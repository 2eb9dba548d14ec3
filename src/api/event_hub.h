// The live side of /api/events: one reader of the store's change feed per process fans each batch
// out to every open stream, each filtered by its caller's grants and models. No thread and no
// sleep per stream: a stream is a queue the reader fills and the server drains when the socket
// takes more (http::StreamSource).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "http/message.h"
#include "store/change_listener.h"
#include "store/store.h"

namespace aitelemetry::api {

struct EventHubOptions {
  // How often the reader looks at the change feed when nothing wakes it (PostgreSQL NOTIFY wakes
  // it at once; SQLite commits are seen at the next look).
  std::chrono::milliseconds poll{250};
  std::chrono::milliseconds heartbeat{15000};  // a comment line after this long without events
  int64_t batch = 1000;                        // changes read per query (reader and replay)
  // A stream whose unsent events pass this many bytes reads too slowly: it is ended with a final
  // `event: overflow` and the client resumes from its last event id (replayed from the store).
  size_t max_buffer_bytes = 1 << 20;
  int64_t max_streams = 20000;            // open streams in this process; beyond: 503
  int64_t max_streams_per_caller = 1000;  // open streams of one caller; beyond: 429
  // Wakes the reader as soon as any process appends changes (PostgreSQL); null: poll only.
  // Requires: outlives the hub.
  store::ChangeListener* wake = nullptr;
  std::function<Timestamp()> clock = [] { return Now(); };  // for credential expiry
};

// Who opens a stream and what it may carry.
struct StreamSpec {
  std::vector<std::string> models;  // served model names; empty: all
  store::Scope scope;               // the caller's grants, applied to every change
  // Resume after this seq (Last-Event-ID); nothing: only what happens from now on.
  std::optional<int64_t> after;
  std::string caller;      // counts against max_streams_per_caller ("" groups anonymous callers)
  Timestamp expires_at{};  // the caller's credentials end here: the stream ends; zero: never
};

class EventHub {
 public:
  // Starts the reader thread at the feed's newest change. Requires: `store` outlives the hub.
  EventHub(store::Store& store, EventHubOptions options);
  // Stops the reader and ends every open stream (their pending chunks still go out).
  ~EventHub();
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // Opens a stream for `spec`. Its first chunk is "retry: 2000" and a comment naming the seq it
  // starts after; with spec.after older than the reader's position, the missed changes visible
  // to spec.scope are replayed from the store first, a batch per chunk, without gaps or repeats.
  // Errors: kResourceExhausted when spec.caller has max_streams_per_caller open,
  // kUnavailable when the process has max_streams open or the hub stopped, the store's errors.
  [[nodiscard]] Result<std::shared_ptr<http::StreamSource>> Open(StreamSpec spec);

  // Streams open now (all callers).
  int64_t open_streams() const;

  // The highest change seq the reader has fanned out to the streams.
  int64_t position() const;

  // Ends every stream and stops the reader; idempotent. Later Opens answer kUnavailable.
  void Stop();

  struct Core;  // shared with the streams, which may outlive the hub

 private:
  void Loop();

  std::shared_ptr<Core> core_;
  std::thread reader_;
};

}  // namespace aitelemetry::api
