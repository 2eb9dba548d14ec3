// Where a hub's snapshot comes from: its Prometheus HTTP API (instant and range queries) or its
// exporters scraped directly. Both feed the same Mapper.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "collect/exporter_source.h"
#include "collect/mapper.h"
#include "collect/prom_source.h"
#include "collect/spacing.h"
#include "core/redact.h"
#include "core/result.h"
#include "core/time.h"

namespace aitelemetry::collect {

class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;

  // Feeds every series the hub has at instant `at` into `mapper`. Any failing query or target
  // fails the whole collection (a partial snapshot would mark the missing entities gone); the
  // error names the source.
  [[nodiscard]] virtual Status Collect(Timestamp at, Mapper* mapper) = 0;

  // Returns one SampleSet per metric family with the samples at start, start + step, ...,
  // <= end, for rebuilding history. A point appears only for series whose newest sample is less
  // than `window` old (so a series that ended, or a sample the lookback repeats, is not carried
  // past one spacing); window = step counts each sample once when the hub samples every step.
  // kFailedPrecondition when the source keeps no history (exporters).
  [[nodiscard]] virtual Result<std::vector<SampleSet>> CollectRange(Timestamp start, Timestamp end,
                                                                    Nanos step, Nanos window) = 0;

  // Returns how far apart the hub's samples are in [from, to), worked out from the raw sample
  // timestamps of its densest device series (SpacingOfTimestamps); nullopt when the window holds
  // fewer than two samples of it, or the source cannot tell (exporters: the collector's own
  // scrapes are the samples). Errors as Collect.
  [[nodiscard]] virtual Result<std::optional<Nanos>> ProbeSpacing(Timestamp /*from*/,
                                                                  Timestamp /*to*/) {
    return std::optional<Nanos>();
  }

  // From now on, Collect shows only series whose newest sample is less than `window` old (zero:
  // whatever the source's own lookback shows). A sample repeated by Prometheus' 5-minute lookback
  // after its series ended is then not seen again past its spacing.
  virtual void set_fresh_within(Nanos /*window*/) {}

  virtual bool has_history() const = 0;
  // Names the source for messages: its URL(s), credentials masked (RedactUrl).
  virtual std::string Describe() const = 0;
};

// Instant queries, one per metric family of the catalog (FamilyQueries), all at the same
// evaluation time; each answer's series are mapped as they arrive (PrometheusSource::QueryInto
// into a Mapper::AnswerSink), so memory holds one piece of one answer at a time, never a body or
// a SampleSet. A transfer that breaks off midway is retried and its series mapped again, which
// is harmless (see Mapper::AnswerSink); a query that still fails fails the whole collection.
class PrometheusSnapshotSource : public SnapshotSource {
 public:
  explicit PrometheusSnapshotSource(PrometheusSourceOptions options)
      : source_(std::move(options)) {}
  // With a freshness window set, each family as `SEL and last_over_time(SEL[window - 1ms])`.
  Status Collect(Timestamp at, Mapper* mapper) override;
  // Each family as `SEL and last_over_time(SEL[window - 1ms])`: the left side keeps the metric
  // name (the unit depends on it), the right side drops points whose newest sample is a window
  // or more old.
  Result<std::vector<SampleSet>> CollectRange(Timestamp start, Timestamp end, Nanos step,
                                              Nanos window) override;
  // Two small queries: `topk(1, count_over_time(FB_USED[w]))` finds the series with the most
  // samples in the window, then that series' raw samples (a range selector) give the spacing.
  Result<std::optional<Nanos>> ProbeSpacing(Timestamp from, Timestamp to) override;
  void set_fresh_within(Nanos window) override { fresh_within_ = window; }
  bool has_history() const override { return true; }
  std::string Describe() const override { return RedactUrl(source_.url()); }

 private:
  PrometheusSource source_;
  Nanos fresh_within_{0};
};

// One scrape of every exporter target. Targets degrade one by one: a target that fails is
// skipped, and the nodes it showed at its last good scrape are reported to the mapper as
// unreachable (MarkUnreachable), so their devices turn stale and their time unobserved instead
// of gone, while the other targets' nodes sync. Only when every target fails does Collect fail.
// A target that never answered has no nodes to report: its failure is logged.
class ExporterSnapshotSource : public SnapshotSource {
 public:
  explicit ExporterSnapshotSource(ExporterSourceOptions options);
  Status Collect(Timestamp at, Mapper* mapper) override;
  Result<std::vector<SampleSet>> CollectRange(Timestamp, Timestamp, Nanos, Nanos) override;
  bool has_history() const override { return false; }
  std::string Describe() const override { return describe_; }

 private:
  std::string describe_;  // the target URLs; declared first: built before options move away
  ExporterSource source_;
  // Per target, the (cluster label, host name) pairs its last good scrape showed.
  std::vector<std::vector<std::pair<std::string, std::string>>> nodes_of_target_;
};

}  // namespace aitelemetry::collect
