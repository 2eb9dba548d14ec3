// Runs the real server on a loopback port and talks to it with the real client and raw sockets.
#include "http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "http/client.h"

namespace aitelemetry::http {
namespace {

// A stream of `n` chunks "data: i", each answered at once from the calling thread.
class CountingSource : public StreamSource {
 public:
  explicit CountingSource(int n) : n_(n) {}
  void Next(Ready ready) override {
    if (closed_) return ready({}, false);
    int i = next_++;
    ready("data: " + std::to_string(i) + "\n\n", next_ < n_);
  }
  void Close() override { closed_ = true; }

 private:
  const int n_;
  int next_ = 0;
  std::atomic<bool> closed_{false};
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto router = std::make_shared<Router>();
    router->Add("GET", "/hello", [](const Request& r) {
      return JsonResponse(200, "{\"hello\":\"" + r.Query("name").value_or("world") + "\"}");
    });
    router->Add(
        "GET", "/fast", [](const Request&) { return JsonResponse(200, "{\"from\":\"pool\"}"); },
        [](const Request& r) -> std::optional<Response> {
          if (r.Query("decline")) return std::nullopt;
          Response out = JsonResponse(200, "");
          out.body = "ignored: shared_body wins";
          out.shared_body = std::make_shared<const std::string>("{\"from\":\"io\"}");
          return out;
        });
    router->Add("POST", "/echo", [](const Request& r) { return JsonResponse(200, r.body); });
    router->Add("GET", "/slow", [this](const Request&) {
      slow_started_ = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
      return JsonResponse(200, "{\"slow\":true}");
    });
    router->Add("GET", "/events", [](const Request&) {
      Response r;
      r.Set("Content-Type", "text/event-stream");
      r.stream = std::make_shared<CountingSource>(3);
      return r;
    });
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 2;
    options.max_body_bytes = 1024;
    options.max_target_bytes = 2048;
    options.header_timeout = std::chrono::seconds(1);
    auto s = Server::Create(options, router);
    ASSERT_TRUE(s) << s.error().ToString();
    server_ = std::move(*s);
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
    thread_ = std::thread([this] { server_->Run(false); });
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
  }

  Result<ClientResponse> Get(const std::string& path) {
    ClientRequest req;
    req.url = base_ + path;
    return client_.Send(req);
  }

  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::string base_;
  HttpClient client_;
  std::atomic<bool> slow_started_{false};
};

TEST_F(ServerTest, ServesRoutesAndProblems) {
  auto r = Get("/hello?name=gpu");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"hello\":\"gpu\"}");
  auto missing = Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->Header("content-type"), "application/problem+json");
  auto bad = Get("/hello?name=%zz");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
}

TEST_F(ServerTest, FastRoutesAnswerFromTheIoThreadWithASharedBody) {
  auto fast = Get("/fast");
  ASSERT_TRUE(fast) << fast.error().ToString();
  EXPECT_EQ(fast->status, 200);
  EXPECT_EQ(fast->body, "{\"from\":\"io\"}");
  EXPECT_EQ(fast->Header("content-type"), "application/json");
  auto declined = Get("/fast?decline=1");
  ASSERT_TRUE(declined);
  EXPECT_EQ(declined->body, "{\"from\":\"pool\"}");
}

TEST_F(ServerTest, EnforcesBodyAndTargetLimits) {
  ClientRequest big;
  big.method = "POST";
  big.url = base_ + "/echo";
  big.body.assign(4096, 'x');
  auto r = client_.Send(big);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->status, 413);
  HttpClient fresh;
  ClientRequest longq;
  longq.url = base_ + "/hello?name=" + std::string(4096, 'a');
  auto l = fresh.Send(longq);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->status, 414);
  ClientRequest ok;
  ok.method = "POST";
  ok.url = base_ + "/echo";
  ok.body = "small";
  HttpClient third;
  EXPECT_EQ(third.Send(ok)->body, "small");
}

TEST_F(ServerTest, StreamsChunks) {
  auto r = Get("/events");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "data: 0\n\ndata: 1\n\ndata: 2\n\n");
}

TEST_F(ServerTest, DropsSlowClientsAfterTheHeaderTimeout) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const char partial[] = "GET /hello HTTP/1.1\r\nHost: x\r\n";  // never finishes its headers
  ASSERT_GT(write(fd, partial, sizeof partial - 1), 0);
  auto start = std::chrono::steady_clock::now();
  char buf[256];
  ssize_t n = read(fd, buf, sizeof buf);  // blocks until the server closes
  auto waited = std::chrono::steady_clock::now() - start;
  close(fd);
  EXPECT_LE(n, 0);
  EXPECT_LT(waited, std::chrono::seconds(5));
}

// Sends `raw` on a fresh connection and returns all the server answers until it closes (at most
// a few seconds).
std::string Exchange(int port, const std::string& raw) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "connect failed";
  }
  if (write(fd, raw.data(), raw.size()) != static_cast<ssize_t>(raw.size())) {
    close(fd);
    return "write failed";
  }
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

TEST_F(ServerTest, RefusesAmbiguousTransferCodingsAndCloses) {
  // After each head comes a chunked body that is also a well-formed second request: a server
  // that reads no body would answer /hello too (request smuggling behind a proxy).
  const std::string smuggled =
      "0\r\n\r\nGET /hello?name=smuggled HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  struct Case {
    const char* framing;
  };
  for (const Case& c : std::vector<Case>{
           {"Transfer-Encoding: chunked, identity\r\n"},
           {"Transfer-Encoding: identity\r\n"},
           {"Transfer-Encoding: gzip\r\n"},
           {"Transfer-Encoding: gzip, chunked\r\n"},
           {"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"},
           {"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"},
       }) {
    std::string answer =
        Exchange(server_->port(),
                 std::string("POST /echo HTTP/1.1\r\nHost: x\r\n") + c.framing + "\r\n" + smuggled);
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 400")) << c.framing << answer;
    EXPECT_EQ(answer.find("smuggled"), std::string::npos) << c.framing << answer;
    EXPECT_EQ(answer.find("HTTP/1.1", 1), std::string::npos) << c.framing << answer;
  }
  // A single chunked coding, in any case, is read as a body.
  std::string ok = Exchange(server_->port(),
                            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:  Chunked \r\n"
                            "Connection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_TRUE(ok.starts_with("HTTP/1.1 200")) << ok;
  EXPECT_TRUE(ok.ends_with("abc")) << ok;
}

TEST_F(ServerTest, GracefulStopFinishesInFlightRequests) {
  std::atomic<int> status{0};
  std::thread t([&] {
    HttpClient c;
    ClientRequest req;
    req.url = base_ + "/slow";
    auto r = c.Send(req);
    status = r ? r->status : -1;
  });
  while (!slow_started_) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  server_->Stop();
  t.join();
  thread_.join();
  EXPECT_EQ(status, 200);
  // After the stop, new connections are refused.
  HttpClient c;
  ClientRequest req;
  req.url = base_ + "/hello";
  req.timeout = std::chrono::milliseconds(500);
  EXPECT_FALSE(c.Send(req));
  server_.reset();
}

// IPv6 listen addresses are written in brackets; "[::]" takes every address of both families.
TEST(ServerCreate, ListensOnIpv6Addresses) {
  auto router = std::make_shared<Router>();
  router->Add("GET", "/hello", [](const Request&) { return JsonResponse(200, "{}"); });
  for (const char* listen : {"[::1]:0", "[::]:0"}) {
    ServerOptions o;
    o.listen = listen;
    o.threads = 1;
    auto s = Server::Create(o, router);
    ASSERT_TRUE(s) << listen << ": " << s.error().ToString();
    std::thread t([&] { (*s)->Run(false); });
    HttpClient client;
    ClientRequest req;
    req.url = "http://[::1]:" + std::to_string((*s)->port()) + "/hello";
    auto r = client.Send(req);
    EXPECT_TRUE(r && r->status == 200) << listen;
    (*s)->Stop();
    t.join();
  }
}

// A source that answers only when closed: a stream with nothing to say.
class SilentSource : public StreamSource {
 public:
  void Next(Ready ready) override {
    std::lock_guard lock(mu_);
    if (closed_) return ready({}, false);
    waiting_ = std::move(ready);
  }
  void Close() override {
    Ready ready;
    {
      std::lock_guard lock(mu_);
      closed_ = true;
      ready = std::move(waiting_);
      waiting_ = nullptr;
    }
    if (ready) ready({}, false);
  }

 private:
  std::mutex mu_;
  bool closed_ = false;
  Ready waiting_;
};

// With a single I/O thread, a handler parked in a blocking call (a slow store, a peer) and 50
// open streams that say nothing leave other requests answered at once: blocking work runs on the
// pool and no thread waits for a stream.
TEST(ServerConcurrency, BlockingHandlersAndQuietStreamsLeaveTheIoThreadFree) {
  std::mutex mu;
  std::condition_variable cv;
  bool parked = false, release = false;
  auto router = std::make_shared<Router>();
  router->Add("GET", "/healthz", [](const Request&) { return JsonResponse(200, "{}"); });
  router->Add("GET", "/park", [&](const Request&) {
    std::unique_lock lock(mu);
    parked = true;
    cv.notify_all();
    cv.wait_for(lock, std::chrono::seconds(60), [&] { return release; });
    return JsonResponse(200, "{\"parked\":true}");
  });
  router->Add("GET", "/quiet", [](const Request&) {
    Response r;
    r.Set("Content-Type", "text/event-stream");
    r.stream = std::make_shared<SilentSource>();
    return r;
  });
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.threads = 1;
  auto s = Server::Create(options, router);
  ASSERT_TRUE(s) << s.error().ToString();
  auto server = std::move(*s);
  std::thread run([&] { server->Run(false); });
  const std::string base = "http://127.0.0.1:" + std::to_string(server->port());

  std::thread parker([&] {
    HttpClient c;
    ClientRequest req;
    req.url = base + "/park";
    req.timeout = std::chrono::seconds(90);
    auto r = c.Send(req);
    EXPECT_TRUE(r && r->status == 200);
  });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return parked; }));
  }
  std::vector<int> quiet;
  for (int i = 0; i < 50; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(server->port()));
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    timeval tv{10, 0};  // a read that would hang fails the test instead
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const char req[] = "GET /quiet HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_GT(write(fd, req, sizeof req - 1), 0);
    char buf[512];
    ASSERT_GT(read(fd, buf, sizeof buf), 0);  // the stream's headers
    quiet.push_back(fd);
  }
  // The parked handler is still parked, and will stay so until this request is answered.
  std::vector<double> millis;
  for (int i = 0; i < 10; ++i) {
    HttpClient c;
    ClientRequest req;
    req.url = base + "/healthz";
    req.timeout = std::chrono::seconds(10);
    auto started = std::chrono::steady_clock::now();
    auto r = c.Send(req);
    millis.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count());
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_EQ(r->status, 200);
  }
  std::sort(millis.begin(), millis.end());
  EXPECT_LT(millis[millis.size() / 2], 100.0) << "median /healthz in ms";
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  parker.join();
  // Stopping ends the quiet streams: each client sees its connection close.
  server->Stop();
  run.join();
  for (int fd : quiet) {
    char buf[512];
    ssize_t n;
    do {
      n = read(fd, buf, sizeof buf);
    } while (n > 0);
    EXPECT_EQ(n, 0);
    close(fd);
  }
}

TEST(ServerCreate, RejectsBadListenAddresses) {
  auto router = std::make_shared<Router>();
  for (const char* bad : {"nohost", "127.0.0.1:99999", "example.com:80", "127.0.0.1:x", "[::1]",
                          "[::1:80", "::1:80x"}) {
    ServerOptions o;
    o.listen = bad;
    auto s = Server::Create(o, router);
    EXPECT_FALSE(s) << bad;
  }
}

}  // namespace
}  // namespace aitelemetry::http
