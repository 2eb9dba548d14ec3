// Where a hub's snapshot comes from: its Prometheus HTTP API (instant and range queries) or its
// exporters scraped directly. Both feed the same Mapper.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "collect/exporter_source.h"
#include "collect/mapper.h"
#include "collect/prom_source.h"
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
  // <= end, for rebuilding history. A point appears only for series that had a sample within
  // the step before it (so a series that ended is not carried forward by the lookback).
  // kFailedPrecondition when the source keeps no history (exporters).
  [[nodiscard]] virtual Result<std::vector<SampleSet>> CollectRange(Timestamp start, Timestamp end,
                                                                    Nanos step) = 0;

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
  Status Collect(Timestamp at, Mapper* mapper) override;
  // Each family as `SEL and last_over_time(SEL[step - 1ms])`: the left side keeps the metric
  // name (the unit depends on it), the right side drops points whose newest sample is a step or
  // more old.
  Result<std::vector<SampleSet>> CollectRange(Timestamp start, Timestamp end, Nanos step) override;
  bool has_history() const override { return true; }
  std::string Describe() const override { return RedactUrl(source_.url()); }

 private:
  PrometheusSource source_;
};

// One scrape of every exporter target.
class ExporterSnapshotSource : public SnapshotSource {
 public:
  explicit ExporterSnapshotSource(ExporterSourceOptions options);
  Status Collect(Timestamp at, Mapper* mapper) override;
  Result<std::vector<SampleSet>> CollectRange(Timestamp, Timestamp, Nanos) override;
  bool has_history() const override { return false; }
  std::string Describe() const override { return describe_; }

 private:
  std::string describe_;  // the target URLs; declared first: built before options move away
  ExporterSource source_;
};

}  // namespace aitelemetry::collect
