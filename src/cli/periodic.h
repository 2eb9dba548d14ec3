// A background task that runs a function every interval on its own thread until stopped.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace aitelemetry::cli {

class Periodic {
 public:
  // Starts a thread that calls `fn` at once and then every `interval` until Stop().
  Periodic(std::string name, std::chrono::milliseconds interval, std::function<void()> fn)
      : name_(std::move(name)), interval_(interval), fn_(std::move(fn)) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~Periodic() { Stop(); }
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

  // Wakes the task now (e.g. after a webhook) instead of at the next interval.
  void Poke() {
    std::lock_guard lock(mu_);
    poked_ = true;
    cv_.notify_all();
  }

  // Stops the loop and waits for a running call to finish. Idempotent.
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      poked_ = false;
      lock.unlock();
      fn_();
      lock.lock();
      cv_.wait_for(lock, interval_, [this] { return stop_ || poked_; });
    }
  }

  std::string name_;
  std::chrono::milliseconds interval_;
  std::function<void()> fn_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;   // guarded by mu_
  bool poked_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace aitelemetry::cli
