#include "config/config.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/redact.h"
#include "core/time.h"

extern char** environ;

namespace aitelemetry::config {
namespace {

// Collects problems and remembers where overridden values came from.
struct Context {
  std::string file;
  std::map<std::string, std::string> origin;  // path -> "environment AITELEMETRY_X" or "flag --x"
  std::vector<std::string> problems;

  void Problem(const std::string& path, const std::string& what) {
    std::string where;
    if (auto it = origin.find(path); it != origin.end()) {
      where = it->second;
    } else if (!file.empty()) {
      where = file;
    } else {
      where = "defaults";
    }
    problems.push_back(fmt::format("config: {}: {} in {}", path, what, where));
  }
};

std::string Join(const std::string& base, const std::string& key) {
  return base.empty() ? key : base + "." + key;
}

std::string Shown(const std::string& s) { return s.size() > 80 ? s.substr(0, 80) + "..." : s; }

// Whether `url`'s host is loopback (localhost, 127.x.x.x, [::1]): plain http is fine there.
bool IsLoopbackUrl(const std::string& url) {
  auto start = url.find("://");
  if (start == std::string::npos) return false;
  std::string authority = url.substr(start + 3, url.find('/', start + 3) - start - 3);
  if (authority.starts_with("[::1]")) return true;
  std::string host = authority.substr(0, authority.find(':'));
  return host == "localhost" || host.starts_with("127.");
}

bool LooksLikeUrl(const std::string& url) {
  for (const char* scheme : {"http://", "https://"}) {
    if (url.starts_with(scheme)) {
      std::string rest = url.substr(std::string(scheme).size());
      return !rest.empty() && rest[0] != '/' && rest.find(' ') == std::string::npos;
    }
  }
  return false;
}

// Reads one YAML mapping into typed fields, then reports keys nobody asked for.
class Reader {
 public:
  Reader(const YAML::Node& node, std::string path, Context& ctx)
      : node_(node), path_(std::move(path)), ctx_(ctx) {
    if (node_ && !node_.IsNull() && !node_.IsMap()) {
      ctx_.Problem(path_.empty() ? "(top level)" : path_, "expected a mapping");
      valid_ = false;
    }
  }

  ~Reader() {
    if (!valid_ || !node_ || !node_.IsMap()) return;
    for (const auto& kv : node_) {
      std::string key = kv.first.as<std::string>("");
      if (!used_.count(key)) ctx_.Problem(Join(path_, key), "unknown key");
    }
  }

  YAML::Node Get(const std::string& key) {
    used_.insert(key);
    if (!valid_ || !node_ || !node_.IsMap()) return YAML::Node();
    return node_[key];
  }

  std::string Path(const std::string& key) const { return Join(path_, key); }

  void String(const std::string& key, std::string* out) {
    YAML::Node n = Get(key);
    if (!n || n.IsNull()) return;
    if (!n.IsScalar()) {
      ctx_.Problem(Path(key), "expected a string");
      return;
    }
    *out = n.as<std::string>();
  }

  void Url(const std::string& key, std::string* out) {
    String(key, out);
    if (!out->empty() && !LooksLikeUrl(*out)) {
      ctx_.Problem(Path(key), fmt::format("not a URL (\"{}\")", Shown(*out)));
    }
  }

  void File(const std::string& key, std::string* out) {
    String(key, out);
    if (!out->empty()) {
      std::ifstream f(*out);
      if (!f) ctx_.Problem(Path(key), fmt::format("cannot read file \"{}\"", Shown(*out)));
    }
  }

  void Int(const std::string& key, int* out, int lo, int hi) {
    YAML::Node n = Get(key);
    if (!n || n.IsNull()) return;
    std::string text = n.IsScalar() ? n.as<std::string>() : "";
    try {
      size_t used = 0;
      long v = std::stol(text, &used);
      if (used != text.size() || v < lo || v > hi) throw std::out_of_range("range");
      *out = static_cast<int>(v);
    } catch (...) {
      ctx_.Problem(Path(key), fmt::format("expected a whole number from {} to {} (\"{}\")", lo, hi,
                                          Shown(text)));
    }
  }

  // A size in bytes: a whole number, optionally followed by KiB, MiB or GiB ("64MiB").
  void Bytes(const std::string& key, size_t* out) {
    YAML::Node n = Get(key);
    if (!n || n.IsNull()) return;
    std::string text = n.IsScalar() ? n.as<std::string>() : "";
    static const std::pair<const char*, unsigned long long> kUnits[] = {
        {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30}};
    std::string digits = text;
    unsigned long long unit = 1;
    for (const auto& [suffix, size] : kUnits) {
      if (text.ends_with(suffix)) {
        digits = text.substr(0, text.size() - std::strlen(suffix));
        unit = size;
      }
    }
    bool ok = !digits.empty() && digits.size() <= 12 &&
              std::all_of(digits.begin(), digits.end(), ::isdigit);
    if (!ok) {
      ctx_.Problem(Path(key), fmt::format("expected a size in bytes such as 67108864 or 64MiB "
                                          "(\"{}\")",
                                          Shown(text)));
      return;
    }
    *out = static_cast<size_t>(std::stoull(digits) * unit);
  }

  void Bool(const std::string& key, bool* out) {
    YAML::Node n = Get(key);
    if (!n || n.IsNull()) return;
    std::string t = n.IsScalar() ? n.as<std::string>() : "";
    if (t == "true") {
      *out = true;
    } else if (t == "false") {
      *out = false;
    } else {
      ctx_.Problem(Path(key), fmt::format("expected true or false (\"{}\")", Shown(t)));
    }
  }

  template <typename D>
  void Duration(const std::string& key, D* out) {
    YAML::Node n = Get(key);
    if (!n || n.IsNull()) return;
    std::string t = n.IsScalar() ? n.as<std::string>() : "";
    auto d = ParseDuration(t);
    if (!d || d->count() <= 0) {
      ctx_.Problem(Path(key),
                   fmt::format("expected a duration such as 30s or 5m (\"{}\")", Shown(t)));
      return;
    }
    *out = std::chrono::duration_cast<D>(*d);
  }

  void Strings(const std::string& key, std::vector<std::string>* out) {
    YAML::Node n = Get(key);
    if (!n || n.IsNull()) return;
    if (!n.IsSequence()) {
      ctx_.Problem(Path(key), "expected a list of strings");
      return;
    }
    out->clear();
    for (const auto& item : n) {
      if (!item.IsScalar()) {
        ctx_.Problem(Path(key), "expected a list of strings");
        return;
      }
      out->push_back(item.as<std::string>());
    }
  }

  void StringMap(const std::string& key, std::map<std::string, std::string>* out) {
    YAML::Node n = Get(key);
    if (!n || n.IsNull()) return;
    if (!n.IsMap()) {
      ctx_.Problem(Path(key), "expected a mapping of strings");
      return;
    }
    for (const auto& kv : n) {
      if (!kv.second.IsScalar()) {
        ctx_.Problem(Join(Path(key), kv.first.as<std::string>("")), "expected a string");
        continue;
      }
      (*out)[kv.first.as<std::string>("")] = kv.second.as<std::string>();
    }
  }

  void Object(const std::string& key, const std::function<void(Reader&)>& fn) {
    YAML::Node n = Get(key);
    if (!n || n.IsNull()) return;
    Reader sub(n, Path(key), ctx_);
    fn(sub);
  }

  void List(const std::string& key, const std::function<void(Reader&, size_t)>& fn) {
    YAML::Node n = Get(key);
    if (!n || n.IsNull()) return;
    if (!n.IsSequence()) {
      ctx_.Problem(Path(key), "expected a list");
      return;
    }
    for (size_t i = 0; i < n.size(); ++i) {
      Reader sub(n[i], fmt::format("{}[{}]", Path(key), i), ctx_);
      fn(sub, i);
    }
  }

  Context& ctx() { return ctx_; }

 private:
  YAML::Node node_;
  std::string path_;
  Context& ctx_;
  std::set<std::string> used_;
  bool valid_ = true;
};

void ReadTls(Reader& r, TlsFiles* tls) {
  r.File("ca_file", &tls->ca_file);
  r.File("cert_file", &tls->cert_file);
  r.File("key_file", &tls->key_file);
  if (tls->cert_file.empty() != tls->key_file.empty()) {
    r.ctx().Problem(r.Path("cert_file"), "cert_file and key_file go together");
  }
}

// Sets `value` at the dotted/indexed `segments` inside `root`, creating maps and list slots.
void SetPath(YAML::Node root, const std::vector<std::string>& segments, const std::string& value) {
  YAML::Node parsed;
  try {
    parsed = YAML::Load(value);
  } catch (...) {
    parsed = YAML::Node(value);
  }
  if (!parsed.IsScalar() && !parsed.IsSequence() && !parsed.IsMap()) parsed = YAML::Node(value);
  // A collection only when the text is written as one: "[::]:8080" (an IPv6 listen address) is
  // text, not the map {[::]: 8080} that YAML reads in it.
  if (parsed.IsSequence() || parsed.IsMap()) {
    bool flow = (value.starts_with('[') && value.ends_with(']')) ||
                (value.starts_with('{') && value.ends_with('}'));
    if (!flow && value.find('\n') == std::string::npos) parsed = YAML::Node(value);
  }
  std::vector<YAML::Node> chain{root};
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string& seg = segments[i];
    YAML::Node cur = chain.back();
    bool index = !seg.empty() && std::all_of(seg.begin(), seg.end(), ::isdigit);
    bool last = i + 1 == segments.size();
    if (index && (cur.IsSequence() || cur.IsNull() || !cur.IsDefined())) {
      size_t k = std::stoul(seg);
      while (cur.size() <= k) cur.push_back(YAML::Node(YAML::NodeType::Map));
      if (last) {
        cur[k] = parsed;
      } else {
        chain.push_back(cur[k]);
      }
    } else {
      if (last) {
        cur[seg] = parsed;
      } else {
        if (!cur[seg] || cur[seg].IsNull()) cur[seg] = YAML::Node(YAML::NodeType::Map);
        chain.push_back(cur[seg]);
      }
    }
  }
}

std::string DisplayPath(const std::vector<std::string>& segments) {
  std::string out;
  for (const auto& s : segments) {
    if (!s.empty() && std::all_of(s.begin(), s.end(), ::isdigit)) {
      out += "[" + s + "]";
    } else {
      out += out.empty() ? s : "." + s;
    }
  }
  return out;
}

// The webhook's authentication: a token file that holds a token, roles that have an issuer to
// come from, client certificates that have TLS to arrive over.
void CheckAlerts(const Config& c, Context& ctx) {
  const AlertsConfig& a = c.alerts;
  if (!a.bearer_token_file.empty()) {
    std::ifstream in(a.bearer_token_file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    std::string token = text.str();
    bool blank = std::all_of(token.begin(), token.end(),
                             [](char ch) { return std::isspace(static_cast<unsigned char>(ch)); });
    if (in && blank) {
      ctx.Problem("alerts.bearer_token_file",
                  fmt::format("\"{}\" holds no token", Shown(a.bearer_token_file)));
    }
  }
  for (const auto& role : a.jwt_roles) {
    if (role.empty()) ctx.Problem("alerts.jwt_roles", "a role name is empty");
  }
  if (!a.jwt_roles.empty() && c.auth.issuer.empty()) {
    ctx.Problem("alerts.jwt_roles", "needs auth.issuer, the issuer of Alertmanager's tokens");
  }
  if (!a.client_subjects.empty() && a.client_ca_file.empty()) {
    ctx.Problem("alerts.client_subjects", "needs alerts.client_ca_file");
  }
  if (!a.client_ca_file.empty() && c.tls.cert_file.empty()) {
    ctx.Problem("alerts.client_ca_file",
                "client certificates need TLS: set tls.cert_file and tls.key_file");
  }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ProcessEnvironment() {
  std::vector<std::pair<std::string, std::string>> out;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) out.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return out;
}

Result<Config> Load(const Sources& sources) {
  Context ctx;
  ctx.file = sources.file;
  YAML::Node root(YAML::NodeType::Map);
  if (!sources.file.empty() || sources.file_text) {
    std::stringstream text;
    if (sources.file_text) {
      text << *sources.file_text;
    } else {
      std::ifstream in(sources.file);
      if (!in) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("config: cannot read {}", sources.file));
      }
      text << in.rdbuf();
    }
    try {
      root = YAML::Load(text.str());
    } catch (const YAML::Exception& e) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("config: {}: line {}, column {}: {}", sources.file, e.mark.line + 1,
                              e.mark.column + 1, e.msg));
    }
    if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
    if (!root.IsMap()) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("config: {}: the top level must be a mapping", sources.file));
    }
  }
  // Environment: AITELEMETRY_HUBS__0__PROMETHEUS__URL -> hubs[0].prometheus.url.
  static const std::set<std::string> kNotConfig = {"AITELEMETRY_CONFIG"};
  for (const auto& [name, value] : sources.env) {
    if (!name.starts_with("AITELEMETRY_") || kNotConfig.count(name)) continue;
    std::string rest = name.substr(12);
    std::vector<std::string> segments;
    size_t pos = 0;
    while (pos <= rest.size()) {
      size_t next = rest.find("__", pos);
      std::string seg =
          rest.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
      std::transform(seg.begin(), seg.end(), seg.begin(), ::tolower);
      segments.push_back(seg);
      if (next == std::string::npos) break;
      pos = next + 2;
    }
    if (segments.empty() || segments[0].empty()) continue;
    SetPath(root, segments, value);
    ctx.origin[DisplayPath(segments)] = "environment " + name;
  }
  for (const auto& [path, value] : sources.flags) {
    std::vector<std::string> segments;
    std::stringstream ss(path);
    std::string seg;
    while (std::getline(ss, seg, '.')) segments.push_back(seg);
    SetPath(root, segments, value);
    ctx.origin[path] = "flag --" + path;
  }

  Config c;
  {
    Reader r(root, "", ctx);
    r.String("listen", &c.listen);
    r.String("db", &c.db);
    r.Duration("interval", &c.interval);
    r.Int("threads", &c.threads, 0, 256);
    r.String("log_format", &c.log_format);
    r.String("log_level", &c.log_level);
    r.Duration("retention", &c.retention);
    r.String("tracing_ui_url", &c.tracing_ui_url);
    r.Object("tls", [&](Reader& t) { ReadTls(t, &c.tls); });
    r.List("hubs", [&](Reader& h, size_t) {
      HubConfig hub;
      h.String("name", &hub.name);
      h.String("default_cluster", &hub.default_cluster);
      h.Duration("spacing", &hub.spacing);
      h.File("bearer_token_file", &hub.bearer_token_file);
      h.Object("tls", [&](Reader& t) { ReadTls(t, &hub.tls); });
      h.Object("prometheus", [&](Reader& p) {
        p.Url("url", &hub.prometheus.url);
        if (hub.prometheus.url.empty()) ctx.Problem(p.Path("url"), "missing required value");
        p.File("bearer_token_file", &hub.prometheus.bearer_token_file);
        p.Duration("timeout", &hub.prometheus.timeout);
        p.Int("retries", &hub.prometheus.retries, 0, 10);
        p.String("namespace_label", &hub.prometheus.namespace_label);
        const std::string& nl = hub.prometheus.namespace_label;
        if (!nl.empty() && nl != "namespace" && nl != "exported_namespace") {
          ctx.Problem(p.Path("namespace_label"),
                      fmt::format("expected namespace or exported_namespace (\"{}\")", Shown(nl)));
        }
        p.Object("tls", [&](Reader& t) { ReadTls(t, &hub.prometheus.tls); });
        p.Object("oauth2", [&](Reader& o) {
          o.Url("token_url", &hub.prometheus.oauth2.token_url);
          o.String("client_id", &hub.prometheus.oauth2.client_id);
          o.File("client_secret_file", &hub.prometheus.oauth2.client_secret_file);
          o.Strings("scopes", &hub.prometheus.oauth2.scopes);
          if (hub.prometheus.oauth2.token_url.empty() || hub.prometheus.oauth2.client_id.empty()) {
            ctx.Problem(o.Path("token_url"), "oauth2 needs token_url and client_id");
          }
        });
      });
      h.List("exporters", [&](Reader& e, size_t) {
        ExporterConfig ex;
        e.Url("url", &ex.url);
        if (ex.url.empty()) ctx.Problem(e.Path("url"), "missing required value");
        e.String("cluster", &ex.cluster);
        hub.exporters.push_back(std::move(ex));
      });
      if (hub.name.empty()) {
        ctx.Problem(h.Path("name"), "missing required value");
      } else if (hub.name.find("-CLUSTER-") != std::string::npos ||
                 hub.name.find_first_of(" /") != std::string::npos) {
        ctx.Problem(h.Path("name"),
                    fmt::format("\"{}\" cannot be part of a resource name", Shown(hub.name)));
      }
      if (hub.prometheus.url.empty() && hub.exporters.empty()) {
        ctx.Problem(h.Path("prometheus"), "a hub needs prometheus or exporters");
      }
      if (hub.default_cluster.empty()) hub.default_cluster = hub.name;
      c.hubs.push_back(std::move(hub));
    });
    r.Object("auth", [&](Reader& a) {
      a.Url("issuer", &c.auth.issuer);
      a.String("audience", &c.auth.audience);
      a.String("client_id", &c.auth.client_id);
      a.File("client_secret_file", &c.auth.client_secret_file);
      a.Object("grants", [&](Reader& g) { g.String("source", &c.auth.grants_source); });
      a.Strings("admin_roles", &c.auth.admin_roles);
      a.Strings("manager_roles", &c.auth.manager_roles);
      a.Strings("algorithms", &c.auth.algorithms);
      a.Bool("public_openapi", &c.auth.public_openapi);
      a.Url("redirect_url", &c.auth.redirect_url);
      a.Duration("session_ttl", &c.auth.session_ttl);
      a.Duration("session_refresh", &c.auth.session_refresh);
      a.Strings("allowed_hosts", &c.auth.allowed_hosts);
      if (!c.auth.issuer.empty() && c.auth.redirect_url.empty()) {
        // Browser sign-in needs its callback; taking it from a request's Host would let the
        // request choose where codes go and whether the cookie is Secure.
        ctx.Problem(a.Path("redirect_url"),
                    "required with auth.issuer (the browser login's callback, e.g. "
                    "https://telemetry.example/callback)");
      } else if (c.auth.redirect_url.starts_with("http://") &&
                 !IsLoopbackUrl(c.auth.redirect_url)) {
        ctx.Problem(a.Path("redirect_url"),
                    fmt::format("must be https:// unless on loopback (\"{}\")",
                                Shown(c.auth.redirect_url)));
      }
      if (c.auth.session_refresh < std::chrono::seconds(1) ||
          c.auth.session_refresh > std::chrono::hours(1)) {
        ctx.Problem(a.Path("session_refresh"), "expected a duration from 1s to 1h");
      }
      if (c.auth.grants_source != "claims" && c.auth.grants_source != "uma") {
        ctx.Problem(a.Path("grants.source"),
                    fmt::format("expected claims or uma (\"{}\")", Shown(c.auth.grants_source)));
      }
    });
    r.Object("otlp", [&](Reader& o) {
      o.Url("endpoint", &c.otlp.endpoint);
      o.StringMap("headers", &c.otlp.headers);
      o.Duration("timeout", &c.otlp.timeout);
      o.Object("tls", [&](Reader& t) { ReadTls(t, &c.otlp.tls); });
    });
    r.Object("alerts", [&](Reader& a) {
      a.Bool("enabled", &c.alerts.enabled);
      a.File("bearer_token_file", &c.alerts.bearer_token_file);
      a.Strings("jwt_roles", &c.alerts.jwt_roles);
      a.File("client_ca_file", &c.alerts.client_ca_file);
      a.Strings("client_subjects", &c.alerts.client_subjects);
      a.Strings("session_alerts", &c.alerts.session_alerts);
    });
    r.Object("api", [&](Reader& a) {
      a.Bytes("cache_bytes", &c.api.cache_bytes);
      a.Int("max_streams_per_caller", &c.api.max_streams_per_caller, 1, 1000000);
      a.Int("max_streams", &c.api.max_streams, 1, 1000000);
    });
    r.Object("prom", [&](Reader& p) {
      p.Bool("enabled", &c.prom.enabled);
      p.Duration("query_timeout", &c.prom.query_timeout);
      p.Duration("max_range", &c.prom.max_range);
      p.Int("max_points", &c.prom.max_points, 1, 1000000);
      p.Int("max_concurrent_per_caller", &c.prom.max_concurrent_per_caller, 1, 10000);
      if (c.prom.query_timeout < std::chrono::seconds(1) ||
          c.prom.query_timeout > std::chrono::minutes(10)) {
        ctx.Problem(p.Path("query_timeout"), "expected a duration from 1s to 10m");
      }
      if (c.prom.max_range < std::chrono::hours(1)) {
        ctx.Problem(p.Path("max_range"), "expected a duration of at least 1h");
      }
    });
    r.Object("metrics",
             [&](Reader& m) { m.File("bearer_token_file", &c.metrics.bearer_token_file); });
  }
  std::set<std::string> names;
  for (size_t i = 0; i < c.hubs.size(); ++i) {
    if (!c.hubs[i].name.empty() && !names.insert(c.hubs[i].name).second) {
      ctx.Problem(fmt::format("hubs[{}].name", i),
                  fmt::format("duplicate hub \"{}\"", c.hubs[i].name));
    }
  }
  if (c.log_format != "text" && c.log_format != "json") {
    ctx.Problem("log_format", fmt::format("expected text or json (\"{}\")", Shown(c.log_format)));
  }
  static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "off"};
  if (!kLevels.count(c.log_level)) {
    ctx.Problem("log_level", fmt::format("expected one of trace, debug, info, warn, error (\"{}\")",
                                         Shown(c.log_level)));
  }
  if (!c.db.starts_with("sqlite:") && !c.db.starts_with("postgresql://") &&
      !c.db.starts_with("postgres://")) {
    ctx.Problem("db", "expected sqlite:PATH or postgresql://...");
  }
  CheckAlerts(c, ctx);
  auto colon = c.listen.rfind(':');
  if (colon == std::string::npos || colon + 1 >= c.listen.size() ||
      !std::all_of(c.listen.begin() + colon + 1, c.listen.end(), ::isdigit)) {
    ctx.Problem("listen", fmt::format("expected HOST:PORT (\"{}\")", Shown(c.listen)));
  }
  if (!ctx.problems.empty()) {
    std::string msg;
    for (const auto& p : ctx.problems) {
      if (!msg.empty()) msg += '\n';
      msg += p;
    }
    return Fail(ErrorCode::kInvalidArgument, msg);
  }
  return c;
}

namespace {

void EmitTls(YAML::Emitter& out, const TlsFiles& t) {
  out << YAML::BeginMap << YAML::Key << "ca_file" << YAML::Value << t.ca_file << YAML::Key
      << "cert_file" << YAML::Value << t.cert_file << YAML::Key << "key_file" << YAML::Value
      << t.key_file << YAML::EndMap;
}

}  // namespace

std::string ToYaml(const Config& c) {
  YAML::Emitter out;
  auto secs = [](auto d) {
    return FormatDuration(std::chrono::duration_cast<std::chrono::nanoseconds>(d));
  };
  out << YAML::BeginMap;
  out << YAML::Key << "listen" << YAML::Value << c.listen;
  out << YAML::Key << "db" << YAML::Value << [&] {
    // Mask a password inside a PostgreSQL URL.
    auto scheme = c.db.find("://");
    auto at = c.db.find('@');
    if (scheme != std::string::npos && at != std::string::npos) {
      auto colon = c.db.find(':', scheme + 3);
      if (colon != std::string::npos && colon < at)
        return c.db.substr(0, colon) + ":***" + c.db.substr(at);
    }
    return c.db;
  }();
  out << YAML::Key << "interval" << YAML::Value << secs(c.interval);
  out << YAML::Key << "threads" << YAML::Value << c.threads;
  out << YAML::Key << "log_format" << YAML::Value << c.log_format;
  out << YAML::Key << "log_level" << YAML::Value << c.log_level;
  out << YAML::Key << "retention" << YAML::Value << secs(c.retention);
  out << YAML::Key << "tracing_ui_url" << YAML::Value << RedactUrl(c.tracing_ui_url);
  out << YAML::Key << "tls" << YAML::Value;
  EmitTls(out, c.tls);
  out << YAML::Key << "hubs" << YAML::Value << YAML::BeginSeq;
  for (const auto& h : c.hubs) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << h.name;
    out << YAML::Key << "default_cluster" << YAML::Value << h.default_cluster;
    if (h.spacing.count() > 0) out << YAML::Key << "spacing" << YAML::Value << secs(h.spacing);
    if (!h.prometheus.url.empty()) {
      const auto& p = h.prometheus;
      out << YAML::Key << "prometheus" << YAML::Value << YAML::BeginMap;
      out << YAML::Key << "url" << YAML::Value << RedactUrl(p.url);
      out << YAML::Key << "bearer_token_file" << YAML::Value << p.bearer_token_file;
      out << YAML::Key << "timeout" << YAML::Value << secs(p.timeout);
      out << YAML::Key << "retries" << YAML::Value << p.retries;
      if (!p.namespace_label.empty()) {
        out << YAML::Key << "namespace_label" << YAML::Value << p.namespace_label;
      }
      // Only when configured: an oauth2 section requires token_url and client_id, so an empty one
      // would make the rendering fail to load.
      if (!p.oauth2.token_url.empty()) {
        out << YAML::Key << "oauth2" << YAML::Value << YAML::BeginMap;
        out << YAML::Key << "token_url" << YAML::Value << RedactUrl(p.oauth2.token_url);
        out << YAML::Key << "client_id" << YAML::Value << p.oauth2.client_id;
        out << YAML::Key << "client_secret_file" << YAML::Value << p.oauth2.client_secret_file;
        out << YAML::Key << "scopes" << YAML::Value << YAML::Flow << p.oauth2.scopes;
        out << YAML::EndMap;
      }
      out << YAML::Key << "tls" << YAML::Value;
      EmitTls(out, p.tls);
      out << YAML::EndMap;
    }
    if (!h.exporters.empty()) {
      out << YAML::Key << "exporters" << YAML::Value << YAML::BeginSeq;
      for (const auto& e : h.exporters) {
        out << YAML::Flow << YAML::BeginMap << YAML::Key << "url" << YAML::Value << RedactUrl(e.url)
            << YAML::Key << "cluster" << YAML::Value << e.cluster << YAML::EndMap;
      }
      out << YAML::EndSeq;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  const auto& a = c.auth;
  out << YAML::Key << "auth" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "issuer" << YAML::Value << RedactUrl(a.issuer);
  out << YAML::Key << "audience" << YAML::Value << a.audience;
  out << YAML::Key << "client_id" << YAML::Value << a.client_id;
  out << YAML::Key << "client_secret_file" << YAML::Value << a.client_secret_file;
  out << YAML::Key << "grants" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key
      << "source" << YAML::Value << a.grants_source << YAML::EndMap;
  out << YAML::Key << "admin_roles" << YAML::Value << YAML::Flow << a.admin_roles;
  out << YAML::Key << "manager_roles" << YAML::Value << YAML::Flow << a.manager_roles;
  out << YAML::Key << "algorithms" << YAML::Value << YAML::Flow << a.algorithms;
  out << YAML::Key << "public_openapi" << YAML::Value << a.public_openapi;
  out << YAML::Key << "redirect_url" << YAML::Value << RedactUrl(a.redirect_url);
  out << YAML::Key << "session_ttl" << YAML::Value << secs(a.session_ttl);
  out << YAML::Key << "session_refresh" << YAML::Value << secs(a.session_refresh);
  out << YAML::Key << "allowed_hosts" << YAML::Value << YAML::Flow << a.allowed_hosts;
  out << YAML::EndMap;
  out << YAML::Key << "otlp" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "endpoint" << YAML::Value << RedactUrl(c.otlp.endpoint);
  out << YAML::Key << "headers" << YAML::Value << YAML::BeginMap;
  for (const auto& [k, v] : c.otlp.headers) out << YAML::Key << k << YAML::Value << "***";
  out << YAML::EndMap;
  out << YAML::Key << "timeout" << YAML::Value << secs(c.otlp.timeout);
  out << YAML::Key << "tls" << YAML::Value;
  EmitTls(out, c.otlp.tls);
  out << YAML::EndMap;
  out << YAML::Key << "alerts" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "enabled" << YAML::Value << c.alerts.enabled;
  out << YAML::Key << "bearer_token_file" << YAML::Value << c.alerts.bearer_token_file;
  out << YAML::Key << "jwt_roles" << YAML::Value << YAML::Flow << c.alerts.jwt_roles;
  out << YAML::Key << "client_ca_file" << YAML::Value << c.alerts.client_ca_file;
  out << YAML::Key << "client_subjects" << YAML::Value << YAML::Flow << c.alerts.client_subjects;
  out << YAML::Key << "session_alerts" << YAML::Value << YAML::Flow << c.alerts.session_alerts;
  out << YAML::EndMap;
  out << YAML::Key << "api" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "cache_bytes" << YAML::Value << c.api.cache_bytes;
  out << YAML::Key << "max_streams_per_caller" << YAML::Value << c.api.max_streams_per_caller;
  out << YAML::Key << "max_streams" << YAML::Value << c.api.max_streams;
  out << YAML::EndMap;
  out << YAML::Key << "prom" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "enabled" << YAML::Value << c.prom.enabled;
  out << YAML::Key << "query_timeout" << YAML::Value << secs(c.prom.query_timeout);
  out << YAML::Key << "max_range" << YAML::Value << secs(c.prom.max_range);
  out << YAML::Key << "max_points" << YAML::Value << c.prom.max_points;
  out << YAML::Key << "max_concurrent_per_caller" << YAML::Value
      << c.prom.max_concurrent_per_caller;
  out << YAML::EndMap;
  out << YAML::Key << "metrics" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "bearer_token_file" << YAML::Value << c.metrics.bearer_token_file;
  out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace aitelemetry::config
