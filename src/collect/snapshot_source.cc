#include "collect/snapshot_source.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "collect/metric_catalog.h"
#include "core/redact.h"

namespace aitelemetry::collect {

namespace {

// `SEL and last_over_time(SEL[window - 1ms])`: SEL where its newest sample is less than
// `window` old.
std::string FreshSelector(std::string_view selector, Nanos window) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(window).count();
  return fmt::format("{0} and last_over_time({0}[{1}ms])", selector, std::max<int64_t>(1, ms - 1));
}

// Appends `value` as a PromQL double-quoted string.
void AppendQuoted(std::string_view value, std::string* out) {
  out->push_back('"');
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out->push_back('\\');
      out->push_back(c);
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

// The family whose series every unit (GPU or MIG instance) has: the spacing probe's.
constexpr std::string_view kProbeStem = "DCGM_FI_DEV_FB_USED";

}  // namespace

Status PrometheusSnapshotSource::Collect(Timestamp at, Mapper* mapper) {
  int count = 0;
  const FamilyQuery* families = FamilyQueries(&count);
  for (int i = 0; i < count; ++i) {
    Mapper::AnswerSink sink(mapper);
    const std::string q = fresh_within_.count() > 0
                              ? FreshSelector(families[i].selector, fresh_within_)
                              : std::string(families[i].selector);
    if (Status st = source_.QueryInto(q, at, &sink); !st) return st;
  }
  return Ok();
}

Result<std::optional<Nanos>> PrometheusSnapshotSource::ProbeSpacing(Timestamp from, Timestamp to) {
  const int64_t range_ms = ToUnixMillis(to) - ToUnixMillis(from);
  if (range_ms <= 0) return std::optional<Nanos>();
  int count = 0;
  const FamilyQuery* families = FamilyQueries(&count);
  std::string_view selector;
  for (int i = 0; i < count; ++i) {
    if (families[i].stem == kProbeStem) selector = families[i].selector;
  }
  // Range selectors include both ends (Prometheus 2) or only the newest (3): evaluated 1 ms
  // before `to`, either way the window is inside [from - 1ms, to); samples before `from` are
  // dropped below.
  const Timestamp at = to - std::chrono::milliseconds(1);
  auto densest =
      source_.Query(fmt::format("topk(1, count_over_time({}[{}ms]))", selector, range_ms), at);
  if (!densest) return Fail(densest.error());
  if (densest->empty()) return std::optional<Nanos>();
  // The same series, by all its labels (count_over_time dropped the name; the family's name
  // matcher stays).
  std::string q(selector);
  q.pop_back();  // the closing brace
  for (const LabelPair& l : densest->Labels(densest->samples()[0])) {
    q.push_back(',');
    q.append(densest->String(l.name));
    q.push_back('=');
    AppendQuoted(densest->String(l.value), &q);
  }
  q.append(fmt::format("}}[{}ms]", range_ms));
  auto raw = source_.Query(q, at);
  if (!raw) return Fail(raw.error());
  std::vector<int64_t> ts;
  const int64_t from_ms = ToUnixMillis(from);
  for (const Sample& s : raw->samples()) {
    if (s.labels == raw->samples()[0].labels && s.timestamp_ms >= from_ms) {
      ts.push_back(s.timestamp_ms);
    }
  }
  return SpacingOfTimestamps(ts);
}

Result<std::vector<SampleSet>> PrometheusSnapshotSource::CollectRange(Timestamp start,
                                                                      Timestamp end, Nanos step,
                                                                      Nanos window) {
  const auto step_ms = std::chrono::duration_cast<std::chrono::milliseconds>(step);
  if (step_ms.count() <= 0) return Fail(ErrorCode::kInvalidArgument, "step must be >= 1ms");
  int count = 0;
  const FamilyQuery* families = FamilyQueries(&count);
  std::vector<SampleSet> out;
  out.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    const std::string q = FreshSelector(families[i].selector, window);
    auto set = source_.QueryRange(q, start, end, step_ms);
    if (!set) return Fail(set.error());
    out.push_back(std::move(*set));
  }
  return out;
}

namespace {

std::string JoinUrls(const ExporterSourceOptions& options) {
  std::string out;
  for (const auto& t : options.targets) out += (out.empty() ? "" : ", ") + RedactUrl(t.url);
  return out;
}

// The distinct (cluster, host) pairs of the DCGM series of `set` (`Hostname` on exporters older
// than 4.8.3, else `hostname`), in the order first seen.
std::vector<std::pair<std::string, std::string>> NodesOf(const SampleSet& set) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto cluster = set.FindString("cluster");
  const auto host_new = set.FindString("hostname");
  const auto host_old = set.FindString("Hostname");
  if (!host_new && !host_old) return out;
  LabelSetId last = UINT32_MAX;
  for (const Sample& s : set.samples()) {
    if (s.labels == last) continue;
    last = s.labels;
    std::string_view host = host_new ? set.Label(s, *host_new) : std::string_view();
    if (host.empty() && host_old) host = set.Label(s, *host_old);
    if (host.empty()) continue;
    std::string_view c = cluster ? set.Label(s, *cluster) : std::string_view();
    if (std::find_if(out.begin(), out.end(), [&](const auto& p) {
          return p.first == c && p.second == host;
        }) == out.end()) {
      out.emplace_back(std::string(c), std::string(host));
    }
  }
  return out;
}

}  // namespace

ExporterSnapshotSource::ExporterSnapshotSource(ExporterSourceOptions options)
    : describe_(JoinUrls(options)),
      source_(std::move(options)),
      nodes_of_target_(source_.targets().size()) {}

Status ExporterSnapshotSource::Collect(Timestamp at, Mapper* mapper) {
  const auto& targets = source_.targets();
  std::optional<Error> first_error;
  size_t failed = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    SampleSet set;
    if (Status st = source_.ScrapeTarget(i, at, &set); !st) {
      ++failed;
      if (!first_error) first_error = st.error();
      if (nodes_of_target_[i].empty()) {
        spdlog::warn("collect: exporter {} failed and never answered: {}",
                     RedactUrl(targets[i].url), st.error().message);
      }
      for (const auto& [cluster, host] : nodes_of_target_[i]) {
        mapper->MarkUnreachable(cluster.empty() ? targets[i].cluster : cluster, host,
                                st.error().message);
      }
      continue;
    }
    nodes_of_target_[i] = NodesOf(set);
    mapper->Add(set);
  }
  if (failed == targets.size() && first_error) {
    return Fail(first_error->code, failed == 1 ? first_error->message
                                               : fmt::format("all {} exporters failed; first: {}",
                                                             failed, first_error->message));
  }
  return Ok();
}

Result<std::vector<SampleSet>> ExporterSnapshotSource::CollectRange(Timestamp, Timestamp, Nanos,
                                                                    Nanos) {
  return Fail(ErrorCode::kFailedPrecondition,
              "exporters keep no history: backfill needs a Prometheus source");
}

}  // namespace aitelemetry::collect
