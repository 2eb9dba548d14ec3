// Test helpers shared by the trace tests: a fresh database per test (SQLite temp file or a new
// database on the PostgreSQL the ctest fixture started) and the OTLP test receiver as a child
// process. Header-only; included by test binaries only.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/client.h"
#include "store/sql.h"
#include "testing/database.h"

namespace aitelemetry::trace::test_support {

inline const std::string kRepo = AITELEMETRY_SOURCE_DIR;

// Returns the URL of a new, empty database for `backend` ("sqlite" or "postgres"), or "" when
// PostgreSQL is not running (the `postgres` ctest fixture starts it: tests/pg.sh).
inline std::string FreshDatabase(const std::string& backend) {
  return aitelemetry::test_support::FreshDatabase(backend, "trace");
}

// Returns true when `npm ci` installed what tests/otlp_receiver/server.mjs needs.
inline bool ReceiverInstalled() {
  return std::filesystem::exists(kRepo + "/node_modules/@opentelemetry/otlp-transformer");
}

// Runs tests/otlp_receiver/server.mjs as a child process for the lifetime of the object.
class Receiver {
 public:
  Receiver() = default;
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  // Starts node and waits (up to 20 s) for "listening <port>". Returns "" on success, or why it
  // could not start.
  std::string Start() {
    using namespace std::chrono_literals;
    int out[2];
    if (pipe(out) != 0) return "pipe failed";
    pid_ = fork();
    if (pid_ < 0) return "fork failed";
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      std::string script = kRepo + "/tests/otlp_receiver/server.mjs";
      execlp("node", "node", script.c_str(), "0", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    std::string text;
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out[0], POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[256];
      ssize_t n = read(out[0], buf, sizeof(buf));
      if (n <= 0) break;
      text.append(buf, static_cast<size_t>(n));
      if (size_t at = text.find("listening ");
          at != std::string::npos && text.find('\n', at) != std::string::npos) {
        port_ = std::stoi(text.substr(at + 10));
        close(out[0]);
        return "";
      }
    }
    close(out[0]);
    return "receiver did not start: " + text;
  }

  ~Receiver() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }

  std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }

  // Sends a request to the receiver and returns its JSON answer.
  nlohmann::json Call(const std::string& method, const std::string& path,
                      const std::string& body = "") {
    http::HttpClient client;
    http::ClientRequest request;
    request.method = method;
    request.url = url() + path;
    request.body = body;
    if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
    auto response = client.Send(request);
    EXPECT_TRUE(response.has_value()) << path;
    if (!response) return nlohmann::json();
    EXPECT_EQ(response->status, 200) << path << ": " << response->body;
    return nlohmann::json::parse(response->body);
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace aitelemetry::trace::test_support
