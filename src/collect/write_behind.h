// WriteBehind: runs store writes in order on a second thread while the caller goes on building the
// next batch, so a sync keeps both cores busy (one building and comparing rows, one inside
// SQLite or waiting for PostgreSQL). Jobs run strictly in submission order on one thread, one at a
// time, so they may share the caller's transaction connection (never used by two threads at once:
// the caller touches it only after Drain). After a job fails the rest are skipped and Drain
// returns the first error.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "core/result.h"

namespace aitelemetry::collect {

class WriteBehind {
 public:
  // `threaded` false runs each job inside Submit (one core, or for tests). At most `depth` jobs
  // wait at a time: Submit blocks beyond that, which bounds the memory of queued batches.
  explicit WriteBehind(bool threaded = true, size_t depth = 4);
  ~WriteBehind();  // drains (errors dropped) and joins
  WriteBehind(const WriteBehind&) = delete;
  WriteBehind& operator=(const WriteBehind&) = delete;

  // Queues `job`. Returns the first error of an earlier job, if any (the job is then dropped).
  Status Submit(std::function<Status()> job);
  // Waits until every queued job ran; returns the first error.
  Status Drain();

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<Status()>> jobs_;
  bool busy_ = false;
  bool stop_ = false;
  Status error_ = Ok();
  size_t depth_;
  std::thread thread_;  // last: started once the members it uses exist
};

}  // namespace aitelemetry::collect
