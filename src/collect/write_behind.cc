#include "collect/write_behind.h"

#include <utility>

namespace aitelemetry::collect {

WriteBehind::WriteBehind(bool threaded, size_t depth) : depth_(depth == 0 ? 1 : depth) {
  if (threaded) thread_ = std::thread([this] { Run(); });
}

WriteBehind::~WriteBehind() {
  if (!thread_.joinable()) return;
  (void)Drain();
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

Status WriteBehind::Submit(std::function<Status()> job) {
  if (!thread_.joinable()) {
    if (!error_) return error_;
    error_ = job();
    return error_;
  }
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return jobs_.size() < depth_ || !error_; });
  if (!error_) return error_;
  jobs_.push_back(std::move(job));
  cv_.notify_all();
  return Ok();
}

Status WriteBehind::Drain() {
  if (!thread_.joinable()) return error_;
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return (jobs_.empty() && !busy_) || !error_; });
  // After an error, wait for the job in hand to finish: the caller may use the connection next.
  cv_.wait(lock, [&] { return !busy_; });
  jobs_.clear();
  return error_;
}

void WriteBehind::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return !jobs_.empty() || stop_; });
    if (jobs_.empty()) return;  // stopping
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    if (error_) {  // no job failed yet
      busy_ = true;
      lock.unlock();
      Status st = job();
      lock.lock();
      busy_ = false;
      if (!st && error_) error_ = std::move(st);
    }
    cv_.notify_all();
  }
}

}  // namespace aitelemetry::collect
