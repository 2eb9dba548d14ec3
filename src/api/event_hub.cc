#include "api/event_hub.h"

#include <algorithm>
#include <map>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/events.h"

namespace aitelemetry::api {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

constexpr std::string_view kOverflowEvent =
    "event: overflow\ndata: {\"reason\":\"the client reads too slowly; reconnect with "
    "Last-Event-ID to resume\"}\n\n";
constexpr std::string_view kExpiredEvent =
    "event: expired\ndata: {\"reason\":\"the credentials of this stream expired\"}\n\n";
constexpr std::string_view kStoreFailedEvent =
    "event: error\ndata: {\"reason\":\"the change feed cannot be read now; reconnect with "
    "Last-Event-ID to resume\"}\n\n";

class HubStream;

}  // namespace

struct EventHub::Core {
  store::Store* store;
  EventHubOptions options;

  std::mutex mu;
  std::condition_variable stop_cv;  // wakes the reader's wait when stopping (with mu)
  // Guarded by mu:
  bool stopped = false;
  bool started = false;                    // position holds the feed's position: streams may open
  int64_t position = 0;                    // the highest seq the reader has fanned out
  std::unordered_set<HubStream*> streams;  // open streams; each removes itself when it ends
  std::map<std::string, int64_t, std::less<>> per_caller;

  Core(store::Store* s, EventHubOptions o) : store(s), options(std::move(o)) {}
};

namespace {

// One open stream. Every member below `spec` is guarded by core->mu.
class HubStream final : public http::StreamSource {
 public:
  HubStream(std::shared_ptr<EventHub::Core> core, StreamSpec spec)
      : core_(std::move(core)), spec_(std::move(spec)) {}
  ~HubStream() override {
    std::lock_guard lock(core_->mu);
    Unregister();
  }

  void Next(Ready ready) override {
    std::unique_lock lock(core_->mu);
    for (;;) {
      if (!pending_.empty() || ending_ || closed_ || core_->stopped) {
        std::string chunk = std::move(pending_);
        pending_.clear();
        const bool more = !(ending_ || closed_ || core_->stopped);
        if (!more) Unregister();
        last_sent_ = std::chrono::steady_clock::now();
        lock.unlock();
        ready(std::move(chunk), more);
        return;
      }
      if (!catching_up_) break;
      // Replay from the store what the reader fanned out before this stream could hear it: one
      // batch per chunk, so a client far behind is paced by its own socket.
      const int64_t from = last_;
      const int64_t reader_was_at = core_->position;
      lock.unlock();
      auto changes =
          core_->store->ChangesSince(from, spec_.models, spec_.scope, core_->options.batch);
      lock.lock();
      if (!changes) {
        spdlog::warn("events: replay: {}", changes.error().message);
        pending_ += kStoreFailedEvent;
        ending_ = true;
        continue;
      }
      for (const auto& c : *changes) {
        pending_ += FormatChangeEvent(c);
        last_ = c.seq;
      }
      if (static_cast<int64_t>(changes->size()) < core_->options.batch) {
        // Everything up to reader_was_at was committed before this read began, so the read saw
        // all of it that this scope may see; later changes come from the reader unless it moved
        // on meanwhile, in which case read again.
        last_ = std::max(last_, reader_was_at);
        if (core_->position <= last_) catching_up_ = false;
      }
    }
    waiting_ = std::move(ready);
  }

  void Close() override {
    Ready ready;
    {
      std::lock_guard lock(core_->mu);
      closed_ = true;
      ready = std::move(waiting_);
      waiting_ = nullptr;
      Unregister();
    }
    if (ready) ready({}, false);
  }

  // The rest is called by the hub with core->mu held.

  // Opens the stream after `newest` (the feed's newest change when it was asked for), or replays
  // from spec.after.
  void Start(int64_t newest) {
    last_ = spec_.after.value_or(std::max(newest, core_->position));
    catching_up_ = last_ < core_->position;
    pending_ = fmt::format("retry: 2000\n: stream from seq {}\n\n", last_);
    last_sent_ = std::chrono::steady_clock::now();
    core_->streams.insert(this);
    ++core_->per_caller[spec_.caller];
    registered_ = true;
  }

  // Appends the changes of a batch this stream may see (`events[i]` formats `changes[i]`).
  void Offer(const std::vector<store::Change>& changes, const std::vector<std::string>& events) {
    if (closed_ || ending_ || catching_up_) return;
    for (size_t i = 0; i < changes.size(); ++i) {
      const store::Change& c = changes[i];
      if (c.seq <= last_) continue;
      last_ = c.seq;
      if (!spec_.models.empty() &&
          std::find(spec_.models.begin(), spec_.models.end(), c.model) == spec_.models.end()) {
        continue;
      }
      if (!spec_.scope.Covers(c.hub, c.cluster, c.project)) continue;
      pending_ += events[i];
    }
    if (pending_.size() > core_->options.max_buffer_bytes) {
      // What is dropped was never sent: the client's Last-Event-ID resumes before it.
      pending_ = kOverflowEvent;
      ending_ = true;
    }
  }

  // Ends an expired stream, adds a heartbeat when due, and hands a ready chunk to a waiting
  // server: the callback to run (outside the lock) goes to `out`.
  void Tick(Timestamp now, SteadyTime steady_now,
            std::vector<std::pair<Ready, std::pair<std::string, bool>>>& out) {
    if (closed_) return;
    if (!ending_ && spec_.expires_at != Timestamp{} && now >= spec_.expires_at) {
      pending_ += kExpiredEvent;
      ending_ = true;
    }
    if (!waiting_) return;
    if (pending_.empty() && !ending_ && steady_now - last_sent_ >= core_->options.heartbeat) {
      pending_ = ": heartbeat\n\n";
    }
    if (pending_.empty() && !ending_) return;
    const bool more = !ending_;
    out.push_back({std::move(waiting_), {std::move(pending_), more}});
    waiting_ = nullptr;
    pending_.clear();
    last_sent_ = steady_now;
    if (!more) Unregister();
  }

  // The hub stops: hands the waiting server what is left, ending the stream.
  void End(std::vector<std::pair<Ready, std::pair<std::string, bool>>>& out) {
    ending_ = true;
    if (waiting_) {
      out.push_back({std::move(waiting_), {std::move(pending_), false}});
      waiting_ = nullptr;
      pending_.clear();
    }
    registered_ = false;  // the hub clears its sets itself
  }

 private:
  void Unregister() {
    if (!registered_) return;
    registered_ = false;
    core_->streams.erase(this);
    auto it = core_->per_caller.find(spec_.caller);
    if (it != core_->per_caller.end() && --it->second <= 0) core_->per_caller.erase(it);
  }

  const std::shared_ptr<EventHub::Core> core_;
  const StreamSpec spec_;
  std::string pending_;  // events not yet handed to the server
  int64_t last_ = 0;     // the highest seq this stream has accounted for (sent or not visible)
  bool catching_up_ = false;
  bool ending_ = false;  // pending_ is the last chunk
  bool closed_ = false;
  bool registered_ = false;
  Ready waiting_;  // the server waits for a chunk
  SteadyTime last_sent_{};
};

using Wakeups = std::vector<std::pair<http::StreamSource::Ready, std::pair<std::string, bool>>>;

void RunWakeups(Wakeups& wakeups) {
  for (auto& [ready, chunk] : wakeups) ready(std::move(chunk.first), chunk.second);
  wakeups.clear();
}

}  // namespace

EventHub::EventHub(store::Store& store, EventHubOptions options)
    : core_(std::make_shared<Core>(&store, std::move(options))) {
  // Streams may open as soon as the hub exists; when the feed cannot be read yet the reader
  // keeps trying and Open answers kUnavailable meanwhile.
  if (auto last = store.LastChangeSeq()) {
    core_->position = *last;
    core_->started = true;
  }
  reader_ = std::thread([this] { Loop(); });
}

EventHub::~EventHub() { Stop(); }

Result<std::shared_ptr<http::StreamSource>> EventHub::Open(StreamSpec spec) {
  // A new stream starts at the newest change committed now, even one the reader has not read yet.
  int64_t newest = 0;
  if (!spec.after) {
    auto last = core_->store->LastChangeSeq();
    if (!last) return Fail(last.error());
    newest = *last;
  }
  std::lock_guard lock(core_->mu);
  if (core_->stopped) return Fail(ErrorCode::kUnavailable, "the server is stopping");
  if (!core_->started) {
    return Fail(ErrorCode::kUnavailable, "the change feed cannot be read yet; retry later");
  }
  if (static_cast<int64_t>(core_->streams.size()) >= core_->options.max_streams) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("this server has {} event streams open, its limit "
                            "(api.max_streams); retry later",
                            core_->streams.size()));
  }
  auto it = core_->per_caller.find(spec.caller);
  if (it != core_->per_caller.end() && it->second >= core_->options.max_streams_per_caller) {
    return Fail(ErrorCode::kResourceExhausted,
                fmt::format("you have {} event streams open, the limit per caller "
                            "(api.max_streams_per_caller); close one or retry later",
                            it->second));
  }
  auto stream = std::make_shared<HubStream>(core_, std::move(spec));
  stream->Start(newest);
  return std::shared_ptr<http::StreamSource>(std::move(stream));
}

int64_t EventHub::open_streams() const {
  std::lock_guard lock(core_->mu);
  return static_cast<int64_t>(core_->streams.size());
}

int64_t EventHub::position() const {
  std::lock_guard lock(core_->mu);
  return core_->position;
}

void EventHub::Stop() {
  Wakeups wakeups;
  {
    std::lock_guard lock(core_->mu);
    if (!core_->stopped) {
      core_->stopped = true;
      for (HubStream* s : core_->streams) s->End(wakeups);
      core_->streams.clear();
      core_->per_caller.clear();
    }
  }
  core_->stop_cv.notify_all();
  RunWakeups(wakeups);
  if (reader_.joinable() && reader_.get_id() != std::this_thread::get_id()) reader_.join();
}

void EventHub::Loop() {
  Core& core = *core_;
  const auto& o = core.options;
  // Start at the feed's newest change; until it can be read no stream opens.
  int64_t position = 0;
  for (;;) {
    {
      std::lock_guard lock(core.mu);
      if (core.started) {
        position = core.position;
        break;
      }
    }
    auto last = core.store->LastChangeSeq();
    std::unique_lock lock(core.mu);
    if (core.stopped) return;
    if (last) {
      position = *last;
      core.position = position;
      core.started = true;
      break;
    }
    spdlog::warn("events: the change feed cannot be read: {}", last.error().message);
    core.stop_cv.wait_for(lock, std::chrono::seconds(1), [&] { return core.stopped; });
  }
  Wakeups wakeups;
  std::vector<std::string> events;
  while (true) {
    // Read before the query, so that a notification arriving during it ends the wait below.
    const uint64_t generation = o.wake ? o.wake->generation() : 0;
    for (;;) {
      auto changes = core.store->ChangesSince(position, {}, store::Scope::All(), o.batch);
      if (!changes) {
        spdlog::warn("events: {}", changes.error().message);
        break;
      }
      if (changes->empty()) break;
      events.clear();
      events.reserve(changes->size());
      for (const auto& c : *changes) events.push_back(FormatChangeEvent(c));
      std::lock_guard lock(core.mu);
      for (HubStream* s : core.streams) s->Offer(*changes, events);
      position = changes->back().seq;
      core.position = position;
      if (static_cast<int64_t>(changes->size()) < o.batch) break;
    }
    {
      std::lock_guard lock(core.mu);
      if (core.stopped) return;
      const Timestamp now = o.clock();
      const SteadyTime steady_now = std::chrono::steady_clock::now();
      // Tick may end streams, which removes them from the set: walk a copy.
      std::vector<HubStream*> streams(core.streams.begin(), core.streams.end());
      for (HubStream* s : streams) s->Tick(now, steady_now, wakeups);
    }
    RunWakeups(wakeups);
    if (o.wake != nullptr) {
      o.wake->WaitForChange(generation, o.poll);
      std::lock_guard lock(core.mu);
      if (core.stopped) return;
    } else {
      std::unique_lock lock(core.mu);
      if (core.stop_cv.wait_for(lock, o.poll, [&] { return core.stopped; })) return;
    }
  }
}

}  // namespace aitelemetry::api
