// SampleSet: the collector's in-memory form of one query answer or one scrape, built for fleets of
// 100,000 GPUs (about 1.2 M series) where a std::string per label would cost more than the data.
//
// Layout. Every distinct string (metric name, label name, label value) is stored once in an
// append-only arena and named by a StringId. Every distinct label set (all labels of a series
// except __name__) is stored once as a run of (name, value) id pairs and named by a LabelSetId.
// A Sample is then 24 bytes: metric id, label set id, value, timestamp. The dozen series a
// dcgm-exporter writes for one GPU differ only in __name__, so they share one label set; a GPU
// costs its samples plus one label set plus the few strings unique to it (UUID, pod name).
//
// Lookups. Label(sample, "UUID") hashes "UUID" once per call; code that reads one label from
// millions of samples should resolve the name once with FindString() and call the StringId
// overload, which is a scan over the set's few uint32 pairs.
//
// Lifetime. All string_views returned point into the arena and stay valid while the SampleSet
// lives, including across moves and further Intern() calls (the arena grows in blocks and never
// moves bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace aitelemetry::collect {

using StringId = uint32_t;
using LabelSetId = uint32_t;

// StringId 0 is always the empty string; LabelSetId 0 is always the empty label set.
inline constexpr StringId kEmptyString = 0;
inline constexpr LabelSetId kEmptyLabelSet = 0;

struct LabelPair {
  StringId name;
  StringId value;
};

struct Sample {
  StringId metric;       // __name__; kEmptyString for a scalar answer or a nameless expression
  LabelSetId labels;     // every label but __name__
  double value;          // NaN and +/-Inf are kept as such
  int64_t timestamp_ms;  // milliseconds since the Unix epoch
};

// The resultType of a Prometheus answer; kVector for a scrape.
enum class ResultType { kVector, kMatrix, kScalar };

// The TYPE a text exposition declares for a metric family; kUnknown when none was declared.
enum class MetricType { kUnknown, kCounter, kGauge, kHistogram, kSummary, kInfo, kStateSet };

// Limits that keep a hostile or broken peer from exhausting memory. Both parsers apply them.
struct ParseLimits {
  size_t max_labels_per_series = 64;
  size_t max_label_value_bytes = 4096;
  size_t max_line_bytes = 64 * 1024;  // text exposition only
};

class SampleSet {
 public:
  SampleSet();
  SampleSet(SampleSet&&) noexcept;
  SampleSet& operator=(SampleSet&&) noexcept;
  SampleSet(const SampleSet&) = delete;
  SampleSet& operator=(const SampleSet&) = delete;
  ~SampleSet();

  // ---- Reading ----

  const std::vector<Sample>& samples() const { return samples_; }
  size_t size() const { return samples_.size(); }
  bool empty() const { return samples_.empty(); }
  ResultType result_type() const { return result_type_; }
  // Warnings the Prometheus answer carried ("warnings": [...]), in order.
  const std::vector<std::string>& warnings() const { return warnings_; }

  // Returns the text of `id`. Requires: id was returned by this set.
  std::string_view String(StringId id) const { return strings_[id]; }
  // Returns the id of `s` if this set holds it, else nullopt. Use it to resolve label names once.
  std::optional<StringId> FindString(std::string_view s) const;
  // Returns the number of distinct strings / label sets held.
  size_t string_count() const { return strings_.size(); }
  size_t label_set_count() const { return set_ranges_.size(); }

  // Returns the labels of a set (or a sample) in the order the source wrote them, __name__ left
  // out.
  std::span<const LabelPair> Labels(LabelSetId set) const;
  std::span<const LabelPair> Labels(const Sample& s) const { return Labels(s.labels); }
  // Returns the metric name of `s` ("" when it has none).
  std::string_view Metric(const Sample& s) const { return strings_[s.metric]; }
  // Returns the value of label `name` on `s`, or "" when absent (Prometheus treats an empty label
  // value and an absent label alike). The string_view overload costs one hash of `name`.
  std::string_view Label(const Sample& s, std::string_view name) const;
  std::string_view Label(const Sample& s, StringId name) const;
  // Returns the declared TYPE of a metric family (text exposition only), or kUnknown.
  MetricType Type(StringId metric) const;

  // Returns the bytes this set holds on the heap (arena, tables, samples), for sizing.
  size_t MemoryUsage() const;

  // ---- Building (the parsers use these) ----

  // Returns the id of `s`, copying it into the arena the first time it is seen.
  StringId Intern(std::string_view s);
  // Returns the id of the label set `labels` (order matters), storing it the first time.
  // Requires: no name repeats and no value is empty (the parsers check this).
  LabelSetId InternLabelSet(std::span<const LabelPair> labels);
  void Add(const Sample& s) { samples_.push_back(s); }
  void Reserve(size_t samples) { samples_.reserve(samples); }
  void SetType(StringId metric, MetricType type);
  void set_result_type(ResultType t) { result_type_ = t; }
  void AddWarning(std::string w) { warnings_.push_back(std::move(w)); }

 private:
  struct Range {
    uint32_t begin;
    uint32_t count;
  };
  char* Allocate(size_t n);
  void GrowStringSlots();
  void GrowSetSlots();
  static uint64_t HashPairs(std::span<const LabelPair> labels);

  // Arena: blocks never move, so views into them stay valid. Invariant: the last block has
  // block_used_ bytes in use.
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t block_used_ = 0;
  size_t block_size_ = 0;
  size_t arena_bytes_ = 0;
  // strings_[id] views the arena. string_slots_ is an open-addressing table (power-of-two size,
  // load <= 1/2) of (hash high 32 bits << 32 | id + 1); 0 marks an empty slot.
  std::vector<std::string_view> strings_;
  std::vector<uint64_t> string_slots_;
  // Label sets: set_ranges_[id] is a run of pairs_; set_slots_ indexes them like string_slots_.
  std::vector<LabelPair> pairs_;
  std::vector<Range> set_ranges_;
  std::vector<uint64_t> set_slots_;
  std::vector<Sample> samples_;
  std::vector<std::pair<StringId, MetricType>> types_;  // few entries: one per metric family
  std::vector<std::string> warnings_;
  ResultType result_type_ = ResultType::kVector;
};

// Parses a Prometheus float as both the text exposition and the HTTP API write it: decimal or
// exponent notation with an optional sign, "NaN", "+Inf", "-Inf", "Inf" (case-insensitive, as Go's
// strconv.ParseFloat). Returns nullopt for anything else, including hex floats and trailing bytes.
std::optional<double> ParsePromFloat(std::string_view text);

}  // namespace aitelemetry::collect
