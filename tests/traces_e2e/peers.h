// Child processes for the traces end-to-end test: the real peers (Prometheus, Alertmanager, the
// simulator, the worker) run as children of the test with their output in log files, on free
// loopback ports. Header-only; included by the test binary only.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "http/client.h"

namespace aitelemetry::e2e {

using Clock = std::chrono::steady_clock;

// Returns a TCP port that was free on 127.0.0.1 a moment ago (the kernel's pick for port 0). The
// caller binds it soon after; another process taking it in between makes the peer fail to start,
// which the readiness check reports.
inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

// Calls `done` every `every` until it returns true or `timeout` passes. Returns its last answer.
inline bool PollUntil(std::chrono::milliseconds timeout, const std::function<bool()>& done,
                      std::chrono::milliseconds every = std::chrono::milliseconds(250)) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

// Sends one request; status 0 when no response came.
inline http::ClientResponse Call(const std::string& method, const std::string& url,
                                 const std::string& body = "",
                                 std::vector<std::pair<std::string, std::string>> headers = {}) {
  http::HttpClient client;
  http::ClientRequest request;
  request.method = method;
  request.url = url;
  request.body = body;
  request.headers = std::move(headers);
  request.timeout = std::chrono::milliseconds(5000);
  if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  auto response = client.Send(request);
  if (!response) return {};
  return std::move(*response);
}

// One child process, its stdout and stderr appended to a log file. Stopped (SIGTERM, then SIGKILL
// after 10 s) when the object goes away, and killed by the kernel if the test process dies first.
class Child {
 public:
  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() { Stop(); }

  // Starts `argv` (argv[0] looked up on PATH). Returns "" or why it could not start.
  std::string Start(const std::vector<std::string>& argv, const std::string& log_path) {
    Stop();
    log_path_ = log_path;
    int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log < 0) return "cannot open " + log_path;
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) {
      close(log);
      return "fork failed";
    }
    if (pid_ == 0) {
      // Dies with the test, even when the test is killed (a ctest timeout).
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(1);
      dup2(log, STDOUT_FILENO);
      dup2(log, STDERR_FILENO);
      close(log);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
    close(log);
    return "";
  }

  // Returns true while the child has not exited.
  bool Running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }

  // Sends SIGKILL and reaps the child: a crash, with no chance to clean up.
  void KillHard() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  // SIGTERM, then SIGKILL if it has not exited within 10 s.
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    KillHard();
  }

  // The last `bytes` of the log, for failure messages.
  std::string LogTail(size_t bytes = 3000) const {
    std::string text = ReadFile(log_path_);
    return text.size() > bytes ? text.substr(text.size() - bytes) : text;
  }

  // Waits until GET `url` answers 200 (or the child exits). Returns "" or why not.
  std::string WaitReady(const std::string& url, std::chrono::milliseconds timeout) {
    bool ok = PollUntil(timeout, [&] { return !Running() || Call("GET", url).status == 200; });
    if (ok && Running()) return "";
    return fmt::format("{} not ready ({}); log:\n{}", url, Running() ? "timeout" : "exited",
                       LogTail());
  }

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

}  // namespace aitelemetry::e2e
