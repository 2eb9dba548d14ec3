#include "collect/snapshot_source.h"

#include <fmt/format.h>

#include "collect/metric_catalog.h"
#include "core/redact.h"

namespace aitelemetry::collect {

Status PrometheusSnapshotSource::Collect(Timestamp at, Mapper* mapper) {
  int count = 0;
  const FamilyQuery* families = FamilyQueries(&count);
  for (int i = 0; i < count; ++i) {
    Mapper::AnswerSink sink(mapper);
    if (Status st = source_.QueryInto(families[i].selector, at, &sink); !st) return st;
  }
  return Ok();
}

Result<std::vector<SampleSet>> PrometheusSnapshotSource::CollectRange(Timestamp start,
                                                                      Timestamp end, Nanos step) {
  const auto step_ms = std::chrono::duration_cast<std::chrono::milliseconds>(step);
  if (step_ms.count() <= 0) return Fail(ErrorCode::kInvalidArgument, "step must be >= 1ms");
  int count = 0;
  const FamilyQuery* families = FamilyQueries(&count);
  std::vector<SampleSet> out;
  out.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    std::string q = fmt::format("{0} and last_over_time({0}[{1}ms])", families[i].selector,
                                std::max<int64_t>(1, step_ms.count() - 1));
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

}  // namespace

ExporterSnapshotSource::ExporterSnapshotSource(ExporterSourceOptions options)
    : describe_(JoinUrls(options)), source_(std::move(options)) {}

Status ExporterSnapshotSource::Collect(Timestamp at, Mapper* mapper) {
  auto set = source_.Scrape(at);
  if (!set) return Fail(set.error());
  mapper->Add(*set);
  return Ok();
}

Result<std::vector<SampleSet>> ExporterSnapshotSource::CollectRange(Timestamp, Timestamp, Nanos) {
  return Fail(ErrorCode::kFailedPrecondition,
              "exporters keep no history: backfill needs a Prometheus source");
}

}  // namespace aitelemetry::collect
