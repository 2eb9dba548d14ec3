// A tiny HTTP/1.1 responder on 127.0.0.1 for tests: plain POSIX sockets, one connection at a
// time, "Connection: close" after every answer. The handler returns the raw bytes to write, so
// tests can send truncated or malformed responses, or stall past a client's timeout.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace aitelemetry::collect::testing {

struct FakeRequest {
  std::string method, path, headers, body;  // headers: the raw header block
};

class FakeHttpServer {
 public:
  using Handler = std::function<std::string(const FakeRequest&)>;

  explicit FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(fd_, 16);
    thread_ = std::thread([this] { Loop(); });
  }

  ~FakeHttpServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  bool stopping() const { return stop_; }

  std::vector<FakeRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

  // Builds a complete response.
  static std::string Response(int status, const std::string& body,
                              const std::string& type = "application/json") {
    return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + type +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
           body;
  }

  // Sleeps up to `d`, returning early when the server stops.
  void Stall(std::chrono::milliseconds d) {
    auto until = std::chrono::steady_clock::now() + d;
    while (!stop_ && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      FakeRequest req;
      if (Read(c, &req)) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          requests_.push_back(req);
        }
        std::string out = handler_(req);
        size_t off = 0;
        while (off < out.size()) {
          ssize_t n = ::send(c, out.data() + off, out.size() - off, MSG_NOSIGNAL);
          if (n <= 0) break;
          off += static_cast<size_t>(n);
        }
      }
      ::close(c);
    }
  }

  static bool Read(int c, FakeRequest* req) {
    std::string data;
    char buf[4096];
    size_t header_end = std::string::npos;
    size_t want = 0;
    while (true) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 2000) <= 0) return false;
      ssize_t n = ::recv(c, buf, sizeof(buf), 0);
      if (n <= 0) return false;
      data.append(buf, static_cast<size_t>(n));
      if (header_end == std::string::npos) {
        header_end = data.find("\r\n\r\n");
        if (header_end == std::string::npos) continue;
        req->headers = data.substr(0, header_end);
        size_t cl = req->headers.find("Content-Length: ");
        if (cl == std::string::npos) cl = req->headers.find("content-length: ");
        if (cl != std::string::npos) want = std::stoul(req->headers.substr(cl + 16));
      }
      if (data.size() >= header_end + 4 + want) break;
    }
    size_t sp1 = req->headers.find(' ');
    size_t sp2 = req->headers.find(' ', sp1 + 1);
    req->method = req->headers.substr(0, sp1);
    req->path = req->headers.substr(sp1 + 1, sp2 - sp1 - 1);
    req->body = data.substr(header_end + 4, want);
    return true;
  }

  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<FakeRequest> requests_;
};

}  // namespace aitelemetry::collect::testing
