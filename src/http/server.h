// The async HTTP/1.1 server every role uses (Boost.Beast, C++20 coroutines): keep-alive, request
// limits, TLS when configured, handlers run on a blocking pool, graceful shutdown on SIGTERM.
// I/O threads only read, parse and write sockets: routed handlers run on the blocking pool (a
// route's fast handler excepted), and streams ask their StreamSource for chunks without a thread
// waiting for them.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "http/router.h"

namespace aitelemetry::http {

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";    // HOST:PORT; port 0 picks a free one
  int threads = 0;                          // I/O threads; 0 = the core count
  int blocking_threads = 0;                 // handler threads; 0 = max(4, 2 * threads)
  size_t max_header_bytes = 16 * 1024;      // larger: 431
  size_t max_body_bytes = 8 * 1024 * 1024;  // larger: 413
  size_t max_target_bytes = 16 * 1024;      // longer request line target: 414
  std::chrono::seconds header_timeout{10};  // a client slower than this to send headers is dropped
  std::chrono::seconds idle_timeout{60};    // keep-alive connection idle limit
  std::chrono::seconds shutdown_grace{20};  // how long in-flight requests may finish on SIGTERM
  // A stream (SSE) client that takes longer than this to accept one chunk is dropped.
  std::chrono::seconds stream_write_timeout{30};
  std::string tls_cert_file;  // PEM; TLS is on when both are set
  std::string tls_key_file;
};

class Server {
 public:
  // Binds the listening socket. Errors: kInvalidArgument for a bad address, kUnavailable when the
  // port cannot be bound, kInvalidArgument for unreadable TLS files.
  [[nodiscard]] static Result<std::unique_ptr<Server>> Create(ServerOptions options,
                                                              std::shared_ptr<const Router> router);
  ~Server();

  // The bound port (useful with port 0).
  int port() const;

  // Serves until Stop() or SIGTERM/SIGINT (when handle_signals), then drains in-flight requests
  // (up to shutdown_grace) and returns.
  void Run(bool handle_signals = true);

  // Asks Run to stop; thread-safe, callable from a signal-free context or another thread.
  void Stop();

  // Runs `fn` when shutdown starts (before draining), e.g. to stop background workers.
  void OnShutdown(std::function<void()> fn);

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace aitelemetry::http
