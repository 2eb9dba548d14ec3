#include "cli/simulate.h"

#include <filesystem>
#include <fstream>
#include <memory>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/periodic.h"
#include "http/server.h"
#include "sim/clock.h"
#include "sim/exposition.h"
#include "sim/fleet.h"
#include "sim/history.h"
#include "sim/truth.h"

namespace aitelemetry::cli {
namespace {

// Writes `text` to `path` whole: through a temporary file renamed over it, so a reader never
// sees half a file; a path that exists and is not a regular file (/dev/null, /dev/stdout, a FIFO)
// is written directly, never replaced.
Status WriteFile(const std::string& path, const std::string& text) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!ec && std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out) return Fail(ErrorCode::kUnavailable, fmt::format("cannot write {}", path));
    return Ok();
  }
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) return Fail(ErrorCode::kUnavailable, fmt::format("cannot write {}", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Fail(ErrorCode::kUnavailable, fmt::format("cannot replace {}", path));
  }
  return Ok();
}

}  // namespace

int RunSimulate(const SimulateOptions& o) {
  auto slot = ParseDuration(o.slot);
  if (!slot || slot->count() <= 0) {
    fmt::print(stderr, "simulate: --slot: {}\n", slot ? "must be positive" : slot.error().message);
    return 2;
  }
  sim::FleetOptions fo;
  fo.seed = o.seed;
  fo.gpus = o.gpus;
  fo.mig_fraction = o.mig_fraction;
  fo.hubs = o.hubs;
  fo.slot = *slot;
  auto fleet_or = sim::BuildFleet(fo);
  if (!fleet_or) {
    fmt::print(stderr, "simulate: {}\n", fleet_or.error().message);
    return 2;
  }
  auto fleet = std::make_shared<const sim::Fleet>(std::move(*fleet_or));
  auto clock_or = sim::SimClock::FromFlags(o.at, o.clock_offset, Now());
  if (!clock_or) {
    fmt::print(stderr, "simulate: {}\n", clock_or.error().message);
    return 2;
  }
  const sim::SimClock clock = *clock_or;

  if (!o.history.empty()) {
    auto span = ParseDuration(o.history);
    auto step = ParseDuration(o.step);
    if (!span || span->count() <= 0) {
      fmt::print(stderr, "simulate: --history: {}\n",
                 span ? "must be positive" : span.error().message);
      return 2;
    }
    if (!step || step->count() <= 0) {
      fmt::print(stderr, "simulate: --step: {}\n",
                 step ? "must be positive" : step.error().message);
      return 2;
    }
    if (o.out.empty() || o.truth_file.empty()) {
      fmt::print(stderr, "simulate: --history needs --out FILE and --truth FILE\n");
      return 2;
    }
    Timestamp to;
    if (!o.end.empty()) {
      auto t = ParseRfc3339(o.end);
      if (!t) {
        fmt::print(stderr, "simulate: --end: {}\n", t.error().message);
        return 2;
      }
      to = *t;
    } else {
      to = Timestamp{clock.Now().time_since_epoch() / *slot * *slot};
    }
    Timestamp from = to - *span;
    std::ofstream out(o.out, std::ios::binary | std::ios::trunc);
    if (!out) {
      fmt::print(stderr, "simulate: --out: cannot write {}\n", o.out);
      return 1;
    }
    spdlog::info("writing {} of history for {} GPUs to {}", o.history, fleet->gpus.size(), o.out);
    if (auto st = sim::WriteHistory(*fleet, from, to, *step, out); !st) {
      fmt::print(stderr, "simulate: {}\n", st.error().message);
      return st.error().code == ErrorCode::kInvalidArgument ? 2 : 1;
    }
    out.close();
    if (!out) {
      fmt::print(stderr, "simulate: --out: write to {} failed\n", o.out);
      return 1;
    }
    if (auto st = WriteFile(o.truth_file, sim::RenderTruthJson(*fleet, from, to, true)); !st) {
      fmt::print(stderr, "simulate: --truth: {}\n", st.error().message);
      return 1;
    }
    fmt::print("history {} .. {} written to {}; truth in {}\n", FormatRfc3339(from),
               FormatRfc3339(to), o.out, o.truth_file);
    return 0;
  }

  Timestamp started = clock.Now();
  auto router = std::make_shared<http::Router>();
  router->Add("GET", "/metrics", [fleet, clock](const http::Request& req) {
    std::string hub = req.Query("hub").value_or(fleet->hubs.front().name);
    auto index = sim::FindHub(*fleet, hub);
    if (!index) return http::Problem(404, fmt::format("no hub \"{}\" in the simulated fleet", hub));
    http::Response r;
    r.body.reserve(1 << 20);
    sim::AppendExposition(*fleet, *index, clock.Now(), &r.body);
    r.Set("Content-Type", std::string(sim::kExpositionContentType));
    return r;
  });
  router->Add("GET", "/truth", [fleet, started, clock](const http::Request&) {
    return http::JsonResponse(200, sim::RenderTruthJson(*fleet, started, clock.Now(), false));
  });
  router->Add("GET", "/healthz",
              [](const http::Request&) { return http::JsonResponse(200, R"({"status":"ok"})"); });
  http::ServerOptions so;
  so.listen = o.listen;
  so.threads = 1;
  auto server = http::Server::Create(so, router);
  if (!server) {
    fmt::print(stderr, "simulate: {}\n", server.error().message);
    return server.error().code == ErrorCode::kInvalidArgument ? 2 : 1;
  }
  std::unique_ptr<Periodic> truth_writer;
  if (!o.truth_file.empty()) {
    truth_writer =
        std::make_unique<Periodic>("truth", std::chrono::seconds(5), [&o, fleet, started, clock] {
          auto st =
              WriteFile(o.truth_file, sim::RenderTruthJson(*fleet, started, clock.Now(), false));
          if (!st) spdlog::warn("truth: {}", st.error().message);
        });
    (*server)->OnShutdown([&truth_writer] { truth_writer->Stop(); });
  }
  auto colon = o.listen.rfind(':');
  std::string hubs;
  for (const auto& h : fleet->hubs) hubs += (hubs.empty() ? "" : ",") + h.name;
  fmt::print("simulating {} GPUs ({} hubs: {}) at http://{}:{}/metrics from {}\n",
             fleet->gpus.size(), fleet->hubs.size(), hubs, o.listen.substr(0, colon),
             (*server)->port(), FormatRfc3339(started));
  std::fflush(stdout);
  (*server)->Run(true);
  if (truth_writer) {
    truth_writer->Stop();
    (void)WriteFile(o.truth_file, sim::RenderTruthJson(*fleet, started, clock.Now(), false));
  }
  return 0;
}

}  // namespace aitelemetry::cli
