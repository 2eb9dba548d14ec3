// Prompt delivery of the change feed across processes: one dedicated PostgreSQL connection per
// process LISTENs on kChangeChannel and wakes every live view waiting in WaitForChange. Polling
// stays the source of truth (a lost notification only delays a view to its next poll).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace aitelemetry::store {

class ChangeListener {
 public:
  // Starts listening for `url`. Returns nullptr for a database without notifications (SQLite, a
  // single process, where polling alone is prompt enough). Connection failures are retried in
  // the background (every second) and never fail the caller.
  static std::unique_ptr<ChangeListener> Start(const std::string& url);
  ~ChangeListener();
  ChangeListener(const ChangeListener&) = delete;
  ChangeListener& operator=(const ChangeListener&) = delete;

  // Returns a counter that grows with every notification received (and every reconnect, since
  // notifications may have been missed meanwhile). Thread-safe.
  uint64_t generation() const { return generation_.load(); }

  // Blocks until generation() differs from `seen` or `timeout` passes; returns generation().
  // Thread-safe; any number of waiters.
  uint64_t WaitForChange(uint64_t seen, std::chrono::milliseconds timeout);

 private:
  explicit ChangeListener(std::string url) : url_(std::move(url)) {}
  void Loop();
  void Bump();

  std::string url_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;  // with cv_: waiters of generation_
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace aitelemetry::store
