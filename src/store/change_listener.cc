#include "store/change_listener.h"

#include <libpq-fe.h>
#include <poll.h>

#include <spdlog/spdlog.h>

#include "store/change_feed.h"
#include "store/sql.h"

namespace aitelemetry::store {

std::unique_ptr<ChangeListener> ChangeListener::Start(const std::string& url) {
  if (!url.starts_with("postgresql://") && !url.starts_with("postgres://")) return nullptr;
  std::unique_ptr<ChangeListener> l(new ChangeListener(url));
  l->thread_ = std::thread([p = l.get()] { p->Loop(); });
  return l;
}

ChangeListener::~ChangeListener() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

uint64_t ChangeListener::WaitForChange(uint64_t seen, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return generation_.load() != seen || stop_.load(); });
  return generation_.load();
}

void ChangeListener::Bump() {
  {
    std::lock_guard lock(mu_);
    ++generation_;
  }
  cv_.notify_all();
}

void ChangeListener::Loop() {
  PGconn* conn = nullptr;
  bool warned = false;
  auto pause = [this] {
    for (int i = 0; i < 10 && !stop_; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  };
  while (!stop_) {
    if (conn == nullptr) {
      conn = PQconnectdb(url_.c_str());
      PGresult* r = PQstatus(conn) == CONNECTION_OK
                        ? PQexec(conn, (std::string("LISTEN ") + kChangeChannel).c_str())
                        : nullptr;
      bool ok = r != nullptr && PQresultStatus(r) == PGRES_COMMAND_OK;
      if (r != nullptr) PQclear(r);
      if (!ok) {
        if (!warned) {
          spdlog::warn("change listener: cannot listen on {}: {}", RedactUrl(url_),
                       PQerrorMessage(conn));
          warned = true;
        }
        PQfinish(conn);
        conn = nullptr;
        pause();
        continue;
      }
      if (warned) spdlog::info("change listener: listening again");
      warned = false;
      Bump();  // whatever was notified while disconnected is now in the feed
    }
    pollfd pfd{PQsocket(conn), POLLIN, 0};
    int rc = ::poll(&pfd, 1, 200);
    if (rc <= 0) continue;
    if (PQconsumeInput(conn) == 0) {
      spdlog::warn("change listener: connection lost: {}", PQerrorMessage(conn));
      warned = true;
      PQfinish(conn);
      conn = nullptr;
      pause();
      continue;
    }
    bool any = false;
    while (PGnotify* n = PQnotifies(conn)) {
      any = true;
      PQfreemem(n);
    }
    if (any) Bump();
  }
  if (conn != nullptr) PQfinish(conn);
}

}  // namespace aitelemetry::store
