// Test harness for the REST API: a fresh store (SQLite or PostgreSQL), the real HTTP server on a
// loopback port with the REST routes, and a middleware that sets the caller from a test header.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/caller.h"
#include "api/rest.h"
#include "http/client.h"
#include "http/server.h"
#include "store/store.h"
#include "testing/database.h"

namespace aitelemetry::api::testing {

// Creates a fresh database for one test and returns its URL ("" when PostgreSQL is not running).
inline std::string FreshDatabase(const std::string& backend) {
  return aitelemetry::test_support::FreshDatabase(backend, "api");
}

// Opens a store on a fresh database of `backend` ("sqlite" or "postgres") into `*url`/`*store`;
// fails the test when there is none.
inline void OpenFreshStore(const std::string& backend, std::string* url,
                           std::unique_ptr<store::Store>* store) {
  *url = FreshDatabase(backend);
  ASSERT_FALSE(url->empty()) << "no database for " << backend
                             << " (PostgreSQL is started by the ctest fixture tests/pg.sh)";
  auto s = store::Store::Open({*url, 4, true});
  ASSERT_TRUE(s) << s.error().ToString();
  *store = std::move(*s);
}

// The callers a test can pick with the X-Test-Caller header.
inline std::map<std::string, Caller> TestCallers() {
  std::map<std::string, Caller> out;
  Caller admin;
  admin.authenticated = true;
  admin.admin = true;
  admin.scope = store::Scope::All();
  out["admin"] = admin;
  Caller researcher;  // reads one project: moc / c1 / proj-a
  researcher.authenticated = true;
  researcher.scope.grants = {{"moc", "c1", "proj-a"}};
  out["researcher"] = researcher;
  Caller manager = researcher;  // may also patch proj-a's rows
  manager.patch_resources = {model::ProjectKey("moc", "c1", "proj-a")};
  out["manager"] = manager;
  Caller browser = admin;  // an admin signed in through the browser
  browser.browser_session = true;
  browser.csrf_token = "csrf-0123456789";
  out["browser"] = browser;
  Caller expired = researcher;  // credentials that ended an hour ago
  expired.subject = "expired-user";
  expired.expires_at = Now() - std::chrono::hours(1);
  out["expired"] = expired;
  Caller stranger;  // authenticated, with a grant on a hub that holds nothing
  stranger.authenticated = true;
  stranger.scope.grants = {{"nowhere", "", ""}};
  out["stranger"] = stranger;
  out["nobody"] = Caller{};
  return out;
}

class RestServer {
 public:
  // Starts the server over `store`, caching answers in `cache` when it is not null. Requires:
  // `store` and `cache` outlive this object.
  explicit RestServer(store::Store& store, EventHubOptions events = {},
                      ResponseCache* cache = nullptr, int io_threads = 2) {
    hub_ = std::make_unique<EventHub>(store, events);
    auto router = std::make_shared<http::Router>();
    auto callers = std::make_shared<std::map<std::string, Caller>>(TestCallers());
    router->Use(
        [callers](http::Request& r, const std::function<http::Response(http::Request&)>& next) {
          auto it = callers->find(r.Header("x-test-caller"));
          if (it != callers->end()) r.principal = it->second;
          return next(r);
        });
    RestDeps deps;
    deps.store = &store;
    deps.events = hub_.get();
    deps.cache = cache;
    AddRestRoutes(*router, deps);
    http::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = io_threads;
    auto s = http::Server::Create(options, router);
    if (!s) {
      ADD_FAILURE() << s.error().ToString();
      return;
    }
    server_ = std::move(*s);
    thread_ = std::thread([this] { server_->Run(false); });
  }
  ~RestServer() {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return server_ ? server_->port() : 0; }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port()); }
  EventHub& hub() { return *hub_; }

 private:
  std::unique_ptr<EventHub> hub_;
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
};

// Sends a raw request line and headers over a socket and returns what arrives until `done`
// says so or `timeout` passes (for streams and for targets a client library would refuse).
inline std::string RawExchange(int port, const std::string& request,
                               const std::function<bool(const std::string&)>& done,
                               std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return {};
  }
  timeval tv{0, 100000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[8192];
  while (std::chrono::steady_clock::now() < deadline && !done(got)) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      got.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      break;
    }
  }
  close(fd);
  return got;
}

// One client of a live stream over a raw socket: sends `request` at construction and keeps what
// arrives, so a test can wait for the stream to open before it writes.
class SseClient {
 public:
  SseClient(int port, const std::string& request) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ADD_FAILURE() << "cannot connect to port " << port;
      return;
    }
    timeval tv{0, 50000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      ADD_FAILURE() << "cannot send the request";
    }
  }
  ~SseClient() { Close(); }
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  // Reads until `text` has arrived (in all received so far) or `timeout` passes; returns whether
  // it arrived.
  bool ReadUntil(std::string_view text,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[8192];
    while (got_.find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() >= deadline || fd_ < 0 || eof_) return false;
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        got_.append(buf, static_cast<size_t>(n));
      } else if (n == 0) {
        eof_ = true;
      }
    }
    return true;
  }
  // Reads until the server closes the connection or `timeout` passes; returns whether it closed.
  bool ReadToEnd(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    ReadUntil("\x01never\x02", timeout);
    return eof_;
  }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  const std::string& received() const { return got_; }

 private:
  int fd_ = -1;
  bool eof_ = false;
  std::string got_;
};

// The request line and headers of GET /api/events`query` for the test caller `caller`.
inline std::string EventsRequest(const std::string& query, const std::string& caller,
                                 const std::string& extra_headers = "") {
  return "GET /api/events" + query + " HTTP/1.1\r\nHost: t\r\nX-Test-Caller: " + caller + "\r\n" +
         extra_headers + "\r\n";
}

// The scope triple of generic row i: (hub, cluster, project or "" for none).
struct Place {
  const char* hub;
  const char* cluster;
  const char* project;
};
inline Place PlaceOf(int i) {
  static const Place kPlaces[] = {{"moc", "c1", "proj-a"}, {"moc", "c1", "proj-b"},
                                  {"moc", "c2", "proj-a"}, {"other", "c9", "proj-z"},
                                  {"moc", "c1", ""},       {"moc", "c1", "proj-a"}};
  return kPlaces[i % 6];
}

inline constexpr int64_t kBaseNanos = 1767225600LL * 1000000000;  // 2026-01-01T00:00:00Z

// Builds `n` rows of any model from the registry alone: scope columns from PlaceOf, strings in
// four variants (one a formula, one with a quote, comma and space), numbers with negatives, nulls
// in optional fields every seventh row. Relations point at "{model}-{i % 4:03}", the keys of
// other generic rows.
inline std::vector<model::Record> GenericRows(const model::Model& m, int n, int first = 0) {
  std::vector<model::Record> out;
  out.reserve(static_cast<size_t>(n));
  for (int i = first; i < first + n; ++i) {
    model::Record r(m);
    Place p = PlaceOf(i);
    for (size_t k = 0; k < m.fields.size(); ++k) {
      const model::Field& f = m.fields[k];
      bool optional_null = !f.Has(model::kRequired) && i % 7 == 6;
      model::Value v;
      if (k == 0) {
        v = fmt::format("{}-{:05}", m.name, i);
      } else if (f.name == m.scope.hub) {
        v = std::string(p.hub);
      } else if (!m.scope.cluster.empty() && f.name == m.scope.cluster) {
        v = std::string(p.cluster);
      } else if (!m.scope.project.empty() && f.name == m.scope.project) {
        if (*p.project) {
          v = std::string(p.project);
        } else if (f.Has(model::kRequired)) {
          v = std::string("proj-c");  // a project's own namespace is never null
        }
      } else if (!f.relation.empty()) {
        v = fmt::format("{}-{:05}", f.relation, i % 4);
      } else if (optional_null || f.Has(model::kEditable)) {
        // null; editable fields are written only by PATCH, never by an upsert
        // null
      } else {
        switch (f.type) {
          case model::FieldType::kString: {
            static const char* kVariants[] = {"{}-0", "{}-1", "={}+2", "{} \"3\", x"};
            v = fmt::format(fmt::runtime(kVariants[i % 4]), f.name);
            break;
          }
          case model::FieldType::kInt:
            v = int64_t{(i * 7) % 11 - 3};
            break;
          case model::FieldType::kReal:
            v = i * 1.25 - 5;
            break;
          case model::FieldType::kBool:
            v = i % 2 == 0;
            break;
          case model::FieldType::kTime:
            v = kBaseNanos + int64_t{i} * 3600 * 1000000000;
            break;
        }
      }
      r.values[k] = std::move(v);
    }
    out.push_back(std::move(r));
  }
  return out;
}

// Whether the researcher (grant moc / c1 / proj-a) may see `r`; `visible_gpus_node_keys` are the
// node keys of the GPUs it sees (nodes are visible through them).
inline bool ResearcherSees(const model::Record& r, const std::set<std::string>& visible_node_keys) {
  const model::Model& m = *r.model;
  std::string hub = r.GetString(m.scope.hub);
  if (m.scope.ancestor) {
    if (m.scope.cluster.empty()) return hub == "moc";
    return hub == "moc" && r.GetString(m.scope.cluster) == "c1";
  }
  if (!m.scope.project.empty()) {
    return hub == "moc" && r.GetString(m.scope.cluster) == "c1" &&
           r.GetString(m.scope.project) == "proj-a";
  }
  if (!m.scope.via_model.empty()) return visible_node_keys.count(r.Key()) > 0;
  return false;
}

// An HTTP GET with the caller header; fails the test when the request cannot be made.
inline http::ClientResponse Get(http::HttpClient& client, const std::string& url,
                                const std::string& caller,
                                std::vector<std::pair<std::string, std::string>> headers = {}) {
  http::ClientRequest req;
  req.url = url;
  req.headers = std::move(headers);
  req.headers.emplace_back("X-Test-Caller", caller);
  auto r = client.Send(req);
  if (!r) {
    ADD_FAILURE() << url << ": " << r.error().ToString();
    return {};
  }
  return *r;
}

inline nlohmann::json JsonOf(const http::ClientResponse& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.body.substr(0, 200);
  return j;
}

// Stores `n` GenericRows of every model the API serves (the internal ones left out) and returns
// them by model name in `*rows` (may be null); fails the test on a store error.
inline void FillGenericRows(store::Store& store, int n,
                            std::map<std::string, std::vector<model::Record>>* rows = nullptr) {
  for (const auto& m : model::Models()) {
    if (m.internal) continue;
    auto generic = GenericRows(m, n);
    auto st = store.Upsert(m, generic);
    ASSERT_TRUE(st) << m.name << ": " << st.error().ToString();
    if (rows) (*rows)[m.name] = std::move(generic);
  }
}

}  // namespace aitelemetry::api::testing
