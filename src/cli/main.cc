// aitelemetry: one binary, several roles. Exit codes: 0 ok, 1 runtime failure, 2 usage or
// configuration error.
#include <cstdio>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/app.h"
#include "cli/simulate.h"
#include "cli/sync.h"
#include "config/config.h"
#include "core/log.h"
#include "store/store.h"

#ifndef AITELEMETRY_VERSION
#define AITELEMETRY_VERSION "0.0.0"
#endif

namespace {

using aitelemetry::config::Config;

// Flags every role shares; each maps to a config path and overrides file and environment.
struct CommonFlags {
  std::string config_file;
  std::string db;
  std::string listen;
  std::string log_format;
  std::string log_level;
  int threads = -1;

  void AddTo(CLI::App* cmd, bool with_listen) {
    cmd->add_option("--config,-c", config_file, "YAML configuration file")
        ->envname("AITELEMETRY_CONFIG");
    cmd->add_option("--db", db, "Database URL: sqlite:PATH or postgresql://...");
    if (with_listen) cmd->add_option("--listen", listen, "HOST:PORT to serve on");
    cmd->add_option("--log-format", log_format, "text or json (one JSON object per line)");
    cmd->add_option("--log-level", log_level, "trace, debug, info, warn or error");
    cmd->add_option("--threads", threads, "I/O threads (default: the core count)");
  }

  // Loads the effective config; prints the problems and returns nothing on failure.
  std::optional<Config> Load() const {
    aitelemetry::config::Sources src;
    src.file = config_file;
    src.env = aitelemetry::config::ProcessEnvironment();
    if (!db.empty()) src.flags.emplace_back("db", db);
    if (!listen.empty()) src.flags.emplace_back("listen", listen);
    if (!log_format.empty()) src.flags.emplace_back("log_format", log_format);
    if (!log_level.empty()) src.flags.emplace_back("log_level", log_level);
    if (threads >= 0) src.flags.emplace_back("threads", std::to_string(threads));
    auto c = aitelemetry::config::Load(src);
    if (!c) {
      fmt::print(stderr, "{}\n", c.error().message);
      return std::nullopt;
    }
    if (auto st = aitelemetry::InitLogging(c->log_format, c->log_level); !st) {
      fmt::print(stderr, "{}\n", st.error().message);
      return std::nullopt;
    }
    return std::move(*c);
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "AI Telemetry: how a research cloud's GPUs are really used.\n"
      "Collects NVIDIA DCGM and kube-state-metrics data, turns Alertmanager GPU-usage alerts into\n"
      "OpenTelemetry spans, and serves a REST/NGSI-LD API and dashboards.",
      "aitelemetry"};
  app.require_subcommand(1);
  app.set_version_flag("--version", AITELEMETRY_VERSION);

  CommonFlags all_flags, serve_flags, worker_flags, migrate_flags, check_flags, sync_flags;

  auto* all =
      app.add_subcommand("all", "Run everything in one process (the default deployment, SQLite)");
  all_flags.AddTo(all, true);
  auto* serve = app.add_subcommand("serve", "Serve the site and API (many replicas on PostgreSQL)");
  serve_flags.AddTo(serve, true);
  auto* worker = app.add_subcommand(
      "worker", "Run the collector, the Alertmanager receiver and the span exporter");
  worker_flags.AddTo(worker, true);

  aitelemetry::cli::SimulateOptions sim;
  auto* simulate = app.add_subcommand(
      "simulate", "Serve dcgm-exporter and kube-state-metrics series of a synthetic fleet");
  simulate->add_option("--seed", sim.seed, "Random seed (the fleet is deterministic from it)");
  simulate->add_option("--gpus", sim.gpus, "GPUs, rounded up to whole nodes")
      ->check(CLI::PositiveNumber);
  simulate->add_option("--mig-fraction", sim.mig_fraction, "Share of A100/H100 GPUs with MIG")
      ->check(CLI::Range(0.0, 1.0));
  simulate->add_option("--hubs", sim.hubs, "Hubs, each served at /metrics?hub=NAME")
      ->check(CLI::Range(1, 64));
  simulate->add_option("--listen", sim.listen, "HOST:PORT to serve on");
  simulate->add_option("--truth", sim.truth_file, "Write the ground truth JSON to this file");
  simulate->add_option("--history", sim.history,
                       "Write this much past history (e.g. 7d) instead of serving");
  simulate->add_option("--out", sim.out, "OpenMetrics file for --history");
  simulate->add_option("--step", sim.step, "Sample step of --history (default 60s)");
  simulate->add_option("--slot", sim.slot, "How often workloads may change (default 10m)");
  simulate->add_option("--end", sim.end,
                       "End of the --history window (RFC 3339; default the simulated now)");
  simulate->add_option("--at", sim.at,
                       "Start the simulated clock at this instant (RFC 3339); it then runs with "
                       "real time");
  simulate->add_option("--clock-offset", sim.clock_offset,
                       "Run the simulated clock this far from real time (e.g. --clock-offset=-3h)");

  bool once = false;
  aitelemetry::cli::SyncCommand sync_command;
  auto* sync = app.add_subcommand("sync",
                                  "Run one collection cycle for every hub (--once) or rebuild "
                                  "usage history (--backfill FROM..TO)");
  sync_flags.AddTo(sync, false);
  sync->add_flag("--once", once, "Run one cycle and exit (the default without --backfill)");
  sync->add_option("--backfill", sync_command.backfill,
                   "Rebuild the usage hours FROM..TO (RFC 3339) from range queries");
  sync->add_option("--step", sync_command.step,
                   "Read --backfill at this step instead of the hub's own sample spacing");

  auto* migrate = app.add_subcommand("migrate", "Apply database migrations and exit");
  migrate_flags.AddTo(migrate, false);
  auto* check =
      app.add_subcommand("check-config", "Validate the configuration and print it, secrets masked");
  check_flags.AddTo(check, true);
  auto* version = app.add_subcommand("version", "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }

  using aitelemetry::cli::Role;
  if (version->parsed()) {
    fmt::print("aitelemetry {}\n", AITELEMETRY_VERSION);
    return 0;
  }
  if (check->parsed()) {
    auto c = check_flags.Load();
    if (!c) return 2;
    fmt::print("{}", aitelemetry::config::ToYaml(*c));
    return 0;
  }
  if (migrate->parsed()) {
    auto c = migrate_flags.Load();
    if (!c) return 2;
    auto store = aitelemetry::store::Store::Open({c->db, 1, true});
    if (!store) {
      fmt::print(stderr, "migrate: {}\n", store.error().message);
      return 1;
    }
    auto v = (*store)->SchemaVersion();
    fmt::print("database {} is at schema version {}\n", aitelemetry::store::RedactUrl(c->db),
               v ? *v : -1);
    return 0;
  }
  if (simulate->parsed()) {
    if (auto st = aitelemetry::InitLogging("text", "info"); !st) return 1;
    return aitelemetry::cli::RunSimulate(sim);
  }
  if (sync->parsed()) {
    if (once && !sync_command.backfill.empty()) {
      fmt::print(stderr, "sync: --once and --backfill exclude each other\n");
      return 2;
    }
    auto c = sync_flags.Load();
    if (!c) return 2;
    return aitelemetry::cli::RunSync(*c, sync_command);
  }
  for (auto [cmd, flags, role] :
       {std::tuple{all, &all_flags, Role::kAll}, std::tuple{serve, &serve_flags, Role::kServe},
        std::tuple{worker, &worker_flags, Role::kWorker}}) {
    if (!cmd->parsed()) continue;
    auto c = flags->Load();
    if (!c) return 2;
    return aitelemetry::cli::RunRole(role, *c);
  }
  return 2;
}
