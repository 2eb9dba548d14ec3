// The client side of the SSE fan-out benchmark (bench/sse_fanout.sh): opens STREAMS
// /api/events streams on api_search_server (a tenth of them as researchers, each granted one
// project; the rest as admins, 100 callers in all so no caller passes its quota), then
//   1. reports how long opening took and the server's resident memory and descriptors per stream;
//   2. commits one change into the server's SQLite file and times its arrival on every stream
//      whose grants cover it (and checks that no other stream gets it);
//   3. prints "ready", keeps reading the streams for HOLD seconds (the script runs wrk meanwhile),
//      and times a second change under that load.
// Usage: sse_fanout_client PORT SERVER_PID DB_PATH [STREAMS [HOLD_SECONDS]]
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "model/registry.h"
#include "store/store.h"

namespace {

using namespace aitelemetry;
using Clock = std::chrono::steady_clock;

struct Conn {
  int fd = -1;
  int grant = -1;     // index into the granted projects; -1: an admin stream
  std::string tail;   // the last bytes received (enough to find a marker across reads)
  bool open = false;  // "retry:" arrived
  bool got = false;   // the awaited key arrived
  Clock::time_point got_at{};
  bool closed = false;
};

long StatusField(int pid, const char* field) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
  }
  return -1;
}

long Descriptors(int pid) {
  long n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(fmt::format("/proc/{}/fd", pid), ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

// Reads whatever is ready on every connection; marks `open` and, for `key`, `got`.
void Pump(int ep, std::vector<Conn>& conns, const std::string& key, int timeout_ms) {
  epoll_event events[512];
  int n = epoll_wait(ep, events, 512, timeout_ms);
  char buf[16384];
  for (int i = 0; i < n; ++i) {
    Conn& c = conns[events[i].data.u32];
    for (;;) {
      ssize_t r = read(c.fd, buf, sizeof buf);
      if (r > 0) {
        c.tail.append(buf, static_cast<size_t>(r));
        if (!c.open && c.tail.find("retry: 2000") != std::string::npos) c.open = true;
        if (!key.empty() && !c.got && c.tail.find(key) != std::string::npos) {
          c.got = true;
          c.got_at = Clock::now();
        }
        if (c.tail.size() > 4096) c.tail.erase(0, c.tail.size() - 512);
        continue;
      }
      if (r == 0) {
        c.closed = true;
        epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
      }
      break;
    }
  }
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// Commits a change on `place` and waits (up to 10 s) for every stream that may see it.
void TimeOneChange(store::Store& store, int ep, std::vector<Conn>& conns,
                   const std::vector<std::tuple<std::string, std::string, std::string>>& places,
                   int round) {
  const auto& [hub, cluster, project] = places[0];
  std::string key = fmt::format("bench-change-{}-{}", round, ::getpid());
  for (auto& c : conns) c.got = false;
  store::Change change;
  change.model = "gpu";
  change.key = key;
  change.op = "state";
  change.hub = hub;
  change.cluster = cluster;
  change.project = project;
  change.at = Now();
  auto committed = Clock::now();
  if (auto st = store.AppendChanges({change}); !st) {
    std::fprintf(stderr, "append: %s\n", st.error().ToString().c_str());
    std::exit(1);
  }
  size_t expected = 0;
  for (const auto& c : conns) expected += (c.grant == -1 || c.grant == 0) && !c.closed;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  auto count = [&] {
    size_t got = 0;
    for (const auto& c : conns) got += c.got && (c.grant == -1 || c.grant == 0);
    return got;
  };
  while (count() < expected && Clock::now() < deadline) Pump(ep, conns, "\"" + key + "\"", 50);
  // Give streams that must not see it the same time again to show they do not.
  auto quiet_until = Clock::now() + std::chrono::milliseconds(500);
  while (Clock::now() < quiet_until) Pump(ep, conns, "\"" + key + "\"", 50);
  std::vector<double> ms;
  size_t leaked = 0;
  for (const auto& c : conns) {
    bool may = c.grant == -1 || c.grant == 0;
    if (c.got && may) {
      ms.push_back(std::chrono::duration<double, std::milli>(c.got_at - committed).count());
    }
    if (c.got && !may) ++leaked;
  }
  std::printf(
      "change %d: reached %zu of %zu streams that may see it; latency p50 %.0f ms, p99 %.0f ms, "
      "max %.0f ms; streams that must not see it and did: %zu\n",
      round, ms.size(), expected, Percentile(ms, 0.5), Percentile(ms, 0.99),
      ms.empty() ? 0.0 : *std::max_element(ms.begin(), ms.end()), leaked);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s PORT SERVER_PID DB_PATH [STREAMS [HOLD_SECONDS]]\n", argv[0]);
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const int pid = std::atoi(argv[2]);
  const int streams = argc > 4 ? std::atoi(argv[4]) : 10000;
  const int hold = argc > 5 ? std::atoi(argv[5]) : 30;
  auto store = store::Store::Open({std::string("sqlite:") + argv[3], 2, false});
  if (!store) {
    std::fprintf(stderr, "store: %s\n", store.error().ToString().c_str());
    return 1;
  }
  // Projects that hold GPUs: the places granted to the researcher streams.
  store::QuerySpec spec;
  spec.rows = 0;
  spec.facets = {"project"};
  spec.facet_limit = 100;
  auto facets = (*store)->Query(*model::FindModel("gpu"), spec, store::Scope::All());
  std::vector<std::tuple<std::string, std::string, std::string>> places;
  if (facets) {
    for (const auto& f : facets->facets["project"]) {
      if (f.value.empty()) continue;
      store::QuerySpec one;
      one.rows = 1;
      one.filters.push_back(store::Filter::Eq("project", f.value));
      auto row = (*store)->Query(*model::FindModel("gpu"), one, store::Scope::All());
      if (!row || row->rows.empty()) continue;
      places.emplace_back(row->rows[0].GetString("hub"), row->rows[0].GetString("cluster"),
                          f.value);
    }
  }
  if (places.empty()) {
    std::fprintf(stderr, "no project holds a GPU in %s\n", argv[3]);
    return 1;
  }
  const long rss0 = StatusField(pid, "VmRSS:");
  const long fds0 = Descriptors(pid);
  int ep = epoll_create1(0);
  std::vector<Conn> conns(static_cast<size_t>(streams));
  auto started = Clock::now();
  for (int i = 0; i < streams; ++i) {
    Conn& c = conns[static_cast<size_t>(i)];
    c.fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      std::fprintf(stderr, "connect #%d: %s\n", i, std::strerror(errno));
      return 1;
    }
    std::string headers = fmt::format("X-Bench-Caller: caller-{}\r\n", i % 100);
    if (i % 10 == 0) {
      c.grant = static_cast<int>((i / 10) % places.size());
      const auto& [h, cl, p] = places[static_cast<size_t>(c.grant)];
      headers += fmt::format("X-Bench-Grant: {}/{}/{}\r\n", h, cl, p);
    }
    std::string req = "GET /api/events HTTP/1.1\r\nHost: bench\r\n" + headers + "\r\n";
    if (write(c.fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) return 1;
    fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    if (i % 500 == 499) Pump(ep, conns, "", 0);
  }
  auto all_open = [&] {
    return std::all_of(conns.begin(), conns.end(), [](const Conn& c) { return c.open; });
  };
  auto deadline = Clock::now() + std::chrono::seconds(120);
  while (!all_open() && Clock::now() < deadline) Pump(ep, conns, "", 100);
  size_t opened = 0, refused = 0;
  for (const auto& c : conns) {
    opened += c.open;
    refused += c.closed && !c.open;
  }
  const double open_s = std::chrono::duration<double>(Clock::now() - started).count();
  const long rss1 = StatusField(pid, "VmRSS:");
  const long fds1 = Descriptors(pid);
  std::printf("opened %zu of %d streams in %.1f s (%zu refused); %zu granted projects\n", opened,
              streams, open_s, refused, places.size());
  std::printf("server resident %ld -> %ld KiB: %.1f KB per open stream; descriptors %ld -> %ld\n",
              rss0, rss1,
              opened
                  ? static_cast<double>(rss1 - rss0) * 1024.0 / 1000.0 / static_cast<double>(opened)
                  : 0.0,
              fds0, fds1);
  std::fflush(stdout);
  TimeOneChange(**store, ep, conns, places, 1);
  std::printf("ready\n");
  std::fflush(stdout);
  auto hold_until = Clock::now() + std::chrono::seconds(hold);
  auto second_at = Clock::now() + std::chrono::seconds(hold / 2);
  bool second = false;
  while (Clock::now() < hold_until) {
    Pump(ep, conns, "", 100);
    if (!second && Clock::now() >= second_at) {
      TimeOneChange(**store, ep, conns, places, 2);
      second = true;
    }
  }
  size_t closed = 0;
  for (const auto& c : conns) closed += c.closed;
  std::printf(
      "after %d s: %zu streams closed by the server; server resident %ld KiB, "
      "descriptors %ld\n",
      hold, closed, StatusField(pid, "VmRSS:"), Descriptors(pid));
  for (auto& c : conns) close(c.fd);
  return 0;
}
