#include "cli/app.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/alerts_auth.h"
#include "api/auth_web.h"
#include "api/caller.h"
#include "api/docs.h"
#include "api/event_hub.h"
#include "api/ngsi_routes.h"
#include "api/prom_routes.h"
#include "api/rest.h"
#include "cli/periodic.h"
#include "collect/hub_config.h"
#include "collect/sync_metrics.h"
#include "core/time.h"
#include "http/server.h"
#include "metrics/metrics.h"
#include "model/registry.h"
#include "store/change_listener.h"
#include "store/leader.h"
#include "store/store.h"
#include "trace/alert_service.h"
#include "trace/otlp_exporter.h"
#include "trace/outbox.h"
#include "web/web_routes.h"

#ifndef AITELEMETRY_VERSION
#define AITELEMETRY_VERSION "0.0.0"
#endif

namespace aitelemetry::cli {
namespace {

// Returns the contents of `path` without trailing whitespace; "" when it cannot be read.
std::string ReadTrimmed(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// Shared state of a running process.
struct Services {
  const config::Config& config;
  std::unique_ptr<store::Store> store;
  metrics::Registry metrics;
  std::unique_ptr<trace::AlertService> alerts;
  std::unique_ptr<api::AlertsAuthStack> alerts_auth;  // who may POST /api/alerts
  std::unique_ptr<trace::OtlpExporter> exporter;
  std::unique_ptr<trace::OutboxDrainer> drainer;
  std::unique_ptr<collect::SyncMetrics> sync_metrics;
  std::vector<std::unique_ptr<collect::HubSyncer>> syncers;
  std::unique_ptr<store::ChangeListener> listener;  // wakes live views; null on SQLite
  std::unique_ptr<api::EventHub> events;            // the one change-feed reader for streams
  std::unique_ptr<store::LeaderElection> election;  // the worker lock; null when serving only
  std::unique_ptr<api::ResponseCache> cache;        // read answers; null when api.cache_bytes: 0
  std::atomic<bool> leading{false};                 // set by the "leader" task only
  std::vector<Periodic*> leader_tasks;              // run only while leading; poked on takeover
  std::vector<std::unique_ptr<Periodic>> tasks;     // stopped before the members above go away
};

// Requires: `metrics_token` is the token of metrics.bearer_token_file, or "" (loopback only).
void AddHealthRoutes(http::Router& router, Services& s, std::string metrics_token) {
  router.Add("GET", "/healthz",
             [](const http::Request&) { return http::JsonResponse(200, R"({"status":"ok"})"); });
  router.Add("GET", "/readyz", [&s](const http::Request&) {
    auto st = s.store->Ping();
    if (!st) return http::Problem(503, "store not ready: " + st.error().message);
    return http::JsonResponse(200, R"({"status":"ready"})");
  });
  // Fleet-wide counts and hub names: for a scraper with the token, or this machine only.
  router.Add("GET", "/metrics", [&s, token = std::move(metrics_token)](const http::Request& req) {
    if (auto refusal = api::RefuseMetricsCaller(req, token)) return std::move(*refusal);
    http::Response r;
    r.body = s.metrics.Render();
    r.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    return r;
  });
}

Status AddTraceWorker(http::Router& router, Services& s) {
  const auto& c = s.config;
  trace::AlertOptions options;
  options.session_alerts = c.alerts.session_alerts;
  options.default_hub = c.hubs.empty() ? "default" : c.hubs[0].name;
  options.default_cluster = c.hubs.empty() ? options.default_hub : c.hubs[0].default_cluster;
  options.resource.service_version = AITELEMETRY_VERSION;
  if (auto st = trace::ValidateAlertOptions(options); !st) return st;
  s.alerts = std::make_unique<trace::AlertService>(*s.store, options);
  if (!c.alerts.enabled) {
    spdlog::info("alerts.enabled is false: no webhook at /api/alerts");
  } else {
    auto auth = api::BuildAlertsAuth(c);
    if (!auth) return Fail(auth.error());
    s.alerts_auth = std::move(*auth);
    if (!c.alerts.Authenticated()) {
      spdlog::warn(
          "alerts: the webhook takes alerts from anyone on {} (loopback only): set "
          "alerts.bearer_token_file, alerts.jwt_roles or alerts.client_ca_file",
          c.listen);
    }
  }
  auto& received =
      s.metrics.Counter("aitelemetry_alert_notifications_total",
                        "Alerts delivered by Alertmanager webhooks, by outcome.", {"outcome"});
  if (s.alerts_auth)
    router.Add("POST", "/api/alerts", [&s, &received](const http::Request& req) {
      if (auto refusal = s.alerts_auth->authenticator->Check(req)) {
        received.Add({"refused"}, 1);
        return std::move(*refusal);
      }
      auto result = s.alerts->Ingest(req.body, Now());
      if (!result) {
        received.Add({"rejected"}, 1);
        spdlog::warn("alert webhook rejected: {}", result.error().message);
        return http::ProblemFor(result.error());
      }
      received.Add({"accepted"}, static_cast<double>(result->alerts));
      return http::JsonResponse(
          200,
          fmt::format(R"({{"status":"ok","alerts":{},"sessionsOpened":{},"sessionsClosed":{}}})",
                      result->alerts, result->sessions_opened, result->sessions_closed));
    });
  // The *_total values are monotonic counts kept in the store: counters set from it (promtool
  // rejects a gauge named *_total).
  s.metrics.OnCollect([&s] {
    auto m = trace::ReadTraceMetrics(*s.store, Now());
    if (!m) return;
    s.metrics.Counter("aitelemetry_spans_exported_total", "Spans the collector accepted.")
        .Set({}, m->spans_exported);
    s.metrics.Counter("aitelemetry_spans_failed_total", "Spans dead-lettered.")
        .Set({}, m->spans_failed);
    s.metrics.Gauge("aitelemetry_spans_pending", "Spans waiting in the outbox.")
        .Set({}, m->spans_pending);
    s.metrics.Gauge("aitelemetry_outbox_oldest_age_seconds", "Age of the oldest pending span.")
        .Set({}, m->oldest_pending_age_seconds);
    s.metrics.Counter("aitelemetry_alerts_received_total", "Distinct alert occurrences stored.")
        .Set({}, m->alerts_received);
    s.metrics.Gauge("aitelemetry_sessions_open", "GPU sessions open now.")
        .Set({}, m->sessions_open);
  });
  if (!c.otlp.endpoint.empty()) {
    trace::OtlpOptions o;
    o.endpoint = c.otlp.endpoint;
    for (const auto& [k, v] : c.otlp.headers) o.headers.emplace_back(k, v);
    o.tls = {c.otlp.tls.ca_file, c.otlp.tls.cert_file, c.otlp.tls.key_file};
    o.timeout = c.otlp.timeout;
    if (auto st = trace::ValidateOtlpOptions(o); !st) return st;
    s.exporter = std::make_unique<trace::OtlpExporter>(o);
    trace::OutboxOptions oo;
    if (auto st = trace::ValidateOutboxOptions(oo); !st) return st;
    s.drainer = std::make_unique<trace::OutboxDrainer>(*s.store, *s.exporter, oo);
    s.tasks.push_back(std::make_unique<Periodic>("outbox", std::chrono::seconds(2), [&s] {
      auto r = s.drainer->DrainOnce(Now());
      if (!r) spdlog::warn("outbox: {}", r.error().message);
    }));
  } else {
    spdlog::info("otlp.endpoint is not set: GPU sessions are recorded, spans stay in the outbox");
  }
  return Ok();
}

// Deletes usage history older than `retention` (daily; PostgreSQL drops whole month partitions).
void AddRetention(Services& s) {
  auto retention = std::chrono::duration_cast<Nanos>(s.config.retention);
  s.tasks.push_back(
      std::make_unique<Periodic>("retention", std::chrono::hours(24), [&s, retention] {
        if (!s.leading) return;
        const auto* usage = model::FindModel("usage");
        auto removed = s.store->ApplyRetention(*usage, Now() - retention);
        if (!removed) {
          spdlog::warn("retention: {}", removed.error().message);
        } else if (*removed > 0) {
          spdlog::info("retention: removed {} usage rows older than {}", *removed,
                       FormatDuration(retention));
        }
      }));
  s.leader_tasks.push_back(s.tasks.back().get());
}

// One Periodic per hub, every `interval`; a failing hub only logs and counts its error.
Status AddCollector(Services& s) {
  const auto& c = s.config;
  s.sync_metrics = std::make_unique<collect::SyncMetrics>(s.metrics);
  auto& entities = s.metrics.Gauge("aitelemetry_entities", "Collected entities by model and state.",
                                   {"model", "state"});
  s.metrics.OnCollect([&s, &entities] {
    entities.Clear();
    for (const char* name : {"cluster", "node", "project", "gpu", "gpu-slice"}) {
      store::QuerySpec spec;
      spec.rows = 0;
      spec.facets = {"state"};
      auto r = s.store->Query(*model::FindModel(name), spec, store::Scope::All());
      if (!r) continue;
      for (const auto& f : r->facets["state"]) {
        entities.Set({name, f.value.empty() ? "unknown" : f.value}, static_cast<double>(f.count));
      }
    }
  });
  for (const auto& hub : c.hubs) {
    auto syncer = collect::MakeHubSyncer(hub, c.interval, *s.store, s.sync_metrics.get());
    if (!syncer) return Fail(syncer.error());
    s.syncers.push_back(std::move(*syncer));
  }
  for (auto& syncer : s.syncers) {
    collect::HubSyncer* h = syncer.get();
    const Nanos interval = c.interval;
    s.tasks.push_back(std::make_unique<Periodic>(
        "sync-" + h->options().hub, std::chrono::duration_cast<std::chrono::milliseconds>(interval),
        [&s, h, interval] {
          if (!s.leading) return;
          auto r = h->SyncOnce(collect::HubSyncer::GridTime(Now(), interval));
          if (!r) {
            spdlog::warn("sync: {}", r.error().message);
            return;
          }
          spdlog::info("sync: hub {}: {} series, {} GPUs, {} slices, {} gone in {:.2f} s",
                       h->options().hub, r->series, r->gpus, r->slices, r->counts.gone, r->seconds);
        }));
    s.leader_tasks.push_back(s.tasks.back().get());
  }
  if (c.hubs.empty()) spdlog::info("no hubs configured: the collector is idle");
  return Ok();
}

// One worker at a time runs the collector and retention: the holder of the "worker" lock (always
// this process on SQLite). A standby retries every interval/2 (at most 5 s) and, on taking over,
// pokes those tasks so the first sync does not wait for the next tick.
Status AddLeaderElection(Services& s) {
  auto election = store::LeaderElection::Create(s.config.db, "worker");
  if (!election) return Fail(election.error());
  s.election = std::move(*election);
  auto& gauge = s.metrics.Gauge("aitelemetry_leader",
                                "1 while this process holds the job's lock, else 0.", {"job"});
  gauge.Set({"worker"}, 0);
  auto every = std::min<std::chrono::milliseconds>(
      std::chrono::duration_cast<std::chrono::milliseconds>(s.config.interval) / 2,
      std::chrono::seconds(5));
  every = std::max<std::chrono::milliseconds>(every, std::chrono::milliseconds(100));
  s.tasks.push_back(std::make_unique<Periodic>("leader", every, [&s, &gauge] {
    auto got = s.election->Acquire();
    // An error means the lock's connection was lost (and the lock with it); the second attempt
    // reconnects, so a restarted server costs a leader nothing when nobody else got there first.
    if (!got) got = s.election->Acquire();
    const bool now = got && *got;
    const bool was = s.leading.exchange(now);
    gauge.Set({"worker"}, now ? 1 : 0);
    if (now && !was) {
      spdlog::info("leader: this process now runs the worker's collector and retention");
      for (Periodic* t : s.leader_tasks) t->Poke();
    } else if (!now && was) {
      spdlog::warn("leader: lost the worker lock{}; standing by",
                   got ? "" : " (" + got.error().message + ")");
    } else if (!got) {
      spdlog::debug("leader: {}", got.error().message);
    }
  }));
  return Ok();
}

// The read API's response cache (api.cache_bytes; 0: none) and its figures in /metrics.
void AddResponseCache(Services& s) {
  if (s.config.api.cache_bytes == 0) {
    spdlog::info("api.cache_bytes is 0: search, usage and get answers are not cached");
    return;
  }
  if (auto g = s.store->Generation(true); !g && g.error().code == ErrorCode::kFailedPrecondition) {
    spdlog::warn("api cache off: the store has no generation to label answers with ({})",
                 g.error().message);
    return;
  }
  s.cache = std::make_unique<api::ResponseCache>(s.config.api.cache_bytes);
  s.metrics.OnCollect([&s] {
    auto st = s.cache->stats();
    auto& requests = s.metrics.Counter(
        "aitelemetry_api_cache_requests_total",
        "Cacheable API reads, by whether the answer came from the cache.", {"result"});
    requests.Set({"hit"}, static_cast<double>(st.hits));
    requests.Set({"miss"}, static_cast<double>(st.misses));
    s.metrics
        .Counter("aitelemetry_api_cache_evictions_total",
                 "Cached answers dropped for room or made stale by a write.")
        .Set({}, static_cast<double>(st.evictions));
    s.metrics.Gauge("aitelemetry_api_cache_bytes", "Bytes held by the API response cache.")
        .Set({}, static_cast<double>(st.bytes));
  });
}

}  // namespace

bool IsLoopback(const std::string& listen) {
  auto colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]" || host == "::1" ||
         host.starts_with("127.");
}

int RunRole(Role role, const config::Config& c) {
  bool serves_site = role != Role::kWorker;
  if (role != Role::kServe) {
    if (std::string why = api::AlertsRefusal(c, IsLoopback(c.listen)); !why.empty()) {
      fmt::print(stderr, "{}\n", why);
      return 2;
    }
  }
  if (serves_site && c.auth.issuer.empty()) {
    if (!IsLoopback(c.listen)) {
      fmt::print(stderr,
                 "aitelemetry: refusing to serve without authentication on {}: set auth.issuer, "
                 "or listen on 127.0.0.1\n",
                 c.listen);
      return 2;
    }
    spdlog::warn("**************************************************************************");
    spdlog::warn("OPEN LOCAL MODE: auth.issuer is not set, every caller sees everything.");
    spdlog::warn("Bound to loopback ({}) only. Configure auth.issuer before exposing it.",
                 c.listen);
    spdlog::warn("**************************************************************************");
  }
  Services s{c};
  auto store = store::Store::Open({c.db, std::max(4, c.threads * 2), true});
  if (!store) {
    fmt::print(stderr, "aitelemetry: store: {}\n", store.error().message);
    return 1;
  }
  s.store = std::move(*store);
  std::string metrics_token;
  if (!c.metrics.bearer_token_file.empty()) {
    metrics_token = ReadTrimmed(c.metrics.bearer_token_file);
    if (metrics_token.empty()) {
      fmt::print(stderr, "aitelemetry: metrics.bearer_token_file: no token in {}\n",
                 c.metrics.bearer_token_file);
      return 2;
    }
  }
  auto router = std::make_shared<http::Router>();
  AddHealthRoutes(*router, s, std::move(metrics_token));
  // Authentication: one middleware sets the api::Caller of every routed request; the login routes.
  std::unique_ptr<api::AuthStack> auth;
  if (serves_site) {
    auto built = api::BuildAuth(c.auth, s.store.get());
    if (!built) {
      fmt::print(stderr, "aitelemetry: {}\n", built.error().message);
      return 2;
    }
    auth = std::move(*built);
    auth->web->Install(*router);
    if (auth->sessions) {
      s.tasks.push_back(std::make_unique<Periodic>("web-sessions", std::chrono::minutes(10), [&] {
        auto n = auth->sessions->DeleteExpired();
        if (!n) spdlog::warn("web-sessions: {}", n.error().message);
      }));
    }
    web::AddWebRoutes(*router, {c.tracing_ui_url, c.interval, AITELEMETRY_VERSION});
    s.listener = store::ChangeListener::Start(c.db);
    api::EventHubOptions eo;
    eo.wake = s.listener.get();
    eo.max_streams = c.api.max_streams;
    eo.max_streams_per_caller = c.api.max_streams_per_caller;
    s.events = std::make_unique<api::EventHub>(*s.store, eo);
    s.metrics.OnCollect([&s] {
      s.metrics.Gauge("aitelemetry_event_streams_open", "Open /api/events streams.")
          .Set({}, static_cast<double>(s.events->open_streams()));
    });
    api::RestDeps rest{s.store.get()};
    rest.events = s.events.get();
    AddResponseCache(s);
    rest.cache = s.cache.get();
    // The documents first: /api/openapi.json is not a model.
    api::AddDocRoutes(*router, {AITELEMETRY_VERSION, c.auth.issuer});
    api::AddRestRoutes(*router, rest);
    api::AddNgsiRoutes(*router, *s.store);
    if (c.prom.enabled) {
      api::PromRouteOptions po;
      po.hubs = c.hubs;
      po.limits = {c.prom.query_timeout, c.prom.max_range, c.prom.max_points};
      po.max_concurrent_per_caller = c.prom.max_concurrent_per_caller;
      api::AddPromRoutes(*router, std::move(po));
    }
  }
  if (role != Role::kServe) {
    if (auto st = AddTraceWorker(*router, s); !st) {
      fmt::print(stderr, "aitelemetry: {}\n", st.error().message);
      return 2;
    }
    AddRetention(s);
    // The change feed keeps a day: enough for a live view to resume after a restart.
    s.tasks.push_back(std::make_unique<Periodic>("change-feed", std::chrono::minutes(10), [&s] {
      if (!s.leading) return;
      auto r = s.store->TrimChanges(Now() - std::chrono::hours(24));
      if (!r) spdlog::warn("change feed trim: {}", r.error().message);
    }));
    s.leader_tasks.push_back(s.tasks.back().get());
    if (auto st = AddCollector(s); !st) {
      fmt::print(stderr, "aitelemetry: {}\n", st.error().message);
      return 2;
    }
    if (auto st = AddLeaderElection(s); !st) {
      fmt::print(stderr, "aitelemetry: leader election: {}\n", st.error().message);
      return 1;
    }
  }
  http::ServerOptions so;
  so.listen = c.listen;
  so.threads = c.threads;
  so.tls_cert_file = c.tls.cert_file;
  so.tls_key_file = c.tls.key_file;
  // Only the webhook requires a client certificate; the listener asks every client for one.
  if (role != Role::kServe && c.alerts.enabled) so.tls_client_ca_file = c.alerts.client_ca_file;
  auto server = http::Server::Create(so, router);
  if (!server) {
    fmt::print(stderr, "aitelemetry: {}\n", server.error().message);
    return server.error().code == ErrorCode::kInvalidArgument ? 2 : 1;
  }
  (*server)->OnShutdown([&s] {
    for (auto& t : s.tasks) t->Stop();
    if (s.events) s.events->Stop();  // ends the live streams, so draining need not wait for them
  });
  const char* scheme = c.tls.cert_file.empty() ? "http" : "https";
  auto colon = c.listen.rfind(':');
  spdlog::info("aitelemetry {} listening on {}://{}:{}/", AITELEMETRY_VERSION, scheme,
               c.listen.substr(0, colon), (*server)->port());
  (*server)->Run(true);
  for (auto& t : s.tasks) t->Stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace aitelemetry::cli
