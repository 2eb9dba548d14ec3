// Test helper: a node process from tests/oidc (provider.mjs, uma.mjs) on loopback, started and
// stopped by the test that owns it.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace aitelemetry::testing {

// A node process started by a test; stopped (SIGTERM, then reaped) on destruction.
class NodePeer {
 public:
  // Starts `node tests/oidc/{script} args...` with `env` added, and waits for its "READY {json}"
  // line; ready() is null when the peer did not start.
  NodePeer(const std::string& script, const std::vector<std::string>& args,
           const std::vector<std::pair<std::string, std::string>>& env) {
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
      std::string path = std::string(AITELEMETRY_SOURCE_DIR) + "/tests/oidc/" + script;
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>("node"));
      argv.push_back(path.data());
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execvp("node", argv.data());
      _exit(127);
    }
    close(out[1]);
    std::string line;
    char c;
    while (read(out[0], &c, 1) == 1) {
      if (c != '\n') {
        line += c;
        continue;
      }
      if (line.starts_with("READY ")) {
        ready_ = nlohmann::json::parse(line.substr(6), nullptr, false);
        break;
      }
      line.clear();
    }
    stdout_fd_ = out[0];  // kept open so the peer never writes into a closed pipe
  }
  ~NodePeer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    if (stdout_fd_ >= 0) close(stdout_fd_);
  }
  NodePeer(const NodePeer&) = delete;
  NodePeer& operator=(const NodePeer&) = delete;

  const nlohmann::json& ready() const { return ready_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  nlohmann::json ready_;
};

}  // namespace aitelemetry::testing
