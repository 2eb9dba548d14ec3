// The typed configuration tree: YAML file, then AITELEMETRY_* environment, then flags (rising
// precedence), validated once with every problem reported together.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace aitelemetry::config {

struct TlsFiles {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

struct OAuth2 {
  std::string token_url;
  std::string client_id;
  std::string client_secret_file;
  std::vector<std::string> scopes;
};

struct PrometheusConfig {
  std::string url;  // empty: no Prometheus source for the hub
  std::string bearer_token_file;
  OAuth2 oauth2;
  TlsFiles tls;
  std::chrono::milliseconds timeout{30000};
  int retries = 2;
  // The label holding a series' workload namespace for /prom grants: "" (exported_namespace
  // where present, else namespace), "namespace" or "exported_namespace".
  std::string namespace_label;
};

struct ExporterConfig {
  std::string url;
  std::string cluster;
};

struct HubConfig {
  std::string name;
  std::string default_cluster;  // for series without a `cluster` label; default: the hub's name
  // How far apart the hub's samples are, for windows with too few samples to work it out from
  // their timestamps (spacing: 5m). Zero (absent): the last value worked out, else the interval.
  std::chrono::milliseconds spacing{0};
  PrometheusConfig prometheus;
  std::vector<ExporterConfig> exporters;
  std::string bearer_token_file;  // for the exporters
  TlsFiles tls;                   // for the exporters
};

struct AuthConfig {
  std::string issuer;  // empty: open local mode (loopback only)
  std::string audience = "ai-telemetry";
  std::string client_id = "ai-telemetry";
  std::string client_secret_file;
  std::string grants_source = "claims";  // claims | uma
  std::vector<std::string> admin_roles = {"aitelemetry-admin"};
  std::vector<std::string> manager_roles = {"aitelemetry-manager"};
  std::vector<std::string> algorithms = {"RS256", "PS256", "ES256"};
  bool public_openapi = true;
  std::string redirect_url;  // browser login callback; required with issuer
  std::chrono::seconds session_ttl{8 * 3600};
  std::chrono::seconds session_refresh{300};  // session grants older than this are recomputed
  std::vector<std::string> allowed_hosts;     // open local mode: Host names besides loopback
};

struct MetricsConfig {
  // When set, GET /metrics needs "Authorization: Bearer <the file's token>"; when empty, only
  // loopback callers are answered.
  std::string bearer_token_file;
};

struct OtlpConfig {
  std::string endpoint;  // empty: spans are kept in the outbox but not exported
  std::map<std::string, std::string> headers;
  TlsFiles tls;
  std::chrono::milliseconds timeout{10000};
};

// The Alertmanager webhook (POST /api/alerts) of `worker` and `all`. A request must pass the
// client certificate check when client_ca_file is set, and the Authorization check when
// bearer_token_file or jwt_roles is set (either of the two may then match).
struct AlertsConfig {
  bool enabled = true;  // false: no webhook route at all
  // The static shared token Alertmanager sends as "Authorization: Bearer ..."; the file must hold
  // a non-empty token (checked at load).
  std::string bearer_token_file;
  // Access tokens from auth.issuer (validated as API tokens are) whose realm roles or client
  // roles of auth.client_id include one of these: Alertmanager's oauth2 client credentials.
  std::vector<std::string> jwt_roles;
  // PEM CA bundle: the webhook requires a client certificate that chains to it (TLS only).
  std::string client_ca_file;
  // When not empty, the certificate's subject common name, a subjectAltName (DNS, URI, email) or
  // its whole subject (RFC 2253) must be one of these.
  std::vector<std::string> client_subjects;
  std::vector<std::string> session_alerts = {"GpuWorkloadActive", "GpuSliceWorkloadActive"};

  // True when at least one authentication mode is configured.
  bool Authenticated() const {
    return !bearer_token_file.empty() || !jwt_roles.empty() || !client_ca_file.empty();
  }
};

struct ApiConfig {
  // Bytes of finished search, usage and get answers kept for repeated requests (each labelled
  // with the store's generation, so a write makes them stale at once); 0 disables the cache.
  size_t cache_bytes = 64 * 1024 * 1024;
  // Open /api/events streams one caller may hold (beyond: 429) and this process holds in all
  // (beyond: 503). In open local mode all clients count as one caller.
  int max_streams_per_caller = 1000;
  int max_streams = 20000;
};

// GET|POST /prom/{hub}/api/v1/...: PromQL against the hub's Prometheus, restricted to the
// caller's grants (docs/promql.md).
struct PromConfig {
  bool enabled = true;
  std::chrono::seconds query_timeout{30};  // per query; a caller's own timeout may only lower it
  std::chrono::hours max_range{24 * 32};   // of query_range, series and labels; and of [ranges]
  int max_points = 11000;                  // per series of a range query ((end - start) / step)
  int max_concurrent_per_caller = 4;       // beyond: 429
};

struct Config {
  std::string listen = "127.0.0.1:8080";
  std::string db = "sqlite:aitelemetry.db";
  std::chrono::seconds interval{30};
  int threads = 0;                  // 0: the core count
  std::string log_format = "text";  // text | json
  std::string log_level = "info";
  TlsFiles tls;  // the server's own certificate (cert_file, key_file)
  std::chrono::hours retention{24 * 400};
  std::vector<HubConfig> hubs;
  AuthConfig auth;
  OtlpConfig otlp;
  AlertsConfig alerts;
  ApiConfig api;
  PromConfig prom;
  MetricsConfig metrics;
  std::string tracing_ui_url;  // e.g. https://tempo.example/trace/{trace_id}
};

// Where configuration comes from. `flags` are dotted paths ("listen", "db") to values.
struct Sources {
  std::string file;                                        // empty: no file
  std::vector<std::pair<std::string, std::string>> env;    // NAME=value pairs (all of environ)
  std::vector<std::pair<std::string, std::string>> flags;  // path, value
  // The file's text when already read (a test, a fuzz target): then `file` only names it in
  // messages and is not opened.
  std::optional<std::string> file_text;
};

// Loads, merges and validates. On failure returns kInvalidArgument whose message has one line per
// problem, each "config: PATH: WHAT in ORIGIN" (e.g. `config: hubs[0].prometheus.url: not a URL
// ("htp:/x") in /etc/aitelemetry.yaml`).
[[nodiscard]] Result<Config> Load(const Sources& sources);

// Returns the environment of this process as pairs (for Sources::env).
std::vector<std::pair<std::string, std::string>> ProcessEnvironment();

// Renders the effective config as YAML, with secret-looking values (tokens, passwords, header
// values, and credentials inside URLs: see RedactUrl) masked. *_file keys are paths and are shown.
std::string ToYaml(const Config& config);

}  // namespace aitelemetry::config
